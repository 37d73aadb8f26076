#!/usr/bin/env bash
# Start-up time of short costi commands (docs/performance.md, "Start-up"), robust to a noisy
# machine: ROUNDS rounds (default 200), each running every command once under
# `perf stat -e task-clock` for every binary and /bin/true, the order of the binaries
# reversed every other round so that neither always runs first; prints each command's 10th
# percentile, quartile and median task-clock (perf's own start is in every figure, /bin/true's
# too). Needs perf (Debian linux-perf). Compare two builds by giving both; each runs from the
# source tree it was built from, so that it reads its own library.
#   tests/bench/startup.sh OLD_TREE/build/costi NEW_TREE/build/costi
# Beside /bin/true it times the floors built next to the last binary given
# (tests/bench/startup_floor.cpp): a trivial C++ program with the shared libraries the issue's
# floor had (libstdc++, libgmpxx, libgmp, libedit) and one linked as costi is (a static PIE).
# How an executable's file sits in the page cache moves its start by up to 0.4 ms here (one
# just written by the linker starts slower than the same bytes read back from disk), so with
# DROP_CACHES=1 (root) the caches are dropped first and every binary is run once before
# sampling: compare builds that way.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 COSTI [COSTI…]" >&2; exit 2; }
rounds=${ROUNDS:-200}
commands=("run models/llama-2-7b.cost --seq_len 1024" "--version")
floors=(/bin/true)
last=${*: -1}
for name in startup_floor_shared startup_floor_static; do
  floor="$(cd "$(dirname "$last")" && pwd)/tests/bench/$name"
  [ -x "$floor" ] && floors+=("$floor")
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

sample() {  # sample FILE BINARY ARGS…: one task-clock in ms, appended to FILE
  local file=$1 bin=$2
  shift 2
  local tree
  tree=$(cd "$(dirname "$bin")/.." && pwd)
  (cd "$tree" && perf stat -x, -e task-clock "$bin" "$@" 2>&1 >/dev/null | awk -F, '/task-clock/{print $1}') >>"$file"
}

if [ "${DROP_CACHES:-0}" = 1 ]; then
  sync
  echo 3 >/proc/sys/vm/drop_caches
fi
for bin in "$@"; do  # one run of each, not sampled: every file in the page cache
  for args in "${commands[@]}"; do
    # shellcheck disable=SC2086 # the arguments are words
    sample "$out/warm-up" "$bin" $args
  done
done
for floor in "${floors[@]}"; do sample "$out/warm-up" "$floor"; done
for ((round = 0; round < rounds; ++round)); do
  bins=("$@")
  if ((round % 2 == 1)); then
    reversed=()
    for ((i = ${#bins[@]} - 1; i >= 0; --i)); do reversed+=("${bins[i]}"); done
    bins=("${reversed[@]}")
  fi
  for bin in "${bins[@]}"; do
    index=0
    for args in "${commands[@]}"; do
      # shellcheck disable=SC2086 # the arguments are words
      sample "$out/$(echo "$bin" | tr / _).$index" "$bin" $args
      index=$((index + 1))
    done
  done
  for floor in "${floors[@]}"; do
    sample "$out/$(echo "$floor" | tr / _)" "$floor"
  done
done

summary() {  # summary FILE LABEL
  sort -n "$1" | awk -v label="$2" '{v[NR] = $1}
    END {printf "p10 %6.2f  p25 %6.2f  median %6.2f ms  %s\n", v[int(NR * 0.1) + 1], v[int(NR * 0.25) + 1], v[int(NR * 0.5) + 1], label}'
}
for bin in "$@"; do
  index=0
  for args in "${commands[@]}"; do
    summary "$out/$(echo "$bin" | tr / _).$index" "$bin $args"
    index=$((index + 1))
  done
done
for floor in "${floors[@]}"; do
  summary "$out/$(echo "$floor" | tr / _)" "$floor"
done
