// The load -> check -> evaluate pipeline.
#include "interpreter/session.hpp"

#include <algorithm>
#include <filesystem>
#include <string_view>

#include "interpreter/checker.hpp"
#include "interpreter/diagnostics.hpp"
#include "interpreter/needed.hpp"
#include "interpreter/suggest.hpp"

namespace costi::interp {

namespace fs = std::filesystem;

Session::Session() : loader_(sources_), program_(std::make_unique<Program>(check({}))) {}

namespace {

// A kernel's class name: what follows the last '.' of its name (all of it without one).
std::string_view class_name(std::string_view kernel) {
    auto dot = kernel.rfind('.');
    return dot == std::string_view::npos ? kernel : kernel.substr(dot + 1);
}

bool is_transformers(std::string_view kernel) {
    return kernel.rfind("transformers.", 0) == 0;
}

}  // namespace

// With a lazily read library (set_lazy_library), checks what the roots reach; should that
// fail, reads every body and checks again, so that the diagnostics are an eager load's.
// With a config.json's library (`architecture` given), the kernels model_from_config_json
// may pick are roots too: any of that class name (the names it suggests for an unknown
// architecture are read from the declarations, unread ones included).
std::unique_ptr<Program> Session::check_loaded(const std::string* architecture) {
    if (!lazy_library_) return std::make_unique<Program>(check(loader_.modules()));
    try {
        if (architecture != nullptr) {
            loader_.read_needed_bodies(
                [architecture](const std::string& name) { return class_name(name) == *architecture; });
        } else {
            loader_.read_needed_bodies();
        }
        return std::make_unique<Program>(check(loader_.modules()));
    } catch (const CostiError&) {
        if (!has_unread_bodies(loader_.modules())) throw;
    }
    loader_.read_all_bodies();
    return std::make_unique<Program>(check(loader_.modules()));
}

void Session::set_lazy_library(bool on) {
    lazy_library_ = on;
    loader_.set_lazy_library(on);
}

void Session::recheck(std::size_t modules_before, const std::string* architecture) {
    try {
        auto checked = check_loaded(architecture);
        // Models made from config.json point into the old program: find every new entry
        // first, and re-point them only when all exist, so a failure changes nothing.
        std::vector<const Kernel*> entries;
        for (auto& m : json_models_) {
            const Kernel* entry = checked->find_kernel(m->entry.kernel->name);
            if (entry == nullptr) {
                throw CostiError(Diagnostic{
                    code::bad_model,
                    {},
                    "the new definitions remove $" + m->entry.kernel->name + ", which model '" + m->name + "' runs",
                    "",
                    {}});
            }
            entries.push_back(entry);
        }
        for (std::size_t i = 0; i < json_models_.size(); ++i) {
            json_models_[i]->entry.kernel = entries[i];
            json_models_[i]->entry.args.assign(entries[i]->params.size(), std::nullopt);
        }
        program_ = std::move(checked);
    } catch (...) {
        loader_.truncate(modules_before);
        throw;
    }
}

void Session::load_file(const std::string& path) {
    std::size_t before = loader_.modules().size();
    const SourceFile* file = nullptr;
    try {
        file = loader_.load_file(path).file;
    } catch (...) {
        loader_.truncate(before);
        throw;
    }
    recheck(before);
    // Only a file that checked becomes the session's first file (whose model runs by default).
    if (first_file_ == nullptr) first_file_ = file;
}

void Session::load_files(const std::vector<std::string>& paths) {
    std::size_t before = loader_.modules().size();
    try {
        for (const auto& path : paths) loader_.load_file(path);
    } catch (...) {
        loader_.truncate(before);
        throw;
    }
    recheck(before);
}

void Session::load_text(const std::string& name, std::string text) {
    std::size_t before = loader_.modules().size();
    loader_.load_text(name, std::move(text));
    recheck(before);
}

void Session::load_library(const std::string& architecture) {
    std::size_t before = loader_.modules().size();
    try {
        if (auto file = library_file_declaring(architecture)) {
            loader_.load_file(file->string());
        } else {
            for (const auto& f : library_kernel_files()) loader_.load_file(f.string());
        }
    } catch (...) {
        loader_.truncate(before);
        throw;
    }
    recheck(before, &architecture);
}

void Session::load_library_for(const std::string& config_json) {
    std::string architecture;
    try {
        for (const auto& [key, value] : read_config_json(config_json, {}))
            if (key == "architectures.0" && value.is_string()) architecture = value.str;
    } catch (const CostiError&) {
        architecture.clear();
    }
    load_library(architecture);
}

Value config_override_value(const std::string& text) {
    if (auto n = Number::parse(text)) return Value::of(*n);
    if (text == "true") return Value::of(1);
    if (text == "false") return Value::of(0);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
        return Value::of_string(text.substr(1, text.size() - 2));
    return Value::of_string(text);
}

const Model& Session::pick_model(const std::string& name) const {
    std::vector<std::string> names;
    const Model* only = nullptr;
    int in_first = 0;
    for (const auto& m : program_->models) {
        if (!name.empty() && m->name == name) return *m;
        names.push_back(m->name);
        if (m->file == first_file_) {
            only = m.get();
            ++in_first;
        }
    }
    if (name.empty() && in_first == 1) return *only;
    std::string message = name.empty() ? (in_first == 0 ? "no model is declared in this file"
                                                        : "this file declares several models; choose one with --model")
                                       : "unknown model '" + name + "'";
    std::string hint;
    if (!name.empty()) {
        if (auto best = closest(name, names)) hint = "did you mean '" + *best + "'?";
    }
    if (hint.empty() && !names.empty()) {
        hint = "models known here: " + join(names);
    }
    throw CostiError(Diagnostic{code::bad_model, {}, message, hint, {}});
}

const Model& Session::model_from_config_json(const std::string& path) {
    ConfigEntries entries = read_config_json(path, {});
    std::string arch;
    std::string name = path;
    for (const auto& [k, v] : entries) {
        if (k == "architectures.0" && v.is_string()) arch = v.str;
        if (k == "_name_or_path" && v.is_string() && !v.str.empty()) name = v.str;
    }
    if (arch.empty()) {
        throw CostiError(Diagnostic{code::bad_json,
                                    {},
                                    "'" + path + "' has no \"architectures\" entry",
                                    "costi picks the model class from architectures[0], e.g. \"LlamaForCausalLM\"",
                                    {}});
    }
    const Kernel* entry = nullptr;
    for (const auto& k : program_->kernels) {
        if (is_transformers(k->name) && class_name(k->name) == arch) entry = k.get();
    }
    // Else any kernel of that class name that no engine runs in place of another (an engine's
    // vllm.….LlamaForCausalLM is what --engine runs, not an entry).
    for (const auto& k : program_->kernels) {
        if (entry != nullptr) break;
        if (class_name(k->name) != arch) continue;
        bool engine_kernel = false;
        for (const auto& e : program_->engines)
            for (const auto& [from, to] : e->runs) engine_kernel = engine_kernel || to == k.get();
        if (!engine_kernel) entry = k.get();
    }
    if (entry == nullptr) {
        // Every transformers.… model class declared, its body read or not (a lazy read checks
        // only the kernels of this class name), in declaration order.
        std::vector<std::string> known;
        for (const auto& m : loader_.modules()) {
            for (const auto& k : m.kernels) {
                std::string_view tail = class_name(k.name);
                if (is_transformers(k.name) && tail.find("For") != std::string_view::npos) known.emplace_back(tail);
            }
        }
        auto best = closest(arch, known);
        throw CostiError(
            Diagnostic{code::bad_model,
                       {},
                       "unknown architecture '" + arch + "' in '" + path + "'",
                       best ? "did you mean '" + *best + "'?" : "architectures with kernels: " + join(known),
                       {}});
    }
    auto model = std::make_unique<Model>();
    model->name = name;
    model->entry.kernel = entry;
    model->entry.label = name;
    model->entry.args.resize(entry->params.size());
    for (const auto& p : entry->params) {
        if (!p.default_value) {
            throw CostiError(
                Diagnostic{code::bad_model,
                           {},
                           "$" + entry->name + " needs parameter '" + p.name + "', which a config.json cannot give",
                           "",
                           {}});
        }
    }
    model->config = std::move(entries);
    json_models_.push_back(std::move(model));
    return *json_models_.back();
}

ConfigEntries Session::model_config(const Model& model) const {
    ConfigEntries out;
    for (const auto& [path, span] : model.config_files) {
        fs::path p(path);
        if (p.is_relative() && model.file != nullptr) p = fs::path(model.file->name()).parent_path() / p;
        try {
            ConfigEntries e = read_config_json(p.string(), span);
            out.insert(out.end(), e.begin(), e.end());
        } catch (CostiError& err) {
            for (auto& d : err.diagnostics()) d.span = span;
            throw;
        }
    }
    out.insert(out.end(), model.config.begin(), model.config.end());
    return out;
}

Environment Session::environment(const Model& model, const Overrides& overrides) const {
    ConfigEntries config = model_config(model);
    config.insert(config.end(), overrides.config.begin(), overrides.config.end());
    std::vector<std::pair<std::uint32_t, Value>> runtime;
    for (const auto& [name, v] : overrides.runtime) {
        auto index = program_->find_runtime(name);
        if (!index) {
            throw CostiError(Diagnostic{code::not_runtime, {}, "'" + name + "' is not a runtime variable", "", {}});
        }
        runtime.emplace_back(*index, v);
    }
    const Hardware* hardware = overrides.hardware.empty() ? nullptr : &pick_hardware(overrides.hardware);
    const Engine* engine =
        overrides.engine.empty() || overrides.engine == "transformers" ? nullptr : &pick_engine(overrides.engine);
    std::string note;
    if (overrides.engine.empty() && hardware != nullptr && model.entry.kernel != nullptr) {
        const Engine* fallback = program_->find_engine(analysis_engine);
        if (fallback != nullptr && fallback->runs.count(model.entry.kernel) != 0) {
            engine = fallback;
            note = std::string("the default with a device; --engine transformers (:engine in the REPL) for the transformers execution");
        } else if (fallback != nullptr) {
            note = std::string("the ") + analysis_engine + " engine, the default with a device, does not model $" +
                   model.entry.kernel->name;
        } else {
            note = std::string("the ") + analysis_engine + " engine, the default with a device, is not loaded";
        }
    }
    try {
        Environment env = model_environment(*program_, model, config, runtime);
        env.hardware = hardware;
        env.engine = engine;
        env.engine_note = std::move(note);
        if (model.entry.kernel != nullptr) check_layout(model, env);
        return env;
    } catch (CostiError& e) {
        for (auto& d : e.diagnostics()) d.chain.push_back({"model " + model.name, model.name_span});
        throw;
    }
}

void Session::check_layout(const Model& model, const Environment& env) const {
    // The kernel the run's execution runs for this model; an engine that does not model the
    // family is entry_of's error to report when the model runs, not this check's.
    const Kernel* entry = model.entry.kernel;
    if (env.engine != nullptr) {
        auto it = env.engine->runs.find(model.entry.kernel);
        if (it == env.engine->runs.end()) return;
        entry = it->second;
    }
    for (const char* name : sharding_variables) {
        auto index = program_->find_runtime(name);
        if (!index) continue;
        const Value& v = env.runtime[*index];
        if (!v.is_number() || v.num == Number(1)) continue;
        if (std::find(entry->reads.begin(), entry->reads.end(), *index) != entry->reads.end()) continue;
        std::string execution = env.engine != nullptr ? "the " + env.engine->name + " execution" : "the transformers execution";
        throw CostiError(Diagnostic{
            code::unmodelled_layout, model.name_span,
            std::string(name) + " = " + v.num.to_string() + ": " + execution + " of $" + entry->name +
                " does not model it (none of its kernels reads " + name + ")",
            env.engine == nullptr ? "the vLLM execution models tensor, expert and pipeline parallelism: --engine vllm (the default with --hw)"
                                  : "docs/parallelism.md lists the families and layouts each execution models",
            {}});
    }
}

const Engine& Session::pick_engine(const std::string& name) const {
    if (const Engine* e = program_->find_engine(name)) return *e;
    std::vector<std::string> names{"transformers"};
    for (const auto& e : program_->engines) names.push_back(e->name);
    auto best = closest(name, names);
    throw CostiError(Diagnostic{code::bad_engine, {}, "no engine named '" + name + "' is loaded",
                                best ? "did you mean '" + *best + "'?" : "engines: " + join(names), {}});
}

CallSite Session::entry_of(const Model& model, const Environment& env) const {
    if (model.entry.kernel == nullptr) {
        throw CostiError(
            Diagnostic{code::bad_model, model.name_span, "model '" + model.name + "' has no entry kernel", "", {}});
    }
    CallSite site = model.entry;
    if (env.engine == nullptr) return site;
    auto it = env.engine->runs.find(model.entry.kernel);
    if (it == env.engine->runs.end()) {
        throw CostiError(Diagnostic{code::bad_engine, model.entry.span.file != nullptr ? model.entry.span : model.name_span,
                                    "the " + env.engine->name + " engine does not model $" + model.entry.kernel->name +
                                        " yet",
                                    "run it with --engine transformers (the library's kernels as written)", {}});
    }
    site.kernel = it->second;
    return site;
}

const Hardware& Session::pick_hardware(const std::string& name) const {
    if (const Hardware* h = program_->find_hardware(name)) return *h;
    std::vector<std::string> names;
    for (const auto& h : program_->hardware) names.push_back(h->name);
    auto best = closest(name, names);
    throw CostiError(Diagnostic{code::bad_hardware, {}, "no hardware named '" + name + "' is loaded",
                                best            ? "did you mean '" + *best + "'?"
                                : names.empty() ? "load a hardware description (costi list hardware)"
                                                : "loaded: " + join(names),
                                {}});
}

Environment Session::base_environment(const Overrides& overrides) const {
    static const Model none;
    return environment(none, overrides);
}

CostNode Session::run(const Model& model, const Overrides& overrides) const {
    return run_in(model, environment(model, overrides));
}

CostNode Session::totals(const Model& model, const Overrides& overrides) const {
    return run_in(model, environment(model, overrides), 0);
}

CostNode Session::run_in(const Model& model, Environment env, int keep_depth,
                         std::vector<std::pair<std::string, Value>>* defaulted) const {
    CallSite site = entry_of(model, env);
    Evaluator ev(*program_, std::move(env), limits_);
    if (defaulted != nullptr) ev.note_defaults();
    try {
        CostNode root = ev.call(site, {}, keep_depth);
        if (defaulted != nullptr) {
            for (const auto& [index, v] : ev.defaulted()) defaulted->emplace_back(program_->config_keys[index], v);
        }
        return root;
    } catch (CostiError& e) {
        for (auto& d : e.diagnostics()) d.chain.push_back({"model " + model.name, model.name_span});
        throw;
    }
}

CostNode Session::totals_with(Evaluator& ev, const Model& model) const {
    CallSite site = entry_of(model, ev.environment());
    try {
        return ev.call(site, {}, 0);
    } catch (CostiError& e) {
        for (auto& d : e.diagnostics()) d.chain.push_back({"model " + model.name, model.name_span});
        throw;
    }
}

Compiled Session::compile(const Model& model, const Overrides& overrides, std::vector<std::uint32_t> free,
                          int keep_depth) const {
    Environment env = environment(model, overrides);
    CompileRequest request;
    request.entry = entry_of(model, env);
    request.free = free.empty() ? request.entry.kernel->reads : std::move(free);
    std::vector<std::uint32_t> given;
    for (const auto& [name, v] : overrides.runtime) given.push_back(*program_->find_runtime(name));
    request.sources = runtime_sources(*program_, model, given);
    request.env = std::move(env);
    request.keep_depth = keep_depth;
    request.model = ChainFrame{"model " + model.name, model.name_span};
    request.limits = limits_;
    return interp::compile(*program_, std::move(request));
}

void Session::check_config_key(const Model* model, const std::string& key) const {
    if (program_->config_id.count(key) != 0) return;
    std::vector<std::string> known = program_->config_keys;
    if (model != nullptr) {
        for (const auto& [k, v] : model_config(*model)) {
            if (k == key) return;
            known.push_back(k);
        }
    }
    // A key under a known parent (rope_scaling.factor when rope_scaling is set) or a parent
    // of a known key (rope_scaling itself) names the same setting.
    for (const auto& k : known) {
        if (k.rfind(key + ".", 0) == 0 || key.rfind(k + ".", 0) == 0) return;
    }
    auto best = closest(key, known);
    throw CostiError(Diagnostic{code::unknown_config_key,
                                {},
                                "unknown config key 'config." + key + "': no kernel of " +
                                    (model != nullptr ? "this model" : "the session") + " reads it",
                                best ? "did you mean 'config." + *best + "'?"
                                     : "no kernel reads it, so setting it would change nothing",
                                {}});
}

}  // namespace costi::interp
