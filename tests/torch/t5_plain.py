"""T5ForConditionalGeneration's generation step in plain PyTorch, line by line from the modeling
code costi's kernels/t5.cost cites (transformers src/transformers/models/t5/modeling_t5.py
@ 6b8b757dfcb582379a64f013cdce46c43629f2b0; the cache as DynamicLayer.update from cache_utils.py
@ 004999d972e478164dd7e8e508350937c803531e, imported from llama_plain). T5Attention is eager
only. Module names are transformers'; the L-numbers are those of the cited file.

One recorded step is what costi costs for seq_len decoder tokens after cache_len cached ones:
on the first step (cache_len = 0) the encoder over ENCODER_LEN tokens, then the decoder, whose
cross-attention projects the encoder output to K/V and caches them; after, the decoder alone,
reading them from the cache. The masks and cache_position are built outside the recorded step
(costi does not cost them: docs/conventions.md, "Masks"). The shared embedding is looked up
functionally inside each stack (the module `shared` holds the table), so the lookups are
recorded under "encoder" and "decoder" as costi's embed_tokens nodes.

costi's labels differ from the module paths in two ways (costi_path): a stack's first block,
the one that computes the position biases, is "block_0" and the others "block"; the entries of
T5Block.layer (an nn.ModuleList) are "layer_self_attention", "layer_cross_attention" and
"layer_ff".
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

import shared_plain

from llama_plain import DynamicLayer, causal_mask


class T5LayerNorm(nn.Module):  # L241-263
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        if self.weight.dtype in [torch.float16, torch.bfloat16]:
            hidden_states = hidden_states.to(self.weight.dtype)
        return self.weight * hidden_states


class T5DenseActDense(nn.Module):  # L282-301, dense_act_fn "relu"
    def __init__(self, cfg):
        super().__init__()
        self.wi = nn.Linear(cfg["d_model"], cfg["d_ff"], bias=False)
        self.wo = nn.Linear(cfg["d_ff"], cfg["d_model"], bias=False)
        self.act = nn.ReLU()

    def forward(self, hidden_states):
        hidden_states = self.wi(hidden_states)
        hidden_states = self.act(hidden_states)
        if hidden_states.dtype != self.wo.weight.dtype and self.wo.weight.dtype != torch.int8:
            hidden_states = hidden_states.to(self.wo.weight.dtype)
        return self.wo(hidden_states)


class T5LayerFF(nn.Module):  # L333-348
    def __init__(self, cfg):
        super().__init__()
        assert cfg.get("feed_forward_proj", "relu") == "relu"
        self.DenseReluDense = T5DenseActDense(cfg)
        self.layer_norm = T5LayerNorm(cfg["d_model"])

    def forward(self, hidden_states):
        forwarded_states = self.layer_norm(hidden_states)
        forwarded_states = self.DenseReluDense(forwarded_states)
        return hidden_states + forwarded_states


class Caches:
    """EncoderDecoderCache: a DynamicCache for self-attention, one for cross-attention, and
    is_updated per layer."""

    def __init__(self, layers):
        self.self_attention_cache = [DynamicLayer() for _ in range(layers)]
        self.cross_attention_cache = [DynamicLayer() for _ in range(layers)]
        self.is_updated = {}


class T5Attention(nn.Module):  # L351-576
    def __init__(self, cfg, is_decoder, has_relative_attention_bias, layer_idx):
        super().__init__()
        self.is_decoder = is_decoder
        self.has_relative_attention_bias = has_relative_attention_bias
        self.relative_attention_num_buckets = cfg.get("relative_attention_num_buckets", 32)
        self.relative_attention_max_distance = cfg.get("relative_attention_max_distance", 128)
        self.key_value_proj_dim = cfg["d_kv"]
        self.n_heads = cfg["num_heads"]
        self.inner_dim = self.n_heads * self.key_value_proj_dim
        self.layer_idx = layer_idx
        d_model = cfg["d_model"]
        self.q = nn.Linear(d_model, self.inner_dim, bias=False)
        self.k = nn.Linear(d_model, self.inner_dim, bias=False)
        self.v = nn.Linear(d_model, self.inner_dim, bias=False)
        self.o = nn.Linear(self.inner_dim, d_model, bias=False)
        if self.has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(self.relative_attention_num_buckets, self.n_heads)

    @staticmethod
    def _relative_position_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128):  # L404-449
        relative_buckets = 0
        if bidirectional:
            num_buckets //= 2
            relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
            relative_position = torch.abs(relative_position)
        else:
            relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
        max_exact = num_buckets // 2
        is_small = relative_position < max_exact
        relative_position_if_large = max_exact + (
            torch.log(relative_position.float() / max_exact)
            / math.log(max_distance / max_exact)
            * (num_buckets - max_exact)
        ).to(torch.long)
        relative_position_if_large = torch.min(
            relative_position_if_large, torch.full_like(relative_position_if_large, num_buckets - 1)
        )
        relative_buckets += torch.where(is_small, relative_position, relative_position_if_large)
        return relative_buckets

    def compute_bias(self, query_length, key_length, cache_position):  # L451-469 (same device: .to is a no-op)
        context_position = cache_position[:, None]
        memory_position = torch.arange(key_length, dtype=torch.long)[None, :]
        relative_position = memory_position - context_position
        relative_position_bucket = self._relative_position_bucket(
            relative_position,
            bidirectional=(not self.is_decoder),
            num_buckets=self.relative_attention_num_buckets,
            max_distance=self.relative_attention_max_distance,
        )
        values = self.relative_attention_bias(relative_position_bucket)
        return values.permute([2, 0, 1]).unsqueeze(0)

    def forward(self, hidden_states, mask, key_value_states=None, position_bias=None, past_key_value=None,
                query_length=None, cache_position=None):  # L471-576, eval, no head mask, no output_attentions
        batch_size, seq_length = hidden_states.shape[:2]
        is_cross_attention = key_value_states is not None
        query_states = self.q(hidden_states)
        query_states = query_states.view(batch_size, -1, self.n_heads, self.key_value_proj_dim).transpose(1, 2)
        if past_key_value is not None:
            is_updated = past_key_value.is_updated.get(self.layer_idx)
            if is_cross_attention:
                curr_past_key_value = past_key_value.cross_attention_cache
            else:
                curr_past_key_value = past_key_value.self_attention_cache
        current_states = key_value_states if is_cross_attention else hidden_states
        if is_cross_attention and past_key_value is not None and is_updated:
            key_states = curr_past_key_value[self.layer_idx].keys
            value_states = curr_past_key_value[self.layer_idx].values
        else:
            key_states = self.k(current_states)
            value_states = self.v(current_states)
            key_states = key_states.view(batch_size, -1, self.n_heads, self.key_value_proj_dim).transpose(1, 2)
            value_states = value_states.view(batch_size, -1, self.n_heads, self.key_value_proj_dim).transpose(1, 2)
            if past_key_value is not None:
                key_states, value_states = curr_past_key_value[self.layer_idx].update(key_states, value_states)
                if is_cross_attention:
                    past_key_value.is_updated[self.layer_idx] = True
        scores = torch.matmul(query_states, key_states.transpose(3, 2))
        if position_bias is None:
            key_length = key_states.shape[-2]
            real_seq_length = query_length if query_length is not None else cache_position[-1] + 1
            if not self.has_relative_attention_bias:
                position_bias = torch.zeros((1, self.n_heads, seq_length, key_length), dtype=scores.dtype)
            else:
                position_bias = self.compute_bias(real_seq_length, key_length, cache_position)
                position_bias = position_bias[:, :, -seq_length:, :]
            if mask is not None:
                causal_mask_ = mask[:, :, :, : key_states.shape[-2]]
                position_bias = position_bias + causal_mask_
        scores += position_bias
        attn_weights = nn.functional.softmax(scores.float(), dim=-1).type_as(scores)
        attn_output = torch.matmul(attn_weights, value_states)
        attn_output = attn_output.transpose(1, 2).contiguous()
        attn_output = attn_output.view(batch_size, -1, self.inner_dim)
        attn_output = self.o(attn_output)
        return attn_output, position_bias


class T5LayerSelfAttention(nn.Module):  # L579-612
    def __init__(self, cfg, is_decoder, has_relative_attention_bias, layer_idx):
        super().__init__()
        self.SelfAttention = T5Attention(cfg, is_decoder, has_relative_attention_bias, layer_idx)
        self.layer_norm = T5LayerNorm(cfg["d_model"])

    def forward(self, hidden_states, attention_mask, position_bias, past_key_value, cache_position):
        normed_hidden_states = self.layer_norm(hidden_states)
        attention_output = self.SelfAttention(normed_hidden_states, attention_mask, position_bias=position_bias,
                                              past_key_value=past_key_value, cache_position=cache_position)
        return hidden_states + attention_output[0], attention_output[1]


class T5LayerCrossAttention(nn.Module):  # L615-650
    def __init__(self, cfg, layer_idx):
        super().__init__()
        self.EncDecAttention = T5Attention(cfg, True, False, layer_idx)
        self.layer_norm = T5LayerNorm(cfg["d_model"])

    def forward(self, hidden_states, key_value_states, attention_mask, position_bias, past_key_value, query_length):
        normed_hidden_states = self.layer_norm(hidden_states)
        attention_output = self.EncDecAttention(normed_hidden_states, attention_mask,
                                                key_value_states=key_value_states, position_bias=position_bias,
                                                past_key_value=past_key_value, query_length=query_length)
        return hidden_states + attention_output[0], attention_output[1]


class T5Block(nn.Module):  # L653-750 (the float16 clamps do not run: float32 and bfloat16 only)
    def __init__(self, cfg, is_decoder, has_relative_attention_bias, layer_idx):
        super().__init__()
        self.is_decoder = is_decoder
        self.layer = nn.ModuleList()
        self.layer.append(T5LayerSelfAttention(cfg, is_decoder, has_relative_attention_bias, layer_idx))
        if is_decoder:
            self.layer.append(T5LayerCrossAttention(cfg, layer_idx))
        self.layer.append(T5LayerFF(cfg))

    def forward(self, hidden_states, attention_mask, position_bias, encoder_hidden_states, encoder_attention_mask,
                encoder_decoder_position_bias, past_key_value, cache_position):
        hidden_states, position_bias = self.layer[0](hidden_states, attention_mask, position_bias, past_key_value,
                                                     cache_position)
        if self.is_decoder and encoder_hidden_states is not None:
            hidden_states, encoder_decoder_position_bias = self.layer[1](
                hidden_states, encoder_hidden_states, encoder_attention_mask, encoder_decoder_position_bias,
                past_key_value, cache_position[-1] + 1)  # L713 query_length
        hidden_states = self.layer[-1](hidden_states)
        return hidden_states, position_bias, encoder_decoder_position_bias


class T5Stack(nn.Module):  # L888-1203
    def __init__(self, cfg, is_decoder, embed_tokens):
        super().__init__()
        self._embed = [embed_tokens]  # the shared module, looked up functionally (see the docstring)
        self.is_decoder = is_decoder
        layers = cfg.get("num_decoder_layers", cfg["num_layers"]) if is_decoder else cfg["num_layers"]
        self.block = nn.ModuleList([T5Block(cfg, is_decoder, bool(i == 0), i) for i in range(layers)])
        self.final_layer_norm = T5LayerNorm(cfg["d_model"])

    def forward(self, input_ids, causal_mask_, cache_position, encoder_hidden_states=None,
                encoder_extended_attention_mask=None, past_key_values=None):
        inputs_embeds = F.embedding(input_ids, self._embed[0].weight)  # L1009
        position_bias = None
        encoder_decoder_position_bias = None
        hidden_states = inputs_embeds
        for layer_module in self.block:
            hidden_states, position_bias, encoder_decoder_position_bias = layer_module(
                hidden_states, causal_mask_, position_bias, encoder_hidden_states, encoder_extended_attention_mask,
                encoder_decoder_position_bias, past_key_values, cache_position)
        return self.final_layer_norm(hidden_states)


class T5ForConditionalGeneration(nn.Module):  # L1709-1957
    def __init__(self, cfg):
        super().__init__()
        self.model_dim = cfg["d_model"]
        self.tie = cfg.get("tie_word_embeddings", True)
        self.shared = nn.Embedding(cfg["vocab_size"], cfg["d_model"])
        self.encoder = T5Stack(cfg, False, self.shared)
        self.decoder = T5Stack(cfg, True, self.shared)
        self.lm_head = nn.Linear(cfg["d_model"], cfg["vocab_size"], bias=False)
        if self.tie:  # _tied_weights_keys (L1713)
            self.lm_head.weight = self.shared.weight

    def forward(self, input_ids, encoder_mask, decoder_input_ids, decoder_mask, cross_mask, encoder_cache_position,
                cache_position, caches, encoder_outputs=None):
        if encoder_outputs is None:  # L1865-1875
            encoder_outputs = self.encoder(input_ids, encoder_mask, encoder_cache_position)
        sequence_output = self.decoder(decoder_input_ids, decoder_mask, cache_position, encoder_outputs, cross_mask,
                                       caches)  # L1904-1918
        if self.tie:  # L1928-1931
            sequence_output = sequence_output * (self.model_dim**-0.5)
        return self.lm_head(sequence_output), encoder_outputs  # L1933


def build(cfg, dtype, seed=0):
    return shared_plain.random_model(T5ForConditionalGeneration, cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config: inner_dim (num_heads * d_kv = 48) differs from d_model (32), the decoder is
# deeper than the encoder, few buckets with a short max_distance so that both the exact and the
# logarithmic buckets occur; relu feed-forward and a tied head (T5Config's and PretrainedConfig's
# defaults).
CFG = {
    "architectures": ["T5ForConditionalGeneration"],
    "model_type": "t5",
    "d_model": 32,
    "d_kv": 12,
    "d_ff": 64,
    "num_heads": 4,
    "num_layers": 2,
    "num_decoder_layers": 3,
    "relative_attention_num_buckets": 8,
    "relative_attention_max_distance": 16,
    "vocab_size": 128,
    "feed_forward_proj": "relu",
}

# The encoder's input tokens per sequence (costi's encoder_len).
ENCODER_LEN = 7

# No difference is left.
KNOWN = {}

_LAYER_NAMES = {
    "encoder": ("layer_self_attention", "layer_ff"),
    "decoder": ("layer_self_attention", "layer_cross_attention", "layer_ff"),
}


def costi_path(path):
    """encoder.block.0.layer.1.X -> encoder.block_0.layer_ff.X; block.i (i > 0) stays block.i."""
    parts = path.split(".") if path else []
    if len(parts) >= 3 and parts[0] in _LAYER_NAMES and parts[1] == "block":
        head = ["block_0"] if parts[2] == "0" else ["block", parts[2]]
        rest = parts[3:]
        if len(rest) >= 2 and rest[0] == "layer":
            rest = [_LAYER_NAMES[parts[0]][int(rest[1])]] + rest[2:]
        parts = [parts[0]] + head + rest
    return ".".join(parts)


def _extended_mask(batch, length, dtype):
    """(1 - ones[B, 1, 1, L]) * finfo.min: the encoder's mask (L1058-1061) and the
    cross-attention's (invert_attention_mask, L1074), all zeros without padding."""
    return torch.zeros(batch, 1, 1, length, dtype=dtype)


def prepare(model, batch, seq_len, cache_len, dtype):
    """Fills the caches with a first step over cache_len decoder tokens (not recorded) and
    returns the step to record."""
    layers = CFG.get("num_decoder_layers", CFG["num_layers"])
    caches = Caches(layers)
    enc_ids = torch.randint(0, CFG["vocab_size"], (batch, ENCODER_LEN))
    enc_mask = _extended_mask(batch, ENCODER_LEN, dtype)
    enc_pos = torch.arange(ENCODER_LEN)
    cross_mask = _extended_mask(batch, ENCODER_LEN, dtype)
    encoder_outputs = None
    if cache_len:
        ids = torch.randint(0, CFG["vocab_size"], (batch, cache_len))
        with torch.no_grad():
            _, encoder_outputs = model(enc_ids, enc_mask, ids, causal_mask(batch, cache_len, 0, dtype), cross_mask,
                                       enc_pos, torch.arange(cache_len), caches)
    ids = torch.randint(0, CFG["vocab_size"], (batch, seq_len))
    step_mask = causal_mask(batch, seq_len, cache_len, dtype)
    pos = torch.arange(cache_len, cache_len + seq_len)
    return lambda: model(enc_ids, enc_mask, ids, step_mask, cross_mask, enc_pos, pos, caches,
                         encoder_outputs=encoder_outputs)

# The usual four steps, and first steps (the encoder runs) with batches above 1, where
# matmul copies the encoder's strided K and V.
STEPS = ((1, 5, 0), (1, 1, 5), (2, 3, 4), (3, 1, 6), (2, 3, 0), (3, 1, 0))
