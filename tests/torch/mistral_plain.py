"""MistralForCausalLM's inference forward in plain PyTorch, from the lines kernels/mistral.cost
cites: modular_mistral.py @ 0096ba4f66d4f5f7b1d4e162f8a75d0894b40ea8 for what Mistral changes,
modeling_llama.py @ 9ee3f431 for what the modular converter copies from Llama unchanged
(MistralRMSNorm, MistralRotaryEmbedding, rotate_half, apply_rotary_pos_emb, MistralMLP's
forward, repeat_kv, eager_attention_forward, the decoder layer, the LM head) — those are
imported from llama_plain.py, the same lines — and DynamicSlidingWindowLayer.update from
cache_utils.py @ 004999d972e478164dd7e8e508350937c803531e. Eager attention. The L-numbers
of MistralAttention are those of modular_mistral.py.
"""

import torch
from torch import nn

from llama_plain import (LlamaAttention, LlamaDecoderLayer, LlamaForCausalLM, LlamaMLP, LlamaModel,
                         apply_rotary_pos_emb, build as llama_build, eager_attention_forward, param_count)


class DynamicSlidingWindowLayer:  # cache_utils.py L167-211
    def __init__(self, sliding_window):
        self.keys = None
        self.sliding_window = sliding_window
        self.cumulative_length = 0

    def update(self, key_states, value_states):
        if self.keys is None:  # lazy_initialization (L92-96): empty tensors, no kernel
            self.keys = torch.tensor([], dtype=key_states.dtype, device=key_states.device)
            self.values = torch.tensor([], dtype=key_states.dtype, device=key_states.device)
        self.cumulative_length += key_states.shape[-2]
        full_key_states = torch.cat([self.keys, key_states], dim=-2)
        full_value_states = torch.cat([self.values, value_states], dim=-2)
        # Only the last sliding_window - 1 tokens are kept: views of the full states
        self.keys = full_key_states[:, :, -self.sliding_window + 1:, :]
        self.values = full_value_states[:, :, -self.sliding_window + 1:, :]
        return full_key_states, full_value_states


def sliding_causal_mask(batch, q_len, past, dtype, window):
    """The additive mask create_sliding_window_causal_mask gives eager attention (built outside
    the recorded forward, as llama_plain.causal_mask): [B, 1, q_len, kv_len] over the keys the
    sliding cache returns, kv_len = min(past, window - 1) + q_len (get_mask_sizes, L213-224);
    query i (absolute past + i) sees key position p iff p <= past + i and p > past + i - window."""
    offset = max(past - window + 1, 0)          # absolute position of the first key returned
    kv = past - offset + q_len
    i = torch.arange(q_len)[:, None] + past
    p = torch.arange(kv)[None, :] + offset
    m = torch.zeros(q_len, kv, dtype=dtype)
    m = m.masked_fill((p > i) | (p <= i - window), torch.finfo(dtype).min)
    return m[None, None].expand(batch, 1, q_len, kv).contiguous()


class MistralAttention(LlamaAttention):
    """Llama's attention with bias=False hard-coded (L45-52: LlamaAttention with the CFG's
    attention_bias false is the same modules) and the sliding_window passed to the attention
    interface, which eager_attention_forward takes in **kwargs and does not use."""

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L54-96
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        attn_output, _ = eager_attention_forward(self, query_states, key_states, value_states, attention_mask,
                                                 self.scaling)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class MistralDecoderLayer(LlamaDecoderLayer):  # L99-103
    def __init__(self, cfg, layer_idx):
        super().__init__(cfg, layer_idx)
        self.self_attn = MistralAttention(cfg, layer_idx)
        self.mlp = LlamaMLP(cfg["hidden_size"], cfg["intermediate_size"])  # MistralMLP: bias=False (L38-42)


class MistralForCausalLM(LlamaForCausalLM):  # L176-177; MistralModel.forward (L116-173) as LlamaModel's
    def __init__(self, cfg):
        super().__init__(cfg)
        self.model.layers = nn.ModuleList([MistralDecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])


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
    """Fills the sliding cache with cache_len tokens (not recorded) and returns the step to record."""
    W = CFG["sliding_window"]
    cache = [DynamicSlidingWindowLayer(W) for _ in range(CFG["num_hidden_layers"])]
    if cache_len:
        ids = torch.randint(0, CFG["vocab_size"], (batch, cache_len))
        pos = torch.arange(cache_len)[None].expand(batch, -1)
        with torch.no_grad():
            model(ids, pos, sliding_causal_mask(batch, cache_len, 0, dtype, W), cache)
    ids = torch.randint(0, CFG["vocab_size"], (batch, seq_len))
    pos = torch.arange(cache_len, cache_len + seq_len)[None].expand(batch, -1).contiguous()
    mask = sliding_causal_mask(batch, seq_len, cache_len, dtype, W)
    return lambda: model(ids, pos, mask, cache)
