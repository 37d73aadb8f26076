"""WhisperForConditionalGeneration's inference forward in plain PyTorch, line by line from the
modeling code costi's kernels/whisper.cost cites (transformers
src/transformers/models/whisper/modeling_whisper.py @ 5c48f71a682fa7bbcbde1be5d2a2ac16cc654210),
eager attention (WhisperAttention; torch 1.13 has no F.scaled_dot_product_attention) and the
tuple cache of that release: per decoder layer (self K, self V, cross K, cross V). Module names
are transformers'. The L-numbers are those of the cited file.

A step with cache_len == 0 runs the encoder (conv front end over 2*max_source_positions mel
frames, the layers) and the cross-attention K/V projections; a step after cache_len tokens
takes the encoder output and the cache from the unrecorded steps before it (as generate()
does), so only the decoder runs.
"""

import torch
import torch.nn.functional as F
from torch import nn

import shared_plain


class WhisperPositionalEmbedding(nn.Embedding):  # L230-238
    def forward(self, input_ids, past_key_values_length=0):  # position_ids None
        return self.weight[past_key_values_length: past_key_values_length + input_ids.shape[1]]


class WhisperAttention(nn.Module):  # L241-398, eager
    def __init__(self, embed_dim, num_heads, is_decoder=False):
        super().__init__()
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.scaling = self.head_dim**-0.5
        self.is_decoder = is_decoder
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=False)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=True)
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=True)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=True)

    def _shape(self, tensor, seq_len, bsz):  # L276-277
        return tensor.view(bsz, seq_len, self.num_heads, self.head_dim).transpose(1, 2).contiguous()

    def forward(self, hidden_states, key_value_states=None, past_key_value=None, attention_mask=None):
        is_cross_attention = key_value_states is not None
        bsz, tgt_len, _ = hidden_states.size()
        query_states = self.q_proj(hidden_states) * self.scaling  # L298
        if is_cross_attention and past_key_value is not None and past_key_value[0].shape[2] == key_value_states.shape[1]:
            key_states = past_key_value[0]  # L303-310
            value_states = past_key_value[1]
        elif is_cross_attention:  # L311-314
            key_states = self._shape(self.k_proj(key_value_states), -1, bsz)
            value_states = self._shape(self.v_proj(key_value_states), -1, bsz)
        elif past_key_value is not None:  # L315-320
            key_states = self._shape(self.k_proj(hidden_states), -1, bsz)
            value_states = self._shape(self.v_proj(hidden_states), -1, bsz)
            key_states = torch.cat([past_key_value[0], key_states], dim=2)
            value_states = torch.cat([past_key_value[1], value_states], dim=2)
        else:  # L321-324
            key_states = self._shape(self.k_proj(hidden_states), -1, bsz)
            value_states = self._shape(self.v_proj(hidden_states), -1, bsz)
        if self.is_decoder:
            past_key_value = (key_states, value_states)  # L334
        proj_shape = (bsz * self.num_heads, -1, self.head_dim)
        query_states = self._shape(query_states, tgt_len, bsz).view(*proj_shape)  # L337
        key_states = key_states.reshape(*proj_shape)
        value_states = value_states.reshape(*proj_shape)
        src_len = key_states.size(1)
        attn_weights = torch.bmm(query_states, key_states.transpose(1, 2))  # L342
        if attention_mask is not None:  # L350-356
            attn_weights = attn_weights.view(bsz, self.num_heads, tgt_len, src_len) + attention_mask
            attn_weights = attn_weights.view(bsz * self.num_heads, tgt_len, src_len)
        attn_weights = F.softmax(attn_weights, dim=-1)  # L358
        attn_output = torch.bmm(attn_weights, value_states)  # L381 (L379 dropout: identity)
        attn_output = attn_output.view(bsz, self.num_heads, tgt_len, self.head_dim)
        attn_output = attn_output.transpose(1, 2)
        attn_output = attn_output.reshape(bsz, tgt_len, self.embed_dim)  # L394
        attn_output = self.out_proj(attn_output)
        return attn_output, past_key_value


class WhisperEncoderLayer(nn.Module):  # L732-800
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.self_attn = WhisperAttention(d, cfg["encoder_attention_heads"])
        self.self_attn_layer_norm = nn.LayerNorm(d)
        assert cfg.get("activation_function", "gelu") == "gelu"
        self.activation_fn = nn.GELU()  # ACT2FN["gelu"]: GELUActivation -> nn.functional.gelu
        self.fc1 = nn.Linear(d, cfg["encoder_ffn_dim"])
        self.fc2 = nn.Linear(cfg["encoder_ffn_dim"], d)
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, hidden_states):
        residual = hidden_states
        hidden_states = self.self_attn_layer_norm(hidden_states)
        hidden_states, _ = self.self_attn(hidden_states)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.final_layer_norm(hidden_states)
        hidden_states = self.activation_fn(self.fc1(hidden_states))
        hidden_states = self.fc2(hidden_states)
        hidden_states = residual + hidden_states
        return hidden_states  # L788-792: float16 only


class WhisperDecoderLayer(nn.Module):  # L803-920
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.self_attn = WhisperAttention(d, cfg["decoder_attention_heads"], is_decoder=True)
        self.activation_fn = nn.GELU()
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.encoder_attn = WhisperAttention(d, cfg["decoder_attention_heads"], is_decoder=True)
        self.encoder_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, cfg["decoder_ffn_dim"])
        self.fc2 = nn.Linear(cfg["decoder_ffn_dim"], d)
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, hidden_states, attention_mask, encoder_hidden_states, past_key_value):
        residual = hidden_states
        hidden_states = self.self_attn_layer_norm(hidden_states)
        self_attn_past_key_value = past_key_value[:2] if past_key_value is not None else None
        hidden_states, present_key_value = self.self_attn(hidden_states, past_key_value=self_attn_past_key_value,
                                                          attention_mask=attention_mask)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.encoder_attn_layer_norm(hidden_states)
        cross_attn_past_key_value = past_key_value[-2:] if past_key_value is not None else None
        hidden_states, cross_attn_present_key_value = self.encoder_attn(
            hidden_states, key_value_states=encoder_hidden_states, past_key_value=cross_attn_past_key_value)
        hidden_states = residual + hidden_states
        present_key_value = present_key_value + cross_attn_present_key_value
        residual = hidden_states
        hidden_states = self.final_layer_norm(hidden_states)
        hidden_states = self.activation_fn(self.fc1(hidden_states))
        hidden_states = self.fc2(hidden_states)
        hidden_states = residual + hidden_states
        return hidden_states, present_key_value


class WhisperEncoder(nn.Module):  # L1085-1235
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.max_source_positions = cfg["max_source_positions"]
        self.conv1 = nn.Conv1d(cfg["num_mel_bins"], d, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(d, d, kernel_size=3, stride=2, padding=1)
        self.embed_positions = nn.Embedding(self.max_source_positions, d)
        self.embed_positions.requires_grad_(False)
        self.layers = nn.ModuleList([WhisperEncoderLayer(cfg) for _ in range(cfg["encoder_layers"])])
        self.layer_norm = nn.LayerNorm(d)

    def forward(self, input_features):
        assert input_features.shape[-1] == self.max_source_positions * 2  # L1164-1168
        inputs_embeds = F.gelu(self.conv1(input_features))  # L1175
        inputs_embeds = F.gelu(self.conv2(inputs_embeds))  # L1176
        inputs_embeds = inputs_embeds.permute(0, 2, 1)
        embed_pos = self.embed_positions.weight
        hidden_states = inputs_embeds + embed_pos  # L1181
        for encoder_layer in self.layers:
            hidden_states = encoder_layer(hidden_states)
        return self.layer_norm(hidden_states)  # L1227


class WhisperDecoder(nn.Module):  # L1238-1489
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], d, cfg["pad_token_id"])
        self.embed_positions = WhisperPositionalEmbedding(cfg["max_target_positions"], d)
        self.layers = nn.ModuleList([WhisperDecoderLayer(cfg) for _ in range(cfg["decoder_layers"])])
        self.layer_norm = nn.LayerNorm(d)

    def forward(self, input_ids, attention_mask, encoder_hidden_states, past_key_values):
        input_shape = input_ids.size()
        input_ids = input_ids.view(-1, input_shape[-1])
        past_key_values_length = past_key_values[0][0].shape[2] if past_key_values is not None else 0
        inputs_embeds = self.embed_tokens(input_ids)  # L1371
        positions = self.embed_positions(input_ids, past_key_values_length=past_key_values_length)
        hidden_states = inputs_embeds + positions  # L1397
        next_decoder_cache = ()
        for idx, decoder_layer in enumerate(self.layers):
            past_key_value = past_key_values[idx] if past_key_values is not None else None
            hidden_states, present = decoder_layer(hidden_states, attention_mask, encoder_hidden_states, past_key_value)
            next_decoder_cache += (present,)
        hidden_states = self.layer_norm(hidden_states)  # L1467
        return hidden_states, next_decoder_cache


class WhisperModel(nn.Module):  # L1492-1659
    def __init__(self, cfg):
        super().__init__()
        self.encoder = WhisperEncoder(cfg)
        self.decoder = WhisperDecoder(cfg)

    def forward(self, input_features, decoder_input_ids, encoder_outputs, past_key_values, attention_mask):
        if encoder_outputs is None:  # L1609-1618
            encoder_outputs = self.encoder(input_features)
        hidden_states, cache = self.decoder(decoder_input_ids, attention_mask, encoder_outputs, past_key_values)
        return hidden_states, cache, encoder_outputs


class WhisperForConditionalGeneration(nn.Module):  # L1662-1794
    def __init__(self, cfg):
        super().__init__()
        self.model = WhisperModel(cfg)
        self.proj_out = nn.Linear(cfg["d_model"], cfg["vocab_size"], bias=False)
        if cfg.get("tie_word_embeddings", True):  # _tied_weights_keys ["proj_out.weight"] (L1664)
            self.proj_out.weight = self.model.decoder.embed_tokens.weight

    def forward(self, input_features, decoder_input_ids, encoder_outputs, past_key_values, attention_mask):
        hidden_states, cache, encoder_outputs = self.model(input_features, decoder_input_ids, encoder_outputs,
                                                           past_key_values, attention_mask)
        lm_logits = self.proj_out(hidden_states)  # L1771
        return lm_logits, cache, encoder_outputs


def build(cfg, dtype, seed=0):
    return shared_plain.random_model(WhisperForConditionalGeneration, cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with whisper-small's keys: 6 encoder positions (12 mel frames of 8 bins), 16
# decoder positions, two layers each side, 4 heads of 16.
CFG = {
    "architectures": ["WhisperForConditionalGeneration"],
    "model_type": "whisper",
    "activation_function": "gelu",
    "d_model": 64,
    "encoder_layers": 2,
    "decoder_layers": 2,
    "encoder_attention_heads": 4,
    "decoder_attention_heads": 4,
    "encoder_ffn_dim": 96,
    "decoder_ffn_dim": 96,
    "num_mel_bins": 8,
    "max_source_positions": 6,
    "max_target_positions": 16,
    "vocab_size": 128,
    "pad_token_id": 127,
    "_attn_implementation": "eager",
}


def causal_mask(batch, q_len, past, dtype):
    """The mask _prepare_4d_causal_attention_mask gives eager attention with no 2-D mask (to_causal_4d,
    _make_causal_mask: modeling_attn_mask_utils.py @ c276655525da90e4bd84ad58c47260f643928974)
    (built outside the recorded forward, docs/conventions.md "Masks"): None for one query,
    else the [q_len, past + q_len] causal mask expanded to [B, 1, q_len, past + q_len]."""
    if q_len == 1:
        return None
    kv = past + q_len
    i = torch.arange(q_len)[:, None] + past
    j = torch.arange(kv)[None, :]
    m = torch.zeros(q_len, kv, dtype=dtype)
    m = m.masked_fill(j > i, torch.finfo(dtype).min)
    return m[None, None].expand(batch, 1, q_len, kv)


# nn.LayerNorm's per-row mean and rstd in bfloat16 on the CPU, float32 in costi (CUDA's
# accumulate type): gpt2_plain.py's _LN_STATS. Each norm of M rows writes 4*M bytes more in
# costi; the encoder's (M = B * max_source_positions) only run on the first step.
_LN_STATS = "bfloat16 LayerNorm mean/rstd: CPU writes them in bfloat16, CUDA (costi) in float32"


def _ln_stats(enc_norms, dec_norms):
    def delta(batch, seq_len, cache_len):
        enc = enc_norms * batch * CFG["max_source_positions"] if cache_len == 0 else 0
        return (0, 0, 4 * (enc + dec_norms * batch * seq_len))
    return (_LN_STATS, delta)


_LE, _LD = CFG["encoder_layers"], CFG["decoder_layers"]
KNOWN = {("bfloat16", path): _ln_stats(enc, dec) for path, enc, dec in (
    ("model.encoder.layers.self_attn_layer_norm", _LE, 0), ("model.encoder.layers.final_layer_norm", _LE, 0),
    ("model.encoder.layers", 2 * _LE, 0), ("model.encoder.layer_norm", 1, 0), ("model.encoder", 2 * _LE + 1, 0),
    ("model.decoder.layers.self_attn_layer_norm", 0, _LD), ("model.decoder.layers.encoder_attn_layer_norm", 0, _LD),
    ("model.decoder.layers.final_layer_norm", 0, _LD), ("model.decoder.layers", 0, 3 * _LD),
    ("model.decoder.layer_norm", 0, 1), ("model.decoder", 0, 3 * _LD + 1),
    ("model", 2 * _LE + 1, 3 * _LD + 1), ("", 2 * _LE + 1, 3 * _LD + 1))}


def prepare(model, batch, seq_len, cache_len, dtype):
    """Runs the first cache_len tokens (encoder included, not recorded) and returns the step to
    record: seq_len new tokens; the encoder runs in it only when cache_len == 0."""
    frames = 2 * CFG["max_source_positions"]
    features = torch.randn(batch, CFG["num_mel_bins"], frames).to(dtype)
    encoder_outputs, cache = None, None
    if cache_len:
        ids = torch.randint(0, CFG["vocab_size"], (batch, cache_len))
        with torch.no_grad():
            _, cache, encoder_outputs = model(features, ids, None, None, causal_mask(batch, cache_len, 0, dtype))
    ids = torch.randint(0, CFG["vocab_size"], (batch, seq_len))
    mask = causal_mask(batch, seq_len, cache_len, dtype)
    if cache_len == 0:
        return lambda: model(features, ids, None, None, mask)
    return lambda: model(None, ids, encoder_outputs, cache, mask)
