"""BloomForCausalLM's inference forward in plain PyTorch, line by line from the modeling code
costi's kernels/bloom.cost cites (transformers src/transformers/models/bloom/modeling_bloom.py
@ 9d97831a1cbb420edac062c2e8454ce9ac1c4b79; DynamicLayer.update from cache_utils.py @
004999d972e478164dd7e8e508350937c803531e, imported from llama_plain). BLOOM has only its own
attention (alibi.baddbmm, an additive float mask), which runs on torch 1.13 as it is. Module
names are transformers', so module paths match the call labels of costi's tree. The L-numbers
are those of the cited file.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

import shared_plain

from llama_plain import DynamicLayer, causal_mask


def build_alibi_tensor(attention_mask, num_heads, dtype):  # L55-96
    batch_size, seq_length = attention_mask.shape
    closest_power_of_2 = 2 ** math.floor(math.log2(num_heads))
    base = torch.tensor(
        2 ** (-(2 ** -(math.log2(closest_power_of_2) - 3))), device=attention_mask.device, dtype=torch.float32
    )
    powers = torch.arange(1, 1 + closest_power_of_2, device=attention_mask.device, dtype=torch.int32)
    slopes = torch.pow(base, powers)
    if closest_power_of_2 != num_heads:
        extra_base = torch.tensor(
            2 ** (-(2 ** -(math.log2(2 * closest_power_of_2) - 3))), device=attention_mask.device, dtype=torch.float32
        )
        num_remaining_heads = min(closest_power_of_2, num_heads - closest_power_of_2)
        extra_powers = torch.arange(1, 1 + 2 * num_remaining_heads, 2, device=attention_mask.device, dtype=torch.int32)
        slopes = torch.cat([slopes, torch.pow(extra_base, extra_powers)], dim=0)
    arange_tensor = ((attention_mask.cumsum(dim=-1) - 1) * attention_mask)[:, None, :]
    alibi = slopes[..., None] * arange_tensor
    return alibi.reshape(batch_size * num_heads, 1, seq_length).to(dtype)


def dropout_add(x, residual, prob, training):  # L99-115
    out = F.dropout(x, p=prob, training=training)
    out = residual + out
    return out


def bloom_gelu_forward(x):  # L118-127
    return x * 0.5 * (1.0 + torch.tanh(0.79788456 * x * (1 + 0.044715 * x * x)))


class BloomGelu(nn.Module):
    def forward(self, x):  # L173-177, eval
        return bloom_gelu_forward(x)


class BloomAttention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L181-212
        super().__init__()
        self.hidden_size = cfg["hidden_size"]
        self.num_heads = cfg["n_head"]
        self.head_dim = self.hidden_size // self.num_heads
        self.inv_norm_factor = 1.0 / math.sqrt(self.head_dim)
        self.beta = 1.0
        self.layer_idx = layer_idx
        self.query_key_value = nn.Linear(self.hidden_size, 3 * self.hidden_size, bias=True)
        self.dense = nn.Linear(self.hidden_size, self.hidden_size)
        self.attention_dropout = nn.Dropout(0.0)

    def _reshape(self, fused_qkv):  # L214-232
        batch_size, seq_length, three_times_hidden_size = fused_qkv.shape
        fused_qkv = fused_qkv.view(batch_size, seq_length, self.num_heads, 3, self.head_dim)
        query_layer = fused_qkv[..., 0, :].transpose(1, 2)
        key_layer = fused_qkv[..., 1, :].transpose(1, 2)
        value_layer = fused_qkv[..., 2, :].transpose(1, 2)
        return query_layer, key_layer, value_layer

    def _merge_heads(self, x):  # L234-257
        batch_size_and_num_heads, seq_length, _ = x.shape
        batch_size = batch_size_and_num_heads // self.num_heads
        x = x.view(batch_size, self.num_heads, seq_length, self.head_dim)
        x = x.permute(0, 2, 1, 3)
        return x.reshape(batch_size, seq_length, self.num_heads * self.head_dim)

    def forward(self, hidden_states, residual, alibi, attention_mask, cache):  # L259-330
        batch_size, q_length, _ = hidden_states.shape
        fused_qkv = self.query_key_value(hidden_states)
        query_layer, key_layer, value_layer = self._reshape(fused_qkv)
        key_layer, value_layer = cache[self.layer_idx].update(key_layer, value_layer)
        query_layer = query_layer.reshape(batch_size * self.num_heads, -1, self.head_dim)
        key_layer = key_layer.reshape(batch_size * self.num_heads, -1, self.head_dim).transpose(-1, -2)
        value_layer = value_layer.reshape(batch_size * self.num_heads, -1, self.head_dim)
        attention_scores = alibi.baddbmm(batch1=query_layer, batch2=key_layer, beta=self.beta,
                                         alpha=self.inv_norm_factor)
        attn_weights = attention_scores.view(batch_size, self.num_heads, q_length, -1)
        if attention_mask is not None:
            causal_mask = attention_mask[:, :, :, : key_layer.shape[-1]]
            attn_weights = attn_weights + causal_mask
        attention_probs = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query_layer.dtype)
        attention_probs = self.attention_dropout(attention_probs)
        attention_probs_reshaped = attention_probs.view(batch_size * self.num_heads, q_length, -1)
        context_layer = torch.bmm(attention_probs_reshaped, value_layer)
        context_layer = self._merge_heads(context_layer)
        output_tensor = self.dense(context_layer)
        output_tensor = dropout_add(output_tensor, residual, 0.0, self.training)
        return output_tensor, attention_probs


class BloomMLP(nn.Module):
    def __init__(self, cfg):  # L334-343
        super().__init__()
        hidden_size = cfg["hidden_size"]
        self.dense_h_to_4h = nn.Linear(hidden_size, 4 * hidden_size)
        self.gelu_impl = BloomGelu()
        self.dense_4h_to_h = nn.Linear(4 * hidden_size, hidden_size)

    def forward(self, hidden_states, residual):  # L345-361
        hidden_states = self.gelu_impl(self.dense_h_to_4h(hidden_states))
        intermediate_output = self.dense_4h_to_h(hidden_states)
        output = dropout_add(intermediate_output, residual, 0.0, self.training)
        return output


class BloomBlock(nn.Module):
    def __init__(self, cfg, layer_idx):  # L365-377
        super().__init__()
        hidden_size = cfg["hidden_size"]
        self.input_layernorm = nn.LayerNorm(hidden_size, eps=cfg["layer_norm_epsilon"])
        self.self_attention = BloomAttention(cfg, layer_idx)
        self.post_attention_layernorm = nn.LayerNorm(hidden_size, eps=cfg["layer_norm_epsilon"])
        self.mlp = BloomMLP(cfg)
        self.apply_residual_connection_post_layernorm = cfg.get("apply_residual_connection_post_layernorm", False)

    def forward(self, hidden_states, alibi, attention_mask, cache):  # L379-425
        layernorm_output = self.input_layernorm(hidden_states)
        residual = layernorm_output if self.apply_residual_connection_post_layernorm else hidden_states
        attention_output, attn_weights = self.self_attention(layernorm_output, residual, alibi, attention_mask, cache)
        layernorm_output = self.post_attention_layernorm(attention_output)
        residual = layernorm_output if self.apply_residual_connection_post_layernorm else attention_output
        output = self.mlp(layernorm_output, residual)
        return output, attn_weights


class BloomModel(nn.Module):
    def __init__(self, cfg):  # L460-479
        super().__init__()
        self.embed_dim = cfg["hidden_size"]
        self.num_heads = cfg["n_head"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], self.embed_dim)
        self.word_embeddings_layernorm = nn.LayerNorm(self.embed_dim, eps=cfg["layer_norm_epsilon"])
        self.h = nn.ModuleList([BloomBlock(cfg, layer_idx=i) for i in range(cfg["n_layer"])])
        self.ln_f = nn.LayerNorm(self.embed_dim, eps=cfg["layer_norm_epsilon"])

    def forward(self, input_ids, attention_mask, causal_mask, cache):  # L491-612
        inputs_embeds = self.word_embeddings(input_ids)
        hidden_states = self.word_embeddings_layernorm(inputs_embeds)
        attention_mask = attention_mask.to(hidden_states.device)
        alibi = build_alibi_tensor(attention_mask, self.num_heads, dtype=hidden_states.dtype)
        for block in self.h:
            hidden_states = block(hidden_states, alibi, causal_mask, cache)[0]
        hidden_states = self.ln_f(hidden_states)
        return hidden_states


class BloomForCausalLM(nn.Module):
    def __init__(self, cfg):  # L749-755
        super().__init__()
        self.transformer = BloomModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg.get("tie_word_embeddings", True):  # _tied_weights_keys (L747), PreTrainedModel.tie_weights
            self.lm_head.weight = self.transformer.word_embeddings.weight

    def forward(self, input_ids, position_ids, masks, cache):  # L829-913; BLOOM takes no position_ids
        attention_mask, causal_mask = masks
        hidden_states = self.transformer(input_ids, attention_mask, causal_mask, cache)
        return self.lm_head(hidden_states)


def build(cfg, dtype, seed=0):
    return shared_plain.random_model(BloomForCausalLM, cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config in the bigscience files' spelling (n_head, n_layer) with 6 heads, not a power
# of two, so build_alibi_tensor takes its second set of slopes (L80-86); the lm_head is tied
# (PretrainedConfig's default).
CFG = {
    "architectures": ["BloomForCausalLM"],
    "model_type": "bloom",
    "hidden_size": 48,
    "n_head": 6,
    "n_layer": 2,
    "vocab_size": 128,
    "layer_norm_epsilon": 1e-5,
}

# nn.LayerNorm's per-row mean and rstd in bfloat16 on the CPU, float32 in costi (CUDA's
# accumulate type): gpt2_plain.py's _LN_STATS. Two LayerNorms per block, the embedding's and
# ln_f.
_LN_STATS = "bfloat16 LayerNorm mean/rstd: CPU writes them in bfloat16, CUDA (costi) in float32"


def _ln_stats(norms_per_layer, other):
    def delta(batch, seq_len, cache_len):
        norms = norms_per_layer * CFG["n_layer"] + other
        return (0, 0, norms * 4 * batch * seq_len)
    return (_LN_STATS, delta)


KNOWN = {("bfloat16", path): _ln_stats(per_layer, other) for path, per_layer, other in (
    ("transformer.h.input_layernorm", 1, 0), ("transformer.h.post_attention_layernorm", 1, 0),
    ("transformer.word_embeddings_layernorm", 0, 1), ("transformer.ln_f", 0, 1),
    ("transformer.h", 2, 0), ("transformer", 2, 2), ("", 2, 2))}


def prepare(model, batch, seq_len, cache_len, dtype):
    """Fills the cache with cache_len tokens (not recorded) and returns the step to record. The
    model takes the all-ones int64 [B, past + q_len] attention mask generate() passes (for the
    ALiBi positions) and the additive 4-D mask _update_causal_mask builds for eager attention
    (L615-681), both built outside the recorded forward."""
    cache = [DynamicLayer() for _ in range(CFG["n_layer"])]

    def masks(b, q, past):
        return torch.ones(b, past + q, dtype=torch.long), causal_mask(b, q, past, dtype)

    return shared_plain.fill_and_step(model, CFG, batch, seq_len, cache_len, cache, masks)
