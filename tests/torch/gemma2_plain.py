"""Gemma2ForCausalLM's inference forward in plain PyTorch, from the lines kernels/gemma2.cost
cites (src/transformers/models/gemma2/modeling_gemma2.py @ 9ee3f431c32e9e5f6c0888f6b2b0ca3f6c289dd6,
generated from modular_gemma2.py). rotate_half, apply_rotary_pos_emb, repeat_kv and the
rotary embedding are, line for line, Llama's (imported from llama_plain.py); the cache layers
and the sliding-window mask come from shared_plain.py. What Gemma 2 has of its own is written
out: Gemma2RMSNorm (float32 throughout, times 1 + weight), the GELU-tanh MLP, attention with
head_dim from the config, query_pre_attn_scalar scaling and logit soft-capping on the eager
path, the four norms of the decoder layer, the embedding scaled by sqrt(hidden_size), sliding
(even) and full (odd) layers, the final logit soft-capping, the LM head tied to the embedding.
Eager attention. The L-numbers are those of the cited file.
"""

import torch
from torch import nn

from llama_plain import DynamicLayer, LlamaRotaryEmbedding, apply_rotary_pos_emb, causal_mask, repeat_kv
from shared_plain import DynamicSlidingWindowLayer, random_model, fill_and_step, layer_type_path, sliding_causal_mask


def layer_types(cfg):
    """Gemma2Config's default layer_types (configuration_gemma2.py @ 008e574391258935f3ecc3035c882e73bbcac419):
    "sliding_attention" if (i + 1) % 2 else "full_attention"."""
    return ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(cfg["num_hidden_layers"])]


class Gemma2RMSNorm(nn.Module):
    def __init__(self, dim, eps):  # L51-54
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))

    def _norm(self, x):  # L56-57
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):  # L59-64
        output = self._norm(x.float())
        output = output * (1.0 + self.weight.float())
        return output.type_as(x)


class Gemma2MLP(nn.Module):
    def __init__(self, cfg):  # L70-79
        super().__init__()
        H, I = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)
        # ACT2FN["gelu_pytorch_tanh"]: nn.functional.gelu(input, approximate="tanh")
        self.act_fn = nn.GELU(approximate="tanh")

    def forward(self, x):  # L81-83
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


def eager_attention_forward(module, query, key, value, attention_mask, dropout=0.0, scaling=None, softcap=None):
    # L132-164
    if scaling is None:
        scaling = module.head_dim ** -0.5
    key_states = repeat_kv(key, module.num_key_value_groups)
    value_states = repeat_kv(value, module.num_key_value_groups)
    attn_weights = torch.matmul(query, key_states.transpose(2, 3)) * scaling
    if softcap is not None:
        attn_weights = attn_weights / softcap
        attn_weights = torch.tanh(attn_weights)
        attn_weights = attn_weights * softcap
    if attention_mask is not None:
        causal_mask = attention_mask[:, :, :, : key_states.shape[-2]]
        attn_weights = attn_weights + causal_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_weights = nn.functional.dropout(attn_weights, p=dropout, training=False)
    attn_output = torch.matmul(attn_weights, value_states)
    attn_output = attn_output.transpose(1, 2).contiguous()
    return attn_output, attn_weights


class Gemma2Attention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L170-193
        super().__init__()
        self.layer_idx = layer_idx
        self.head_dim = cfg["head_dim"]
        self.num_key_value_groups = cfg["num_attention_heads"] // cfg["num_key_value_heads"]
        self.scaling = cfg["query_pre_attn_scalar"] ** -0.5
        H, h, kv, d, bias = (cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"],
                             self.head_dim, cfg["attention_bias"])
        self.q_proj = nn.Linear(H, h * d, bias=bias)
        self.k_proj = nn.Linear(H, kv * d, bias=bias)
        self.v_proj = nn.Linear(H, kv * d, bias=bias)
        self.o_proj = nn.Linear(h * d, H, bias=bias)
        self.attn_logit_softcapping = cfg["attn_logit_softcapping"]

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L196-239
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        attn_output, _ = eager_attention_forward(self, query_states, key_states, value_states, attention_mask,
                                                 dropout=0.0, scaling=self.scaling,
                                                 softcap=self.attn_logit_softcapping)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class Gemma2DecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L243-254
        super().__init__()
        H, eps = cfg["hidden_size"], cfg["rms_norm_eps"]
        self.attention_type = layer_types(cfg)[layer_idx]   # L247
        self.self_attn = Gemma2Attention(cfg, layer_idx)
        self.mlp = Gemma2MLP(cfg)
        self.input_layernorm = Gemma2RMSNorm(H, eps)
        self.post_attention_layernorm = Gemma2RMSNorm(H, eps)
        self.pre_feedforward_layernorm = Gemma2RMSNorm(H, eps)
        self.post_feedforward_layernorm = Gemma2RMSNorm(H, eps)

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L257-299
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask, cache)
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.pre_feedforward_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        hidden_states = self.post_feedforward_layernorm(hidden_states)
        hidden_states = residual + hidden_states
        return (hidden_states,)


class Gemma2Model(nn.Module):
    def __init__(self, cfg):  # L358-374
        super().__init__()
        H = cfg["hidden_size"]
        self.hidden_size = H
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], H)
        self.layers = nn.ModuleList([Gemma2DecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = Gemma2RMSNorm(H, cfg["rms_norm_eps"])
        self.rotary_emb = LlamaRotaryEmbedding(cfg["head_dim"], cfg["rope_theta"])   # Gemma2RotaryEmbedding, L324-335

    def forward(self, input_ids, position_ids, causal_mask_mapping, cache):  # L377-484
        inputs_embeds = self.embed_tokens(input_ids)
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        normalizer = torch.tensor(self.hidden_size ** 0.5, dtype=hidden_states.dtype)   # L446
        hidden_states = hidden_states * normalizer
        for decoder_layer in self.layers:
            layer_outputs = decoder_layer(hidden_states, position_embeddings,
                                          causal_mask_mapping[decoder_layer.attention_type], cache)   # L460
            hidden_states = layer_outputs[0]
        return self.norm(hidden_states)


class Gemma2ForCausalLM(nn.Module):
    def __init__(self, cfg):  # L493-500
        super().__init__()
        self.model = Gemma2Model(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg["tie_word_embeddings"]:   # _tied_weights_keys = ["lm_head.weight"]
            self.lm_head.weight = self.model.embed_tokens.weight
        self.final_logit_softcapping = cfg["final_logit_softcapping"]

    def forward(self, input_ids, position_ids, causal_mask_mapping, cache, logits_to_keep=0):  # L504-574
        hidden_states = self.model(input_ids, position_ids, causal_mask_mapping, cache)
        slice_indices = slice(-logits_to_keep, None)
        logits = self.lm_head(hidden_states[:, slice_indices, :])
        if self.final_logit_softcapping is not None:
            logits = logits / self.final_logit_softcapping
            logits = torch.tanh(logits)
            logits = logits * self.final_logit_softcapping
        return logits


def build(cfg, dtype, seed=0):
    model = random_model(Gemma2ForCausalLM, cfg, dtype, seed)  # the tied matrix once
    return model


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention, head_dim 24 != hidden_size / heads = 16,
# query_pre_attn_scalar 24, both soft-caps on, the LM head tied to the embedding (the
# default), layer 0 sliding with a window of 4 (smaller than the keys of every case with a
# cache, cache_len 4-6), layer 1 full.
CFG = {
    "architectures": ["Gemma2ForCausalLM"],
    "model_type": "gemma2",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 24,
    "query_pre_attn_scalar": 24,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "hidden_activation": "gelu_pytorch_tanh",
    "attention_bias": False,
    "sliding_window": 4,
    "attn_logit_softcapping": 50.0,
    "final_logit_softcapping": 30.0,
    "tie_word_embeddings": True,
    "_attn_implementation": "eager",
}

# L446-447: normalizer = torch.tensor(hidden_size**0.5, dtype=...) is a 0-d CPU tensor. On
# CUDA, TensorIterator passes a CPU scalar operand to the GPU kernel by value (is_cpu_scalar:
# gpu_kernel_with_scalars), so the multiply reads nothing of it, as kernels/gemma2.cost costs it
# (torch.mul(other = 0)); on torch's CPU the 0-d tensor is an operand like any other and the
# recorder counts its one element: torch reads a_bytes more (4 float32, 2 bfloat16) in
# Gemma2Model, and so in the whole model, than costi.
_NORMALIZER = "the embedding normalizer, a 0-d CPU tensor: a scalar argument to a CUDA kernel, a 1-element read on CPU"
# Exact, asserted: costi - torch = (0 FLOPs, -a_bytes read, 0 written) at every step.
KNOWN = {(dtype, path): (_NORMALIZER, lambda batch, seq_len, cache_len, a=width: (0, -a, 0))
         for dtype, width in (("float32", 4), ("bfloat16", 2)) for path in ("model", "")}


def costi_path(path):
    """costi's Gemma2Model calls the sliding and the full layers by two labels, layers_sliding
    and layers_full (kernels/gemma2.cost)."""
    return layer_type_path(path, layer_types(CFG))


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache(config=...): a DynamicSlidingWindowLayer per sliding layer, DynamicLayer
    otherwise; Gemma2Model.forward L421-435: the full causal mask and the sliding-window one,
    each layer taking its type's (L460)."""
    W = CFG["sliding_window"]
    cache = [DynamicSlidingWindowLayer(W) if t == "sliding_attention" else DynamicLayer() for t in layer_types(CFG)]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: {"full_attention": causal_mask(b, q, past, dtype),
                                             "sliding_attention": sliding_causal_mask(b, q, past, dtype, W)})
