// Analyses on a device: what a run holds in memory, the largest batch and context that fit,
// and whole requests (a prefill and every decode step) summed exactly.
//
// Owns: driving evaluations (the Session's) at the points an analysis needs and combining
// their exact totals. Every number comes from the formulas of the loaded program — the
// roofline and the memory metrics are declared and defined in stdlib/roofline.cost; this
// file only chooses which runs to make and adds them up. Does not own formatting (repl/).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/session.hpp"

namespace costi::interp {

// The metrics and runtime variables the analyses read, as stdlib/roofline.cost declares them.
// The parallel layout of a run (stdlib/prelude.cost's tp and dp): every cost the kernels
// compute is one device's; `devices` devices run in parallel, each as the one costed (tensor
// parallelism shards every layer evenly; data-parallel replicas repeat the whole layout).
struct Layout {
    Number tp{1};
    Number ep{1};  // experts spread over the tensor-parallel group (ep = tp), or 1
    Number pp{1};
    Number dp{1};
    Number pp_rank{0};  // the stage the run's own numbers are
    Number devices{1};
};
// The run's layout, or nothing when it is one device (or the program declares no layout).
std::optional<Layout> layout_of(const Program& program, const Environment& env);

// With pipeline stages (pp > 1): each stage's totals, stage 0 first (pp_rank rebound); else empty.
std::vector<std::vector<Number>> stage_totals(const Session& session, const Model& model, const Environment& env);

struct AnalysisIds {
    std::uint32_t time, compute_time, memory_time, compute_bound, weight_bytes, kv_cache, workspace;
    std::uint32_t mem_util;                                     // runtime variable
    std::uint32_t batch_size, seq_len, cache_len, logits_to_keep;  // runtime variables
    // The ids, or nullopt when the program does not declare them all (no hardware loaded).
    static std::optional<AnalysisIds> of(const Program& program);
};

// What a run holds on its device: weights, the KV cache after the step, and the largest
// working set of any one call (stdlib/roofline.cost), against the device's memory times
// mem_util (the share an engine may fill, as vLLM's gpu_memory_utilization).
struct Footprint {
    Number weights;
    Number kv_cache;
    Number workspace;
    Number total;     // weights + kv_cache + workspace
    Number capacity;  // hw.memory
    Number usable;    // capacity × mem_util
    bool fits = false;
};

// Whether the environment's hardware gives its memory capacity (what fits needs it).
bool has_capacity(const Program& program, const Environment& env);

// The footprint of a run whose totals (one per metric, count × cost) are `totals`.
// Throws CostiError (E0211) when the hardware gives no memory.
Footprint footprint(const Program& program, const AnalysisIds& ids, const Environment& env,
                    const std::vector<Number>& totals);

// A largest value that fits, or why there is none.
struct Largest {
    std::optional<Number> value;  // none: even the smallest does not fit (or is not allowed)
    bool unbounded = false;       // every value fits (nothing grows with it)
    std::string limit;            // when a model's own rule (a require), not memory, stops it: its message
};

// The largest batch_size whose run (the environment's other values) fits. Solved exactly:
// the footprint is evaluated at batch 1 and 2, the affine solution checked at its value and
// the next; where a model is not affine in the batch, a bisection over exact evaluations.
Largest max_batch(const Session& session, const Model& model, const Environment& env, const AnalysisIds& ids);

// The longest context (cache_len + 1 of a one-token decode step at the environment's batch)
// whose step fits, by bisection over exact evaluations. Capped at `cap` tokens.
Largest max_context(const Session& session, const Model& model, const Environment& env, const AnalysisIds& ids,
                    const Number& cap);

// Everything a run on a device reports besides its tree: its totals, its footprint at its
// own batch and context (cache_len + seq_len), the largest batch at that context and the
// longest context at that batch. Throws CostiError (E0211) when no hardware is selected.
struct DeviceAnalysis {
    const Hardware* hardware = nullptr;
    AnalysisIds ids{};
    std::vector<Number> totals;  // the run's totals per metric
    bool has_memory = false;     // the hardware gives its capacity (else no footprint)
    Footprint footprint;
    Largest max_batch;
    Largest max_context;
    Number batch, context;
    // When the run does not fit and its kernels model tensor parallelism: the smallest layout
    // (smallest_layout) on which this step fits (none: not up to 1024 devices).
    bool tp_searched = false;
    std::optional<Number> fits_at_tp;
    Number fits_at_pp{1};
    // When that layout has pipeline stages: the smallest tensor-parallel degree alone (none:
    // not up to 1024, or the model refuses every one).
    std::optional<Number> fits_at_tp_alone;
    // With pipeline stages: each stage's time and footprint (the run's own footprint is its
    // stage's, but `fits` is every stage's).
    struct StageRun {
        Number time;
        Footprint footprint;
    };
    std::vector<StageRun> stages;
};
using StageRun = DeviceAnalysis::StageRun;
DeviceAnalysis analyse_device(const Session& session, const Model& model, const Environment& env, const CostNode& root);

// The smallest layout on which the step fits: the fewest devices N above the environment's
// tp x pp (every N up to 64, then 128, 256, 512 and 1024), and for that N vLLM's rule for
// several nodes (docs/parallelism.md): tensor parallelism as wide as one scale-up domain allows
// (tp the largest divisor of N up to hw.link_domain), the rest as pipeline stages (pp = N / tp,
// when the model's kernels read pp); past the domain, tp = N across domains last. Each
// candidate is an exact evaluation of every stage; layouts the model refuses (a require, such
// as heads not dividing) are skipped. None when the entry kernel does not read tp or nothing up
// to 1024 devices fits. The result is (tp, pp).
// The smallest tensor-parallel degree above the environment's at which the step fits with the
// environment's pp: every degree up to 64, then 128 … 1024 (smallest_layout's counts).
// Both take the layouts (tp, pp) tried before and whether the step fits on each (an exact run
// of the model each): analyse_device asks smallest_layout, then smallest_tp, which would try
// some of the same layouts again.
using LayoutTrials = std::map<std::pair<Number, Number>, bool>;
std::optional<Number> smallest_tp(const Session& session, const Model& model, const Environment& env,
                                  const AnalysisIds& ids, LayoutTrials* tried = nullptr);
std::optional<std::pair<Number, Number>> smallest_layout(const Session& session, const Model& model,
                                                         const Environment& env, const AnalysisIds& ids,
                                                         LayoutTrials* tried = nullptr);

// A request of `prompt` tokens and `generate` decode steps for each of batch_size sequences:
// a prefill (seq_len = prompt, cache_len = 0) and one step at each cache_len prompt …
// prompt + generate − 1 (seq_len = 1), both keeping the logits of the last position only
// (logits_to_keep = 1, as generate() does). Every step is evaluated and summed exactly. With
// pipeline stages (pp > 1) every step of the batch passes through each stage in turn: the
// times add up over the stages, the other summed metrics too (one device of each stage), and
// the memory is the fullest stage's.
struct Request {
    Number prompt, generate, batch;
    std::vector<Number> prefill;      // totals of the prefill, per metric
    std::vector<Number> decode;       // totals summed over the decode steps, per metric (max for peaks)
    std::vector<Number> last_decode;  // totals of the last decode step
    Number ttft;                      // the prefill's time
    Number decode_time;               // all decode steps
    Number total_time;                // ttft + decode_time
    bool has_memory = false;          // the hardware gives its capacity (else no footprint)
    Footprint peak;                   // the footprint of the last step (the largest cache)
};
Request request(const Session& session, const Model& model, const Environment& env, const AnalysisIds& ids,
                const Number& prompt, const Number& generate);

}  // namespace costi::interp
