"""FalconForCausalLM's inference forward in plain PyTorch, line by line from the modeling code
costi's kernels/falcon.cost cites (transformers src/transformers/models/falcon/modeling_falcon.py
@ 00dcc6dda6f6d8e69541a6b51f97986a80242367), the RoPE path (alibi false), eager attention
(torch 1.13 has no F.scaled_dot_product_attention). rotate_half and apply_rotary_pos_emb are
"Copied from" Llama and FalconRotaryEmbedding is LlamaRotaryEmbedding's code, so they come from
llama_plain, as DynamicLayer and the causal mask do. Module names are transformers', so module
paths match the call labels of costi's tree. The L-numbers are those of the cited file.

The three layouts of the fused query_key_value (new_decoder_architecture, multi_query, neither)
and both decoder-layer forms (parallel or sequential) are written out; this module's CFG is the
Falcon-7B form (multi-query, parallel attention, no biases), and falcon_new_plain.py and
falcon_rw_plain.py check the other two with their own CFG; falcon_alibi_plain.py the ALiBi
branch of the eager attention (L386-416).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

import shared_plain

from llama_plain import DynamicLayer, LlamaRotaryEmbedding, apply_rotary_pos_emb, causal_mask


class FalconLinear(nn.Linear):  # L61-66
    def forward(self, input):
        hidden_states = input @ self.weight.T
        if self.bias is None:
            return hidden_states
        return hidden_states + self.bias


def dropout_add(x, residual, prob, training):  # L169-185
    out = F.dropout(x, p=prob, training=training)
    out = residual + out
    return out


def head_dim(cfg):
    return cfg["hidden_size"] // cfg["num_attention_heads"]


class FalconAttention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L189-230
        super().__init__()
        self.hidden_size = cfg["hidden_size"]
        self.num_heads = cfg["num_attention_heads"]
        self.head_dim = head_dim(cfg)
        self.new_decoder_architecture = cfg.get("new_decoder_architecture", False)
        self.multi_query = cfg.get("multi_query", True)
        num_kv = cfg.get("num_kv_heads", self.num_heads)
        if self.new_decoder_architecture:
            qkv_out_dim = (num_kv * 2 + self.num_heads) * self.head_dim
        elif self.multi_query:
            qkv_out_dim = self.hidden_size + 2 * self.head_dim
        else:
            qkv_out_dim = 3 * self.hidden_size
        bias = cfg.get("bias", False)
        self.query_key_value = FalconLinear(self.hidden_size, qkv_out_dim, bias=bias)
        self.dense = FalconLinear(self.hidden_size, self.hidden_size, bias=bias)
        self.num_kv_heads = num_kv if (self.new_decoder_architecture or not self.multi_query) else 1
        self.inv_norm_factor = 1.0 / math.sqrt(self.head_dim)
        self.layer_idx = layer_idx

    def _split_heads(self, fused_qkv):  # L232-261
        if self.new_decoder_architecture:
            batch, seq_len, _ = fused_qkv.shape
            qkv = fused_qkv.view(batch, seq_len, -1, self.num_heads // self.num_kv_heads + 2, self.head_dim)
            query = qkv[:, :, :, :-2]
            key = qkv[:, :, :, [-2]]
            value = qkv[:, :, :, [-1]]
            key = torch.broadcast_to(key, query.shape)
            value = torch.broadcast_to(value, query.shape)
            query, key, value = [x.flatten(2, 3) for x in (query, key, value)]
            return query, key, value
        elif not self.multi_query:
            batch_size, seq_length, three_times_hidden_size = fused_qkv.shape
            fused_qkv = fused_qkv.view(batch_size, seq_length, self.num_heads, 3, self.head_dim)
            return fused_qkv[..., 0, :], fused_qkv[..., 1, :], fused_qkv[..., 2, :]
        else:
            batch_size, seq_length, three_times_hidden_size = fused_qkv.shape
            fused_qkv = fused_qkv.view(batch_size, seq_length, self.num_heads + 2, self.head_dim)
            return fused_qkv[..., :-2, :], fused_qkv[..., [-2], :], fused_qkv[..., [-1], :]

    def _merge_heads(self, x):  # L264-287
        batch_size_and_num_heads, seq_length, _ = x.shape
        batch_size = batch_size_and_num_heads // self.num_heads
        x = x.view(batch_size, self.num_heads, seq_length, self.head_dim)
        x = x.permute(0, 2, 1, 3)
        return x.reshape(batch_size, seq_length, self.num_heads * self.head_dim)

    def forward(self, hidden_states, attention_mask, cache, position_embeddings, alibi=None):  # L289-421, eager
        fused_qkv = self.query_key_value(hidden_states)
        num_kv_heads = self.num_heads if self.new_decoder_architecture else self.num_kv_heads
        (query_layer, key_layer, value_layer) = self._split_heads(fused_qkv)
        batch_size, query_length, _, _ = query_layer.shape
        query_layer = query_layer.transpose(1, 2).reshape(batch_size, self.num_heads, query_length, self.head_dim)
        key_layer = key_layer.transpose(1, 2).reshape(batch_size, num_kv_heads, query_length, self.head_dim)
        value_layer = value_layer.transpose(1, 2).reshape(batch_size, num_kv_heads, query_length, self.head_dim)
        if alibi is None:
            cos, sin = position_embeddings
            query_layer, key_layer = apply_rotary_pos_emb(query_layer, key_layer, cos, sin)
        key_layer, value_layer = cache[self.layer_idx].update(key_layer, value_layer)
        kv_length = key_layer.shape[-2]
        attention_mask = attention_mask[:, :, :, : key_layer.shape[-2]]
        if alibi is not None:  # L386-416
            matmul_result = query_layer @ key_layer.transpose(-1, -2)
            attention_scores = matmul_result.view(batch_size, self.num_heads, query_length, kv_length)
            input_dtype = attention_scores.dtype
            if input_dtype == torch.float16 or input_dtype == torch.bfloat16:
                attention_scores = attention_scores.to(torch.float32)
            attention_logits = attention_scores + alibi.view(batch_size, self.num_heads, 1, -1)
            attention_logits *= self.inv_norm_factor
            attention_probs = F.softmax(attention_logits + attention_mask, dim=-1, dtype=hidden_states.dtype)
            attention_probs_reshaped = attention_probs.view(batch_size, self.num_heads, query_length, kv_length)
            attn_output = (attention_probs_reshaped @ value_layer).flatten(0, 1)
            attn_output = self._merge_heads(attn_output)
            return self.dense(attn_output)
        attention_scores = query_layer @ key_layer.transpose(-1, -2)
        attention_scores /= math.sqrt(self.head_dim)
        attention_scores = F.softmax(attention_scores + attention_mask, dim=-1, dtype=hidden_states.dtype)
        attn_output = attention_scores @ value_layer
        attn_output = attn_output.view(batch_size, self.num_heads, query_length, self.head_dim)
        attn_output = attn_output.permute(0, 2, 1, 3)
        attn_output = attn_output.reshape(batch_size, query_length, self.num_heads * self.head_dim)
        return self.dense(attn_output)


class GELUActivation(nn.Module):  # get_activation("gelu"): nn.functional.gelu
    def forward(self, x):
        return F.gelu(x)


class FalconMLP(nn.Module):
    def __init__(self, cfg):  # L534-541
        super().__init__()
        hidden_size = cfg["hidden_size"]
        ffn = cfg.get("ffn_hidden_size", 4 * hidden_size)
        bias = cfg.get("bias", False)
        self.dense_h_to_4h = FalconLinear(hidden_size, ffn, bias=bias)
        self.act = GELUActivation()
        self.dense_4h_to_h = FalconLinear(ffn, hidden_size, bias=bias)

    def forward(self, x):  # L543-546
        x = self.act(self.dense_h_to_4h(x))
        x = self.dense_4h_to_h(x)
        return x


class FalconDecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L557-580
        super().__init__()
        hidden_size = cfg["hidden_size"]
        self.self_attention = FalconAttention(cfg, layer_idx)
        self.mlp = FalconMLP(cfg)
        self.new_decoder_architecture = cfg.get("new_decoder_architecture", False)
        self.parallel_attn = cfg.get("parallel_attn", True)
        n_ln = cfg.get("num_ln_in_parallel_attn")
        if n_ln is None and self.new_decoder_architecture:
            n_ln = 2
        self.num_ln_in_parallel_attn = n_ln
        eps = cfg.get("layer_norm_epsilon", 1e-5)
        if not self.parallel_attn:
            self.post_attention_layernorm = nn.LayerNorm(hidden_size, eps=eps)
            self.input_layernorm = nn.LayerNorm(hidden_size, eps=eps)
        else:
            if n_ln == 2:
                self.ln_attn = nn.LayerNorm(hidden_size, eps=eps)
                self.ln_mlp = nn.LayerNorm(hidden_size, eps=eps)
            else:
                self.input_layernorm = nn.LayerNorm(hidden_size, eps=eps)

    def forward(self, hidden_states, attention_mask, cache, position_embeddings, alibi=None):  # L582-651
        residual = hidden_states
        if self.new_decoder_architecture and self.num_ln_in_parallel_attn == 2:
            attention_layernorm_out = self.ln_attn(hidden_states)
            mlp_layernorm_out = self.ln_mlp(hidden_states)
        else:
            attention_layernorm_out = self.input_layernorm(hidden_states)
        attention_output = self.self_attention(attention_layernorm_out, attention_mask, cache, position_embeddings, alibi)
        if not self.new_decoder_architecture:
            if self.parallel_attn:
                mlp_layernorm_out = attention_layernorm_out
            else:
                residual = dropout_add(attention_output, residual, 0.0, training=False)
                mlp_layernorm_out = self.post_attention_layernorm(residual)
        if self.new_decoder_architecture and self.parallel_attn and self.num_ln_in_parallel_attn == 1:
            mlp_layernorm_out = attention_layernorm_out
        mlp_output = self.mlp(mlp_layernorm_out)
        if self.new_decoder_architecture or self.parallel_attn:
            mlp_output += attention_output
        return dropout_add(mlp_output, residual, 0.0, training=False)


class FalconModel(nn.Module):
    def __init__(self, cfg):  # L699-722
        super().__init__()
        H = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], H)
        self.h = nn.ModuleList([FalconDecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.ln_f = nn.LayerNorm(H, eps=cfg.get("layer_norm_epsilon", 1e-5))
        self.rotary_emb = LlamaRotaryEmbedding(head_dim(cfg), cfg.get("rope_theta", 10000.0))

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L731-866
        # With alibi, causal_mask is (alibi, the mask merged with it), both built outside the
        # recorded forward as every mask is (build_alibi_tensor L785-797 feeds the mask only)
        alibi, causal_mask = causal_mask if isinstance(causal_mask, tuple) else (None, causal_mask)
        inputs_embeds = self.word_embeddings(input_ids)
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for block in self.h:
            hidden_states = block(hidden_states, causal_mask, cache, position_embeddings, alibi)
        return self.ln_f(hidden_states)


class FalconForCausalLM(nn.Module):
    def __init__(self, cfg):  # L1020-1026; lm_head tied to word_embeddings (_tied_weights_keys)
        super().__init__()
        self.transformer = FalconModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg.get("tie_word_embeddings", True):
            self.lm_head.weight = self.transformer.word_embeddings.weight

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L1035-1109
        hidden_states = self.transformer(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)
        return self.lm_head(hidden_states[:, slice_indices, :])


def build(cfg, dtype, seed=0):
    return shared_plain.random_model(FalconForCausalLM, cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# Falcon-7B's form at a tiny size: multi-query (one K/V head), parallel attention with one
# LayerNorm, no biases, tied lm_head; written to a config.json for costi.
CFG = {
    "architectures": ["FalconForCausalLM"],
    "model_type": "falcon",
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "layer_norm_epsilon": 1e-5,
    "alibi": False,
    "bias": False,
    "multi_query": True,
    "new_decoder_architecture": False,
    "parallel_attn": True,
    "_attn_implementation": "eager",
}


def layernorms(cfg):
    """(LayerNorm module paths of a layer, norms per layer) as FalconDecoderLayer builds them."""
    new = cfg.get("new_decoder_architecture", False)
    n_ln = cfg.get("num_ln_in_parallel_attn") or (2 if new else None)
    if not cfg.get("parallel_attn", True):
        return ("input_layernorm", "post_attention_layernorm")
    return ("ln_attn", "ln_mlp") if n_ln == 2 else ("input_layernorm",)


# nn.LayerNorm's native_layer_norm also writes a per-row mean and rstd, [M] each: costi counts
# them in CUDA's accumulate type, float32; the CPU kernel allocates them in the input's dtype
# (the same cause as gpt2_plain.py's KNOWN, which cites both kernels), so a bfloat16 trace
# writes 2*M*2 bytes where costi counts 2*M*4. Each norm of M = batch*seq_len rows writes 4*M
# bytes more in costi; the enclosing modules differ by the sum of their norms' (asserted exactly).
_LN_STATS = "bfloat16 LayerNorm mean/rstd: CPU writes them in bfloat16, CUDA (costi) in float32"


def known(cfg):
    norms = layernorms(cfg)
    layers = cfg["num_hidden_layers"]

    def stats(count):
        return (_LN_STATS, lambda batch, seq_len, cache_len: (0, 0, count * 4 * batch * seq_len))

    out = {("bfloat16", "transformer.h." + n): stats(layers) for n in norms}
    for path, count in (("transformer.ln_f", 1), ("transformer.h", len(norms) * layers),
                        ("transformer", len(norms) * layers + 1), ("", len(norms) * layers + 1)):
        out[("bfloat16", path)] = stats(count)
    return out


KNOWN = known(CFG)


def build_alibi_tensor(attention_mask, num_heads, dtype):  # L140-165
    batch_size, seq_length = attention_mask.shape
    closest_power_of_2 = 2 ** math.floor(math.log2(num_heads))
    base = torch.tensor(2 ** (-(2 ** -(math.log2(closest_power_of_2) - 3))), dtype=torch.float32)
    powers = torch.arange(1, 1 + closest_power_of_2, dtype=torch.int32)
    slopes = torch.pow(base, powers)
    if closest_power_of_2 != num_heads:
        extra_base = torch.tensor(2 ** (-(2 ** -(math.log2(2 * closest_power_of_2) - 3))), dtype=torch.float32)
        num_remaining_heads = min(closest_power_of_2, num_heads - closest_power_of_2)
        extra_powers = torch.arange(1, 1 + 2 * num_remaining_heads, 2, dtype=torch.int32)
        slopes = torch.cat([slopes, torch.pow(extra_base, extra_powers)], dim=0)
    arange_tensor = ((attention_mask.cumsum(dim=-1) - 1) * attention_mask)[:, None, :]
    alibi = slopes[..., None].bfloat16() * arange_tensor
    return alibi.reshape(batch_size * num_heads, 1, seq_length).to(dtype)


def alibi_masks(cfg, batch, q_len, past, dtype):
    """(alibi, mask) as FalconModel.forward passes them with alibi: build_alibi_tensor over an
    all-ones 2-D attention mask (L789-797) and _update_causal_mask's merge (L933-940) of
    alibi / sqrt(head_dim) with the causal mask: [B, h, q_len, past + q_len]."""
    heads = cfg["num_attention_heads"]
    alibi = build_alibi_tensor(torch.ones(batch, past + q_len, dtype=torch.long), heads, dtype)
    causal = causal_mask(batch, q_len, past, dtype)
    merged = torch.masked_fill(alibi.reshape(batch, -1, *alibi.shape[1:]) / math.sqrt(head_dim(cfg)),
                               causal < -1, torch.finfo(dtype).min)
    return alibi, merged


def prepare_with(cfg):
    def prepare(model, batch, seq_len, cache_len, dtype):
        """Fills the cache with cache_len tokens (not recorded) and returns the step to record."""
        cache = [DynamicLayer() for _ in range(cfg["num_hidden_layers"])]
        if cfg.get("alibi", False):
            mask = lambda b, q, past: alibi_masks(cfg, b, q, past, dtype)  # noqa: E731
        else:
            mask = lambda b, q, past: causal_mask(b, q, past, dtype)  # noqa: E731
        return shared_plain.fill_and_step(model, cfg, batch, seq_len, cache_len, cache, mask)
    return prepare


prepare = prepare_with(CFG)
