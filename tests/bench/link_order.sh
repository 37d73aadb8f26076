#!/usr/bin/env bash
# Writes cmake/costi.link-order: the functions short costi commands execute, hottest first, by
# their symbol (mangled) names. The build hands it to lld (--symbol-ordering-file; CMakeLists.txt,
# COSTI_LINK_ORDER), which places those functions next to each other, so that a run faults in
# a few pages of code instead of one in every 64 KiB window of the executable it touches
# (docs/performance.md, "Start-up"). A name the code no longer has is ignored, and a function
# missing from the list is only placed after the listed ones: a stale list costs speed, never
# correctness. Rerun after large changes to what a run executes.
# Needs valgrind (callgrind). Run from the source tree with a built tree:
#   tests/bench/link_order.sh build/costi > cmake/costi.link-order
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 COSTI > cmake/costi.link-order" >&2; exit 2; }
costi=$1
command -v valgrind >/dev/null || { echo "link_order.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# What people run most, short: a model's table and JSON, with a device, a check, a formula,
# a small sweep, the library's list, the version.
commands=(
  "run models/llama-2-7b.cost --seq_len 1024"
  "run models/llama-3-8b.cost --seq_len 4096 --format json"
  "run gpt2"
  "run models/llama-2-7b.cost --seq_len 1024 --hw h100-sxm"
  "check models/llama-3-8b.cost"
  "formula llama-3-8b --free seq_len"
  "sweep llama-3-8b --seq_len 1..4096*2 --format csv"
  "list"
  "--version"
)
i=0
for c in "${commands[@]}"; do
  # shellcheck disable=SC2086 # each command is its words
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$out/$i.out" "$costi" $c >/dev/null 2>&1
  callgrind_annotate --auto=no --threshold=100 "$out/$i.out" >"$out/$i.txt"
  i=$((i + 1))
done

# Each function's own instructions summed over the commands; hottest first. Callgrind's CPU
# has no AVX-512, so glibc's string functions run their AVX2 variants under it: each such
# function is followed by every variant libc.a has, for whichever CPU runs costi.
nm --defined-only "$(g++ -print-file-name=libc.a)" 2>/dev/null | awk '$2 ~ /^[Tt]$/ {print $3}' >"$out/libc.syms" || true
python3 - "$out" <<'EOF'
import glob, re, sys
libc = [s.strip() for s in open(sys.argv[1] + "/libc.syms")]
variant = re.compile(r"^(__[a-z0-9]+?)_(?:avx|sse2|ssse3|evex|erms)")
cost = {}
line = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+(?:\S*?:)?(\S+)(?: \[.*\])?$")
for path in sorted(glob.glob(sys.argv[1] + "/*.txt")):
    for text in open(path):
        m = line.match(text.rstrip("\n"))
        if not m or m.group(2) in ("PROGRAM", "TOTALS") or m.group(2).startswith("0x"):
            continue
        name = m.group(2).split("'")[0]  # callgrind marks recursion levels with 'N
        cost[name] = cost.get(name, 0) + int(m.group(1).replace(",", ""))
listed = set()
for name, _ in sorted(cost.items(), key=lambda kv: (-kv[1], kv[0])):
    names = [name]
    m = variant.match(name)
    if m:
        names += sorted(s for s in libc if s.startswith(m.group(1) + "_") and variant.match(s))
    for n in names:
        if n not in listed:
            listed.add(n)
            print(n)
EOF
