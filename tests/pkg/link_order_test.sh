#!/usr/bin/env bash
# costi's code is laid out in the order of cmake/costi.link-order (CMakeLists.txt,
# COSTI_LINK_ORDER; docs/performance.md, "Start-up"): costi's own functions that the list
# names come in the executable in the list's order, so the ones a short run executes share a
# few pages. Checks the first 300 of them (by address, each address once: a constructor's C1
# and C2 names are one function). A link that drops the order (another linker, no
# -ffunction-sections) puts them in the order of the object files and fails here.
# usage: link_order_test.sh COSTI ORDER_FILE
set -euo pipefail
costi=$1
order=$2
command -v nm >/dev/null || { echo "nm not found: skipped"; exit 77; }
nm --defined-only "$costi" | awk '$2 ~ /^[Tt]$/ {print $3, $1}' >"${TMPDIR:-/tmp}/costi-syms.$$"
trap 'rm -f "${TMPDIR:-/tmp}/costi-syms.$$"' EXIT
python3 - "${TMPDIR:-/tmp}/costi-syms.$$" "$order" <<'EOF'
import sys
address = {}
for line in open(sys.argv[1]):
    name, addr = line.split()
    address.setdefault(name, int(addr, 16))
seen, placed = set(), []
for name in (l.strip() for l in open(sys.argv[2])):
    if not name.startswith("_ZN5costi") or name not in address or address[name] in seen:
        continue
    seen.add(address[name])
    placed.append((name, address[name]))
    if len(placed) == 300:
        break
if len(placed) < 100:
    sys.exit(f"FAIL: only {len(placed)} of the list's costi functions are in the executable")
for (a, x), (b, y) in zip(placed, placed[1:]):
    if y <= x:
        sys.exit(f"FAIL: {b} (at {y:#x}) comes before {a} (at {x:#x}), against the list's order")
span = placed[-1][1] - placed[0][1]
print(f"the list's first {len(placed)} costi functions in order, within {span // 1024} KiB")
EOF
