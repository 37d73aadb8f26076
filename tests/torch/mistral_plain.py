"""MistralForCausalLM's inference forward in plain PyTorch, from the lines kernels/mistral.cost
cites: modular_mistral.py @ 0096ba4f66d4f5f7b1d4e162f8a75d0894b40ea8 for what Mistral changes,
modeling_llama.py @ 9ee3f431 for what the modular converter copies from Llama unchanged
(MistralRMSNorm, MistralRotaryEmbedding, rotate_half, apply_rotary_pos_emb, MistralMLP's
forward, repeat_kv, eager_attention_forward, the decoder layer, the LM head) — those are
imported from llama_plain.py, the same lines — and DynamicSlidingWindowLayer.update from
cache_utils.py @ 004999d972e478164dd7e8e508350937c803531e (shared_plain.py). Eager attention.
The L-numbers below are those of modular_mistral.py.
"""

from llama_plain import LlamaForCausalLM, build as llama_build
from shared_plain import DynamicSlidingWindowLayer, fill_and_step, sliding_causal_mask


class MistralForCausalLM(LlamaForCausalLM):
    """LlamaForCausalLM's modules and forward, as modular_mistral.py derives them:
    MistralMLP (L38-42) and MistralAttention's projections (L45-52) are Llama's with bias=False,
    which llama_plain's are; MistralAttention.forward (L54-96) is LlamaAttention.forward plus
    sliding_window= passed to the attention interface, which eager_attention_forward swallows
    in **kwargs; the decoder layer (L99-103), MistralModel.forward (L116-173: embed_tokens,
    rotary_emb once, the layers, norm; its sliding-window mask is built outside, see
    prepare) and MistralForCausalLM (L176-177) are Llama's. The window acts through the cache
    and the mask only."""


def build(cfg, dtype, seed=0):
    return llama_build(cfg, dtype, seed, cls=MistralForCausalLM)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention and a sliding window of 4, smaller than the keys
# of every case with a cache (cache_len 4-6): the cache keeps 3 tokens and the mask is
# the sliding one.
CFG = {
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "sliding_window": 4,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

KNOWN = {}


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache(config=...) with one DynamicSlidingWindowLayer per layer (config.sliding_window
    is set), the sliding-window mask."""
    W = CFG["sliding_window"]
    cache = [DynamicSlidingWindowLayer(W) for _ in range(CFG["num_hidden_layers"])]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: sliding_causal_mask(b, q, past, dtype, W))
