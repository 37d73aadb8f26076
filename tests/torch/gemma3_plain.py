"""Gemma3ForCausalLM's inference forward (the text-only model) in plain PyTorch, from the lines
kernels/gemma3.cost cites (src/transformers/models/gemma3/modeling_gemma3.py @
9ee3f431c32e9e5f6c0888f6b2b0ca3f6c289dd6, generated from modular_gemma3.py). Gemma3RMSNorm,
Gemma3MLP and eager_attention_forward are Gemma 2's code, imported from gemma2_plain.py;
rotate_half, apply_rotary_pos_emb, repeat_kv and the rotary embedding's forward are Llama's,
imported from llama_plain.py; the cache layers and the sliding-window mask come from
shared_plain.py. What Gemma 3 has of its own is written out: the scaled word embedding (times
embed_scale, a 0-d buffer, L97-107), QK-norm over head_dim after the projections (L292-293,
L312-313), attention that passes no softcap whatever config.attn_logit_softcapping says
(L323-337), two RoPE tables, the local one from rope_local_base_freq for the sliding layers
(L469-477, L556-557, L376-380), the layer pattern of sliding_window_pattern, the four norms of
the decoder layer (L344-407), the final logit soft-capping when configured (L672-675). Eager
attention. The L-numbers are those of the cited file.
"""

import torch
from torch import nn

from gemma2_plain import Gemma2MLP, Gemma2RMSNorm, eager_attention_forward
from llama_plain import DynamicLayer, LlamaRotaryEmbedding, apply_rotary_pos_emb, causal_mask
from shared_plain import DynamicSlidingWindowLayer, random_model, fill_and_step, layer_type_path, sliding_causal_mask


def layer_types(cfg):
    """Gemma3TextConfig's default layer_types (kernels/gemma3.cost's header): layer i is
    "sliding_attention" unless (i + 1) % sliding_window_pattern == 0."""
    P = cfg["sliding_window_pattern"]
    return ["sliding_attention" if (i + 1) % P else "full_attention" for i in range(cfg["num_hidden_layers"])]


class Gemma3TextScaledWordEmbedding(nn.Embedding):  # L97-107
    def __init__(self, num_embeddings, embedding_dim, embed_scale=1.0):
        super().__init__(num_embeddings, embedding_dim)
        self.register_buffer("embed_scale", torch.tensor(embed_scale), persistent=False)

    def forward(self, input_ids):
        return super().forward(input_ids) * self.embed_scale.to(self.weight.dtype)


class Gemma3Attention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L266-293
        super().__init__()
        self.is_sliding = layer_types(cfg)[layer_idx] == "sliding_attention"
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
        self.attn_logit_softcapping = cfg["attn_logit_softcapping"]   # stored, never passed on
        self.q_norm = Gemma2RMSNorm(cfg["head_dim"], cfg["rms_norm_eps"])   # Gemma3RMSNorm(dim=config.head_dim)
        self.k_norm = Gemma2RMSNorm(cfg["head_dim"], cfg["rms_norm_eps"])

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L296-341
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        query_states = self.q_norm(query_states)
        key_states = self.k_norm(key_states)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        # L327-337: dropout, scaling and sliding_window are passed; softcap is not
        attn_output, _ = eager_attention_forward(self, query_states, key_states, value_states, attention_mask,
                                                 dropout=0.0, scaling=self.scaling)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class Gemma3DecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L345-356
        super().__init__()
        H, eps = cfg["hidden_size"], cfg["rms_norm_eps"]
        self.attention_type = layer_types(cfg)[layer_idx]
        self.self_attn = Gemma3Attention(cfg, layer_idx)
        self.mlp = Gemma2MLP(cfg)   # Gemma3MLP, L110-123: Gemma2MLP's code
        self.input_layernorm = Gemma2RMSNorm(H, eps)
        self.post_attention_layernorm = Gemma2RMSNorm(H, eps)
        self.pre_feedforward_layernorm = Gemma2RMSNorm(H, eps)
        self.post_feedforward_layernorm = Gemma2RMSNorm(H, eps)

    def forward(self, hidden_states, position_embeddings_global, position_embeddings_local, attention_mask,
                cache):  # L359-407
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        if self.self_attn.is_sliding:
            position_embeddings = position_embeddings_local
        else:
            position_embeddings = position_embeddings_global
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask, cache)
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.pre_feedforward_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        hidden_states = self.post_feedforward_layernorm(hidden_states)
        hidden_states = residual + hidden_states
        return (hidden_states,)


class Gemma3TextModel(nn.Module):
    def __init__(self, cfg):  # L456-480
        super().__init__()
        H = cfg["hidden_size"]
        self.embed_tokens = Gemma3TextScaledWordEmbedding(cfg["vocab_size"], H, embed_scale=H ** 0.5)   # L462-464
        self.layers = nn.ModuleList([Gemma3DecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = Gemma2RMSNorm(H, cfg["rms_norm_eps"])
        self.rotary_emb = LlamaRotaryEmbedding(cfg["head_dim"], cfg["rope_theta"])
        self.rotary_emb_local = LlamaRotaryEmbedding(cfg["head_dim"], cfg["rope_local_base_freq"])   # L474-477

    def forward(self, input_ids, position_ids, causal_mask_mapping, cache):  # L484-595
        inputs_embeds = self.embed_tokens(input_ids)                               # L512-513
        hidden_states = inputs_embeds
        position_embeddings_global = self.rotary_emb(hidden_states, position_ids)        # L556
        position_embeddings_local = self.rotary_emb_local(hidden_states, position_ids)   # L557
        for decoder_layer in self.layers:                                          # L563-578
            layer_outputs = decoder_layer(hidden_states, position_embeddings_global, position_embeddings_local,
                                          causal_mask_mapping[decoder_layer.attention_type], cache)
            hidden_states = layer_outputs[0]
        return self.norm(hidden_states)                                            # L585


class Gemma3ForCausalLM(nn.Module):
    def __init__(self, cfg):  # L606-613
        super().__init__()
        self.model = Gemma3TextModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg["tie_word_embeddings"]:   # _tied_weights_keys = ["lm_head.weight"]
            self.lm_head.weight = self.model.embed_tokens.weight
        self.final_logit_softcapping = cfg["final_logit_softcapping"]

    def forward(self, input_ids, position_ids, causal_mask_mapping, cache, logits_to_keep=0):  # L617-687
        hidden_states = self.model(input_ids, position_ids, causal_mask_mapping, cache)
        slice_indices = slice(-logits_to_keep, None)
        logits = self.lm_head(hidden_states[:, slice_indices, :])
        if self.final_logit_softcapping is not None:
            logits = logits / self.final_logit_softcapping
            logits = torch.tanh(logits)
            logits = logits * self.final_logit_softcapping
        return logits


def build(cfg, dtype, seed=0):
    model = random_model(Gemma3ForCausalLM, cfg, dtype, seed)  # the tied matrix once
    # from_pretrained builds the model under the checkpoint's dtype: the embed_scale buffer
    # (a tensor created in __init__, L104) takes it; inv_freq is made float32 explicitly.
    emb = model.model.embed_tokens
    emb.embed_scale = emb.embed_scale.to(dtype)
    return model


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention, head_dim 24 != hidden_size / heads = 16,
# query_pre_attn_scalar 24, sliding_window_pattern 2: layer 0 sliding with a window of 4
# (smaller than the keys of every case with a cache, cache_len 4-6), layer 1 full. The two
# soft-cap keys are set: attn_logit_softcapping is stored and not used (no op may come of it),
# final_logit_softcapping caps the logits. The LM head is tied to the embedding (the default).
CFG = {
    "architectures": ["Gemma3ForCausalLM"],
    "model_type": "gemma3_text",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 24,
    "query_pre_attn_scalar": 24,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "rope_local_base_freq": 10000.0,
    "hidden_activation": "gelu_pytorch_tanh",
    "attention_bias": False,
    "sliding_window": 4,
    "sliding_window_pattern": 2,
    "attn_logit_softcapping": 50.0,
    "final_logit_softcapping": 30.0,
    "tie_word_embeddings": True,
    "_attn_implementation": "eager",
}

KNOWN = {}


def costi_path(path):
    """costi's Gemma3TextModel calls the sliding and the full layers by two labels,
    layers_sliding and layers_full, and Gemma3MLP calls Gemma2MLP (the same code) as `mlp`
    (kernels/gemma3.cost): model.layers.i.mlp.gate_proj is costi's
    model.layers_sliding.mlp.mlp.gate_proj."""
    parts = layer_type_path(path, layer_types(CFG)).split(".")
    if len(parts) > 3 and parts[0] == "model" and parts[3] == "mlp":
        parts.insert(4, "mlp")
    return ".".join(parts)


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache(config=...): a DynamicSlidingWindowLayer per sliding layer, DynamicLayer
    otherwise; the full causal mask and the sliding-window one, each layer taking its type's
    (Gemma3TextModel.forward)."""
    W = CFG["sliding_window"]
    cache = [DynamicSlidingWindowLayer(W) if t == "sliding_attention" else DynamicLayer() for t in layer_types(CFG)]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: {"full_attention": causal_mask(b, q, past, dtype),
                                             "sliding_attention": sliding_causal_mask(b, q, past, dtype, W)})
