"""The proof of equality for `costi import` (ctest label `import`).

For each fixture set under tests/import/fixtures/, imports it with costi, then evaluates
every definition both ways at a grid of points — the original JSON formulas with Python's
fractions.Fraction (lmp_eval.py) and the imported .cost files through `costi run` — and
asserts that flops, read and write are identical exact numbers.

usage: run_equality.py COSTI FIXTURES_DIR [SET…]
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lmp_eval  # noqa: E402

CONFIG = {"hidden_size": 48, "num_layers": 3, "rope.factor": 8, "num_heads": 4, "vocab_size": 211,
          "n_embd": 64, "n_head": 4, "n_layer": 3}
GPT2_SMALL = {"n_embd": 768, "n_head": 12, "n_layer": 12, "vocab_size": 50257}
BYTES = [Fraction(1), Fraction(2), Fraction(1, 2), Fraction(4)]


def cost_number(x):
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else "%d/%d" % (x.numerator, x.denominator)


def points(params, rng, count, config=CONFIG, big=False):
    out = []
    for i in range(count):
        p = {"batch_size": Fraction(rng.randint(1, 8 if big else 4)),
             "seq_len": Fraction(rng.choice([1, 7, 128, 1024]) if big else rng.randint(1, 9)),
             "cache_len": Fraction(rng.choice([0, 0, 5, 2048]) if big else rng.randint(0, 9)),
             "a_bytes": rng.choice(BYTES), "w_bytes": rng.choice(BYTES),
             "kv_bytes": rng.choice(BYTES), "bytes": rng.choice(BYTES)}
        if i == 0 and not os.environ.get("COSTI_EQ_CACHE_POSITIVE"):
            p["cache_len"] = Fraction(0)
        if os.environ.get("COSTI_EQ_CACHE_POSITIVE") and p["cache_len"] == 0:
            p["cache_len"] = Fraction(1)  # inputs that bind cache_len into a byte width
        for name in params:
            p[name] = Fraction(rng.randint(1, 9))
        out.append((p, dict(config)))
    return out


def imported(costi, fixture_dir, out_dir):
    flags = os.environ.get("COSTI_IMPORT_FLAGS", "").split()
    r = subprocess.run([costi, "import", fixture_dir, "-o", out_dir] + flags, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("costi import %s failed:\n%s%s" % (fixture_dir, r.stdout, r.stderr))
    kernels = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s+(\S+\.cost): \$(\S+)\((.*)\)\s+\[(\w+)\]$", line)
        if m:
            kernels[m.group(2)] = (m.group(1), [p for p in m.group(3).split(", ") if p], m.group(4))
    return kernels


def costi_totals(costi, work, out_dir, file, kernel, params, pts):
    """flops, read, write of $kernel at each point, through `costi run`."""
    driver = os.path.join(work, "driver_%s.cost" % re.sub(r"\W", "_", kernel))
    lines = ['import "%s"' % os.path.join(out_dir, file), ""]
    for i, (p, config) in enumerate(pts):
        args = ", ".join("%s = %s" % (n, cost_number(p[n])) for n in params)
        lines.append("model p%d = $%s(%s) {" % (i, kernel, args))
        lines.append("  config {")
        for k, v in config.items():
            lines.append("    %s = %s" % (k, cost_number(v)))
        lines.append("  }")
        for n in lmp_eval.RUNTIME:
            lines.append("  %s = %s" % (n, cost_number(p[n])))
        lines.append("}")
    open(driver, "w").write("\n".join(lines) + "\n")
    out = []
    for i in range(len(pts)):
        r = subprocess.run([costi, "run", driver, "--model", "p%d" % i, "--format", "json", "--depth", "0"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("costi run %s --model p%d failed:\n%s%s" % (driver, i, r.stdout, r.stderr))
        total = json.loads(r.stdout)["totals"]
        out.append({m: Fraction(str(total.get(m, 0))) for m in lmp_eval.METRICS})
    return out


def main():
    costi, fixtures = sys.argv[1], sys.argv[2]
    sets = sys.argv[3:] or sorted(os.listdir(fixtures))
    rng = random.Random(20261201)
    failures = 0
    compared = 0
    with tempfile.TemporaryDirectory() as work:
        for s in sets:
            fixture_dir = os.path.join(fixtures, s)
            out_dir = os.path.join(work, "out_" + s)
            kernels = imported(costi, fixture_dir, out_dir)
            defs, name_map = lmp_eval.load([fixture_dir])
            ev = lmp_eval.Evaluator(defs, name_map)
            for name, d in sorted(defs.items()):
                if d["kind"] == "model":
                    kname = lmp_eval_kernel_name(name.replace("/", "."))
                else:
                    kname = lmp_eval_kernel_name(name)
                file, params, kind = kernels[kname]
                if d["kind"] == "model":
                    originals = lmp_eval.model_params(ev, d)
                else:
                    originals = [n for n in ev.order(d) if n not in lmp_eval.RUNTIME]
                if sorted(originals) != sorted(params):
                    print("FAIL %s: costi's parameters %s, the formats' %s" % (name, params, originals))
                    failures += 1
                    continue
                pts = points(params, rng, 4)
                if s == "gpt2like" and name in ("gpt2like.LMHeadModel", "gpt2like.Model"):
                    pts += points(params, rng, 3, dict(CONFIG, **GPT2_SMALL), big=True)
                got = costi_totals(costi, work, out_dir, file, kname, params, pts)
                before = failures
                for (p, config), g in zip(pts, got):
                    for m in lmp_eval.METRICS:
                        try:
                            want = ev.metric(d, dict(p), config, m)
                        except Exception as e:  # noqa: BLE001 - report and count
                            print("FAIL %s %s: the Python evaluation raised %r" % (name, m, e))
                            failures += 1
                            continue
                        compared += 1
                        if want != g[m]:
                            failures += 1
                            print("FAIL %s %s at %s: Python %s, costi %s" % (
                                name, m, {k: str(v) for k, v in p.items()}, want, g[m]))
                if failures == before:
                    print("ok   %-40s %d points x 3 metrics" % (name, len(pts)))
    print("%d values compared, %d differences" % (compared, failures))
    return 1 if failures else 0


def lmp_eval_kernel_name(name):
    parts = []
    for part in name.split("."):
        part = re.sub(r"[^A-Za-z0-9_]", "_", part)
        if not part or part[0].isdigit():
            part = "_" + part
        parts.append(part)
    return ".".join(parts)


if __name__ == "__main__":
    sys.exit(main())
