"""GPT2LMHeadModel's inference forward in plain PyTorch, line by line from the modeling code
costi's kernels/gpt2.cost cites (src/transformers/models/gpt2/modeling_gpt2.py @
6e8cc7f926a580b30c96b6d59fffedf2d7012586, fork kramaranya/transformers; Conv1D.forward from
pytorch_utils.py @ 04ae75715f2cca2d87bbaf07c1d8e9fb2ab20bfd; NewGELUActivation from
activations.py @ 00e12e7c54598e50e7bef1540db3408f81916de1; DynamicLayer.update from
cache_utils.py @ 004999d972e478164dd7e8e508350937c803531e, imported from llama_plain), eager
attention (torch 1.13 has no F.scaled_dot_product_attention). Module names are transformers',
so module paths match the call labels of costi's tree. The L-numbers are those of the cited
file.
"""

import math

import torch
from torch import nn

import shared_plain

from llama_plain import DynamicLayer, causal_mask


class Conv1D(nn.Module):  # pytorch_utils.py
    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):  # L113-117
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        x = x.view(size_out)
        return x


class NewGELUActivation(nn.Module):  # activations.py
    def forward(self, input):  # L33-34
        return 0.5 * input * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (input + 0.044715 * torch.pow(input, 3.0))))


def eager_attention_forward(module, query, key, value, attention_mask, head_mask=None):  # L57-97
    attn_weights = torch.matmul(query, key.transpose(-1, -2))
    if module.scale_attn_weights:
        attn_weights = attn_weights / torch.full(
            [], value.size(-1) ** 0.5, dtype=attn_weights.dtype, device=attn_weights.device
        )
    if module.scale_attn_by_inverse_layer_idx:
        attn_weights = attn_weights / float(module.layer_idx + 1)
    if not module.is_cross_attention:
        query_length, key_length = query.size(-2), key.size(-2)
        causal_mask = module.bias[:, :, key_length - query_length : key_length, :key_length]
        mask_value = torch.finfo(attn_weights.dtype).min
        mask_value = torch.full([], mask_value, dtype=attn_weights.dtype, device=attn_weights.device)
        attn_weights = torch.where(causal_mask, attn_weights.to(attn_weights.dtype), mask_value)
    if attention_mask is not None:
        causal_mask = attention_mask[:, :, :, : key.shape[-2]]
        attn_weights = attn_weights + causal_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1)
    attn_weights = attn_weights.type(value.dtype)
    attn_weights = module.attn_dropout(attn_weights)
    if head_mask is not None:
        attn_weights = attn_weights * head_mask
    attn_output = torch.matmul(attn_weights, value)
    attn_output = attn_output.transpose(1, 2)
    return attn_output, attn_weights


class GPT2Attention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L101-140 (the self-attention branch)
        super().__init__()
        max_positions = cfg["n_positions"]
        self.register_buffer(
            "bias",
            torch.tril(torch.ones((max_positions, max_positions), dtype=torch.bool)).view(
                1, 1, max_positions, max_positions
            ),
            persistent=False,
        )
        self.embed_dim = cfg["n_embd"]
        self.num_heads = cfg["n_head"]
        self.head_dim = self.embed_dim // self.num_heads
        self.split_size = self.embed_dim
        self.scale_attn_weights = cfg.get("scale_attn_weights", True)
        self.is_cross_attention = False
        self.scale_attn_by_inverse_layer_idx = cfg.get("scale_attn_by_inverse_layer_idx", False)
        self.layer_idx = layer_idx
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_dropout = nn.Dropout(0.1)
        self.resid_dropout = nn.Dropout(0.1)

    def forward(self, hidden_states, cache, attention_mask):  # L214-305, self-attention, eager
        query_states, key_states, value_states = self.c_attn(hidden_states).split(self.split_size, dim=2)
        shape_kv = (*key_states.shape[:-1], -1, self.head_dim)
        key_states = key_states.view(shape_kv).transpose(1, 2)
        value_states = value_states.view(shape_kv).transpose(1, 2)
        shape_q = (*query_states.shape[:-1], -1, self.head_dim)
        query_states = query_states.view(shape_q).transpose(1, 2)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        attn_output, attn_weights = eager_attention_forward(self, query_states, key_states, value_states,
                                                            attention_mask, head_mask=None)
        attn_output = attn_output.reshape(*attn_output.shape[:-2], -1).contiguous()
        attn_output = self.c_proj(attn_output)
        attn_output = self.resid_dropout(attn_output)
        return attn_output, attn_weights


class GPT2MLP(nn.Module):
    def __init__(self, intermediate_size, cfg):
        super().__init__()
        embed_dim = cfg["n_embd"]
        self.c_fc = Conv1D(intermediate_size, embed_dim)
        self.c_proj = Conv1D(embed_dim, intermediate_size)
        assert cfg.get("activation_function", "gelu_new") == "gelu_new"
        self.act = NewGELUActivation()
        self.dropout = nn.Dropout(0.1)

    def forward(self, hidden_states):  # L317-322
        hidden_states = self.c_fc(hidden_states)
        hidden_states = self.act(hidden_states)
        hidden_states = self.c_proj(hidden_states)
        hidden_states = self.dropout(hidden_states)
        return hidden_states


class GPT2Block(nn.Module):
    def __init__(self, cfg, layer_idx):
        super().__init__()
        hidden_size = cfg["n_embd"]
        inner_dim = cfg.get("n_inner") or 4 * hidden_size
        self.ln_1 = nn.LayerNorm(hidden_size, eps=cfg["layer_norm_epsilon"])
        self.attn = GPT2Attention(cfg, layer_idx)
        self.ln_2 = nn.LayerNorm(hidden_size, eps=cfg["layer_norm_epsilon"])
        self.mlp = GPT2MLP(inner_dim, cfg)

    def forward(self, hidden_states, cache, attention_mask):  # L342-403, no cross-attention
        residual = hidden_states
        hidden_states = self.ln_1(hidden_states)
        attn_output, self_attn_weights = self.attn(hidden_states, cache, attention_mask)
        hidden_states = attn_output + residual
        residual = hidden_states
        hidden_states = self.ln_2(hidden_states)
        feed_forward_hidden_states = self.mlp(hidden_states)
        hidden_states = residual + feed_forward_hidden_states
        return (hidden_states,)


class GPT2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_dim = cfg["n_embd"]
        self.wte = nn.Embedding(cfg["vocab_size"], self.embed_dim)
        self.wpe = nn.Embedding(cfg["n_positions"], self.embed_dim)
        self.drop = nn.Dropout(0.1)
        self.h = nn.ModuleList([GPT2Block(cfg, layer_idx=i) for i in range(cfg["n_layer"])])
        self.ln_f = nn.LayerNorm(self.embed_dim, eps=cfg["layer_norm_epsilon"])

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L716-913
        input_shape = input_ids.size()
        input_ids = input_ids.view(-1, input_shape[-1])
        inputs_embeds = self.wte(input_ids)
        position_embeds = self.wpe(position_ids)
        hidden_states = inputs_embeds + position_embeds.to(inputs_embeds.device)
        hidden_states = self.drop(hidden_states)
        output_shape = (-1,) + input_shape[1:] + (hidden_states.size(-1),)
        for block in self.h:
            outputs = block(hidden_states, cache, causal_mask)
            hidden_states = outputs[0]
        hidden_states = self.ln_f(hidden_states)
        hidden_states = hidden_states.view(output_shape)
        return hidden_states


class GPT2LMHeadModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.transformer = GPT2Model(cfg)
        self.lm_head = nn.Linear(cfg["n_embd"], cfg["vocab_size"], bias=False)
        if cfg.get("tie_word_embeddings", True):  # PreTrainedModel.tie_weights
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L969-1056
        hidden_states = self.transformer(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)
        return self.lm_head(hidden_states[:, slice_indices, :])


def build(cfg, dtype, seed=0):
    return shared_plain.random_model(GPT2LMHeadModel, cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with GPT-2's defaults where they matter: tied LM head, gelu_new, n_inner
# absent (4 * n_embd), scaled attention; eager attention.
CFG = {
    "architectures": ["GPT2LMHeadModel"],
    "model_type": "gpt2",
    "n_embd": 64,
    "n_head": 4,
    "n_layer": 2,
    "n_positions": 16,
    "vocab_size": 128,
    "layer_norm_epsilon": 1e-5,
    "activation_function": "gelu_new",
    "_attn_implementation": "eager",
}

# Differences known and explained, (dtype name, module path) -> cause: reported, not asserted.
# nn.LayerNorm's native_layer_norm also writes a per-row mean and rstd, [M] each. costi counts
# them in CUDA's accumulate type, float32 (layer_norm_cuda, aten/src/ATen/native/cuda/
# layer_norm_kernel.cu @ pytorch/pytorch bad757be); the CPU kernel allocates them in the
# input's dtype when the weights share it (layer_norm_cpu: at::empty({M}, X->options().dtype(
# param_scalar_type(input, mixed_type))), aten/src/ATen/native/layer_norm.cpp @ pytorch/pytorch
# 3de78edb), so a bfloat16 trace writes 2*M*2 bytes where costi counts 2*M*4 (float32 agrees).
# Each norm of M = batch*seq_len rows writes 2*M*(4 - 2) = 4*M bytes more in costi; the
# enclosing modules differ by the sum of their norms' and by nothing else (asserted exactly).
_LN_STATS = "bfloat16 LayerNorm mean/rstd: CPU writes them in bfloat16, CUDA (costi) in float32"


def _ln_stats(norms_per_layer, final):
    def delta(batch, seq_len, cache_len):
        norms = norms_per_layer * CFG["n_layer"] + final
        return (0, 0, norms * 4 * batch * seq_len)
    return (_LN_STATS, delta)


KNOWN = {("bfloat16", path): _ln_stats(per_layer, final) for path, per_layer, final in (
    ("transformer.h.ln_1", 1, 0), ("transformer.h.ln_2", 1, 0), ("transformer.ln_f", 0, 1),
    ("transformer.h", 2, 0), ("transformer", 2, 1), ("", 2, 1))}


def prepare(model, batch, seq_len, cache_len, dtype):
    """Fills the cache with cache_len tokens (not recorded) and returns the step to record."""
    cache = [DynamicLayer() for _ in range(CFG["n_layer"])]
    return shared_plain.fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                                      lambda b, q, past: causal_mask(b, q, past, dtype))
