"""Phi3ForCausalLM's inference forward in plain PyTorch, from the lines kernels/phi3.cost cites
(src/transformers/models/phi3/modeling_phi3.py @ 5dd4a63548857797727ae73eeb6a6e886ea02a3e, the
v4.48-era file generated from modular_phi3.py). rotate_half, apply_rotary_pos_emb, repeat_kv,
eager_attention_forward and Phi3RMSNorm are, line for line, Llama's (imported from
llama_plain.py); what Phi-3 has of its own is written out: the fused qkv_proj sliced into
q/k/v views, the fused gate_up_proj and chunk, the decoder layer's resid dropouts (identity in
eval), the rotary embedding's order of operations. The cache is the one the kernels cost,
DynamicLayer.update (cache_utils.py @ 004999d9: always torch.cat). Eager attention. The
L-numbers are those of the cited file.
"""

import torch
from torch import nn

from llama_plain import (DynamicLayer, LlamaForCausalLM, LlamaRMSNorm, LlamaRotaryEmbedding, apply_rotary_pos_emb,
                         build as llama_build, eager_attention_forward)
from shared_plain import fill_and_step


class Phi3MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H, I = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_up_proj = nn.Linear(H, 2 * I, bias=False)   # L65
        self.down_proj = nn.Linear(I, H, bias=False)          # L66
        self.activation_fn = nn.SiLU()                        # L67 ACT2FN["silu"]

    def forward(self, hidden_states):  # L69-75
        up_states = self.gate_up_proj(hidden_states)
        gate, up_states = up_states.chunk(2, dim=-1)
        up_states = up_states * self.activation_fn(gate)
        return self.down_proj(up_states)


class Phi3Attention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L153-166
        super().__init__()
        self.layer_idx = layer_idx
        self.num_heads = cfg["num_attention_heads"]
        self.head_dim = cfg.get("head_dim", cfg["hidden_size"] // self.num_heads)   # L157
        self.num_key_value_heads = cfg["num_key_value_heads"]
        self.num_key_value_groups = self.num_heads // self.num_key_value_heads
        self.scaling = self.head_dim ** -0.5
        op_size = self.num_heads * self.head_dim + 2 * (self.num_key_value_heads * self.head_dim)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, cfg["hidden_size"], bias=False)
        self.qkv_proj = nn.Linear(cfg["hidden_size"], op_size, bias=False)

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L168-222
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        qkv = self.qkv_proj(hidden_states)
        query_pos = self.num_heads * self.head_dim
        query_states = qkv[..., :query_pos]
        key_states = qkv[..., query_pos: query_pos + self.num_key_value_heads * self.head_dim]
        value_states = qkv[..., query_pos + self.num_key_value_heads * self.head_dim:]
        query_states = query_states.view(hidden_shape).transpose(1, 2)
        key_states = key_states.view(hidden_shape).transpose(1, 2)
        value_states = value_states.view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        attn_output, _ = eager_attention_forward(self, query_states, key_states, value_states, attention_mask,
                                                 self.scaling)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class Phi3DecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L246-255
        super().__init__()
        H = cfg["hidden_size"]
        self.self_attn = Phi3Attention(cfg, layer_idx)
        self.mlp = Phi3MLP(cfg)
        self.input_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])            # Phi3RMSNorm, L234-239
        self.post_attention_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.resid_attn_dropout = nn.Dropout(cfg["resid_pdrop"])
        self.resid_mlp_dropout = nn.Dropout(cfg["resid_pdrop"])

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):  # L257-318
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask, cache)
        hidden_states = residual + self.resid_attn_dropout(hidden_states)
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        return residual + self.resid_mlp_dropout(hidden_states)   # L312; (hidden_states,)[0] in Phi3Model


class Phi3RotaryEmbedding(LlamaRotaryEmbedding):
    def forward(self, x, position_ids):  # L359-381, default rope_type (no frequency update)
        inv_freq_expanded = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos()
        sin = emb.sin()
        cos = cos * self.attention_scaling
        sin = sin * self.attention_scaling
        return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)


class Phi3ForCausalLM(LlamaForCausalLM):
    """forward L858-944 and Phi3Model.forward L561-665 are LlamaForCausalLM's and LlamaModel's
    (embed_tokens, rotary_emb once, the layers, norm; lm_head over the kept positions)."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.model.layers = nn.ModuleList([Phi3DecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        head_dim = cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
        self.model.rotary_emb = Phi3RotaryEmbedding(head_dim, cfg["rope_theta"])


def build(cfg, dtype, seed=0):
    # llama_plain's LlamaModel reads cfg["head_dim"]; Phi3Config has none (L157's getattr default)
    cfg = dict(cfg, head_dim=cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"]))
    return llama_build(cfg, dtype, seed, cls=Phi3ForCausalLM)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention (qkv_proj of (4 + 2·2)·16 = 128 outputs) and a
# sliding window of 4 that, at this version, acts through the mask only: the cache keeps all
# cache_len + seq_len tokens (docs/conventions.md, "Sliding windows").
CFG = {
    "architectures": ["Phi3ForCausalLM"],
    "model_type": "phi3",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "resid_pdrop": 0.0,
    "sliding_window": 4,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

KNOWN = {}


def causal_mask(batch, q_len, past, dtype):
    """What Phi3Model._update_causal_mask builds for eager from the all-ones 2-D
    attention_mask generate() passes (docs/conventions.md, "No padding"), outside the recorded
    forward (masks are not costed): target_length = attention_mask.shape[-1] = past + q_len
    (L718-722); torch.full(min) * (arange(target) > cache_position | arange(target) <=
    cache_position - sliding_window) (L791-803); expanded to [B, 1, q_len, target] (L804) and
    cloned per batch row for the padding merge (L805-817), which the all-ones mask leaves as is."""
    kv = past + q_len
    i = torch.arange(q_len)[:, None] + past
    j = torch.arange(kv)[None, :]
    m = torch.full((q_len, kv), torch.finfo(dtype).min, dtype=dtype)
    m *= (j > i) | (j <= i - CFG["sliding_window"])
    return m[None, None].expand(batch, 1, q_len, kv).clone()


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache: every token kept (DynamicLayer); the mask above."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: causal_mask(b, q, past, dtype))
