#!/usr/bin/env bash
# Installs costi into a fresh prefix and runs a library model from another directory:
# the installed binary must find its stdlib, kernels and models by itself.
set -euo pipefail
build=$1
prefix=$2
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
cd /
json=$("$prefix/bin/costi" run gpt2 --format json)
params=$(grep -m1 '"params": ' <<<"$json")
[ "$params" = '    "params": "124439808",' ] || { echo "unexpected: $params"; exit 1; }
"$prefix/bin/costi" run "$prefix/share/costi/models/llama-3-8b.cost" --seq_len 16 >/dev/null
echo "installed costi ran from /"
