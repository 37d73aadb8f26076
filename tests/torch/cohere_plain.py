"""CohereForCausalLM's inference forward in plain PyTorch, line by line from the modeling code
costi's kernels/cohere.cost cites (transformers src/transformers/models/cohere/modeling_cohere.py
@ 015bfeb86891c5f5e450f48942260ac3e2cd2bf2), eager attention (torch 1.13 has no
F.scaled_dot_product_attention). eager_attention_forward (with repeat_kv) is Llama's code to
the letter and comes from llama_plain, as DynamicLayer and the causal mask do. Module names are
transformers', so module paths match the call labels of costi's tree. The L-numbers are those
of the cited file.
"""

import torch
from torch import nn

import shared_plain

from llama_plain import DynamicLayer, causal_mask, eager_attention_forward


class CohereLayerNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-5):  # L65-69: weight only, no bias
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):  # L71-78
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        mean = hidden_states.mean(-1, keepdim=True)
        variance = (hidden_states - mean).pow(2).mean(-1, keepdim=True)
        hidden_states = (hidden_states - mean) * torch.rsqrt(variance + self.variance_epsilon)
        hidden_states = self.weight.to(torch.float32) * hidden_states
        return hidden_states.to(input_dtype)


class CohereRotaryEmbedding(nn.Module):
    def __init__(self, head_dim, base):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.attention_scaling = 1.0

    def forward(self, x, position_ids):  # L119-139 (default rope: no dynamic update)
        inv_freq_expanded = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
        emb = torch.repeat_interleave(freqs, 2, dim=-1)
        cos = emb.cos()
        sin = emb.sin()
        cos = cos * self.attention_scaling
        sin = sin * self.attention_scaling
        return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)


class CohereMLP(nn.Module):
    def __init__(self, hidden, intermediate):  # L143-151
        super().__init__()
        self.gate_proj = nn.Linear(hidden, intermediate, bias=False)
        self.up_proj = nn.Linear(hidden, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, hidden, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):  # L153-155
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


def rotate_half(x):  # L196-201
    x1 = x[..., ::2]
    x2 = x[..., 1::2]
    rot_x = torch.stack([-x2, x1], dim=-1).flatten(-2)
    return rot_x


def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):  # L204-231
    dtype = q.dtype
    q = q.float()
    k = k.float()
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed.to(dtype=dtype), k_embed.to(dtype=dtype)


class CohereAttention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L237-267
        super().__init__()
        H = cfg["hidden_size"]
        self.num_heads = cfg["num_attention_heads"]
        self.num_kv = cfg.get("num_key_value_heads", self.num_heads)
        self.head_dim = cfg.get("head_dim", H // self.num_heads)
        self.num_key_value_groups = self.num_heads // self.num_kv
        self.scaling = self.head_dim ** -0.5
        bias = cfg.get("attention_bias", False)
        self.q_proj = nn.Linear(H, self.num_heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(H, self.num_kv * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(H, self.num_kv * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, H, bias=bias)
        self.use_qk_norm = cfg.get("use_qk_norm", False)
        if self.use_qk_norm:
            eps = cfg.get("layer_norm_eps", 1e-5)
            self.q_norm = CohereLayerNorm((self.num_heads, self.head_dim), eps=eps)
            self.k_norm = CohereLayerNorm((self.num_kv, self.head_dim), eps=eps)
        self.layer_idx = layer_idx

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L269-324
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape)
        key_states = self.k_proj(hidden_states).view(hidden_shape)
        value_states = self.v_proj(hidden_states).view(hidden_shape)
        if self.use_qk_norm:
            query_states = self.q_norm(query_states)
            key_states = self.k_norm(key_states)
        query_states = query_states.transpose(1, 2)
        key_states = key_states.transpose(1, 2)
        value_states = value_states.transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        attn_output, _ = eager_attention_forward(self, query_states, key_states, value_states, attention_mask,
                                                 self.scaling)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class CohereDecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L328-333
        super().__init__()
        H = cfg["hidden_size"]
        self.self_attn = CohereAttention(cfg, layer_idx)
        self.mlp = CohereMLP(H, cfg["intermediate_size"])
        self.input_layernorm = CohereLayerNorm(H, eps=cfg.get("layer_norm_eps", 1e-5))

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):  # L335-393
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states_attention = self.self_attn(hidden_states, position_embeddings, attention_mask, cache)
        hidden_states_mlp = self.mlp(hidden_states)
        return residual + hidden_states_attention + hidden_states_mlp


class CohereModel(nn.Module):
    def __init__(self, cfg):  # L425-439
        super().__init__()
        H = cfg["hidden_size"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], H)
        self.layers = nn.ModuleList([CohereDecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = CohereLayerNorm(H, eps=cfg.get("layer_norm_eps", 1e-5))
        head_dim = cfg.get("head_dim", H // cfg["num_attention_heads"])
        self.rotary_emb = CohereRotaryEmbedding(head_dim, cfg.get("rope_theta", 10000.0))

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L449-554
        inputs_embeds = self.embed_tokens(input_ids)
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for layer in self.layers:
            hidden_states = layer(hidden_states, causal_mask, position_embeddings, cache)
        return self.norm(hidden_states)


class CohereForCausalLM(nn.Module):
    def __init__(self, cfg):  # L694-703; lm_head tied to embed_tokens (tie_word_embeddings True)
        super().__init__()
        self.model = CohereModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg.get("tie_word_embeddings", True):
            self.lm_head.weight = self.model.embed_tokens.weight
        self.logit_scale = cfg.get("logit_scale", 0.0625)

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L725-806
        hidden_states = self.model(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)
        logits = self.lm_head(hidden_states[:, slice_indices, :])
        logits = logits * self.logit_scale
        return logits


def build(cfg, dtype, seed=0):
    return shared_plain.random_model(CohereForCausalLM, cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention and the per-head QK LayerNorms (use_qk_norm, as
# Command R+), tied lm_head and logit_scale; written to a config.json for costi.
CFG = {
    "architectures": ["CohereForCausalLM"],
    "model_type": "cohere",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "layer_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "logit_scale": 0.0625,
    "use_qk_norm": True,
    "hidden_act": "silu",
    "_attn_implementation": "eager",
}

# repeat_interleave(freqs, 2, dim=-1) with an int repeats. costi costs what current PyTorch runs
# (Repeat.cpp @ pytorch/pytorch 0434ace5: unsqueeze, expand, clone(Contiguous): one copy reading
# the E/2 float32 frequencies it holds and writing E = batch*seq_len*head_dim); torch 1.13 runs
# its tensor overload instead: an int64 repeats tensor (empty + fill_, 8 bytes), the index
# (repeat_interleave over it: reads 8 bytes, writes head_dim int64 entries) and index_select
# (reads the index and E float32 elements, writes E). costi - torch: flops 0, read
# 2E - (16 + 8*head_dim + 4E), write -(16 + 8*head_dim); on the rotary embedding and its
# enclosing modules, whatever the activation dtype (the table is float32).
_REPEAT_INTERLEAVE = "repeat_interleave: costi counts current PyTorch's expand + clone, torch 1.13 runs an index_select"


def _repeat_interleave(batch, seq_len, cache_len):
    d = CFG["hidden_size"] // CFG["num_attention_heads"]
    E = batch * seq_len * d
    return (0, 2 * E - (16 + 8 * d + 4 * E), -(16 + 8 * d))


KNOWN = {(dtype, path): (_REPEAT_INTERLEAVE, _repeat_interleave)
         for dtype in ("float32", "bfloat16") for path in ("model.rotary_emb", "model", "")}


def prepare(model, batch, seq_len, cache_len, dtype):
    """Fills the cache with cache_len tokens (not recorded) and returns the step to record."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return shared_plain.fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                                      lambda b, q, past: causal_mask(b, q, past, dtype))
