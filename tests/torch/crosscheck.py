"""costi against a trace of real PyTorch execution (issue 12): a family's tiny model, eager
attention, prefill and decode, float32 and bfloat16, batch 1 to 3.

    python3 tests/torch/crosscheck.py COSTI_BINARY FAMILY [--report]

FAMILY names tests/torch/FAMILY_plain.py, the family's forward re-implemented in plain torch
from the lines its kernels cite, which provides CFG (a tiny config.json), build(cfg, dtype),
prepare(model, batch, seq_len, cache_len, dtype) -> the step to record, optionally
param_count(model) (by default shared_plain.param_count: every Parameter once),
optionally costi_path(module_path) -> costi's label path where the two differ, ENCODER_LEN (an
encoder-decoder's input length, passed to costi as --encoder_len), STEPS (the (batch, seq_len,
cache_len) steps to check, when the family needs others than DECODER_STEPS: an encoder without
a cache, an encoder-decoder's several first steps),
and KNOWN (differences explained: a cause, reported but not asserted; or (cause, delta), whose
delta(batch, seq_len, cache_len) is the exact difference costi - torch, asserted). Runs that step under
tests/torch/recorder.py's CostRecorder and costi on the same config, then compares FLOPs,
bytes read and bytes written module by module (costi's call labels are transformers' module
names). Exit 0 when every comparison that is asserted agrees exactly; 77 (ctest's skip)
without torch.

What is asserted: parameters, and FLOPs, bytes read and bytes written of every module, at
batch 1 and above, prefill and decode, float32 and bfloat16 — except the differences
listed in KNOWN with their cause (reported with --report); a KNOWN entry with a delta asserts
that exact difference instead, FLOPs included.
"""

import importlib
import json
import os
import subprocess
import sys
import tempfile

try:
    import torch
except ImportError:
    print("torch is not installed (Debian: python3-torch): skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder import CostRecorder, totals_by_path  # noqa: E402
import shared_plain  # noqa: E402


# (batch, seq_len, cache_len) of the steps checked: a prefill and decode steps. A family whose
# model has no cache (an encoder) gives its own STEPS.
DECODER_STEPS = ((1, 5, 0), (1, 1, 5), (2, 3, 4), (3, 1, 6))


def costi_tree(costi, cfg_path, batch, seq_len, cache_len, width, extra=()):
    args = [costi, "run", "--config", cfg_path, "--batch_size", str(batch), "--seq_len", str(seq_len),
            "--cache_len", str(cache_len), *extra,
            "--w_bytes", str(width), "--a_bytes", str(width), "--kv_bytes", str(width),
            "--depth", "all", "--format", "json"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def costi_by_path(doc):
    """Inclusive totals per label path, repeated subtrees summed (as the trace's per-layer sum)."""
    res = {}

    def walk(node, path, mult):
        count = int(node["count"])
        tot = node["total"]
        key = path
        vals = tuple(int(tot[m]) * mult for m in ("flops", "read", "write")) if mult != 1 else tuple(
            int(tot[m]) for m in ("flops", "read", "write"))
        f, r, w = res.get(key, (0, 0, 0))
        res[key] = (f + vals[0], r + vals[1], w + vals[2])
        for child in node.get("children", []):
            walk(child, (path + "." if path else "") + child["label"], mult * count)

    root = doc["tree"]
    res[""] = tuple(int(root["total"][m]) for m in ("flops", "read", "write"))
    for child in root.get("children", []):
        walk(child, child["label"], 1)
    return res


def trace(family, model, batch, seq_len, cache_len, dtype):
    step = family.prepare(model, batch, seq_len, cache_len, dtype)
    rec = CostRecorder(model)
    with torch.no_grad(), rec:
        step()
    rec.remove_hooks()
    return rec


def main():
    costi, family_name = sys.argv[1], sys.argv[2]
    report = "--report" in sys.argv
    family = importlib.import_module(family_name + "_plain")
    CFG, KNOWN = family.CFG, family.KNOWN
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = os.path.join(tmp, "config.json")
        with open(cfg_path, "w") as f:
            json.dump(CFG, f)
        for dtype, width in ((torch.float32, 4), (torch.bfloat16, 2)):
            model = family.build(CFG, dtype)
            for batch, seq_len, cache_len in getattr(family, "STEPS", DECODER_STEPS):
                # an encoder-decoder family gives its encoder input length (costi's encoder_len)
                extra = ("--encoder_len", str(family.ENCODER_LEN)) if hasattr(family, "ENCODER_LEN") else ()
                doc = costi_tree(costi, cfg_path, batch, seq_len, cache_len, width, extra)
                params = int(doc["totals"]["params"])
                count = getattr(family, "param_count", shared_plain.param_count)(model)
                if params != count:
                    failures.append(f"params: costi {params}, torch {count}")
                rec = trace(family, model, batch, seq_len, cache_len, dtype)
                if rec.unknown:
                    failures.append(f"ops without a costing rule: {sorted(rec.unknown)}")
                # A family whose costi tree labels differ from the module names maps them
                if hasattr(family, "costi_path"):
                    for r in rec.records:
                        r.path = family.costi_path(r.path)
                torch_paths = totals_by_path(rec.records)
                costi_paths = costi_by_path(doc)
                case = f"{str(dtype).split('.')[-1]} batch={batch} seq_len={seq_len} cache_len={cache_len}"
                for path in sorted(torch_paths):
                    if path not in costi_paths:
                        failures.append(f"{case}: module {path!r} ran in torch but has no node in costi")
                        continue
                    t, c = torch_paths[path], costi_paths[path]
                    entry = KNOWN.get((str(dtype).split(".")[-1], path))
                    # A KNOWN entry (cause, delta) gives the exact difference costi - torch of
                    # (flops, read, write) as delta(batch, seq_len, cache_len): asserted exactly.
                    exact = entry[1](batch, seq_len, cache_len) if isinstance(entry, tuple) else None
                    for i, metric in enumerate(("flops", "read", "write")):
                        if exact is not None:
                            if c[i] - t[i] == exact[i]:
                                if report and exact[i]:
                                    print(f"{case}: {path or '<model>'} {metric}: costi {c[i]}, torch {t[i]} "
                                          f"({c[i] - t[i]:+d}, as known: {entry[0]})")
                                continue
                            line = (f"{case}: {path or '<model>'} {metric}: costi {c[i]}, torch {t[i]} "
                                    f"({c[i] - t[i]:+d}; known difference {exact[i]:+d}: {entry[0]})")
                            print(line)
                            failures.append(line)
                            continue
                        if t[i] == c[i]:
                            continue
                        why = entry if metric != "flops" else None
                        known = why is not None
                        line = f"{case}: {path or '<model>'} {metric}: costi {c[i]}, torch {t[i]} ({c[i] - t[i]:+d})"
                        if known:
                            line += f"  [known: {why}]"
                        if report or not known:
                            print(line)
                        if not known:
                            failures.append(line)
                if report:
                    for r in rec.records:
                        print("   ", r)
    for f in failures:
        print("FAIL:", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
