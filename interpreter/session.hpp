// A session: the files loaded so far, their checked Program, and running models.
//
// Owns: the pipeline load → check → evaluate for the command line and the REPL; turning
// a model (from a .cost file or a config.json) plus overrides into an Environment; and
// keeping the session unchanged when new input fails. Does not own formatting (repl/).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/compile/compile.hpp"
#include "interpreter/config_json.hpp"
#include "interpreter/evaluator.hpp"
#include "interpreter/loader.hpp"
#include "interpreter/program.hpp"

namespace costi::interp {

// What the command line or the REPL overrides for one run.
struct Overrides {
    std::vector<std::pair<std::string, Value>> runtime;  // name -> value
    ConfigEntries config;                                // key -> value
    std::string hardware;                                // the hardware hw.PROPERTY reads; empty for none
    std::string engine;                                  // the execution chosen; "transformers": the kernels as written;
                                                         // empty: none chosen (see analysis_engine)
};

// The execution the hardware analyses run when none is chosen: with a device selected and no
// engine named, a model runs under this engine if the session has it loaded and it models the
// model's family, else under transformers (Environment::engine_note says why).
inline constexpr const char* analysis_engine = "vllm";

// The layout variables the kernels themselves model (stdlib/prelude.cost): set to anything but
// 1 for a model none of whose kernels reads them, a run is refused (E0212) rather than costed
// as one device. (dp, data-parallel replicas, needs no kernel: the report multiplies.)
inline constexpr const char* sharding_variables[] = {"tp", "ep", "pp"};

// The value of a config override's text (`--set config.KEY=VALUE`): an exact number,
// true/false as 1/0, "quoted" or bare text as a string.
Value config_override_value(const std::string& text);

class Session {
public:
    Session();

    // Loads a file (and its imports) and rechecks. On error the session is unchanged. Throws CostiError.
    void load_file(const std::string& path);
    // From now on, reads the built-in library's kernel bodies only where the program reaches
    // them (interpreter/needed.hpp): a command that runs one model (`costi run`, `formula`,
    // `sweep`) parses and checks what it runs, not the whole library. Results and every
    // diagnostic are those of an eager load; the session then holds only the kernels it
    // reached, so commands that list or look up any kernel by name keep it off.
    void set_lazy_library(bool on);

    // Loads several files (and their imports) and checks the program once: what loading them
    // one by one gives, for one check instead of one each. On error the session is unchanged.
    // None becomes the session's first file. Throws CostiError.
    void load_files(const std::vector<std::string>& paths);
    // Loads text as a new module (REPL definitions); on error the session is unchanged.
    void load_text(const std::string& name, std::string text);
    // Loads every kernels/*.cost of the built-in library (for --config and the REPL); given
    // the class name of a config.json's architectures[0], only the file that declares it
    // (and its imports), when the library's index finds one.
    void load_library(const std::string& architecture = "");
    // Loads what a model from a Hugging Face config.json needs: load_library of its
    // architectures[0] (the whole library when the file cannot be read: the run reports why).
    void load_library_for(const std::string& config_json);

    const Program& program() const { return *program_; }
    Program& program() { return *program_; }

    // The model to run: by name, else the only model the first loaded file declares.
    // Throws CostiError (E0111) naming the choices.
    const Model& pick_model(const std::string& name) const;

    // Makes a model from a HF config.json: entry kernel by architectures[0]. Throws CostiError.
    const Model& model_from_config_json(const std::string& path);

    // The config a model sees: its `config from` files, then its config block.
    ConfigEntries model_config(const Model& model) const;

    // The environment of a run of `model` with `overrides`. Throws CostiError.
    Environment environment(const Model& model, const Overrides& overrides) const;

    // The environment with no model: declared runtime defaults, overrides, config overrides only.
    Environment base_environment(const Overrides& overrides) const;

    // Evaluates a model. Throws CostiError with the chain ending in "model NAME".
    CostNode run(const Model& model, const Overrides& overrides) const;
    // Evaluates a model in an environment from environment(model, …), keeping `keep_depth`
    // levels of calls below the model in the tree (-1: all; deeper calls still count in
    // every total).
    // `defaulted`, when given, receives the config keys whose `??` fallback the run used
    // (Evaluator::defaulted), by name.
    CostNode run_in(const Model& model, Environment env, int keep_depth = -1,
                    std::vector<std::pair<std::string, Value>>* defaulted = nullptr) const;
    // The totals of a model with an evaluator the caller keeps across runs (rebinding runtime
    // variables between them, as a request's steps do), so memoised subtrees are shared.
    Evaluator evaluator(Environment env) const { return Evaluator(*program_, std::move(env), limits_); }
    CostNode totals_with(Evaluator& ev, const Model& model) const;

    // The bounds every evaluation of this session runs under (docs/language.md, "Limits");
    // a fuzzer sets tighter ones.
    void set_limits(const EvalLimits& limits) { limits_ = limits; }
    const EvalLimits& limits() const { return limits_; }

    // The engine named `name` (not "transformers"). Throws CostiError (E0118, with "did you mean").
    const Engine& pick_engine(const std::string& name) const;
    // Refuses (E0212) a sharding degree other than 1 that the model's entry kernel (under
    // env's engine) never reads: that execution does not model it.
    void check_layout(const Model& model, const Environment& env) const;
    // The call a run of `model` starts with under the environment's engine: the model's entry,
    // or the kernel the engine runs in its place. Throws CostiError (E0118) when the engine does
    // not model the model's family.
    CallSite entry_of(const Model& model, const Environment& env) const;

    // The hardware description named `name`. Throws CostiError (E0116, with "did you mean").
    const Hardware& pick_hardware(const std::string& name) const;

    // Refuses (E0112, with "did you mean") a config key that nothing would read: a key is
    // accepted when some kernel reads config.KEY or the model's own config sets it (a
    // config.json's keys are all the config class's). Throws CostiError.
    // With no model (a REPL session before one is loaded), only the kernels' keys count.
    void check_config_key(const Model* model, const std::string& key) const;
    // Like run(), keeping only the root's cost (no tree): for sweeps and totals.
    CostNode totals(const Model& model, const Overrides& overrides) const;

    // Compiles a model (compile/compile.hpp) with `free` runtime variables left free (empty:
    // every one its entry kernel reads; a free variable's value in `overrides` is ignored),
    // keeping `keep_depth` levels of calls below the model (-1: all). Throws CostiError.
    Compiled compile(const Model& model, const Overrides& overrides, std::vector<std::uint32_t> free = {},
                     int keep_depth = 0) const;

private:
    // `architecture`: the load is the library of a config.json of that model class.
    void recheck(std::size_t modules_before, const std::string* architecture = nullptr);
    std::unique_ptr<Program> check_loaded(const std::string* architecture);

    SourceSet sources_;
    Loader loader_;
    std::unique_ptr<Program> program_;
    std::vector<std::unique_ptr<Model>> json_models_;
    const SourceFile* first_file_ = nullptr;
    EvalLimits limits_;
    bool lazy_library_ = false;
};

}  // namespace costi::interp
