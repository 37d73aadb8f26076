// Footprints, the largest batch and context that fit, and whole requests.
#include "interpreter/analysis.hpp"

#include "interpreter/compile/fast_eval.hpp"
#include "interpreter/diagnostics.hpp"

#include <algorithm>
#include <exception>
#include <thread>

namespace costi::interp {

namespace {

// The totals of one run: count × cost per metric (a peak is its cost).
std::vector<Number> totals_of(const Program& program, const CostNode& root) {
    std::vector<Number> out;
    out.reserve(root.cost.size());
    for (std::size_t m = 0; m < root.cost.size(); ++m) out.push_back(total_of(program.metrics[m], root.count, root.cost[m]));
    return out;
}

std::vector<Number> run_totals(const Session& session, const Model& model, Evaluator& ev) {
    return totals_of(session.program(), session.totals_with(ev, model));
}

// The pipeline stages of the evaluator's run: pp when the program declares pp and pp_rank and
// the run has more than one stage, else 1 (the run is its only stage).
struct Stages {
    std::optional<std::uint32_t> rank;  // pp_rank's index
    std::int64_t count = 1;
};
Stages stages_of(const Program& program, const Environment& env) {
    Stages s;
    auto pp = program.find_runtime("pp");
    auto rank = program.find_runtime("pp_rank");
    if (!pp || !rank || !env.runtime[*pp].is_number()) return s;
    auto n = env.runtime[*pp].num.to_int64();
    if (!n || *n <= 1) return s;
    s.rank = rank;
    s.count = *n;
    return s;
}

// The totals of a model at the evaluator's bindings, for an analysis that searches one runtime
// variable (the batch, the context): the model compiled once with that variable — and
// pp_rank, when there are pipeline stages — left free, then evaluated per point by the
// compiled form (exact, with the interpreter's errors: compile/compile.hpp); the interpreter
// itself when the model does not compile (E0212). Either way the same exact numbers.
// The compiled form computes only the metrics the search reads (`wanted`; the others are
// left 0) but checks every guard of the model, so a point fails exactly where a run fails.
class SearchTotals {
public:
    SearchTotals(const Session& session, const Model& model, const Evaluator& ev, std::vector<std::uint32_t> free,
                 std::vector<std::uint32_t> wanted)
        : session_(session), model_(model), wanted_(std::move(wanted)) {
        std::sort(free.begin(), free.end());
        free.erase(std::unique(free.begin(), free.end()), free.end());
        CompileRequest request;
        request.entry = session.entry_of(model, ev.environment());
        request.env = ev.environment();
        request.free = free;
        request.keep_depth = 0;
        request.model = ChainFrame{"model " + model.name, model.name_span};
        request.limits = session.limits();
        try {
            form_ = std::make_unique<Compiled>(compile(session.program(), std::move(request)));
        } catch (const CostiError&) {
            // Not compilable (E0212): the interpreter at every point. Any other error is the
            // model's at every point: the interpreter reports it at the first one, as before.
            return;
        }
        std::vector<Poly> outputs;
        for (std::uint32_t m : wanted_) outputs.push_back(form_->total(m));
        fast_ = std::make_unique<FastForm>(*form_, std::move(outputs));
        point_.resize(form_->free.size());
    }

    // One total per metric: the wanted ones exact, the others 0 (every one by the interpreter).
    std::vector<Number> at(Evaluator& ev) {
        if (!fast_) return run_totals(session_, model_, ev);
        for (std::size_t i = 0; i < form_->free.size(); ++i) point_[i] = ev.environment().runtime[form_->free[i]].num;
        fast_->evaluate(point_, wanted_out_);
        std::vector<Number> out(session_.program().metrics.size());
        for (std::size_t i = 0; i < wanted_.size(); ++i) out[wanted_[i]] = std::move(wanted_out_[i]);
        return out;
    }

private:
    const Session& session_;
    const Model& model_;
    std::vector<std::uint32_t> wanted_;
    std::vector<Number> wanted_out_;
    std::unique_ptr<Compiled> form_;
    std::unique_ptr<FastForm> fast_;
    std::vector<Number> point_;
};

// Whether the run the evaluator is bound for fits — on every pipeline stage, when there are
// several; a failed requirement of the model (a context beyond what it allows) counts as
// "does not fit", its message left in `refused`. `totals` gives the run's totals (the
// interpreter when null).
bool fits_at(const Session& session, const Model& model, Evaluator& ev, const AnalysisIds& ids, std::string& refused,
             SearchTotals* totals = nullptr) {
    refused.clear();
    Stages stages = stages_of(session.program(), ev.environment());
    auto totals_now = [&] { return totals != nullptr ? totals->at(ev) : run_totals(session, model, ev); };
    try {
        if (stages.rank) {
            Value own = ev.environment().runtime[*stages.rank];
            bool all = true;
            for (std::int64_t r = 0; r < stages.count && all; ++r) {
                ev.rebind(*stages.rank, Value::of(Number(r)));
                all = footprint(session.program(), ids, ev.environment(), totals_now()).fits;
            }
            ev.rebind(*stages.rank, own);
            return all;
        }
        return footprint(session.program(), ids, ev.environment(), totals_now()).fits;
    } catch (const CostiError& e) {
        const Diagnostic& d = e.diagnostics().front();
        if (d.code != std::string(code::requirement) && d.code != std::string(code::bad_domain)) throw;
        refused = d.message;
        return false;
    }
}

// The largest v in [lo, hi] with ok(v), given ok(lo) and not ok(hi + 1) or hi the cap.
template <typename Ok>
Number bisect(Number lo, Number hi, Ok ok) {
    while (lo < hi) {
        Number mid = *Number::floor_divide(lo + hi + Number(1), Number(2));
        if (ok(mid)) {
            lo = mid;
        } else {
            hi = mid - Number(1);
        }
    }
    return lo;
}

}  // namespace

std::optional<AnalysisIds> AnalysisIds::of(const Program& program) {
    auto metric = [&](const char* name) { return program.find_metric(name); };
    auto runtime = [&](const char* name) { return program.find_runtime(name); };
    auto t = metric("time"), ct = metric("compute_time"), mt = metric("memory_time"), cb = metric("compute_bound"),
         wb = metric("weight_bytes"), kv = metric("kv_cache"), ws = metric("workspace");
    auto mu = runtime("mem_util"), b = runtime("batch_size"), s = runtime("seq_len"), c = runtime("cache_len"),
         l = runtime("logits_to_keep");
    if (!t || !ct || !mt || !cb || !wb || !kv || !ws || !mu || !b || !s || !c || !l) return std::nullopt;
    return AnalysisIds{*t, *ct, *mt, *cb, *wb, *kv, *ws, *mu, *b, *s, *c, *l};
}

bool has_capacity(const Program& program, const Environment& env) {
    auto memory = program.property_id.find("memory");
    return env.hardware != nullptr && memory != program.property_id.end() &&
           !env.hardware->values[memory->second].is_absent();
}

Footprint footprint(const Program& program, const AnalysisIds& ids, const Environment& env,
                    const std::vector<Number>& totals) {
    Footprint f;
    f.weights = totals[ids.weight_bytes];
    f.kv_cache = totals[ids.kv_cache];
    f.workspace = totals[ids.workspace];
    f.total = f.weights + f.kv_cache + f.workspace;
    auto memory = program.property_id.find("memory");
    const Value* cap = nullptr;
    if (env.hardware != nullptr && memory != program.property_id.end()) cap = &env.hardware->values[memory->second];
    if (cap == nullptr || cap->is_absent()) {
        throw CostiError(Diagnostic{code::absent_hardware, env.hardware ? env.hardware->name_span : Span{},
                                    "hardware '" + (env.hardware ? env.hardware->name : std::string("?")) +
                                        "' gives no memory, so what fits cannot be answered",
                                    "add `memory = BYTES \"source\"` to its description", {}});
    }
    f.capacity = cap->num;
    f.usable = f.capacity * env.runtime[ids.mem_util].num;
    f.fits = f.total <= f.usable;
    return f;
}

Largest max_batch(const Session& session, const Model& model, const Environment& env, const AnalysisIds& ids) {
    Largest out;
    Evaluator ev = session.evaluator(env);
    std::string refused;
    Stages stages = stages_of(session.program(), env);
    std::vector<std::uint32_t> free{ids.batch_size};
    if (stages.rank) free.push_back(*stages.rank);
    SearchTotals totals(session, model, ev, free, {ids.weight_bytes, ids.kv_cache, ids.workspace});
    auto ok = [&](const Number& b) {
        ev.rebind(ids.batch_size, Value::of(b));
        return fits_at(session, model, ev, ids, refused, &totals);
    };
    auto footprint_at = [&](const Number& b) {
        ev.rebind(ids.batch_size, Value::of(b));
        return footprint(session.program(), ids, ev.environment(), totals.at(ev));
    };
    if (!ok(Number(1))) {
        out.limit = refused;
        return out;
    }
    // Affine in the batch (weights fixed, cache and working set per sequence): solve, then
    // check the solution and its successor exactly.
    Footprint one = footprint_at(Number(1));
    Number f1 = one.total;
    Number slope = footprint_at(Number(2)).total - f1;
    Number usable = one.usable;
    Number guess = slope.sign() > 0 ? *Number::floor_divide(usable - f1, slope) + Number(1) : Number(0);
    if (guess >= Number(1) && ok(guess) && !ok(guess + Number(1))) {
        out.value = guess;
        out.limit = refused;
        return out;
    }
    // Not affine: double until it does not fit, then bisect.
    Number lo(1), hi(2);
    const Number cap(std::int64_t{1} << 40);
    while (ok(hi)) {
        lo = hi;
        if (hi >= cap) {
            out.value = hi;
            out.unbounded = true;
            return out;
        }
        hi = hi * Number(2);
    }
    out.value = bisect(lo, hi - Number(1), ok);
    ok(*out.value + Number(1));  // what stops it: memory, or a rule of the model
    out.limit = refused;
    return out;
}

Largest max_context(const Session& session, const Model& model, const Environment& env, const AnalysisIds& ids,
                    const Number& cap) {
    Largest out;
    Evaluator ev = session.evaluator(env);
    ev.rebind(ids.seq_len, Value::of(Number(1)));
    ev.rebind(ids.logits_to_keep, Value::of(Number(1)));
    std::string refused;
    Stages stages = stages_of(session.program(), env);
    std::vector<std::uint32_t> free{ids.cache_len};
    if (stages.rank) free.push_back(*stages.rank);
    SearchTotals totals(session, model, ev, free, {ids.weight_bytes, ids.kv_cache, ids.workspace});
    auto ok = [&](const Number& ctx) {
        ev.rebind(ids.cache_len, Value::of(ctx - Number(1)));
        return fits_at(session, model, ev, ids, refused, &totals);
    };
    if (!ok(Number(1))) {
        out.limit = refused;
        return out;
    }
    Number lo(1), hi(2);
    while (hi <= cap && ok(hi)) {
        lo = hi;
        hi = hi * Number(2);
    }
    if (hi > cap) {
        if (ok(cap)) {
            out.value = cap;
            out.unbounded = true;
            return out;
        }
        hi = cap + Number(1);
    }
    out.value = bisect(lo, hi - Number(1), ok);
    ok(*out.value + Number(1));  // what stops it: memory, or a rule of the model
    out.limit = refused;
    return out;
}

DeviceAnalysis analyse_device(const Session& session, const Model& model, const Environment& env, const CostNode& root) {
    const Program& program = session.program();
    auto ids = AnalysisIds::of(program);
    if (env.hardware == nullptr || !ids) {
        throw CostiError(Diagnostic{code::absent_hardware, {}, "time and memory need a hardware, and none is selected",
                                    "choose one with --hw NAME (costi list hardware)", {}});
    }
    DeviceAnalysis d;
    d.hardware = env.hardware;
    d.ids = *ids;
    d.totals = totals_of(program, root);
    d.batch = env.runtime[ids->batch_size].num;
    d.context = env.runtime[ids->cache_len].num + env.runtime[ids->seq_len].num;
    d.has_memory = has_capacity(program, env);
    if (d.has_memory) {
        d.footprint = footprint(program, *ids, env, d.totals);
        d.max_batch = max_batch(session, model, env, *ids);
        d.max_context = max_context(session, model, env, *ids, Number(std::int64_t{1} << 30));
        for (auto& t : stage_totals(session, model, env)) {
            Number time = t[ids->time];
            d.stages.push_back({time, footprint(program, *ids, env, t)});
        }
        bool every_stage_fits = d.stages.empty() ? d.footprint.fits
                                                 : std::all_of(d.stages.begin(), d.stages.end(),
                                                               [](const StageRun& s) { return s.footprint.fits; });
        auto tp = program.find_runtime("tp");
        const Kernel* entry = session.entry_of(model, env).kernel;
        if (!every_stage_fits && tp && std::find(entry->reads.begin(), entry->reads.end(), *tp) != entry->reads.end()) {
            d.tp_searched = true;
            LayoutTrials tried;
            if (auto layout = smallest_layout(session, model, env, *ids, &tried)) {
                d.fits_at_tp = layout->first;
                d.fits_at_pp = layout->second;
                if (d.fits_at_pp != Number(1)) d.fits_at_tp_alone = smallest_tp(session, model, env, *ids, &tried);
            }
        }
    }
    return d;
}

namespace {
std::vector<std::int64_t> device_counts() {
    std::vector<std::int64_t> counts;
    for (std::int64_t n = 2; n <= 64; ++n) counts.push_back(n);
    for (std::int64_t n = 128; n <= 1024; n *= 2) counts.push_back(n);
    return counts;
}
}  // namespace

std::optional<Number> smallest_tp(const Session& session, const Model& model, const Environment& env,
                                  const AnalysisIds& ids, LayoutTrials* tried) {
    auto tp = session.program().find_runtime("tp");
    if (!tp) return std::nullopt;
    auto pp = session.program().find_runtime("pp");
    Number stages = pp ? env.runtime[*pp].num : Number(1);
    Evaluator ev = session.evaluator(env);
    std::string refused;
    auto fits = [&](std::int64_t t) {
        std::pair<Number, Number> layout{Number(t), stages};
        if (tried != nullptr) {
            if (auto known = tried->find(layout); known != tried->end()) return known->second;
        }
        ev.rebind(*tp, Value::of(Number(t)));
        bool ok = fits_at(session, model, ev, ids, refused);
        if (tried != nullptr) tried->emplace(layout, ok);
        return ok;
    };
    for (std::int64_t t : device_counts()) {
        if (Number(t) > env.runtime[*tp].num && fits(t)) return Number(t);
    }
    return std::nullopt;
}

std::optional<std::pair<Number, Number>> smallest_layout(const Session& session, const Model& model,
                                                         const Environment& env, const AnalysisIds& ids,
                                                         LayoutTrials* tried) {
    const Program& program = session.program();
    auto tp = program.find_runtime("tp");
    if (!tp) return std::nullopt;
    auto pp = program.find_runtime("pp");
    const Kernel* entry = session.entry_of(model, env).kernel;
    bool reads_pp = pp && std::find(entry->reads.begin(), entry->reads.end(), *pp) != entry->reads.end();
    // The scale-up domain: devices one node's links join (1 without: every group crosses PCIe).
    std::int64_t domain = 1;
    auto link = program.property_id.find("link_domain");
    if (env.hardware != nullptr && link != program.property_id.end()) {
        const Value& v = env.hardware->values[link->second];
        if (v.is_number() && v.num.is_integer()) domain = std::max<std::int64_t>(1, v.num.to_int64().value_or(1));
    }
    Number current = env.runtime[*tp].num * (pp ? env.runtime[*pp].num : Number(1));
    Evaluator ev = session.evaluator(env);
    std::string refused;
    auto fits = [&](std::int64_t t, std::int64_t p) {
        ev.rebind(*tp, Value::of(Number(t)));
        if (pp) ev.rebind(*pp, Value::of(Number(p)));
        bool ok = fits_at(session, model, ev, ids, refused);
        if (tried != nullptr) tried->emplace(std::make_pair(Number(t), Number(pp ? p : 1)), ok);
        return ok;
    };
    for (std::int64_t n : device_counts()) {
        if (Number(n) <= current) continue;
        // Tensor parallelism as wide as the domain allows, the rest in pipeline stages; then,
        // past the domain, tensor parallelism across it.
        for (std::int64_t t = std::min(domain, n); t >= 1; --t) {
            if (n % t != 0 || (t != n && !reads_pp)) continue;
            if (fits(t, n / t)) return std::make_pair(Number(t), Number(n / t));
        }
        if (n > domain && fits(n, 1)) return std::make_pair(Number(n), Number(1));
    }
    return std::nullopt;
}

namespace {

// The request on the stage the environment's pp_rank names (the whole model without stages).
Request request_on_stage(const Session& session, const Model& model, const Environment& env, const AnalysisIds& ids,
                         const Number& prompt, const Number& generate) {
    const Program& program = session.program();
    Request r;
    r.prompt = prompt;
    r.generate = generate;
    r.batch = env.runtime[ids.batch_size].num;
    // An encoder-decoder (a model whose kernels read encoder_len, T5): the prompt is the
    // encoder's input and the decoder starts from one token (generate()'s
    // decoder_start_token_id), so the first step is encoder_len = prompt, seq_len = 1, and the
    // decode steps follow at cache_len 1, 2, ….
    auto encoder_len = program.find_runtime("encoder_len");
    const auto& reads = model.entry.kernel->reads;
    bool seq2seq = encoder_len && std::find(reads.begin(), reads.end(), *encoder_len) != reads.end();
    Number first_cache = seq2seq ? Number(1) : prompt;
    Evaluator ev = session.evaluator(env);
    ev.rebind(ids.logits_to_keep, Value::of(Number(1)));
    if (seq2seq) ev.rebind(*encoder_len, Value::of(prompt));
    ev.rebind(ids.seq_len, Value::of(seq2seq ? Number(1) : prompt));
    ev.rebind(ids.cache_len, Value::of(Number(0)));
    auto step = [&](const char* what, const Number& cache) {
        try {
            return run_totals(session, model, ev);
        } catch (CostiError& e) {
            for (auto& d : e.diagnostics())
                d.chain.push_back({std::string(what) + (cache.sign() >= 0 ? " at cache_len " + cache.to_string() : ""),
                                   Span{}});
            throw;
        }
    };
    r.prefill = step("prefill", Number(-1));
    r.decode.assign(program.metrics.size(), Number(0));
    r.last_decode = r.prefill;
    // The decode steps are independent evaluations: split them in contiguous ranges over a
    // few threads, each with its own evaluator (memoised subtrees are shared within a range),
    // and add the ranges' exact sums in order. Errors: the earliest step's is reported.
    std::int64_t steps = generate.to_int64().value_or(0);
    unsigned threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
    if (steps < 256) threads = 1;
    struct Part {
        std::vector<Number> sum, last;
        std::exception_ptr error;
    };
    std::vector<Part> parts(threads);
    auto run_range = [&](unsigned t, Evaluator& e) {
        Part& part = parts[t];
        part.sum.assign(program.metrics.size(), Number(0));
        std::int64_t begin = steps * t / threads, end = steps * (t + 1) / threads;
        try {
            e.rebind(ids.seq_len, Value::of(Number(1)));
            for (std::int64_t i = begin; i < end; ++i) {
                Number c = first_cache + Number(i);
                e.rebind(ids.cache_len, Value::of(c));
                std::vector<Number> t_ = [&] {
                    try {
                        return run_totals(session, model, e);
                    } catch (CostiError& err) {
                        for (auto& d : err.diagnostics())
                            d.chain.push_back({"decode step at cache_len " + c.to_string(), Span{}});
                        throw;
                    }
                }();
                for (std::size_t m = 0; m < t_.size(); ++m) {
                    if (program.metrics[m].combine_max) {
                        if (part.sum[m] < t_[m]) part.sum[m] = t_[m];
                    } else {
                        part.sum[m] = part.sum[m] + t_[m];
                    }
                }
                part.last = std::move(t_);
            }
        } catch (...) {
            part.error = std::current_exception();
        }
    };
    std::vector<Evaluator> evaluators;
    evaluators.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) {
        evaluators.push_back(t == 0 ? std::move(ev) : session.evaluator(env));
        evaluators.back().rebind(ids.logits_to_keep, Value::of(Number(1)));
        if (seq2seq) evaluators.back().rebind(*encoder_len, Value::of(prompt));
    }
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(run_range, t, std::ref(evaluators[t]));
    run_range(0, evaluators[0]);
    for (auto& th : pool) th.join();
    for (auto& part : parts) {
        if (part.error) std::rethrow_exception(part.error);
        for (std::size_t m = 0; m < part.sum.size(); ++m) {
            if (program.metrics[m].combine_max) {
                if (r.decode[m] < part.sum[m]) r.decode[m] = part.sum[m];
            } else {
                r.decode[m] = r.decode[m] + part.sum[m];
            }
        }
        if (!part.last.empty()) r.last_decode = part.last;
    }
    r.ttft = r.prefill[ids.time];
    r.decode_time = r.decode[ids.time];
    r.total_time = r.ttft + r.decode_time;
    // The cache is largest after the last step; the working set is the largest of any step.
    std::vector<Number> peak = r.last_decode;
    if (peak[ids.workspace] < r.prefill[ids.workspace]) peak[ids.workspace] = r.prefill[ids.workspace];
    if (peak[ids.workspace] < r.decode[ids.workspace]) peak[ids.workspace] = r.decode[ids.workspace];
    r.has_memory = has_capacity(program, env);
    if (r.has_memory) r.peak = footprint(program, ids, evaluators[0].environment(), peak);
    return r;
}

}  // namespace

Request request(const Session& session, const Model& model, const Environment& env, const AnalysisIds& ids,
                const Number& prompt, const Number& generate) {
    Stages stages = stages_of(session.program(), env);
    if (!stages.rank) return request_on_stage(session, model, env, ids, prompt, generate);
    // Pipeline stages: every step of one batch passes through the stages in turn, so its time
    // is the sum of the stages' (sends included); the other summed metrics add up the work of
    // one device of each stage, peaks take the largest stage's; the memory is the fullest
    // stage's (all fit when it does).
    const Program& program = session.program();
    Request r;
    for (std::int64_t rank = 0; rank < stages.count; ++rank) {
        Environment stage_env = env;
        stage_env.runtime[*stages.rank] = Value::of(Number(rank));
        Request s = request_on_stage(session, model, stage_env, ids, prompt, generate);
        if (rank == 0) {
            r = std::move(s);
            continue;
        }
        auto add = [&](std::vector<Number>& into, const std::vector<Number>& from) {
            for (std::size_t m = 0; m < into.size(); ++m) {
                if (program.metrics[m].combine_max) {
                    if (into[m] < from[m]) into[m] = from[m];
                } else {
                    into[m] = into[m] + from[m];
                }
            }
        };
        add(r.prefill, s.prefill);
        add(r.decode, s.decode);
        add(r.last_decode, s.last_decode);
        r.ttft = r.ttft + s.ttft;
        r.decode_time = r.decode_time + s.decode_time;
        r.total_time = r.total_time + s.total_time;
        if (r.has_memory && r.peak.total < s.peak.total) r.peak = s.peak;
    }
    return r;
}

std::vector<std::vector<Number>> stage_totals(const Session& session, const Model& model, const Environment& env) {
    Stages stages = stages_of(session.program(), env);
    std::vector<std::vector<Number>> out;
    if (!stages.rank) return out;
    Evaluator ev = session.evaluator(env);
    for (std::int64_t r = 0; r < stages.count; ++r) {
        ev.rebind(*stages.rank, Value::of(Number(r)));
        out.push_back(run_totals(session, model, ev));
    }
    return out;
}

std::optional<Layout> layout_of(const Program& program, const Environment& env) {
    auto value = [&](const char* name) {
        auto index = program.find_runtime(name);
        if (!index || !env.runtime[*index].is_number()) return Number(1);
        return env.runtime[*index].num;
    };
    Layout layout{value("tp"), value("ep"), value("pp"), value("dp"), value("pp_rank"), Number(1)};
    layout.devices = layout.tp * layout.pp * layout.dp;
    if (layout.devices == Number(1)) return std::nullopt;
    return layout;
}

}  // namespace costi::interp
