#!/usr/bin/env bash
# Start-up time of short costi commands (docs/performance.md, "Start-up"), robust to a noisy
# machine: ROUNDS rounds (default 15), each running every command `perf stat -r 20`, the
# binaries alternating; prints each command's smallest mean task-clock. Needs perf (Debian
# linux-perf). Compare two builds by giving both; each runs from the source tree it was built
# from, so that it reads its own library.
#   tests/bench/startup.sh OLD_TREE/build/costi NEW_TREE/build/costi
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 COSTI [COSTI…]" >&2; exit 2; }
rounds=${ROUNDS:-15}
declare -A best
commands=("run models/llama-2-7b.cost --seq_len 1024" "--version")
for ((round = 0; round < rounds; ++round)); do
  for bin in "$@" /bin/true; do
    tree=$(cd "$(dirname "$bin")/.." && pwd)
    for args in "${commands[@]}"; do
      [ "$bin" = /bin/true ] && [ "$args" != "--version" ] && continue
      key="$bin $args"
      ms=$(cd "$tree" && perf stat -r 20 -e task-clock "$bin" $args 2>&1 >/dev/null | awk '/task-clock/{print $1}')
      if [ -z "${best[$key]:-}" ] || awk "BEGIN{exit !($ms < ${best[$key]})}"; then best[$key]=$ms; fi
    done
  done
done
for key in "${!best[@]}"; do echo "${best[$key]} ms  $key"; done | sort -k3
