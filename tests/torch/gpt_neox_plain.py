"""GPTNeoXForCausalLM's inference forward in plain PyTorch, line by line from the modeling code
costi's kernels/gpt_neox.cost cites (src/transformers/models/gpt_neox/modeling_gpt_neox.py @
f40ec75f9fc6bb9c229658e336fbaf0b33cf6af9, fork cyyever/transformers; DynamicLayer.update from
cache_utils.py @ 004999d972e478164dd7e8e508350937c803531e, imported from llama_plain), eager
attention (torch 1.13 has no F.scaled_dot_product_attention). Module names are transformers',
so module paths match the call labels of costi's tree. The L-numbers are those of the cited
file. The config has rotary_pct 0.25 (the partial rotary of Pythia and GPT-NeoX-20B) and runs
with use_parallel_residual both true (CFG) and false (CFG_SEQUENTIAL, the same costs).
"""

import torch
from torch import nn

import shared_plain

from gpt2_plain import _LN_STATS
from llama_plain import DynamicLayer, causal_mask


class GPTNeoXMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])
        self.dense_4h_to_h = nn.Linear(cfg["intermediate_size"], cfg["hidden_size"])
        assert cfg.get("hidden_act", "gelu") == "gelu"
        self.act = nn.GELU()  # ACT2FN["gelu"]: GELUActivation -> nn.functional.gelu

    def forward(self, hidden_states):  # L45-49
        hidden_states = self.dense_h_to_4h(hidden_states)
        hidden_states = self.act(hidden_states)
        hidden_states = self.dense_4h_to_h(hidden_states)
        return hidden_states


def rotate_half(x):  # L52-56
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):  # L59-94
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    rotary_dim = cos.shape[-1]
    q_rot, q_pass = q[..., :rotary_dim], q[..., rotary_dim:]
    k_rot, k_pass = k[..., :rotary_dim], k[..., rotary_dim:]
    q_embed = (q_rot * cos) + (rotate_half(q_rot) * sin)
    k_embed = (k_rot * cos) + (rotate_half(k_rot) * sin)
    q_embed = torch.cat([q_embed, q_pass], dim=-1)
    k_embed = torch.cat([k_embed, k_pass], dim=-1)
    return q_embed, k_embed


def eager_attention_forward(module, query, key, value, attention_mask, scaling):  # L97-126
    attn_weights = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        causal_mask = attention_mask[:, :, :, : key.shape[-2]]
        attn_weights = attn_weights + causal_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_weights = nn.functional.dropout(attn_weights, p=0.0, training=module.training)
    attn_output = torch.matmul(attn_weights, value)
    attn_output = attn_output.transpose(1, 2).contiguous()
    return attn_output, attn_weights


class GPTNeoXAttention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L130-141
        super().__init__()
        self.head_size = cfg["hidden_size"] // cfg["num_attention_heads"]
        self.rotary_ndims = int(self.head_size * cfg.get("rotary_pct", 0.25))
        self.scaling = self.head_size ** -0.5
        self.layer_idx = layer_idx
        bias = cfg.get("attention_bias", True)
        self.query_key_value = nn.Linear(cfg["hidden_size"], 3 * cfg["hidden_size"], bias=bias)
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"], bias=bias)

    def forward(self, hidden_states, attention_mask, layer_past, position_embeddings):  # L143-194
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, 3 * self.head_size)
        qkv = self.query_key_value(hidden_states).view(hidden_shape).transpose(1, 2)
        query_states, key_states, value_states = qkv.chunk(3, dim=-1)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        key_states, value_states = layer_past[self.layer_idx].update(key_states, value_states)
        attn_output, attn_weights = eager_attention_forward(self, query_states, key_states, value_states,
                                                            attention_mask, scaling=self.scaling)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        attn_output = self.dense(attn_output)
        return attn_output, attn_weights


class GPTNeoXLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L198-206
        super().__init__()
        self.use_parallel_residual = cfg.get("use_parallel_residual", True)
        eps = cfg.get("layer_norm_eps", 1e-5)
        self.input_layernorm = nn.LayerNorm(cfg["hidden_size"], eps=eps)
        self.post_attention_layernorm = nn.LayerNorm(cfg["hidden_size"], eps=eps)
        self.post_attention_dropout = nn.Dropout(0.0)
        self.post_mlp_dropout = nn.Dropout(0.0)
        self.attention = GPTNeoXAttention(cfg, layer_idx)
        self.mlp = GPTNeoXMLP(cfg)

    def forward(self, hidden_states, attention_mask, layer_past, position_embeddings):  # L208-254
        attn_output, attn_weights = self.attention(self.input_layernorm(hidden_states), attention_mask,
                                                   layer_past, position_embeddings)
        attn_output = self.post_attention_dropout(attn_output)
        if self.use_parallel_residual:
            mlp_output = self.mlp(self.post_attention_layernorm(hidden_states))
            mlp_output = self.post_mlp_dropout(mlp_output)
            hidden_states = mlp_output + attn_output + hidden_states
        else:
            attn_output = attn_output + hidden_states
            mlp_output = self.mlp(self.post_attention_layernorm(attn_output))
            mlp_output = self.post_mlp_dropout(mlp_output)
            hidden_states = mlp_output + attn_output
        return (hidden_states,)


class GPTNeoXRotaryEmbedding(nn.Module):
    def __init__(self, cfg):  # L260-276, rope_type "default": ROPE_INIT_FUNCTIONS' default
        super().__init__()
        head_dim = cfg["hidden_size"] // cfg["num_attention_heads"]
        dim = int(head_dim * cfg.get("rotary_pct", 0.25))  # partial_rotary_factor = rotary_pct
        base = cfg.get("rotary_emb_base", 10000)
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.attention_scaling = 1.0

    def forward(self, x, position_ids):  # L279-290
        inv_freq_expanded = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1).to(x.device)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos() * self.attention_scaling
        sin = emb.sin() * self.attention_scaling
        return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)


class GPTNeoXModel(nn.Module):
    def __init__(self, cfg):  # L382-390
        super().__init__()
        self.embed_in = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.emb_dropout = nn.Dropout(0.0)
        self.layers = nn.ModuleList([GPTNeoXLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.final_layer_norm = nn.LayerNorm(cfg["hidden_size"], eps=cfg.get("layer_norm_eps", 1e-5))
        self.rotary_emb = GPTNeoXRotaryEmbedding(cfg)

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L398-506, no padding, head_mask None
        inputs_embeds = self.embed_in(input_ids)
        hidden_states = self.emb_dropout(inputs_embeds)
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for layer in self.layers:
            outputs = layer(hidden_states, causal_mask, cache, position_embeddings)
            hidden_states = outputs[0]
        hidden_states = self.final_layer_norm(hidden_states)
        return hidden_states


class GPTNeoXForCausalLM(nn.Module):
    def __init__(self, cfg):  # L525-532
        super().__init__()
        self.gpt_neox = GPTNeoXModel(cfg)
        self.embed_out = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg.get("tie_word_embeddings", False):  # PreTrainedModel.tie_weights
            self.embed_out.weight = self.gpt_neox.embed_in.weight

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L542-610
        hidden_states = self.gpt_neox(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)
        return self.embed_out(hidden_states[:, slice_indices, :])


def build(cfg, dtype, seed=0):
    model = shared_plain.random_model(GPTNeoXForCausalLM, cfg, dtype, seed)
    # Parameters only: inv_freq is computed in float32 and stays float32 (llama_plain.build)
    return model


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with GPT-NeoX's defaults where they matter: parallel residual, biases on the
# attention projections (attention_bias absent: True), untied embed_out, gelu; head_size 16
# with rotary_pct 0.25 rotates 4 of each head's 16 values; eager attention.
CFG = {
    "architectures": ["GPTNeoXForCausalLM"],
    "model_type": "gpt_neox",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "max_position_embeddings": 64,
    "rotary_pct": 0.25,
    "rotary_emb_base": 10000,
    "layer_norm_eps": 1e-5,
    "hidden_act": "gelu",
    "use_parallel_residual": True,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}


# bfloat16 LayerNorm statistics (tests/torch/gpt2_plain.py): each norm of M = batch*seq_len
# rows writes 4*M bytes more in costi (float32 mean/rstd) than torch's CPU kernel
# (bfloat16); two norms per layer and the final one.
def _ln_stats(norms_per_layer, final):
    def delta(batch, seq_len, cache_len):
        norms = norms_per_layer * CFG["num_hidden_layers"] + final
        return (0, 0, norms * 4 * batch * seq_len)
    return (_LN_STATS, delta)


KNOWN = {("bfloat16", path): _ln_stats(per_layer, final) for path, per_layer, final in (
    ("gpt_neox.layers.input_layernorm", 1, 0), ("gpt_neox.layers.post_attention_layernorm", 1, 0),
    ("gpt_neox.final_layer_norm", 0, 1), ("gpt_neox.layers", 2, 0), ("gpt_neox", 2, 1), ("", 2, 1))}


def prepare(model, batch, seq_len, cache_len, dtype):
    """Fills the cache with cache_len tokens (not recorded) and returns the step to record."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return shared_plain.fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                                      lambda b, q, past: causal_mask(b, q, past, dtype))
