// The library API of include/costi/costi.hpp over the session: the same lookup of models
// (repl/model_lookup.hpp), loading, override values, evaluation and diagnostics as the
// command line, with errors thrown as costi::Error carrying the rendered diagnostics.
#include "costi/costi.hpp"

#include <gmp.h>

#include <charconv>
#include <utility>

#include "interpreter/diagnostics.hpp"
#include "interpreter/domain.hpp"
#include "interpreter/session.hpp"
#include "interpreter/suggest.hpp"
#include "repl/model_lookup.hpp"

namespace costi {

namespace {

// Runs `f`, turning a CostiError into an Error while the session whose sources the
// diagnostics quote is still alive.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const interp::CostiError& e) {
        std::string rendered;
        for (const auto& d : e.diagnostics()) rendered += interp::render(d);
        throw Error(rendered, e.diagnostics().empty() ? "" : e.diagnostics().front().code);
    }
}

[[noreturn]] void fail(const char* code, const std::string& message, const std::string& hint = "") {
    throw interp::CostiError(interp::Diagnostic{code, {}, message, hint, {}});
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& names, const std::string& what) {
    if (auto best = interp::closest(word, names)) return "did you mean '" + *best + "'?";
    return names.empty() ? "" : what + ": " + interp::join(names);
}

Node convert(const interp::Program& program, const interp::CostNode& n) {
    Node out;
    out.label = n.label;
    out.kernel = n.kernel != nullptr ? n.kernel->name : "";
    out.count = Rational(n.count.to_string());
    for (std::size_t m = 0; m < program.metrics.size() && m < n.cost.size(); ++m) {
        const interp::Metric& metric = program.metrics[m];
        out.cost.emplace(metric.name, Rational(n.cost[m].to_string()));
        out.total.emplace(metric.name, Rational(interp::total_of(metric, n.count, n.cost[m]).to_string()));
    }
    for (const auto& c : n.children) out.children.push_back(convert(program, c));
    return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::optional<std::int64_t> Rational::to_int64() const {
    if (!is_integer()) return std::nullopt;
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
    if (ec != std::errc() || end != text_.data() + text_.size()) return std::nullopt;
    return v;
}

double Rational::to_double() const {
    mpq_t q;
    mpq_init(q);
    // Text the library did not produce ("abc", "1/0") is a use error, not a silent 0.
    bool ok = mpq_set_str(q, text_.c_str(), 10) == 0 && mpz_sgn(mpq_denref(q)) != 0;
    double d = ok ? mpq_get_d(q) : 0.0;
    mpq_clear(q);
    if (!ok) throw Error("costi: '" + text_ + "' is not a rational number (expected digits or p/q)", "");
    return d;
}

const Rational& Result::total(const std::string& metric) const {
    auto it = root_.total.find(metric);
    if (it != root_.total.end()) return it->second;
    return guarded([&]() -> const Rational& {
        fail(interp::code::unknown_metric, "unknown metric '" + metric + "'", did_you_mean(metric, metrics_, "metrics"));
    });
}

struct Model::Impl {
    interp::Session session;
    const interp::Model* model = nullptr;
    interp::Overrides overrides;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::load(const std::string& what, const std::string& model) {
    auto impl = std::make_unique<Impl>();
    guarded([&] {
        interp::Session& session = impl->session;
        if (ends_with(what, ".json")) {
            session.load_library_for(what);
            impl->model = &session.model_from_config_json(what);
            return;
        }
        cli::ModelRef ref = cli::find_model(what);
        session.load_file(ref.file);
        if (!ref.model.empty() && !model.empty() && model != ref.model)
            fail(interp::code::bad_model, "'" + what + "' names model '" + ref.model + "', not '" + model + "'");
        impl->model = &session.pick_model(model.empty() ? ref.model : model);
    });
    return Model(std::move(impl));
}

const std::string& Model::name() const { return impl_->model->name; }

std::string Model::file() const {
    const interp::SourceFile* f = impl_->model->file;
    return f != nullptr ? f->name() : "";
}

std::vector<std::string> Model::runtime_variables() const {
    std::vector<std::string> out;
    for (const auto& r : impl_->session.program().runtimes) out.push_back(r.name);
    return out;
}

std::vector<std::string> Model::metrics() const {
    std::vector<std::string> out;
    for (const auto& m : impl_->session.program().metrics) out.push_back(m.name);
    return out;
}

Model& Model::set(const std::string& variable, const std::string& value) {
    guarded([&] {
        const interp::Program& program = impl_->session.program();
        auto index = program.find_runtime(variable);
        if (!index)
            fail(interp::code::not_runtime, "'" + variable + "' is not a runtime variable",
                 did_you_mean(variable, runtime_variables(), "runtime variables"));
        auto n = interp::Number::parse(value);
        if (!n) fail(interp::code::bad_domain, variable + " takes a number (42, 0.5, 9/16, 1e6), got '" + value + "'");
        interp::Value v = interp::Value::of(*n);
        if (auto problem = interp::domain_problem(program, *index, v)) {
            const std::string& doc = program.runtimes[*index].doc;
            fail(interp::code::bad_domain, *problem, doc.empty() ? "" : variable + ": " + doc);
        }
        auto& runtime = impl_->overrides.runtime;
        std::erase_if(runtime, [&](const auto& kv) { return kv.first == variable; });
        runtime.emplace_back(variable, std::move(v));
    });
    return *this;
}

Model& Model::set(const std::string& variable, std::int64_t value) { return set(variable, std::to_string(value)); }

Model& Model::set_config(const std::string& key, const std::string& value) {
    guarded([&] {
        std::string k = key.rfind("config.", 0) == 0 ? key.substr(7) : key;
        impl_->session.check_config_key(impl_->model, k);
        auto& config = impl_->overrides.config;
        std::erase_if(config, [&](const auto& kv) { return kv.first == k; });
        config.emplace_back(k, interp::config_override_value(value));
    });
    return *this;
}

Model& Model::reset() {
    impl_->overrides = {};
    return *this;
}

Result Model::run(int depth) const {
    return guarded([&] {
        const interp::Session& session = impl_->session;
        const interp::Program& program = session.program();
        interp::CostNode root = session.run_in(*impl_->model, session.environment(*impl_->model, impl_->overrides),
                                               depth < 0 ? -1 : depth);
        Result r;
        r.model_ = impl_->model->name;
        for (const auto& m : program.metrics) r.metrics_.push_back(m.name);
        r.root_ = convert(program, root);
        return r;
    });
}

Result Model::evaluate(int depth) const { return run(depth); }

Result Model::totals() const { return run(0); }

}  // namespace costi
