#!/usr/bin/env bash
# costi sweep: the compiled form (fast path) and the interpreter (--interpret) give identical
# rows for a shipped model on a 20-point grid (10 seq_len × 2 cache_len, the causal-mask atom
# included), and the grid is what it says (a header and 20 rows, no error).
set -eu
costi=$1
shift
args=(llama-3-8b --seq_len '1..512*2' --cache_len 0,4096 --format csv
      --columns 'flops,read,write,params,intensity=flops/(read+write)' "$@")
compiled=$("$costi" sweep "${args[@]}")
interpreted=$("$costi" sweep "${args[@]}" --interpret)
if [ "$compiled" != "$interpreted" ]; then
  diff <(printf '%s\n' "$compiled") <(printf '%s\n' "$interpreted")
  exit 1
fi
rows=$(printf '%s\n' "$compiled" | wc -l)
[ "$rows" = 21 ] || { echo "expected 21 lines, got $rows"; exit 1; }
if printf '%s\n' "$compiled" | tail -n +2 | grep -q ',[^,]\+$'; then echo "a row has an error"; exit 1; fi
echo ok
