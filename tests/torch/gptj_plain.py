"""GPTJForCausalLM's inference forward in plain PyTorch, line by line from the modeling code
costi's kernels/gptj.cost cites (src/transformers/models/gptj/modeling_gptj.py @
00b676f8f0489b88652a31d70751cc540dd06305; NewGELUActivation imported from gpt2_plain), eager
attention (GPT-J's only non-flash attention). Module names are transformers', so module
paths match the call labels of costi's tree. The L-numbers are those of the cited file.

The cache: keys float32 (the rotary's type promotion), values in the activation dtype — the
execution kernels/gptj.cost models (its header: with cache_utils.py @ 004999d9's
DynamicLayer, which creates the values tensor in the keys' dtype, a bfloat16 GPT-J cannot
run: out_proj gets a float32 input). With float32 activations the two caches are the same.
"""

import torch
from torch import nn

import recorder
import shared_plain

from gpt2_plain import _LN_STATS, NewGELUActivation
from llama_plain import causal_mask

# aten ops GPT-J's forward runs that no earlier family did: copies (nothing computed), each
# reading what its input holds and writing its output — Tensor.repeat (L187, L218),
# torch.stack (L77), and repeat_interleave.Tensor, torch 1.13's index computation inside
# torch.repeat_interleave(x, 2, dim) (reads the one-element repeats, writes the indices).
recorder.COPIES.update({"repeat", "stack", "repeat_interleave"})


def create_sinusoidal_positions(num_pos, dim):  # L63-66
    inv_freq = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.int64) / dim))
    sinusoid_inp = torch.einsum("i , j -> i j", torch.arange(num_pos, dtype=torch.int64).float(), inv_freq).float()
    return torch.cat((torch.sin(sinusoid_inp), torch.cos(sinusoid_inp)), dim=1)


def rotate_every_two(x):  # L74-78
    x1 = x[:, :, :, ::2]
    x2 = x[:, :, :, 1::2]
    x = torch.stack((-x2, x1), dim=-1)
    return x.flatten(-2)


def apply_rotary_pos_emb(tensor, sin, cos):  # L81-84
    sin = torch.repeat_interleave(sin[:, :, None, :], 2, 3)
    cos = torch.repeat_interleave(cos[:, :, None, :], 2, 3)
    return (tensor * cos) + (rotate_every_two(tensor) * sin)


class GPTJCacheLayer:
    """keys and values concatenated as they come (torch.cat, also at the first step): the
    values keep their own dtype (see the module docstring)."""

    def __init__(self):
        self.keys = None

    def update(self, key_states, value_states):
        if self.keys is None:  # empty tensors, no kernel
            self.keys = torch.tensor([], dtype=key_states.dtype, device=key_states.device)
            self.values = torch.tensor([], dtype=value_states.dtype, device=value_states.device)
        self.keys = torch.cat([self.keys, key_states], dim=-2)
        self.values = torch.cat([self.values, value_states], dim=-2)
        return self.keys, self.values


class GPTJAttention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L88-121
        super().__init__()
        max_positions = cfg.get("n_positions", 2048)
        self.attn_dropout = nn.Dropout(0.0)
        self.resid_dropout = nn.Dropout(0.0)
        self.layer_idx = layer_idx
        self.embed_dim = cfg["n_embd"]
        self.num_attention_heads = cfg["n_head"]
        self.head_dim = self.embed_dim // self.num_attention_heads
        self.scale_attn = torch.sqrt(torch.tensor(self.head_dim, dtype=torch.float32)).to(torch.get_default_dtype())
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=False)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=False)
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=False)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=False)
        self.rotary_dim = cfg.get("rotary_dim", 64)
        pos_embd_dim = self.rotary_dim or self.embed_dim
        self.embed_positions = create_sinusoidal_positions(max_positions, pos_embd_dim)

    def _split_heads(self, tensor, num_attention_heads, attn_head_size, rotary):  # L123-136
        new_shape = tensor.size()[:-1] + (num_attention_heads, attn_head_size)
        tensor = tensor.view(new_shape)
        if rotary:
            return tensor
        return tensor.permute(0, 2, 1, 3)

    def _merge_heads(self, tensor, num_attention_heads, attn_head_size):  # L138-149
        tensor = tensor.permute(0, 2, 1, 3).contiguous()
        new_shape = tensor.size()[:-2] + (num_attention_heads * attn_head_size,)
        return tensor.view(new_shape)

    def _attn(self, query, key, value, attention_mask=None):  # L151-180
        query = query.to(torch.float32)
        key = key.to(torch.float32)
        attn_weights = torch.matmul(query, key.transpose(-1, -2))
        attn_weights = attn_weights / self.scale_attn
        if attention_mask is not None:
            causal_mask = attention_mask[:, :, :, : key.shape[-2]]
            attn_weights = attn_weights + causal_mask
        attn_weights = nn.functional.softmax(attn_weights, dim=-1)
        attn_weights = attn_weights.to(value.dtype)
        attn_weights = self.attn_dropout(attn_weights)
        attn_output = torch.matmul(attn_weights, value)
        return attn_output, attn_weights

    def _get_embed_positions(self, position_ids):  # L182-187
        embed_positions = self.embed_positions
        return embed_positions.repeat(position_ids.shape[0], 1, 1)

    def forward(self, hidden_states, layer_past, attention_mask, position_ids):  # L189-257
        query = self.q_proj(hidden_states)
        key = self.k_proj(hidden_states)
        value = self.v_proj(hidden_states)
        query = self._split_heads(query, self.num_attention_heads, self.head_dim, True)
        key = self._split_heads(key, self.num_attention_heads, self.head_dim, True)
        value = self._split_heads(value, self.num_attention_heads, self.head_dim, False)
        embed_positions = self._get_embed_positions(position_ids)
        repeated_position_ids = position_ids.unsqueeze(-1).repeat(1, 1, embed_positions.shape[-1])
        sincos = torch.gather(embed_positions, 1, repeated_position_ids)
        sin, cos = torch.split(sincos, sincos.shape[-1] // 2, dim=-1)
        k_rot = key[:, :, :, : self.rotary_dim]
        k_pass = key[:, :, :, self.rotary_dim :]
        q_rot = query[:, :, :, : self.rotary_dim]
        q_pass = query[:, :, :, self.rotary_dim :]
        k_rot = apply_rotary_pos_emb(k_rot, sin, cos)
        q_rot = apply_rotary_pos_emb(q_rot, sin, cos)
        key = torch.cat([k_rot, k_pass], dim=-1)
        query = torch.cat([q_rot, q_pass], dim=-1)
        key = key.permute(0, 2, 1, 3)
        query = query.permute(0, 2, 1, 3)
        key, value = layer_past[self.layer_idx].update(key, value)
        attn_output, attn_weights = self._attn(query, key, value, attention_mask)
        attn_output = self._merge_heads(attn_output, self.num_attention_heads, self.head_dim)
        attn_output = self.out_proj(attn_output)
        attn_output = self.resid_dropout(attn_output)
        return attn_output, attn_weights


class GPTJMLP(nn.Module):
    def __init__(self, intermediate_size, cfg):  # L411-419
        super().__init__()
        embed_dim = cfg["n_embd"]
        self.fc_in = nn.Linear(embed_dim, intermediate_size)
        self.fc_out = nn.Linear(intermediate_size, embed_dim)
        assert cfg.get("activation_function", "gelu_new") == "gelu_new"
        self.act = NewGELUActivation()
        self.dropout = nn.Dropout(0.0)

    def forward(self, hidden_states):  # L421-426
        hidden_states = self.fc_in(hidden_states)
        hidden_states = self.act(hidden_states)
        hidden_states = self.fc_out(hidden_states)
        hidden_states = self.dropout(hidden_states)
        return hidden_states


class GPTJBlock(nn.Module):
    def __init__(self, cfg, layer_idx):  # L430-435
        super().__init__()
        inner_dim = cfg.get("n_inner") or 4 * cfg["n_embd"]
        self.ln_1 = nn.LayerNorm(cfg["n_embd"], eps=cfg.get("layer_norm_epsilon", 1e-5))
        self.attn = GPTJAttention(cfg, layer_idx)
        self.mlp = GPTJMLP(inner_dim, cfg)

    def forward(self, hidden_states, layer_past, attention_mask, position_ids):  # L437-463
        residual = hidden_states
        hidden_states = self.ln_1(hidden_states)
        attn_outputs, attn_weights = self.attn(hidden_states, layer_past, attention_mask, position_ids)
        feed_forward_hidden_states = self.mlp(hidden_states)
        hidden_states = attn_outputs + feed_forward_hidden_states + residual
        return hidden_states, attn_weights


class GPTJModel(nn.Module):
    def __init__(self, cfg):  # L549-557
        super().__init__()
        self.embed_dim = cfg["n_embd"]
        self.wte = nn.Embedding(cfg["vocab_size"], self.embed_dim)
        self.drop = nn.Dropout(0.0)
        self.h = nn.ModuleList([GPTJBlock(cfg, layer_idx=i) for i in range(cfg["n_layer"])])
        self.ln_f = nn.LayerNorm(self.embed_dim, eps=cfg.get("layer_norm_epsilon", 1e-5))

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L618-753, no padding, head_mask None
        inputs_embeds = self.wte(input_ids)
        seq_length = inputs_embeds.shape[1]
        hidden_states = inputs_embeds
        hidden_states = self.drop(hidden_states)
        output_shape = (-1, seq_length, hidden_states.size(-1))
        for block in self.h:
            outputs = block(hidden_states, cache, causal_mask, position_ids)
            hidden_states = outputs[0]
        hidden_states = self.ln_f(hidden_states)
        hidden_states = hidden_states.view(output_shape)
        return hidden_states


class GPTJForCausalLM(nn.Module):
    def __init__(self, cfg):  # L887-897
        super().__init__()
        self.transformer = GPTJModel(cfg)
        self.lm_head = nn.Linear(cfg["n_embd"], cfg["vocab_size"])
        if cfg.get("tie_word_embeddings", False):  # PreTrainedModel.tie_weights: the weight only
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L931-1010
        hidden_states = self.transformer(input_ids, position_ids, causal_mask, cache)
        lm_logits = self.lm_head(hidden_states).to(torch.float32)
        return lm_logits


def build(cfg, dtype, seed=0):
    model = shared_plain.random_model(GPTJForCausalLM, cfg, dtype, seed)
    # Parameters only: embed_positions and scale_attn are plain attributes, float32 whatever
    # the model's dtype
    return model


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with GPT-J's defaults where they matter: one LayerNorm per block, gelu_new,
# n_inner absent (4 * n_embd), lm_head with bias, untied; head_dim 16 of which rotary_dim 8
# rotate; a 16-row sinusoidal table; eager attention.
CFG = {
    "architectures": ["GPTJForCausalLM"],
    "model_type": "gptj",
    "n_embd": 64,
    "n_head": 4,
    "n_layer": 2,
    "n_positions": 16,
    "rotary_dim": 8,
    "vocab_size": 128,
    "layer_norm_epsilon": 1e-5,
    "activation_function": "gelu_new",
    "tie_word_embeddings": False,
}

# Known differences, asserted exactly as costi - torch:
# - bfloat16 LayerNorm statistics (tests/torch/gpt2_plain.py): 4*M bytes written more per
#   norm in costi; ln_1 in each block and ln_f.
# - torch.repeat_interleave(x, 2, dim) with an integer repeats: costi models ATen's current
#   composite (Repeat.cpp @ pytorch/pytorch d2929c4d, L101-124: unsqueeze, expand, one
#   clone reading x's n elements and writing 2n); torch 1.13 runs the older one: empty(1) and
#   fill_ of an int64 repeats tensor (8 bytes written, then 8 read and written), its
#   repeat_interleave into 2k int64 indices (8 read, 16k written), index_select (16k + 8n
#   read, 8n written), float32. Per call costi reads 4n + 16k + 16 bytes and writes
#   16k + 16 less; four calls per layer (sin and cos for the keys, then the queries), each
#   with n = B*S*rotary_dim/2 elements and k = rotary_dim/2.
_REPEAT = ("repeat_interleave with an integer repeats: ATen's current unsqueeze/expand/clone in costi, "
           "torch 1.13's repeats tensor, index computation and index_select in the trace")


def _known(ln_per_layer, ln_final, calls_per_layer, bf16):
    causes = ([_LN_STATS] if bf16 and (ln_per_layer or ln_final) else []) + ([_REPEAT] if calls_per_layer else [])

    def delta(batch, seq_len, cache_len):
        L = CFG["n_layer"]
        k = CFG["rotary_dim"] // 2
        n = batch * seq_len * k
        calls = calls_per_layer * L
        write = (ln_per_layer * L + ln_final) * 4 * batch * seq_len if bf16 else 0
        return (0, -calls * (4 * n + 16 * k + 16), write - calls * (16 * k + 16))
    return ("; ".join(causes), delta)


KNOWN = {}
for _dtype in ("float32", "bfloat16"):
    for _path, _ln, _lnf, _calls in (("transformer.h.ln_1", 1, 0, 0), ("transformer.ln_f", 0, 1, 0),
                                      ("transformer.h.attn", 0, 0, 4), ("transformer.h", 1, 0, 4),
                                      ("transformer", 1, 1, 4), ("", 1, 1, 4)):
        if _dtype == "bfloat16" or _calls:
            KNOWN[(_dtype, _path)] = _known(_ln, _lnf, _calls, _dtype == "bfloat16")


def prepare(model, batch, seq_len, cache_len, dtype):
    """Fills the cache with cache_len tokens (not recorded) and returns the step to record."""
    cache = [GPTJCacheLayer() for _ in range(CFG["n_layer"])]
    return shared_plain.fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                                      lambda b, q, past: causal_mask(b, q, past, dtype))
