#!/usr/bin/env bash
# costi export --format lmp, then costi import: the imported tree gives the same flops,
# read and write as costi's own run of the model.
# usage: export_roundtrip.sh COSTI   (run from the source tree)
set -eu
costi=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
totals() {  # the flops, read and write of `costi run ARGS --format json`
  "$costi" run "$@" --format json --depth 0 | /usr/bin/python3 -c \
    'import json, sys; t = json.load(sys.stdin)["totals"]; print(t["flops"], t["read"], t["write"])'
}
check() {  # check NAME MODEL RUNTIME…: RUNTIME as NAME=VALUE
  local name=$1 model=$2
  shift 2
  local flags=() exports=()
  for r in "$@"; do flags+=("--${r%%=*}" "${r#*=}"); exports+=(--runtime "$r"); done
  local want got kernel
  want=$(totals "$model" "${flags[@]}")
  "$costi" export --format lmp "$model" "${exports[@]}" -o "$work/$name.json"
  "$costi" import "$work/$name.json" -o "$work/$name" > "$work/$name.out"
  kernel=$(sed -n 's/^  [^ ]*\.cost: \$\([^(]*\)(.*/\1/p' "$work/$name.out" | head -1)
  printf 'import "%s/%s.cost"\nmodel roundtrip = $%s {}\n' "$work/$name" "$kernel" "$kernel" > "$work/$name-driver.cost"
  got=$(totals "$work/$name-driver.cost")
  if [ "$want" = "$got" ]; then
    echo "ok   $name: $got"
  else
    echo "FAIL $name: costi run $want, exported and imported $got"; failures=$((failures + 1))
  fi
}
check gpt2_prefill models/gpt2.cost seq_len=128
check llama2_decode models/llama-2-7b.cost seq_len=1 cache_len=512 batch_size=4
check qwen3_moe models/qwen3-30b-a3b.cost seq_len=64
[ "$failures" = 0 ]
