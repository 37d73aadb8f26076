#!/usr/bin/env bash
# The costi executable of a COSTI_STATIC_RUNTIME build is a static PIE (docs/performance.md,
# "Start-up"): no program interpreter (the dynamic loader is what it saves at every start),
# no shared library needed, and position-independent (its address is randomised). A
# dependency added by accident — a library linked shared, a plain `-static` — fails here.
# usage: static_test.sh COSTI
set -euo pipefail
costi=$1
command -v readelf >/dev/null || { echo "readelf not found: skipped"; exit 77; }
fail() { echo "FAIL: $1"; exit 1; }
headers=$(readelf -lW "$costi")
dynamic=$(readelf -dW "$costi")
! grep -q 'INTERP' <<<"$headers" || fail "costi has a program interpreter: $(grep -A1 INTERP <<<"$headers")"
! grep -q '(NEEDED)' <<<"$dynamic" || fail "costi needs shared libraries: $(grep '(NEEDED)' <<<"$dynamic")"
grep -q 'Elf file type is DYN' <<<"$headers" || fail "costi is not position-independent: $(head -3 <<<"$headers")"
# It runs with no library path to find anything in. (The output is captured whole: grep -m1
# closing the pipe early would kill costi with SIGPIPE, which pipefail reports as a failure.)
out=$(env -i LD_LIBRARY_PATH=/nonexistent "$costi" run gpt2 --format json) || fail "costi run gpt2 failed"
params=$(grep -m1 '"params": ' <<<"$out")
[ "$params" = '    "params": "124439808",' ] || fail "gpt2: $params"
echo "costi is a static PIE"
