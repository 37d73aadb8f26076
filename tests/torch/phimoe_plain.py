"""PhimoeForCausalLM's inference forward in plain PyTorch, line by line from the modeling code
kernels/phimoe.cost cites: src/transformers/models/phimoe/modeling_phimoe.py @
c4cdd1a0d93642f0143c66609d4273efc74c22cf (the L-numbers below), the RoPE init functions of
src/transformers/modeling_rope_utils.py @ ef46806472a64b0013ed413781e3afed82bfa047 (R-numbers),
eager attention (PhimoeAttention.forward: torch 1.13 has no F.scaled_dot_product_attention) and
the torch.cat cache (DynamicLayer.update of cache_utils.py @ 004999d9, as the kernels model it).
rotate_half, repeat_kv and DynamicLayer are Llama's lines verbatim ("Copied from"), imported
from llama_plain. Module names are transformers', so module paths match costi's call labels.

The rotary embedding runs as the checkpoint configures it: rope_scaling "longrope" with
short/long factors and mscales, so every forward recomputes inv_freq (R242-302) and compares
the 0-d seq_len = cache_position[-1] + 1 with original_max_position_embeddings (L163-168,
R295). original_max_position_embeddings is 6 here, so the recorded steps (seq_len up to 7)
take both the short and the long branch.

Routing is made deterministic by the config: num_local_experts = num_experts_per_tok = 2.
sparsemixer masks the first pick to -inf before the second max (L669-674), so the two picks
are the two experts: each expert's loop iteration gets exactly T tokens, costi's share T*k/E
(docs/conventions.md, "Mixture of experts"), at every batch size and length.
"""

import torch
from torch import nn

import shared_plain

from llama_plain import DynamicLayer, causal_mask, repeat_kv, rotate_half
from mixtral_plain import moe_cpu_vs_cuda
# L522-536: "Copied from ... MixtralBlockSparseTop2MLP with Mixtral->Phimoe"
from mixtral_plain import MixtralBlockSparseTop2MLP as PhimoeBlockSparseTop2MLP
from shared_plain import fill_and_step


def default_rope_parameters(cfg, device):  # R29-68 (_compute_default_rope_parameters)
    base = cfg["rope_theta"]
    dim = cfg["hidden_size"] // cfg["num_attention_heads"]
    attention_factor = 1.0
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float().to(device) / dim))  # R67
    return inv_freq, attention_factor


def longrope_parameters(cfg, device, seq_len):  # R242-302 (_compute_longrope_parameters)
    import math
    base = cfg["rope_theta"]
    dim = cfg["hidden_size"] // cfg["num_attention_heads"]
    long_factor = cfg["rope_scaling"]["long_factor"]
    short_factor = cfg["rope_scaling"]["short_factor"]
    factor = cfg["rope_scaling"].get("factor")
    attention_factor = cfg["rope_scaling"].get("attention_factor")
    if "original_max_position_embeddings" in cfg:  # R281-285
        original_max_position_embeddings = cfg["original_max_position_embeddings"]
        factor = cfg["max_position_embeddings"] / cfg["original_max_position_embeddings"]
    else:
        original_max_position_embeddings = cfg["max_position_embeddings"]
    if attention_factor is None:  # R288-292
        if factor <= 1.0:
            attention_factor = 1.0
        else:
            attention_factor = math.sqrt(1 + math.log(factor) / math.log(original_max_position_embeddings))
    if seq_len and seq_len > original_max_position_embeddings:  # R295-298
        ext_factors = torch.tensor(long_factor, dtype=torch.float32, device=device)
    else:
        ext_factors = torch.tensor(short_factor, dtype=torch.float32, device=device)
    inv_freq_shape = torch.arange(0, dim, 2, dtype=torch.int64, device=device).float() / dim  # R299
    inv_freq = 1.0 / (ext_factors * base**inv_freq_shape)  # R300
    return inv_freq, attention_factor


class PhimoeRotaryEmbedding(nn.Module):
    def __init__(self, cfg):  # L146-159
        super().__init__()
        self.config = cfg
        if cfg.get("rope_scaling") is not None:
            self.rope_type = cfg["rope_scaling"].get("rope_type", cfg["rope_scaling"].get("type"))
            self.short_mscale = cfg["rope_scaling"].get("short_mscale")
            self.long_mscale = cfg["rope_scaling"].get("long_mscale")
        else:
            self.rope_type = "default"
        assert self.rope_type in ("default", "longrope")  # ROPE_INIT_FUNCTIONS, R351-358

    def rope_init_fn(self, device, seq_len):
        if self.rope_type == "longrope":
            return longrope_parameters(self.config, device, seq_len)
        return default_rope_parameters(self.config, device)

    def forward(self, x, seq_len=None):  # L161-175
        mscale = None
        if self.config.get("rope_scaling") and seq_len:
            mscale = (
                self.long_mscale
                if seq_len > self.config["rope_scaling"]["original_max_position_embeddings"]
                else self.short_mscale
            )
        inv_freq, attention_scaling = self.rope_init_fn(x.device, seq_len)
        mscale = attention_scaling if mscale is None else mscale
        t = torch.arange(seq_len, device=x.device, dtype=torch.float32)
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return (emb.cos() * mscale).to(x.dtype), (emb.sin() * mscale).to(x.dtype)


def apply_rotary_pos_emb(q, k, cos, sin, position_ids, unsqueeze_dim=1):  # L186-211
    cos = cos[position_ids].unsqueeze(unsqueeze_dim)
    sin = sin[position_ids].unsqueeze(unsqueeze_dim)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed, k_embed


class PhimoeAttention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L233-266
        super().__init__()
        self.layer_idx = layer_idx
        self.hidden_size = cfg["hidden_size"]
        self.num_heads = cfg["num_attention_heads"]
        self.head_dim = self.hidden_size // self.num_heads
        self.num_key_value_heads = cfg["num_key_value_heads"]
        self.num_key_value_groups = self.num_heads // self.num_key_value_heads
        bias = cfg["attention_bias"]
        self.q_proj = nn.Linear(self.hidden_size, self.num_heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(self.hidden_size, self.num_key_value_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(self.hidden_size, self.num_key_value_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, self.hidden_size, bias=bias)

    def forward(self, hidden_states, attention_mask, position_ids, cache, position_embeddings):  # L271-329
        bsz, q_len, _ = hidden_states.size()
        query_states = self.q_proj(hidden_states)
        key_states = self.k_proj(hidden_states)
        value_states = self.v_proj(hidden_states)
        query_states = query_states.view(bsz, q_len, self.num_heads, self.head_dim).transpose(1, 2)
        key_states = key_states.view(bsz, q_len, self.num_key_value_heads, self.head_dim).transpose(1, 2)
        value_states = value_states.view(bsz, q_len, self.num_key_value_heads, self.head_dim).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin, position_ids)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        key_states = repeat_kv(key_states, self.num_key_value_groups)
        value_states = repeat_kv(value_states, self.num_key_value_groups)
        attn_weights = torch.matmul(query_states, key_states.transpose(2, 3)) / (self.head_dim ** 0.5)  # L303
        if attention_mask is not None:
            causal_mask = attention_mask[:, :, :, : key_states.shape[-2]]
            attn_weights = attn_weights + causal_mask
        attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query_states.dtype)
        attn_weights = nn.functional.dropout(attn_weights, p=0.0, training=False)
        attn_output = torch.matmul(attn_weights, value_states)
        attn_output = attn_output.transpose(1, 2).contiguous()
        attn_output = attn_output.reshape(bsz, q_len, self.hidden_size)
        return self.o_proj(attn_output)


def sparsemixer(scores, jitter_eps, top_k=2):  # L601-726, training=False
    if top_k != 2:
        raise ValueError("top_k must be equal to 2")
    with torch.no_grad():  # L624-628
        mask_logits_threshold, max_ind = scores.max(dim=-1, keepdim=True)
        factor = scores.abs().clamp(min=mask_logits_threshold)
        mask_logits_threshold = ((mask_logits_threshold - scores) / factor) > (2 * jitter_eps)
    masked_gates = scores.masked_fill(mask_logits_threshold, float("-inf"))  # L631
    selected_experts = max_ind  # L642
    masked_gates = torch.softmax(masked_gates, dim=-1)  # L645
    multiplier_o = masked_gates.gather(dim=-1, index=selected_experts)  # L646
    multiplier = multiplier_o  # L666
    masked_scores = torch.scatter(scores, -1, selected_experts, float("-inf"))  # L669-674
    with torch.no_grad():  # L675-679
        mask_logits_threshold, max_ind = masked_scores.max(dim=-1, keepdim=True)
        factor = scores.abs().clamp(min=mask_logits_threshold)
        mask_logits_threshold = ((mask_logits_threshold - scores) / factor) > (2 * jitter_eps)
    masked_gates_top2 = masked_scores.masked_fill(mask_logits_threshold, float("-inf"))  # L682
    selected_experts_top2 = max_ind  # L695
    masked_gates_top2 = torch.softmax(masked_gates_top2, dim=-1)  # L697
    multiplier_top2_o = masked_gates_top2.gather(dim=-1, index=selected_experts_top2)  # L698
    multiplier_top2 = multiplier_top2_o  # L718
    multiplier = torch.concat((multiplier, multiplier_top2), dim=-1)  # L720
    selected_experts = torch.concat((selected_experts, selected_experts_top2), dim=-1)  # L721
    return multiplier, selected_experts


class PhimoeSparseMoeBlock(nn.Module):
    def __init__(self, cfg):  # L741-754
        super().__init__()
        self.hidden_dim = cfg["hidden_size"]
        self.num_experts = cfg["num_local_experts"]
        self.top_k = cfg["num_experts_per_tok"]
        self.gate = nn.Linear(self.hidden_dim, self.num_experts, bias=False)
        self.experts = nn.ModuleList([PhimoeBlockSparseTop2MLP(cfg) for _ in range(self.num_experts)])
        self.router_jitter_noise = cfg["router_jitter_noise"]

    def forward(self, hidden_states):  # L756-798 (eval: no input jitter)
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        hidden_states = hidden_states.view(-1, hidden_dim)
        router_logits = self.gate(hidden_states)
        routing_weights, selected_experts = sparsemixer(router_logits, jitter_eps=self.router_jitter_noise)
        final_hidden_states = torch.zeros(
            (batch_size * sequence_length, hidden_dim), dtype=hidden_states.dtype, device=hidden_states.device
        )
        expert_mask = torch.nn.functional.one_hot(selected_experts, num_classes=self.num_experts).permute(2, 1, 0)
        for expert_idx in range(self.num_experts):
            expert_layer = self.experts[expert_idx]
            idx, top_x = torch.where(expert_mask[expert_idx])
            if top_x.shape[0] == 0:
                continue
            current_state = hidden_states[None, top_x].reshape(-1, hidden_dim)
            current_hidden_states = expert_layer(current_state) * routing_weights[top_x, idx, None]
            final_hidden_states.index_add_(0, top_x, current_hidden_states.to(hidden_states.dtype))
        final_hidden_states = final_hidden_states.reshape(batch_size, sequence_length, hidden_dim)
        return final_hidden_states, router_logits


class PhimoeDecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L802-812
        super().__init__()
        H = cfg["hidden_size"]
        self.self_attn = PhimoeAttention(cfg, layer_idx)
        self.block_sparse_moe = PhimoeSparseMoeBlock(cfg)
        self.input_layernorm = nn.LayerNorm(H, eps=cfg["rms_norm_eps"], elementwise_affine=True)
        self.post_attention_layernorm = nn.LayerNorm(H, eps=cfg["rms_norm_eps"], elementwise_affine=True)

    def forward(self, hidden_states, attention_mask, position_ids, cache, position_embeddings):  # L814-898
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, attention_mask, position_ids, cache, position_embeddings)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states, router_logits = self.block_sparse_moe(hidden_states)
        hidden_states = residual + hidden_states
        return (hidden_states,)


class PhimoeModel(nn.Module):
    def __init__(self, cfg):  # L1011-1022
        super().__init__()
        H = cfg["hidden_size"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], H)
        self.layers = nn.ModuleList([PhimoeDecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = nn.LayerNorm(H, eps=cfg["rms_norm_eps"], elementwise_affine=True)
        self.rotary_emb = PhimoeRotaryEmbedding(cfg)

    def forward(self, input_ids, position_ids, causal_mask, cache, cache_position):  # L1035-1170
        inputs_embeds = self.embed_tokens(input_ids)  # L1086-1087
        # L1089-1095 do not run: generate() passes cache_position and position_ids.
        hidden_states = inputs_embeds  # L1101
        position_embeddings = self.rotary_emb(hidden_states, seq_len=cache_position[-1] + 1)  # L1103
        for decoder_layer in self.layers:  # L1111-1141
            layer_outputs = decoder_layer(hidden_states, causal_mask, position_ids, cache, position_embeddings)
            hidden_states = layer_outputs[0]
        return self.norm(hidden_states)  # L1152


class PhimoeForCausalLM(nn.Module):
    def __init__(self, cfg):  # L1332-1342
        super().__init__()
        self.config = cfg
        self.model = PhimoeModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=cfg["lm_head_bias"])

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0, use_cache=True):  # L1371-1483
        # generate() passes cache_position, the new tokens' positions (int64 [S]): here the first
        # row of the [B, S] position_ids, a view.
        cache_position = position_ids[0]
        if (  # L1415-1423: the LongRoPE cache warning's test, a 0-d compare on the device
            use_cache
            and self.config.get("rope_scaling")
            and cache_position is not None
            and cache_position[0] == self.config["original_max_position_embeddings"]
        ):
            pass
        hidden_states = self.model(input_ids, position_ids, causal_mask, cache, cache_position)  # L1435-1447
        slice_indices = slice(-logits_to_keep, None)  # L1451
        return self.lm_head(hidden_states[:, slice_indices, :])  # L1452


def build(cfg, dtype, seed=0):
    return shared_plain.random_model(PhimoeForCausalLM, cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention (head_dim 64 / 4 = 16: 8 rope factors), q/k/v/o
# and lm_head biases (the checkpoint's attention_bias and lm_head_bias), LongRoPE as the
# checkpoint configures it (original_max_position_embeddings 6: the steps' seq_len = C + S of
# 5, 6 and 7 take the short and the long factors), and 2 experts, both chosen for every token.
CFG = {
    "architectures": ["PhimoeForCausalLM"],
    "model_type": "phimoe",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "max_position_embeddings": 24,
    "original_max_position_embeddings": 6,
    "rope_scaling": {
        "type": "longrope",
        "rope_type": "longrope",
        "short_factor": [1.0, 1.0, 1.0, 1.0, 1.1, 1.1, 1.2, 1.2],
        "long_factor": [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5],
        "short_mscale": 1.1,
        "long_mscale": 1.3,
        "original_max_position_embeddings": 6,
    },
    "num_local_experts": 2,
    "num_experts_per_tok": 2,
    "router_jitter_noise": 0.01,
    "input_jitter_noise": 0.01,
    "attention_bias": True,
    "lm_head_bias": True,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

# Differences known and explained, (dtype name, module path) -> (cause, exact costi - torch),
# summed where several act on one module:
#  * Mixtral's two CPU-vs-CUDA steps of the MoE loop (mixtral_plain.moe_cpu_vs_cuda): one_hot's
#    CPU-only range checks, CUDA nonzero's copy of the strided expert mask; per MoE layer.
#  * the host reads (.item(), aten _local_scalar_dense) of 0-d int64 tensors on the device
#    (cache_position is a CUDA tensor under generate()): in model.rotary_emb, of seq_len =
#    cache_position[-1] + 1 by `if ... and seq_len` (L163), the `if` on `seq_len > omp` (L166),
#    the same pair in _compute_longrope_parameters (R295) and torch.arange(seq_len) (L171): 8, 1,
#    8, 1 and 8 bytes; at the root, the `if` on `cache_position[0] == omp` (L1419): 1 byte.
#    Device-to-host synchronisations costi does not count (docs/conventions.md, "Checked against
#    a trace of PyTorch", Qwen3-MoE's .item()): torch reads 26 bytes more in model.rotary_emb
#    and model, 27 at the root.
#  * nn.LayerNorm's mean/rstd in bfloat16 on CPU (starcoder2_plain.py): 4*M bytes written
#    more in costi per norm of M = batch*seq_len rows; two per layer and the final one.
_L = CFG["num_hidden_layers"]
_MOE = moe_cpu_vs_cuda(_L, CFG["num_local_experts"], CFG["num_experts_per_tok"])
_ITEMS = ("the host reads (.item()) of the 0-d seq_len in the rotary embedding: 26 bytes in torch, not counted",
          lambda batch, seq_len, cache_len: (0, -26, 0))
_ROOT_ITEM = ("the host read (.item()) of the LongRoPE warning's compare (L1419): 1 byte in torch, not counted",
              lambda batch, seq_len, cache_len: (0, -1, 0))
_LN_STATS = "bfloat16 LayerNorm mean/rstd: CPU writes them in bfloat16, CUDA (costi) in float32"


def _ln_stats(norms):
    return (_LN_STATS, lambda batch, seq_len, cache_len: (0, 0, norms * 4 * batch * seq_len))


def _sum(*entries):
    def delta(batch, seq_len, cache_len):
        parts = [e[1](batch, seq_len, cache_len) for e in entries]
        return tuple(sum(p[i] for p in parts) for i in range(3))
    return ("; ".join(e[0] for e in entries), delta)


KNOWN = {}
for _dtype in ("float32", "bfloat16"):
    _ln = _dtype == "bfloat16"
    KNOWN[(_dtype, "model.rotary_emb")] = _ITEMS
    KNOWN[(_dtype, "model.layers.block_sparse_moe")] = _MOE
    KNOWN[(_dtype, "model.layers")] = _sum(_MOE, _ln_stats(2 * _L)) if _ln else _MOE
    KNOWN[(_dtype, "model")] = _sum(_MOE, _ITEMS, _ln_stats(2 * _L + 1)) if _ln else _sum(_MOE, _ITEMS)
    KNOWN[(_dtype, "")] = _sum(KNOWN[(_dtype, "model")], _ROOT_ITEM)
    if _ln:
        KNOWN[(_dtype, "model.layers.input_layernorm")] = _ln_stats(_L)
        KNOWN[(_dtype, "model.layers.post_attention_layernorm")] = _ln_stats(_L)
        KNOWN[(_dtype, "model.norm")] = _ln_stats(1)


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache (every token kept); the eager mask _update_causal_mask builds for the
    all-ones 2-D attention_mask generate() passes, [B, 1, S, C + S] (no sliding_window here),
    built outside the recorded forward as every family's."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: causal_mask(b, q, past, dtype))
