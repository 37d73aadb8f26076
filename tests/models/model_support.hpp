// Helpers for the model tests: load a shipped model (models/*.cost) or a config.json, run it
// with runtime and config overrides, and walk the cost tree.
//
// Expected numbers in these tests are computed with plain integers (Int, below) from the
// published config values, never with the interpreter's Number type, so that the program's
// arithmetic is checked, not reused.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/diagnostics.hpp"
#include "interpreter/session.hpp"

namespace costi::models_test {

using interp::CostNode;
using interp::Number;
using interp::Value;

// 128-bit integers for expected values: products such as 2·M·K·N over a whole model stay
// far below 2^127, so no expected value can overflow silently.
__extension__ typedef __int128 Int;
__extension__ typedef unsigned __int128 UInt;

// Decimal digits of an Int, as Number::to_string prints an integer.
inline std::string str(Int v) {
    if (v == 0) return "0";
    bool negative = v < 0;
    UInt u = negative ? static_cast<UInt>(-(v + 1)) + 1 : static_cast<UInt>(v);
    std::string digits;
    while (u != 0) {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
        u /= 10;
    }
    return negative ? "-" + digits : digits;
}

inline const std::string models_dir = COSTI_MODELS_DIR;
inline const std::string configs_dir = COSTI_MODEL_CONFIGS_DIR;

// One forward step: runtime variables and config overrides.
struct Step {
    std::int64_t batch = 1;
    std::int64_t seq = 1;
    std::int64_t cache = 0;
    bool eager = false;                                         // config._attn_implementation = "eager"
    std::vector<std::pair<std::string, std::int64_t>> runtime;  // further runtime variables
    std::vector<std::pair<std::string, std::int64_t>> config;   // further config keys
    std::vector<std::pair<std::string, std::string>> config_strings;  // further string config keys

    interp::Overrides overrides() const {
        interp::Overrides o;
        o.runtime.emplace_back("batch_size", Value::of(Number(batch)));
        o.runtime.emplace_back("seq_len", Value::of(Number(seq)));
        o.runtime.emplace_back("cache_len", Value::of(Number(cache)));
        for (const auto& [k, v] : runtime) o.runtime.emplace_back(k, Value::of(Number(v)));
        if (eager) o.config.emplace_back("_attn_implementation", Value::of_string("eager"));
        for (const auto& [k, v] : config) o.config.emplace_back(k, Value::of(Number(v)));
        for (const auto& [k, v] : config_strings) o.config.emplace_back(k, Value::of_string(v));
        return o;
    }
};

// A session holding one model, from models/NAME.cost or from a config.json.
class Loaded {
public:
    static std::unique_ptr<Loaded> shipped(const std::string& name) {
        auto l = std::make_unique<Loaded>();
        l->session_.load_file(models_dir + "/" + name + ".cost");
        l->model_ = &l->session_.pick_model("");
        return l;
    }
    static std::unique_ptr<Loaded> from_config_json(const std::string& path) {
        auto l = std::make_unique<Loaded>();
        l->session_.load_library();
        l->model_ = &l->session_.model_from_config_json(path);
        return l;
    }

    CostNode run(const Step& step) const { return session_.run(*model_, step.overrides()); }

    std::uint32_t metric(const std::string& name) const {
        auto m = session_.program().find_metric(name);
        EXPECT_TRUE(m.has_value()) << "no metric " << name;
        return m.value_or(0);
    }

    // The model's total in `metric` for one step, as an exact string.
    std::string total(const std::string& metric_name, const Step& step = {}) const {
        CostNode root = run(step);
        return (root.count * root.cost.at(metric(metric_name))).to_string();
    }

    const interp::Session& session() const { return session_; }

private:
    interp::Session session_;
    const interp::Model* model_ = nullptr;
};

// The kernels whose FLOPs FlopCounterMode counts as matrix products (stdlib/matmul.cost).
inline const std::set<std::string>& gemm_leaves() {
    static const std::set<std::string> names{"F.linear",  "torch.matmul", "torch.mm",
                                             "torch.bmm", "torch.addmm",  "torch.baddbmm"};
    return names;
}

inline bool is_gemm(const CostNode& n) { return n.kernel != nullptr && gemm_leaves().count(n.kernel->name) != 0; }

// Σ over the leaves below `node` accepted by `take` of (product of the counts on the path,
// including the leaf's own and `node`'s own) × the leaf's cost in `metric`. Subtrees whose
// root `skip` accepts are left out.
inline Number leaf_sum(const CostNode& node, std::uint32_t metric, const std::function<bool(const CostNode&)>& take,
                       const std::function<bool(const CostNode&)>& skip = nullptr, const Number& factor = Number(1)) {
    if (skip && skip(node)) return Number(0);
    Number f = factor * node.count;
    if (node.children.empty()) return take(node) ? f * node.cost.at(metric) : Number(0);
    Number sum(0);
    for (const auto& c : node.children) sum += leaf_sum(c, metric, take, skip, f);
    return sum;
}

// As leaf_sum, for ONE call of `node` (its own count left out).
inline Number leaf_sum_per_call(const CostNode& node, std::uint32_t metric,
                                const std::function<bool(const CostNode&)>& take,
                                const std::function<bool(const CostNode&)>& skip = nullptr) {
    if (node.children.empty()) return take(node) ? node.cost.at(metric) : Number(0);
    Number sum(0);
    for (const auto& c : node.children) sum += leaf_sum(c, metric, take, skip);
    return sum;
}

inline bool kernel_is(const CostNode& n, const std::string& name) {
    return n.kernel != nullptr && n.kernel->name == name;
}

inline bool kernel_ends_with(const CostNode& n, const std::string& tail) {
    if (n.kernel == nullptr) return false;
    const std::string& k = n.kernel->name;
    return k.size() >= tail.size() && k.compare(k.size() - tail.size(), tail.size(), tail) == 0;
}

// The node reached from `root` through children with these labels, and the product of the
// counts along the way (root's and the node's own included). Fails the test when absent.
struct Found {
    const CostNode* node = nullptr;
    Number calls{0};
};

inline Found find_path(const CostNode& root, std::initializer_list<std::string> labels) {
    const CostNode* n = &root;
    Number calls = root.count;
    std::string walked;
    for (const auto& label : labels) {
        const CostNode* next = nullptr;
        for (const auto& c : n->children) {
            if (c.label == label) next = &c;
        }
        walked += "/" + label;
        if (next == nullptr) {
            ADD_FAILURE() << "no node " << walked;
            return {};
        }
        n = next;
        calls = calls * n->count;
    }
    return {n, calls};
}

// The first node (depth first) whose kernel is `kernel` on a path of non-zero counts, with
// the product of the counts along the path (root's and the node's own included); a null
// node when there is none.
inline Found find_kernel(const CostNode& root, const std::string& kernel, const Number& factor = Number(1)) {
    Number f = factor * root.count;
    if (f.is_zero()) return {};
    if (kernel_is(root, kernel)) return {&root, f};
    for (const auto& c : root.children) {
        Found r = find_kernel(c, kernel, f);
        if (r.node != nullptr) return r;
    }
    return {};
}

// A session of library files (an engine's kernels, a device, models) whose models run under
// a chosen execution: the tests of kernels/vllm/ compare an engine with the transformers
// kernels as written (engine "" or "transformers").
class EngineRuns {
public:
    // Loads the kernel files, then the device's file (none when empty), then the model files.
    EngineRuns(const std::vector<std::string>& kernels, const std::string& device, const std::vector<std::string>& models) {
        for (const auto& f : kernels) session_.load_file(f);
        if (!device.empty()) session_.load_file(device);
        for (const auto& f : models) session_.load_file(f);
    }

    CostNode run_as(const std::string& model, const Step& step, const std::string& engine,
                    const std::string& hw = "") const {
        interp::Overrides o = step.overrides();
        o.engine = engine;
        o.hardware = hw;
        return session_.run(session_.pick_model(model), o);
    }
    std::uint32_t metric(const std::string& name) const { return *session_.program().find_metric(name); }
    // The model's total in metric `m` for one step, as an exact string.
    std::string total_as(const std::string& model, const std::string& m, const Step& step, const std::string& engine,
                         const std::string& hw = "") const {
        CostNode root = run_as(model, step, engine, hw);
        return (root.count * root.cost.at(metric(m))).to_string();
    }
    // Σ over the leaves `take` accepts of metric `m`, for one step.
    std::string leaves_as(const std::string& model, const std::function<bool(const CostNode&)>& take,
                          const std::string& m, const Step& step, const std::string& engine) const {
        return leaf_sum(run_as(model, step, engine), metric(m), take).to_string();
    }
    // The same over the leaves of kernel `kernel`.
    std::string leaves_as(const std::string& model, const std::string& kernel, const std::string& m, const Step& step,
                          const std::string& engine) const {
        return leaves_as(model, [&](const CostNode& n) { return kernel_is(n, kernel); }, m, step, engine);
    }
    const interp::Session& session() const { return session_; }

protected:
    interp::Session session_;
};

// The steps the engine tests run (a namespace of their own: other model tests name theirs alike).
namespace steps {
inline Step step(std::int64_t batch, std::int64_t seq, std::int64_t cache) {
    Step s;
    s.batch = batch;
    s.seq = seq;
    s.cache = cache;
    return s;
}
inline Step decode(std::int64_t cache, std::int64_t batch = 1) { return step(batch, 1, cache); }
inline Step prefill(std::int64_t seq, std::int64_t batch = 1) { return step(batch, seq, 0); }
}  // namespace steps

// What the family tests (family_*_test.cpp) share: a config.json of tests/models/configs, the
// GEMM FLOPs of a step, the error a model stops with, the KV cache a step leaves. A namespace
// of their own, brought in with `using namespace family;`.
namespace family {

inline std::string config(const std::string& name) { return configs_dir + "/" + name; }

// A config.json written to the test's temporary directory; returns its path.
inline std::string write_json(const std::string& name, const std::string& text) {
    std::string path = ::testing::TempDir() + name;
    std::ofstream(path) << text;
    return path;
}

inline bool is_linear(const CostNode& n) { return kernel_is(n, "F.linear"); }
inline bool is_sdpa(const CostNode& n) { return kernel_is(n, "F.scaled_dot_product_attention"); }

// Σ 2·M·K·N over the F.linear leaves of one step: the GEMMs of the nn.Linear modules.
inline std::string linear_flops(const Loaded& model, const Step& step) {
    return leaf_sum(model.run(step), model.metric("flops"), is_linear).to_string();
}

// The same for B sequences of S new tokens after C cached, lm_head on `logits_to_keep`
// positions per sequence (0: all).
inline std::string linear_flops(const Loaded& model, std::int64_t batch, std::int64_t seq, std::int64_t cache,
                                std::int64_t logits_to_keep = 0) {
    Step s = steps::step(batch, seq, cache);
    s.runtime.emplace_back("logits_to_keep", logits_to_keep);
    return linear_flops(model, s);
}

inline std::string sdpa_flops(const Loaded& model, std::int64_t batch, std::int64_t seq, std::int64_t cache) {
    return leaf_sum(model.run(steps::step(batch, seq, cache)), model.metric("flops"), is_sdpa).to_string();
}

// "E0207: message" of the error a model (or a config.json's model) stops with under this
// step, or "no error".
inline std::string error_of(const Loaded& model, const Step& step = {}) {
    try {
        model.run(step);
    } catch (const interp::CostiError& e) {
        const auto& d = e.diagnostics().front();
        return d.code + ": " + d.message;
    }
    return "no error";
}
inline std::string error_of(const std::string& json, const Step& step = {}) {
    try {
        Loaded::from_config_json(json)->run(step);
    } catch (const interp::CostiError& e) {
        const auto& d = e.diagnostics().front();
        return d.code + ": " + d.message;
    }
    return "no error";
}

inline Step with_config(std::vector<std::pair<std::string, std::int64_t>> set) {
    Step s;
    s.config = std::move(set);
    return s;
}

// The KV-cache bytes one step of a shipped model leaves (the kv_cache metric, counted under
// a device, h100-sxm).
inline Number kv_cache_of(const std::string& model_file, const Step& step) {
    interp::Session s;
    s.load_file(models_dir + "/" + model_file + ".cost");
    s.load_file(models_dir + "/../hardware/h100-sxm.cost");
    const interp::Model& model = s.pick_model("");
    interp::Overrides o = step.overrides();
    o.hardware = "h100-sxm";
    CostNode root = s.run_in(model, s.environment(model, o), 0);
    auto m = *s.program().find_metric("kv_cache");
    return interp::total_of(s.program().metrics[m], root.count, root.cost[m]);
}
inline std::string kv_cache_bytes(const std::string& model_file, const Step& step) {
    return kv_cache_of(model_file, step).to_string();
}
// Decoding one token at `cache` with `batch` sequences.
inline Number kv_cache_of(const std::string& model_file, std::int64_t cache, std::int64_t batch) {
    return kv_cache_of(model_file, steps::step(batch, 1, cache));
}

}  // namespace family

}  // namespace costi::models_test
