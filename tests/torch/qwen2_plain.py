"""Qwen2ForCausalLM's inference forward in plain PyTorch, from the lines kernels/qwen2.cost cites
(src/transformers/models/qwen2/modeling_qwen2.py @ 9ee3f431c32e9e5f6c0888f6b2b0ca3f6c289dd6,
generated from modular_qwen2.py). What that file holds as copies of Llama's code, line for
line (Qwen2MLP, rotate_half, apply_rotary_pos_emb, repeat_kv, eager_attention_forward,
Qwen2RMSNorm, Qwen2RotaryEmbedding, the decoder layer's forward, the LM head) is imported
from llama_plain.py; the cache layers and the sliding-window mask from shared_plain.py.
What Qwen2 adds: biases on q/k/v (L134-136, bias=True whatever the config says), and with
use_sliding_window the layers i >= max_window_layers are "sliding_attention" layers with a
DynamicSlidingWindowLayer and the sliding-window mask (L371-376, L386). Eager attention. The
L-numbers are those of the cited file.
"""

from torch import nn

from llama_plain import (DynamicLayer, LlamaAttention, LlamaDecoderLayer, LlamaForCausalLM, build as llama_build,
                         causal_mask)
from shared_plain import DynamicSlidingWindowLayer, fill_and_step, layer_type_path, sliding_causal_mask


def layer_types(cfg):
    """Qwen2Config.__post_init__ (configuration_qwen2.py @ 008e574391258935f3ecc3035c882e73bbcac419):
    sliding_window is kept only with use_sliding_window; layer i slides iff i >= max_window_layers."""
    window = cfg["sliding_window"] if cfg.get("use_sliding_window", False) else None
    return ["sliding_attention" if window is not None and i >= cfg["max_window_layers"] else "full_attention"
            for i in range(cfg["num_hidden_layers"])]


class Qwen2Attention(LlamaAttention):  # L122-183; forward L141-183 is LlamaAttention's plus sliding_window=
    def __init__(self, cfg, layer_idx):
        super().__init__(cfg, layer_idx)
        H = cfg["hidden_size"]
        self.q_proj = nn.Linear(H, self.num_heads * self.head_dim, bias=True)   # L134
        self.k_proj = nn.Linear(H, self.num_kv * self.head_dim, bias=True)      # L135
        self.v_proj = nn.Linear(H, self.num_kv * self.head_dim, bias=True)      # L136
        # L137 o_proj bias=False, as LlamaAttention's


class Qwen2DecoderLayer(LlamaDecoderLayer):  # L207-251
    def __init__(self, cfg, layer_idx):
        super().__init__(cfg, layer_idx)
        self.self_attn = Qwen2Attention(cfg, layer_idx)
        self.attention_type = layer_types(cfg)[layer_idx]   # L217

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):
        # Qwen2Model.forward L386: attention_mask=causal_mask_mapping[decoder_layer.attention_type]
        return super().forward(hidden_states, attention_mask[self.attention_type], position_embeddings, cache)


class Qwen2ForCausalLM(LlamaForCausalLM):  # forward L419-475; Qwen2Model.forward L330-399
    def __init__(self, cfg):
        super().__init__(cfg)
        self.model.layers = nn.ModuleList([Qwen2DecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])


def build(cfg, dtype, seed=0):
    # L129 getattr(config, "head_dim", hidden_size // num_attention_heads): llama_plain reads cfg["head_dim"]
    cfg = dict(cfg, head_dim=cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"]))
    return llama_build(cfg, dtype, seed, cls=Qwen2ForCausalLM)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention (q/k/v biases always), sliding window on: layer 0
# is a full-attention layer, layer 1 (>= max_window_layers) a sliding one with a window of 4,
# smaller than the keys of every case with a cache (cache_len 4-6). No head_dim key: Qwen2Config
# has none, head_dim is hidden_size // num_attention_heads (L129).
CFG = {
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "use_sliding_window": True,
    "sliding_window": 4,
    "max_window_layers": 1,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

KNOWN = {}


def costi_path(path):
    """costi's Qwen2Model calls the full and the sliding layers by two labels, layers_full and
    layers_sliding (kernels/qwen2.cost)."""
    return layer_type_path(path, layer_types(CFG))


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache(config=...): a DynamicSlidingWindowLayer per sliding layer, DynamicLayer
    otherwise; Qwen2Model.forward L360-376: the full causal mask, and the sliding one when a
    layer slides, each layer taking its type's (L386)."""
    W = CFG["sliding_window"]
    cache = [DynamicSlidingWindowLayer(W) if t == "sliding_attention" else DynamicLayer() for t in layer_types(CFG)]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: {"full_attention": causal_mask(b, q, past, dtype),
                                             "sliding_attention": sliding_causal_mask(b, q, past, dtype, W)})
