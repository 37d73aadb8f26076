"""Olmo2ForCausalLM's inference forward in plain PyTorch, from the lines kernels/olmo2.cost cites
(src/transformers/models/olmo2/modeling_olmo2.py @ 9ee3f431c32e9e5f6c0888f6b2b0ca3f6c289dd6,
generated from modular_olmo2.py). repeat_kv, eager_attention_forward (L51-86), Olmo2MLP
(L201-214) and rotate_half (L117-121) are Llama's lines, imported from llama_plain.py. What
OLMo 2 has of its own is written out: Olmo2RMSNorm (the weight multiplied in float32, one cast
at the end, L40-45), the rotary embedding returning float32 tables (L282-293), so that
apply_rotary_pos_emb works in float32 and casts back (L89-114), QK-norm over the whole q and k
projections before the view into heads (L149-150, L165-166), q/k/v/o biases from
attention_bias, and the post-norm decoder layer (no input or pre-MLP norm, L228-258). Every
layer is full attention (Olmo2Config has no window). Eager attention. The L-numbers are those
of the cited file.
"""

import torch
from torch import nn

from llama_plain import DynamicLayer, LlamaMLP, build as llama_build, causal_mask, eager_attention_forward, \
    rotate_half
from shared_plain import fill_and_step


class Olmo2RMSNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):  # L32-38
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):  # L40-45
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return (self.weight * hidden_states).to(input_dtype)


def apply_rotary_pos_emb(q, k, cos, sin, position_ids=None, unsqueeze_dim=1):  # L89-114
    q_type, k_type = q.dtype, k.dtype
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed.to(q_type), k_embed.to(k_type)


class Olmo2RotaryEmbedding(nn.Module):
    def __init__(self, head_dim, base):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.attention_scaling = 1.0

    def forward(self, x, position_ids):  # L282-293
        inv_freq_expanded = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1).to(x.device)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos() * self.attention_scaling
        sin = emb.sin() * self.attention_scaling
        return cos, sin   # float32: no cast to x.dtype


class Olmo2Attention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L127-150
        super().__init__()
        self.layer_idx = layer_idx
        self.head_dim = cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])   # L131
        self.num_key_value_groups = cfg["num_attention_heads"] // cfg["num_key_value_heads"]
        self.scaling = self.head_dim ** -0.5
        H, h, kv, d, bias = (cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"],
                             self.head_dim, cfg["attention_bias"])
        self.q_proj = nn.Linear(H, h * d, bias=bias)
        self.k_proj = nn.Linear(H, kv * d, bias=bias)
        self.v_proj = nn.Linear(H, kv * d, bias=bias)
        self.o_proj = nn.Linear(h * d, H, bias=bias)
        self.q_norm = Olmo2RMSNorm(h * d, cfg["rms_norm_eps"])    # L149
        self.k_norm = Olmo2RMSNorm(kv * d, cfg["rms_norm_eps"])   # L150

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L153-198
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_norm(self.q_proj(hidden_states))
        key_states = self.k_norm(self.k_proj(hidden_states))
        value_states = self.v_proj(hidden_states)
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


class Olmo2DecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L218-225
        super().__init__()
        H = cfg["hidden_size"]
        self.self_attn = Olmo2Attention(cfg, layer_idx)
        self.mlp = LlamaMLP(H, cfg["intermediate_size"])   # Olmo2MLP, L201-214: Llama's lines
        self.post_attention_layernorm = Olmo2RMSNorm(H, cfg["rms_norm_eps"])
        self.post_feedforward_layernorm = Olmo2RMSNorm(H, cfg["rms_norm_eps"])

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):  # L228-258
        residual = hidden_states
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask, cache)
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.mlp(hidden_states)
        hidden_states = self.post_feedforward_layernorm(hidden_states)
        hidden_states = residual + hidden_states
        return hidden_states


class Olmo2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H = cfg["hidden_size"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], H)
        self.layers = nn.ModuleList([Olmo2DecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = Olmo2RMSNorm(H, cfg["rms_norm_eps"])
        self.rotary_emb = Olmo2RotaryEmbedding(cfg.get("head_dim", H // cfg["num_attention_heads"]), cfg["rope_theta"])

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L335-391
        inputs_embeds = self.embed_tokens(input_ids)                          # L350
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)    # L374
        for decoder_layer in self.layers:                                     # L376-385
            hidden_states = decoder_layer(hidden_states, causal_mask, position_embeddings, cache)
        return self.norm(hidden_states)                                       # L387


class Olmo2ForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = Olmo2Model(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)   # L404

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L411-467
        hidden_states = self.model(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)                          # L454
        return self.lm_head(hidden_states[:, slice_indices, :])               # L455


def build(cfg, dtype, seed=0):
    return llama_build(cfg, dtype, seed, cls=Olmo2ForCausalLM)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention, q/k/v/o biases (attention_bias), no head_dim key
# (Olmo2Config has none: hidden_size // heads = 16), QK-norm weights of h*d = 64 and kv*d = 32.
CFG = {
    "architectures": ["Olmo2ForCausalLM"],
    "model_type": "olmo2",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 500000.0,
    "hidden_act": "silu",
    "attention_bias": True,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

KNOWN = {}


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache(config=...): a DynamicLayer per layer; the full causal mask."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: causal_mask(b, q, past, dtype))
