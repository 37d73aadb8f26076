#!/usr/bin/env bash
# Installs costi into a fresh prefix and runs it from outside the source tree: the
# installed binary must find its stdlib, kernels and models by itself, and README's tour
# (which imports "stdlib/all.cost" through the library search path) must run as written.
set -euo pipefail
build=$1
prefix=$2
readme="$(cd "$(dirname "$0")/.." && pwd)/README.md"
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
cd /
json=$("$prefix/bin/costi" run gpt2 --format json)
params=$(grep -m1 '"params": ' <<<"$json")
[ "$params" = '    "params": "124439808",' ] || { echo "unexpected: $params"; exit 1; }
"$prefix/bin/costi" run "$prefix/share/costi/models/llama-3-8b.cost" --seq_len 16 >/dev/null

# README's tour: the first ``` block after its heading, copied to a directory of its own.
tour_dir=$(mktemp -d)
trap 'rm -rf "$tour_dir"' EXIT
awk '/^## A short tour/ {in_tour = 1} in_tour && /^```/ {if (open) exit; open = 1; next} open {print}' \
  "$readme" >"$tour_dir/tour.cost"
grep -q '^model my-model' "$tour_dir/tour.cost" || { echo "README's tour not found"; exit 1; }
cd "$tour_dir"
# LlamaMLP at M = batch_size * seq_len = 2048, H = 4096, I = 11008: three projections of
# 2·M·H·I = 184,683,593,728 flops each, plus silu and mul at M·I = 22,544,384 each:
# 554,095,869,952 flops per layer, times 32 layers = 17,731,067,838,464; one_token adds
# 2·1·8·8 = 128. Weights 3·H·I = 135,266,304 per layer, · 32 = 4,328,521,728, plus 8·8 = 64.
for costi in "$prefix/bin/costi" "$build/costi"; do
  tour=$("$costi" run tour.cost --format json --depth 0 --metrics flops,params)
  grep -q '"flops": "17731067838592"' <<<"$tour" || { echo "tour flops with $costi: $tour"; exit 1; }
  grep -q '"params": "4328521792"' <<<"$tour" || { echo "tour params with $costi: $tour"; exit 1; }
done
echo "installed costi and README's tour ran outside the source tree"
