#!/usr/bin/env bash
# costi import's library fallback: a class no input defines resolves to costi's library,
# with a warning naming what it was mapped to; a container the library defines is costed
# as the library's composite. The imported models run, with totals derived by hand.
# usage: library_fallback.sh COSTI FIXTURES   (FIXTURES: tests/import/library)
set -u
costi=$1
fixtures=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL $*"; failures=$((failures + 1)); }

totals() {  # "params flops read write" of `costi run ARGS --format json`
  "$costi" run "$@" --format json --depth 0 | /usr/bin/python3 -c \
    'import json, sys; t = json.load(sys.stdin)["totals"]; print(t["params"], t["flops"], t["read"], t["write"])'
}

expect_warnings() {  # expect_warnings NAME FILE SUBSTRING…
  local name=$1 file=$2
  shift 2
  for want in "$@"; do
    grep -qF -- "$want" "$file" || { fail "$name: no warning '$want' in:"; cat "$file"; }
  done
}

# ---- leaves: layers whose classes only the library defines, bound by the caller ----
# emb: "Embedding", a short name -> F.embedding; blocks: a container no one defines (the sum
# of its sub_layers, as before); head: "my.Dense", which the name map maps to F.linear.
if ! "$costi" import "$fixtures/leaves" -o "$work/leaves" > "$work/leaves.out" 2> "$work/leaves.err"; then
  fail "leaves: import failed"; cat "$work/leaves.err"
fi
expect_warnings leaves "$work/leaves.err" \
  "'Embedding' is defined by no input file: resolved to costi's library kernel \$F.embedding (stdlib/embedding.cost, by its short name (torch.nn.Embedding)), a leaf taking M, V, D" \
  "'my.Dense' is defined by no input file: resolved to costi's library kernel \$F.linear (stdlib/matmul.cost, through the name map's 'F.linear'), a leaf taking M, K, N"
grep -qF '$fixture.leaves(M, V, D, K, N)' "$work/leaves.out" || { fail "leaves: parameters"; cat "$work/leaves.out"; }
cat > "$work/leaves-driver.cost" <<EOF
import "$work/leaves/fixture.leaves.cost"
model leaves = \$fixture.leaves(M = 8, V = 100, D = 16, K = 16, N = 100) {}
EOF
# By hand, at a_bytes = w_bytes = 2 (the prelude's defaults), F.embedding and F.linear as
# stdlib/embedding.cost and stdlib/matmul.cost define them:
#   params: emb V*D = 100*16 = 1600; head 3 x K*N = 3 x 1600 = 4800          -> 6400
#   flops:  emb 0; head 3 x 2*M*K*N = 3 x 2*8*16*100 = 3 x 25600              -> 76800
#   read:   emb M*8 (int64 indices) + M*D*2 = 64 + 256 = 320;
#           head 3 x (M*K*2 + K*N*2) = 3 x (256 + 3200) = 10368               -> 10688
#   write:  emb M*D*2 = 256; head 3 x M*N*2 = 3 x 1600 = 4800                 -> 5056
got=$(totals "$work/leaves-driver.cost")
if [ "$got" = "6400 76800 10688 5056" ]; then echo "ok   leaves: $got"; else fail "leaves: got $got"; fi

# ---- tiny llama: a Llama layer tree whose every class only the library defines ----
if ! "$costi" import "$fixtures/tiny_llama" -o "$work/tiny" > "$work/tiny.out" 2> "$work/tiny.err"; then
  fail "tiny_llama: import failed"; cat "$work/tiny.err"
fi
expect_warnings tiny_llama "$work/tiny.err" \
  "\$.layers[0]: layer 'model' is costed as costi's \$transformers.models.llama.modeling_llama.LlamaModel: its whole forward" \
  "\$.layers[0].sub_layers[1]: sub_layer 'decoder_layer' repeat 2: costed with the count the library's call 'layers'" \
  "\$.layers[0].sub_layers[1].sub_layers[0]: sub_layer 'self_attn': transformers.models.llama.modeling_llama.LlamaSdpaAttention is defined by no input file nor costi's library; it is costed as the library's call 'self_attn': \$transformers.models.llama.modeling_llama.LlamaAttention" \
  "sub_layers[0].sub_layers[4]: sub_layer 'rotary_emb' (transformers.models.llama.modeling_llama.LlamaRotaryEmbedding) is not among the calls of costi's \$transformers.models.llama.modeling_llama.LlamaAttention" \
  "sub_layers[1].sub_layers[3]: sub_layer 'act_fn' (torch.nn.modules.activation.SiLU, costi's \$F.silu) is costed as the library's call 'act_fn': \$transformers.activations.ACT2FN" \
  "\$.layers[1].class: 'torch.nn.Linear' is defined by no input file: resolved to costi's library kernel \$F.linear"
grep -qF '$fixture.tiny_llama(M, K, N)' "$work/tiny.out" || { fail "tiny_llama: parameters"; cat "$work/tiny.out"; }
config='hidden_size = 64  intermediate_size = 128  num_hidden_layers = 2  num_attention_heads = 4
    num_key_value_heads = 4  vocab_size = 256  tie_word_embeddings = false'
cat > "$work/tiny-driver.cost" <<EOF
import "$work/tiny/fixture.tiny_llama.cost"
import "kernels/llama.cost"
model imported = \$fixture.tiny_llama(M = batch_size * seq_len, K = 64, N = 256) {
  config { $config }
}
model library = \$transformers.models.llama.modeling_llama.LlamaForCausalLM {
  config { $config }
}
EOF
# params by hand (H 64, I 128, L 2, V 256, no biases, untied):
#   embed V*H = 16384; per layer q,k,v,o 4*H*H = 16384, gate,up,down 3*H*I = 24576,
#   two RMSNorm weights 2*H = 128 -> 41088, x 2 = 82176; final norm H = 64;
#   lm_head H*V = 16384                                  -> 16384 + 82176 + 64 + 16384 = 115008
for point in "--seq_len 16" "--seq_len 1 --cache_len 31 --batch_size 3"; do
  # shellcheck disable=SC2086
  a=$(totals "$work/tiny-driver.cost" --model imported $point)
  # shellcheck disable=SC2086
  b=$(totals "$work/tiny-driver.cost" --model library $point)
  if [ "${a%% *}" != 115008 ]; then fail "tiny_llama ($point): params ${a%% *}, by hand 115008"; fi
  if [ "$a" = "$b" ]; then echo "ok   tiny_llama ($point): $a"; else fail "tiny_llama ($point): imported $a, library LlamaForCausalLM $b"; fi
done

# ---- clash: an input defines F.linear, which costi's library defines too ----
# The import calls the library (LlamaRMSNorm), so the input's F.linear is written as
# lmp.F.linear: one program holds both.
if ! "$costi" import "$fixtures/clash" -o "$work/clash" > "$work/clash.out" 2> "$work/clash.err"; then
  fail "clash: import failed"; cat "$work/clash.err"
fi
expect_warnings clash "$work/clash.err" \
  "'F.linear' is written as kernel lmp.F.linear: costi's library, which this import calls, defines F.linear too" \
  "'LlamaRMSNorm' is defined by no input file: resolved to costi's library kernel \$transformers.models.llama.modeling_llama.LlamaRMSNorm (kernels/llama.cost, by its short name)"
cat > "$work/clash-driver.cost" <<EOF
import "$work/clash/fixture.clash.cost"
model clash = \$fixture.clash(M = 4, K = 8, N = 16) {}
model norm = \$transformers.models.llama.modeling_llama.LlamaRMSNorm(M = 4, N = 16) {}
EOF
# By hand, the input's F.linear at M 4, K 8, N 16, bytes 2: flops 2*4*8*16 = 1024,
# read (4*8 + 8*16)*2 = 320, write 4*16*2 = 128, no params; the library's RMSNorm weight: N = 16 params.
read -r cp cf cr cw <<<"$(totals "$work/clash-driver.cost" --model clash)"
read -r np nf nr nw <<<"$(totals "$work/clash-driver.cost" --model norm)"
if [ "$cp" = 16 ] && [ $((cf - nf)) = 1024 ] && [ $((cr - nr)) = 320 ] && [ $((cw - nw)) = 128 ] && [ "$np" = 16 ]; then
  echo "ok   clash: $cp $cf $cr $cw"
else
  fail "clash: $cp $cf $cr $cw (the RMSNorm alone: $np $nf $nr $nw)"
fi

[ "$failures" = 0 ]
