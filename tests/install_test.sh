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
# `costi list` reads every library model in one session when that changes nothing, else each
# in its own (repl/cmd_list.cpp). Two files added to the installed library must not change
# the others' counts: one that declares an `every leaf` block giving each leaf that assigns
# no params 10^12 of them (in a shared session gpt2's count would grow by trillions too), and
# one that does not parse (listed with "-").
models="$prefix/share/costi/models"
{
  printf 'import "../kernels/gpt2.cost"\nevery leaf {\n  params = 10^12\n}\n'
  printf 'model zz/leafless = $transformers.models.gpt2.modeling_gpt2.GPT2LMHeadModel {\n'
  sed -n '/^  config {/,/^  }/p' "$models/gpt2.cost"  # gpt2's own config
  printf '}\n'
} >"$models/zz-leafless.cost"
listing=$("$prefix/bin/costi" list)
# gpt2's 124,439,808 weights (the checkpoint's published 124M) print as 124.4M.
grep -Eq '^openai-community/gpt2 +gpt2 +124\.4M$' <<<"$listing" || { echo "costi list, gpt2: $listing"; exit 1; }
grep -Eq '^zz/leafless +zz-leafless +[0-9.]+T$' <<<"$listing" || { echo "costi list, zz-leafless: $listing"; exit 1; }
printf 'model zz/broken = \n' >"$models/zz-broken.cost"
listing=$("$prefix/bin/costi" list)
grep -Eq '^openai-community/gpt2 +gpt2 +124\.4M$' <<<"$listing" || { echo "costi list, gpt2: $listing"; exit 1; }
grep -Eq '^zz-broken +zz-broken +-$' <<<"$listing" || { echo "costi list, zz-broken: $listing"; exit 1; }
rm "$models/zz-leafless.cost" "$models/zz-broken.cost"
listing=$("$prefix/bin/costi" list)
grep -Eq '^openai-community/gpt2 +gpt2 +124\.4M$' <<<"$listing" || { echo "costi list, shared session: $listing"; exit 1; }
# `costi list hardware` reads every device file in one session when they load together, else
# each in its own: a file that does not load says so, and the H100's line keeps NVIDIA's
# datasheet figures (989.4 TFLOP/s dense bf16, 80 GB, 3.35 TB/s).
hardware="$prefix/share/costi/hardware"
h100='^h100-sxm +989\.4 TFLOP/s +80 GB +3\.35 TB/s +NVIDIA H100 SXM5'
listing=$("$prefix/bin/costi" list hardware)
grep -Eq "$h100" <<<"$listing" || { echo "costi list hardware, shared session: $listing"; exit 1; }
printf 'hardware zz-broken {\n' >"$hardware/zz-broken.cost"
listing=$("$prefix/bin/costi" list hardware)
grep -Eq "$h100" <<<"$listing" || { echo "costi list hardware, h100-sxm: $listing"; exit 1; }
grep -Fq "(does not load: costi check $hardware/zz-broken.cost)" <<<"$listing" ||
  { echo "costi list hardware, zz-broken: $listing"; exit 1; }
rm "$hardware/zz-broken.cost"
echo "installed costi and README's tour ran outside the source tree; costi list kept each model's count and device's line"
