"""Starcoder2ForCausalLM's inference forward in plain PyTorch, from the lines kernels/starcoder2.cost
cites (src/transformers/models/starcoder2/modeling_starcoder2.py @ 73faa33f3c3a8588747d42dc7ca666d97b1a2a2c,
a v4.47/4.48-era file generated from modular_starcoder2.py). rotate_half, apply_rotary_pos_emb
(L79-110), repeat_kv and eager_attention_forward (L113-148) are Llama's lines, imported from
llama_plain.py. Written out: the two-matrix MLP c_proj(act(c_fc(x))) with use_bias biases and
the GELU-tanh activation (L62-76), attention with q/k/v/o biases and the residual dropout after
o_proj (L154-221), nn.LayerNorm norms with weight and bias (L230-231, L476), the rotary
embedding whose scaling multiplies sit after the autocast block (L311-331), the embedding
dropout (L541-543). Dropouts are the identity in eval mode (no kernel runs). The sliding window
acts through the eager mask only at this version; the cache is the one the kernels cost,
DynamicLayer.update (cache_utils.py @ 004999d9: every token kept, always torch.cat;
docs/conventions.md, "KV cache"). Eager attention. The L-numbers are those of the cited file.
"""

import torch
from torch import nn

from llama_plain import (DynamicLayer, apply_rotary_pos_emb, build as llama_build, eager_attention_forward)
from shared_plain import fill_and_step


class Starcoder2MLP(nn.Module):
    def __init__(self, cfg):  # L63-69
        super().__init__()
        embed_dim = cfg["hidden_size"]
        self.c_fc = nn.Linear(embed_dim, cfg["intermediate_size"], bias=cfg["use_bias"])
        self.c_proj = nn.Linear(cfg["intermediate_size"], embed_dim, bias=cfg["use_bias"])
        assert cfg["hidden_act"] == "gelu_pytorch_tanh"
        self.act = nn.GELU(approximate="tanh")   # ACT2FN["gelu_pytorch_tanh"]
        self.residual_dropout = cfg["residual_dropout"]

    def forward(self, hidden_states):  # L71-76
        hidden_states = self.c_fc(hidden_states)
        hidden_states = self.act(hidden_states)
        hidden_states = self.c_proj(hidden_states)
        hidden_states = nn.functional.dropout(hidden_states, p=self.residual_dropout, training=False)
        return hidden_states


class Starcoder2Attention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L154-167
        super().__init__()
        self.layer_idx = layer_idx
        H, h, kv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.head_dim = H // h   # L158 getattr(config, "head_dim", ...): Starcoder2Config has none
        self.num_key_value_groups = h // kv
        self.scaling = self.head_dim ** -0.5
        d, bias = self.head_dim, cfg["use_bias"]
        self.q_proj = nn.Linear(H, h * d, bias=bias)
        self.k_proj = nn.Linear(H, kv * d, bias=bias)
        self.v_proj = nn.Linear(H, kv * d, bias=bias)
        self.o_proj = nn.Linear(h * d, H, bias=bias)
        self.residual_dropout = cfg["residual_dropout"]

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L169-221
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        # L193-213: sliding_window is passed (L211), and eager_attention_forward's **kwargs ignores it
        attn_output, _ = eager_attention_forward(self, query_states, key_states, value_states, attention_mask,
                                                 self.scaling)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        attn_output = self.o_proj(attn_output)
        attn_output = nn.functional.dropout(attn_output, p=self.residual_dropout, training=False)
        return attn_output


class Starcoder2DecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L225-231
        super().__init__()
        H = cfg["hidden_size"]
        self.self_attn = Starcoder2Attention(cfg, layer_idx)
        self.mlp = Starcoder2MLP(cfg)
        self.input_layernorm = nn.LayerNorm(H, eps=cfg["norm_epsilon"])
        self.post_attention_layernorm = nn.LayerNorm(H, eps=cfg["norm_epsilon"])

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):  # L233-273
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask, cache)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        hidden_states = residual + hidden_states
        return (hidden_states,)


class Starcoder2RotaryEmbedding(nn.Module):
    def __init__(self, head_dim, base):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.attention_scaling = 1.0

    def forward(self, x, position_ids):  # L311-331 (default rope: no dynamic update)
        inv_freq_expanded = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos()
        sin = emb.sin()
        cos = cos * self.attention_scaling
        sin = sin * self.attention_scaling
        return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)


class Starcoder2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H = cfg["hidden_size"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], H)
        self.embedding_dropout = cfg["embedding_dropout"]
        self.layers = nn.ModuleList([Starcoder2DecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = nn.LayerNorm(H, eps=cfg["norm_epsilon"])   # L476
        self.rotary_emb = Starcoder2RotaryEmbedding(H // cfg["num_attention_heads"], cfg["rope_theta"])

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L491-585
        inputs_embeds = self.embed_tokens(input_ids)                                   # L522
        hidden_states = inputs_embeds
        hidden_states = nn.functional.dropout(hidden_states, p=self.embedding_dropout, training=False)   # L541-543
        position_embeddings = self.rotary_emb(hidden_states, position_ids)             # L546
        for decoder_layer in self.layers:                                              # L552-568
            layer_outputs = decoder_layer(hidden_states, causal_mask, position_embeddings, cache)
            hidden_states = layer_outputs[0]
        return self.norm(hidden_states)                                                # L573


class Starcoder2ForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = Starcoder2Model(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg["tie_word_embeddings"]:   # _tied_weights_keys = ["lm_head.weight"]
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, input_ids, position_ids, causal_mask, cache, num_logits_to_keep=0):  # L774-859
        hidden_states = self.model(input_ids, position_ids, causal_mask, cache)
        return self.lm_head(hidden_states[:, -num_logits_to_keep:, :])                 # L843


def build(cfg, dtype, seed=0):
    return llama_build(cfg, dtype, seed, cls=Starcoder2ForCausalLM)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention (head_dim 64 / 4 = 16), biases everywhere
# (use_bias), the LM head tied to the embedding (the default), non-zero dropout probabilities
# (identities in eval mode), and a sliding window of 4 that acts through the eager mask only.
CFG = {
    "architectures": ["Starcoder2ForCausalLM"],
    "model_type": "starcoder2",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "norm_epsilon": 1e-5,
    "rope_theta": 10000.0,
    "hidden_act": "gelu_pytorch_tanh",
    "use_bias": True,
    "residual_dropout": 0.1,
    "embedding_dropout": 0.1,
    "attention_dropout": 0.1,
    "sliding_window": 4,
    "tie_word_embeddings": True,
    "_attn_implementation": "eager",
}

# Differences known and explained, (dtype name, module path) -> (cause, exact costi - torch).
# nn.LayerNorm's native_layer_norm writes a per-row mean and rstd, [M] each: CUDA in float32
# (costi), torch 1.13's CPU in the input's dtype when the weights share it, as GPT-2's
# (gpt2_plain.py, docs/conventions.md): in bfloat16 each norm of M = batch*seq_len rows writes
# 2*M*(4 - 2) = 4*M bytes more in costi; float32 agrees. Two norms per layer, one final.
_LN_STATS = "bfloat16 LayerNorm mean/rstd: CPU writes them in bfloat16, CUDA (costi) in float32"


def _ln_stats(norms):
    return (_LN_STATS, lambda batch, seq_len, cache_len: (0, 0, norms * 4 * batch * seq_len))


_L = CFG["num_hidden_layers"]
KNOWN = {("bfloat16", path): _ln_stats(norms) for path, norms in (
    ("model.layers.input_layernorm", _L), ("model.layers.post_attention_layernorm", _L), ("model.norm", 1),
    ("model.layers", 2 * _L), ("model", 2 * _L + 1), ("", 2 * _L + 1))}


def causal_mask(batch, q_len, past, dtype):
    """The 4-D float mask Starcoder2Model._update_causal_mask gives eager attention for the
    all-ones 2-D attention_mask generate() passes, built outside the recorded forward (masks
    are not costed): [B, 1, q_len, past + q_len], min where a key is in the future or more than
    sliding_window back."""
    kv = past + q_len
    i = torch.arange(q_len)[:, None] + past
    j = torch.arange(kv)[None, :]
    m = torch.zeros(q_len, kv, dtype=dtype)
    m = m.masked_fill((j > i) | (j <= i - CFG["sliding_window"]), torch.finfo(dtype).min)
    return m[None, None].expand(batch, 1, q_len, kv).contiguous()


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache: every token kept (DynamicLayer); the mask above."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: causal_mask(b, q, past, dtype))
