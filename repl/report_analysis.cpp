// The hardware line, time summary, memory section and request reports.
#include "repl/report_analysis.hpp"

#include "repl/human.hpp"
#include "repl/report.hpp"

namespace costi::report {

using interp::Number;
using nlohmann::ordered_json;

namespace {

std::string pad_right(const std::string& s, std::size_t w) {
    return s + std::string(w > display_width(s) ? w - display_width(s) : 0, ' ');
}

std::string tokens(const Number& n) {
    return grouped(n) + (n == Number(1) ? " token" : " tokens");
}

std::string seconds(const Number& n) {
    return compact(n, "s", Style::time);
}
std::string bytes(const Number& n) {
    return compact(n, "B", Style::si);
}
// A rate or ratio for people: 4 significant digits.
std::string plain(const Number& n) {
    return compact(n, "", Style::si);
}

const interp::Value* runtime_value(const interp::Program& program, const interp::Environment& env, const char* name) {
    auto i = program.find_runtime(name);
    return i ? &env.runtime[*i] : nullptr;
}



ordered_json largest_json(const interp::Largest& l) {
    ordered_json o = ordered_json::object();
    o["value"] = l.value ? ordered_json(l.value->to_string()) : ordered_json(nullptr);
    o["capped"] = l.unbounded;
    if (!l.limit.empty()) o["limit"] = l.limit;
    return o;
}

ordered_json footprint_json(const interp::Footprint& f) {
    ordered_json o = ordered_json::object();
    o["weights"] = f.weights.to_string();
    o["kv_cache"] = f.kv_cache.to_string();
    o["workspace"] = f.workspace.to_string();
    o["total"] = f.total.to_string();
    o["capacity"] = f.capacity.to_string();
    o["usable"] = f.usable.to_string();
    o["fits"] = f.fits;
    return o;
}

std::string footprint_lines(const interp::Footprint& f, const std::string& kv_note) {
    std::string out;
    out += "  weights     " + bytes(f.weights) + "\n";
    out += "  kv cache    " + pad_right(bytes(f.kv_cache), 10) + "  " + kv_note + "\n";
    out += "  workspace   " + pad_right(bytes(f.workspace), 10) + "  the largest working set of one call\n";
    out += "  total       " + pad_right(bytes(f.total), 10) + "  " +
           (f.fits ? "fits: " + percent(f.total, f.usable) + " of " + bytes(f.usable)
                   : "does not fit: needs " + bytes(f.total) + " of " + bytes(f.usable)) +
           "\n";
    return out;
}

ordered_json hardware_json(const interp::Program& program, const interp::Hardware& hw) {
    ordered_json o = ordered_json::object();
    o["name"] = hw.name;
    o["doc"] = hw.doc;
    ordered_json values = ordered_json::object();
    for (std::size_t i = 0; i < program.properties.size(); ++i) {
        if (!hw.values[i].is_absent()) values[program.properties[i].name] = hw.values[i].num.to_string();
    }
    o["properties"] = std::move(values);
    return o;
}

// 4 significant digits, also below 1 (0.002332): costs per token are small numbers.
std::string significant(const Number& n) {
    if (n.is_zero() || n.abs() >= Number(1)) return plain(n);
    int decimals = 3;
    Number scaled = n.abs();
    while (scaled < Number(1) && decimals < 40) {
        scaled = scaled * Number(10);
        ++decimals;
    }
    std::string s = n.to_fixed(decimals);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
}

// A dollar-free cost: the price is per device-hour in whatever currency the user gave.
Number cost_per_million(const Number& price, const Number& time, const Number& tokens) {
    return *Number::divide(price * time * Number(1000000), Number(3600) * tokens);
}

// "tp 8 x pp 2: 16 x h100-sxm (--tp 8 --pp 2 costs this step per device)"; pp 1 is not named.
std::string layout_text(const Number& tp, const Number& pp, const std::string& hardware) {
    bool staged = pp != Number(1);
    std::string flags = "--tp " + grouped(tp) + (staged ? " --pp " + grouped(pp) : std::string());
    return "tp " + grouped(tp) + (staged ? " x pp " + grouped(pp) : std::string()) + ": " + grouped(tp * pp) + " x " +
           valid_utf8(hardware) + " (" + flags + (staged ? " costs each stage per device)" : " costs this step per device)");
}

}  // namespace

namespace {
// The metrics a layout multiplies by its devices: the summed ones that are not times.
bool across_devices(const interp::Metric& m) { return !m.combine_max && m.style != "time"; }
}  // namespace

std::string layout_line(const interp::Layout& layout) {
    bool staged = layout.pp != interp::Number(1);
    return "layout: tp " + grouped(layout.tp) + (staged ? " x pp " + grouped(layout.pp) : std::string()) + " x dp " +
           grouped(layout.dp) + " = " + grouped(layout.devices) + " devices" +
           (layout.ep == interp::Number(1) ? "" : " (experts over ep " + grouped(layout.ep) + ")") +
           (staged ? "; every number above is one device's of pipeline stage " + grouped(layout.pp_rank) + " (--pp_rank)"
                   : std::string("; every number above is one device's (each runs the same shard)")) +
           "\n";
}

std::string request_layout_line(const interp::Layout& layout) {
    if (layout.pp == interp::Number(1)) return layout_line(layout);
    return "layout: tp " + grouped(layout.tp) + " x pp " + grouped(layout.pp) + " x dp " + grouped(layout.dp) + " = " +
           grouped(layout.devices) + " devices" +
           (layout.ep == interp::Number(1) ? "" : " (experts over ep " + grouped(layout.ep) + ")") +
           "; each step of the batch passes through the " + grouped(layout.pp) +
           " stages in turn: its time is theirs added up, flops, read and write one device of each stage together, "
           "the memory the fullest stage's\n";
}

namespace {
// A summed metric over every device: one device's total times the devices, or, with pipeline
// stages, each stage's total times the devices of a stage.
Number across_all(const interp::Program& program, std::uint32_t m, const interp::Layout& layout, const interp::CostNode& root,
              const std::vector<std::vector<Number>>& stages) {
    if (stages.empty()) return interp::total_of(program.metrics[m], root.count, root.cost[m]) * layout.devices;
    Number sum(0);
    for (const auto& s : stages) sum = sum + s[m];
    return sum * layout.tp * layout.dp;
}
}  // namespace

std::string layout_text(const interp::Program& program, const interp::Layout& layout, const interp::CostNode& root,
                        const std::vector<std::vector<Number>>& stages) {
    std::string out = "\n" + layout_line(layout);
    out += "across the " + grouped(layout.devices) + " devices:";
    bool first = true;
    for (std::uint32_t m = 0; m < program.metrics.size(); ++m) {
        const auto& metric = program.metrics[m];
        if (!across_devices(metric)) continue;
        Number total = across_all(program, m, layout, root, stages);
        out += (first ? " " : ", ") + valid_utf8(metric.name) + " " + compact(total, metric.unit, style_of(metric));
        first = false;
    }
    return out + "\n";
}

void layout_json(const interp::Program& program, const interp::Layout& layout, const interp::CostNode& root,
                 nlohmann::ordered_json& out, const std::vector<std::vector<Number>>& stages) {
    nlohmann::ordered_json l;
    l["tp"] = layout.tp.to_string();
    l["ep"] = layout.ep.to_string();
    l["pp"] = layout.pp.to_string();
    l["pp_rank"] = layout.pp_rank.to_string();
    l["dp"] = layout.dp.to_string();
    l["devices"] = layout.devices.to_string();
    nlohmann::ordered_json across = nlohmann::ordered_json::object();
    for (std::uint32_t m = 0; m < program.metrics.size(); ++m) {
        const auto& metric = program.metrics[m];
        if (!across_devices(metric)) continue;
        across[valid_utf8(metric.name)] = across_all(program, m, layout, root, stages).to_string();
    }
    l["across_devices"] = across;
    out["layout"] = l;
}

std::string execution_line(const interp::Environment& env) {
    std::string note = env.engine_note.empty() ? "" : "; " + valid_utf8(env.engine_note);
    if (env.engine != nullptr) {
        return "execution: " + valid_utf8(env.engine->name) + " (" +
               (env.engine->doc.empty() ? "" : valid_utf8(env.engine->doc)) +
               (env.engine->doc.empty() && !note.empty() ? note.substr(2) : note) + ")\n";
    }
    return "execution: transformers (the kernels as written; the library's families: Hugging Face transformers, "
           "eager PyTorch with SDPA and DynamicCache" + note + ")\n";
}

std::string hardware_line(const interp::Hardware& hw, const interp::Environment& env) {
    std::string out = "hardware " + valid_utf8(hw.name) + (hw.doc.empty() ? "" : ": " + valid_utf8(hw.doc));
    return out + "\n" + execution_line(env);
}

std::string device_text(const interp::Program& program, const DeviceRun& run, const interp::Environment& env) {
    const auto& t = run.totals;
    const auto& ids = run.ids;
    std::string out = "\ntime on " + valid_utf8(run.hardware->name) + ": " + seconds(t[ids.time]);
    // Collectives (stdlib/collectives.cost) take their own time, neither compute nor memory.
    auto comm_id = program.metric_id.find("comm_time");
    Number comm = comm_id == program.metric_id.end() ? Number(0) : t[comm_id->second];
    if (!t[ids.time].is_zero()) {
        Number kernels = t[ids.time] - comm;
        bool by_compute = t[ids.compute_bound] + t[ids.compute_bound] >= kernels;
        Number share = by_compute ? t[ids.compute_bound] : kernels - t[ids.compute_bound];
        out += ", " + std::string(by_compute ? "compute" : "memory") + "-bound (" + percent(share, t[ids.time]) +
               " of the time)";
    }
    out += "\n  at peak compute alone " + seconds(t[ids.compute_time]) + ", at memory bandwidth alone " +
           seconds(t[ids.memory_time]) + "\n";
    if (!comm.is_zero()) {
        auto bytes_id = program.metric_id.find("comm");
        out += "  in collectives " + seconds(comm) + " (" + percent(comm, t[ids.time]) + " of the time)";
        if (bytes_id != program.metric_id.end()) out += ", sending " + bytes(t[bytes_id->second]) + " per device";
        out += "\n";
    }
    Number traffic = t[program.metric_id.at("read")] + t[program.metric_id.at("write")];
    if (!traffic.is_zero()) {
        out += "  arithmetic intensity " + plain(*Number::divide(t[program.metric_id.at("flops")], traffic)) +
               " FLOP/B\n";
    }
    if (!run.has_memory) {
        return out + "\nmemory: " + valid_utf8(run.hardware->name) +
               " gives no memory capacity, so what fits is not answered (add memory = BYTES to its description)\n";
    }
    const interp::Value* util = runtime_value(program, env, "mem_util");
    out += "\nmemory on " + valid_utf8(run.hardware->name) + " (" + bytes(run.footprint.capacity) + " x mem_util " +
           (util ? util->show() : "?") + " = " + bytes(run.footprint.usable) + " usable)\n";
    out += footprint_lines(run.footprint,
                           "batch " + grouped(run.batch) + " x " + tokens(run.context) + " after this step");
    // "101 sequences at this context", "none: even 1 sequence does not fit", "at least …".
    auto largest = [](const interp::Largest& l, const std::string& one, const std::string& many,
                      const std::string& where) {
        std::string s;
        if (!l.value) {
            s = "none " + where + ": " + (l.limit.empty() ? "even 1 " + one + " does not fit" : l.limit);
        } else {
            s = (l.unbounded ? "at least " : "") + grouped(*l.value) + " " + (*l.value == Number(1) ? one : many) + " " +
                where;
            if (l.unbounded) s += " (the search's cap: nothing grows with it)";
            if (!l.limit.empty()) s += "; the model allows no more: " + l.limit;
        }
        return s;
    };
    out += "  max batch   " + largest(run.max_batch, "sequence", "sequences", "at this context (" + tokens(run.context) + ")") +
           "\n";
    out += "  max context " +
           largest(run.max_context, "token", "tokens", "at batch " + grouped(run.batch) + " (a one-token decode step)") +
           "\n";
    if (!run.stages.empty()) {
        Number through(0), slowest(0);
        for (const auto& s : run.stages) {
            through = through + s.time;
            if (s.time > slowest) slowest = s.time;
        }
        out += "\npipeline of " + std::to_string(run.stages.size()) + " stages (each on its own devices):\n";
        for (std::size_t i = 0; i < run.stages.size(); ++i) {
            const auto& f = run.stages[i].footprint;
            out += "  stage " + std::to_string(i) + "  " + seconds(run.stages[i].time) + "  holds " + bytes(f.total) +
                   (f.fits ? "  fits" : "  does not fit") + "\n";
        }
        out += "  a step through every stage takes " + seconds(through) + " (the stages in turn, sends included); with " +
               std::to_string(run.stages.size()) + " micro-batches in flight one leaves every " + seconds(slowest) +
               " (the slowest stage)\n";
    }
    if (run.tp_searched) {
        out += "  fits at     " +
               (run.fits_at_tp ? layout_text(*run.fits_at_tp, run.fits_at_pp, run.hardware->name)
                               : std::string("no layout of up to 1024 devices fits this step")) +
               "\n";
        if (run.fits_at_pp != Number(1))
            out += "  or          " +
                   (run.fits_at_tp_alone ? layout_text(*run.fits_at_tp_alone, Number(1), run.hardware->name) +
                                               ", tensor parallelism alone"
                                         : std::string("no tensor-parallel degree alone up to 1024 fits this step")) +
                   "\n";
    }
    return out;
}

void device_json(const interp::Program& program, const DeviceRun& run, const interp::Environment& env,
                 ordered_json& out) {
    (void)env;
    out["hardware"] = hardware_json(program, *run.hardware);
    if (!run.has_memory) {
        out["memory"] = nullptr;
        return;
    }
    ordered_json memory = footprint_json(run.footprint);
    memory["batch"] = run.batch.to_string();
    memory["context"] = run.context.to_string();
    memory["max_batch"] = largest_json(run.max_batch);
    memory["max_context"] = largest_json(run.max_context);
    if (run.tp_searched) {
        memory["fits_at_tp"] = run.fits_at_tp ? ordered_json(run.fits_at_tp->to_string()) : ordered_json(nullptr);
        memory["fits_at_pp"] = run.fits_at_tp ? ordered_json(run.fits_at_pp.to_string()) : ordered_json(nullptr);
        if (run.fits_at_pp != Number(1))
            memory["fits_at_tp_alone"] =
                run.fits_at_tp_alone ? ordered_json(run.fits_at_tp_alone->to_string()) : ordered_json(nullptr);
    }
    if (!run.stages.empty()) {
        ordered_json stages = ordered_json::array();
        for (const auto& s : run.stages) {
            ordered_json j = footprint_json(s.footprint);
            j["time"] = s.time.to_string();
            stages.push_back(j);
        }
        memory["stages"] = stages;
    }
    out["memory"] = std::move(memory);
}

std::string request_text(const interp::Program& program, const interp::Hardware& hw, const interp::Request& r,
                         const interp::Environment& env, const std::string& model) {
    const interp::AnalysisIds ids = *interp::AnalysisIds::of(program);
    std::string out = "model " + valid_utf8(model) + "\n" + hardware_line(hw, env);
    out += "request: batch " + grouped(r.batch) + " x (prompt " + grouped(r.prompt) + " + generate " +
           grouped(r.generate) + " tokens); each step keeps the last position's logits\n\n";
    std::vector<std::uint32_t> shown{program.metric_id.at("flops"), program.metric_id.at("read"),
                                     program.metric_id.at("write"), ids.time};
    std::vector<std::vector<std::string>> rows{{"", "flops", "read", "write", "time"}};
    auto row = [&](const std::string& name, const std::vector<Number>& t) {
        std::vector<std::string> cells{name};
        for (auto m : shown) cells.push_back(compact(t[m], program.metrics[m].unit, style_of(program.metrics[m])));
        rows.push_back(std::move(cells));
    };
    std::vector<Number> all(r.prefill.size());
    for (std::size_t m = 0; m < all.size(); ++m) all[m] = r.prefill[m] + r.decode[m];
    row("prefill", r.prefill);
    row("decode x " + grouped(r.generate), r.decode);
    row("whole request", all);
    std::vector<std::size_t> w(rows[0].size(), 0);
    for (const auto& cells : rows)
        for (std::size_t i = 0; i < cells.size(); ++i) w[i] = std::max(w[i], display_width(cells[i]));
    for (const auto& cells : rows) {
        std::string line = pad_right(cells[0], w[0]);
        for (std::size_t i = 1; i < cells.size(); ++i)
            line += "  " + std::string(w[i] - display_width(cells[i]), ' ') + cells[i];
        out += line + "\n";
    }
    Number generated = r.batch * r.generate;
    out += "\ntime to first token    " + seconds(r.ttft) + "  (the prefill)\n";
    if (r.generate.sign() > 0) {
        Number mean = *Number::divide(r.decode_time, r.generate);
        out += "time per output token  mean " + seconds(mean) + ", last " + seconds(r.last_decode[ids.time]) + "\n";
    }
    out += "total time             " + seconds(r.total_time) + "\n";
    if (r.generate.sign() > 0 && !r.decode_time.is_zero()) {
        out += "tokens/s               " + plain(*Number::divide(generated, r.decode_time)) +
               " while decoding, " + plain(*Number::divide(generated, r.total_time)) + " over the request (" +
               grouped(generated) + " generated tokens)\n";
    }
    const interp::Value* price = runtime_value(program, env, "price");
    if (price != nullptr && price->num.sign() > 0 && r.generate.sign() > 0) {
        out += "cost                   " + significant(cost_per_million(price->num, r.total_time, generated)) +
               " per 1M generated tokens, " +
               significant(cost_per_million(price->num, r.total_time, r.batch * (r.prompt + r.generate))) +
               " per 1M prompt + generated tokens, at " + price->show() + " per device-hour\n";
    }
    if (!r.has_memory) {
        out += "\nmemory: " + valid_utf8(hw.name) + " gives no memory capacity, so what fits is not answered\n";
        return out;
    }
    out += "\nmemory at the end of the request (" + bytes(r.peak.usable) + " usable)\n";
    out += footprint_lines(r.peak, "batch " + grouped(r.batch) + " x " + tokens(r.prompt + r.generate));
    return out;
}

std::string request_json(const interp::Program& program, const interp::Hardware& hw, const interp::Request& r,
                         const interp::Environment& env, const std::string& model) {
    const interp::AnalysisIds ids = *interp::AnalysisIds::of(program);
    ordered_json out = ordered_json::object();
    out["model"] = model;
    out["hardware"] = hardware_json(program, hw);
    ordered_json runtime = ordered_json::object();
    for (std::size_t i = 0; i < program.runtimes.size(); ++i) {
        const auto& v = env.runtime[i];
        runtime[program.runtimes[i].name] = v.is_number() ? v.num.to_string() : v.str;
    }
    out["runtime"] = std::move(runtime);
    auto metrics = [&](const std::vector<Number>& t) {
        ordered_json o = ordered_json::object();
        for (std::size_t m = 0; m < t.size(); ++m) o[program.metrics[m].name] = t[m].to_string();
        return o;
    };
    ordered_json req = ordered_json::object();
    req["prompt"] = r.prompt.to_string();
    req["generate"] = r.generate.to_string();
    req["batch"] = r.batch.to_string();
    req["prefill"] = metrics(r.prefill);
    req["decode"] = metrics(r.decode);
    req["last_decode"] = metrics(r.last_decode);
    req["ttft"] = r.ttft.to_string();
    req["decode_time"] = r.decode_time.to_string();
    req["total_time"] = r.total_time.to_string();
    Number generated = r.batch * r.generate;
    if (r.generate.sign() > 0) {
        req["tpot_mean"] = Number::divide(r.decode_time, r.generate)->to_string();
        req["tpot_last"] = r.last_decode[ids.time].to_string();
        if (!r.decode_time.is_zero()) req["decode_tokens_per_s"] = Number::divide(generated, r.decode_time)->to_string();
        req["tokens_per_s"] = Number::divide(generated, r.total_time)->to_string();
    }
    const interp::Value* price = runtime_value(program, env, "price");
    if (price != nullptr && price->num.sign() > 0 && r.generate.sign() > 0) {
        req["cost_per_1m_generated"] = cost_per_million(price->num, r.total_time, generated).to_string();
        req["cost_per_1m_tokens"] = cost_per_million(price->num, r.total_time, r.batch * (r.prompt + r.generate)).to_string();
    }
    req["memory"] = r.has_memory ? footprint_json(r.peak) : ordered_json(nullptr);
    out["request"] = std::move(req);
    return out.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace costi::report
