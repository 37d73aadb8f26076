"""Qwen3ForCausalLM's inference forward in plain PyTorch, from the lines kernels/qwen3.cost cites
(src/transformers/models/qwen3/modeling_qwen3.py @ 9ee3f431c32e9e5f6c0888f6b2b0ca3f6c289dd6,
generated from modular_qwen3.py). What that file holds as copies of Llama's / Qwen2's code,
line for line (Qwen3RMSNorm L59-64, Qwen3MLP L70-83, rotate_half, apply_rotary_pos_emb,
repeat_kv, eager_attention_forward, Qwen3RotaryEmbedding's forward L321-332, the decoder
layer's forward L246-277, the LM head) is imported from llama_plain.py; the cache layers and
the sliding-window mask from shared_plain.py; the layer types (Qwen2's rule) from qwen2_plain.py.
What Qwen3 adds: head_dim from the config (L165), q/k/v/o biases from config.attention_bias
(L171-182, o_proj included), and q_norm / k_norm, an RMSNorm over each head's head_dim values
of the projected q and k, before RoPE (L183-184, L200-201). Eager attention. The L-numbers are
those of the cited file.
"""

from torch import nn

from llama_plain import (DynamicLayer, LlamaAttention, LlamaDecoderLayer, LlamaForCausalLM, LlamaRMSNorm,
                         apply_rotary_pos_emb, build as llama_build, causal_mask, eager_attention_forward)
from qwen2_plain import layer_types
from shared_plain import DynamicSlidingWindowLayer, fill_and_step, layer_type_path, sliding_causal_mask


class Qwen3Attention(LlamaAttention):  # L159-230
    def __init__(self, cfg, layer_idx):
        super().__init__(cfg, layer_idx)
        H, d, bias = cfg["hidden_size"], self.head_dim, cfg["attention_bias"]
        self.q_proj = nn.Linear(H, self.num_heads * d, bias=bias)   # L171-173
        self.k_proj = nn.Linear(H, self.num_kv * d, bias=bias)      # L174-176
        self.v_proj = nn.Linear(H, self.num_kv * d, bias=bias)      # L177-179
        self.o_proj = nn.Linear(self.num_heads * d, H, bias=bias)   # L180-182
        self.q_norm = LlamaRMSNorm(d, cfg["rms_norm_eps"])          # L183 Qwen3RMSNorm(head_dim)
        self.k_norm = LlamaRMSNorm(d, cfg["rms_norm_eps"])          # L184

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L188-230
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_norm(self.q_proj(hidden_states).view(hidden_shape)).transpose(1, 2)   # L200
        key_states = self.k_norm(self.k_proj(hidden_states).view(hidden_shape)).transpose(1, 2)     # L201
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)                # L202
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)       # L205
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)         # L207-210
        attn_output, _ = eager_attention_forward(self, query_states, key_states, value_states, attention_mask,
                                                 self.scaling)                                    # L212-226
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()                          # L228
        return self.o_proj(attn_output)                                                           # L229


class Qwen3DecoderLayer(LlamaDecoderLayer):  # L233-277
    def __init__(self, cfg, layer_idx):
        super().__init__(cfg, layer_idx)
        self.self_attn = Qwen3Attention(cfg, layer_idx)
        self.attention_type = layer_types(cfg)[layer_idx]   # L243

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):
        # Qwen3Model.forward L410-412: attention_mask=causal_mask_mapping[decoder_layer.attention_type]
        return super().forward(hidden_states, attention_mask[self.attention_type], position_embeddings, cache)


class Qwen3ForCausalLM(LlamaForCausalLM):  # forward L445-506; Qwen3Model.forward L356-425
    def __init__(self, cfg):
        super().__init__(cfg)
        self.model.layers = nn.ModuleList([Qwen3DecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])


def build(cfg, dtype, seed=0):
    return llama_build(cfg, dtype, seed, cls=Qwen3ForCausalLM)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention, an explicit head_dim 24 (h*d = 96 != hidden_size
# 64, as Qwen3-0.6B's q_proj 1024 -> 2048), q/k/v/o biases on, sliding window on: layer 0 is a
# full-attention layer, layer 1 (>= max_window_layers) a sliding one with a window of 4,
# smaller than the keys of every case with a cache (cache_len 4-6).
CFG = {
    "architectures": ["Qwen3ForCausalLM"],
    "model_type": "qwen3",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 24,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "hidden_act": "silu",
    "attention_bias": True,
    "use_sliding_window": True,
    "sliding_window": 4,
    "max_window_layers": 1,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

KNOWN = {}


def costi_path(path):
    """costi's Qwen3Model calls the full and the sliding layers by two labels, layers_full and
    layers_sliding, and Qwen3MLP calls Qwen2MLP (the same code) as `mlp` (kernels/qwen3.cost):
    model.layers.i.mlp.gate_proj is costi's model.layers_full.mlp.mlp.gate_proj."""
    parts = layer_type_path(path, layer_types(CFG)).split(".")
    if len(parts) > 3 and parts[0] == "model" and parts[3] == "mlp":
        parts.insert(4, "mlp")
    return ".".join(parts)


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache(config=...): a DynamicSlidingWindowLayer per sliding layer, DynamicLayer
    otherwise; Qwen3Model.forward L386-402: the full causal mask, and the sliding one when a
    layer slides, each layer taking its type's (L412)."""
    W = CFG["sliding_window"]
    cache = [DynamicSlidingWindowLayer(W) if t == "sliding_attention" else DynamicLayer() for t in layer_types(CFG)]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: {"full_attention": causal_mask(b, q, past, dtype),
                                             "sliding_attention": sliding_causal_mask(b, q, past, dtype, W)})
