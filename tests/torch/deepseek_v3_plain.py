"""DeepseekV3ForCausalLM's inference forward in plain PyTorch, line by line from the modeling
code costi's kernels/deepseek_v3.cost cites (src/transformers/models/deepseek_v3/
modeling_deepseek_v3.py @ 00b676f8f0489b88652a31d70751cc540dd06305), eager attention, the
torch.cat cache (DynamicLayer.update of cache_utils.py @ 004999d972e478164dd7e8e508350937c803531e).
DeepseekV3RMSNorm, the rotary embedding's forward, rotate_half, apply_rotary_pos_emb and
eager_attention_forward are Llama's lines verbatim (the file is generated from
modular_deepseek_v3.py, which takes them from Llama), so they are imported from llama_plain.
Module names are transformers'; costi's tree names the dense and MoE layers apart
(dense_layers / moe_layers, mlp_dense / mlp_moe, and the moe() method as a node), so
costi_path maps a module path onto costi's labels.

Routing is made deterministic by the config: num_experts_per_tok == n_routed_experts and
topk_group == n_group, so no group is masked and top-k chooses every expert for every token
whatever the router computes: each expert gets exactly T tokens, costi's share T*k/E.
"""

import torch
import torch.nn.functional as F
from torch import nn

import llama_plain
import shared_plain
from mixtral_plain import moe_cpu_vs_cuda
from llama_plain import (DynamicLayer, LlamaRMSNorm, LlamaRotaryEmbedding, apply_rotary_pos_emb, causal_mask,
                         eager_attention_forward, rotate_half)


class DeepseekV3MLP(nn.Module):
    def __init__(self, cfg, intermediate_size=None):
        super().__init__()
        H = cfg["hidden_size"]
        I = cfg["intermediate_size"] if intermediate_size is None else intermediate_size
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)
        assert cfg["hidden_act"] == "silu"
        self.act_fn = nn.SiLU()

    def forward(self, x):  # L97-99
        down_proj = self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))
        return down_proj


class DeepseekV3TopkRouter(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.hidden_size = cfg["hidden_size"]
        self.top_k = cfg["num_experts_per_tok"]
        self.n_routed_experts = cfg["n_routed_experts"]
        self.routed_scaling_factor = cfg["routed_scaling_factor"]
        self.n_group = cfg["n_group"]
        self.topk_group = cfg["topk_group"]
        self.norm_topk_prob = cfg["norm_topk_prob"]
        self.weight = nn.Parameter(torch.empty((self.n_routed_experts, cfg["hidden_size"])))
        self.register_buffer("e_score_correction_bias", torch.zeros(self.n_routed_experts))

    @torch.no_grad()
    def get_topk_indices(self, scores):  # L116-134
        scores_for_choice = scores.view(-1, self.n_routed_experts) + self.e_score_correction_bias.unsqueeze(0)
        group_scores = (
            scores_for_choice.view(-1, self.n_group, self.n_routed_experts // self.n_group)
            .topk(2, dim=-1)[0]
            .sum(dim=-1)
        )
        group_idx = torch.topk(group_scores, k=self.topk_group, dim=-1, sorted=False)[1]
        group_mask = torch.zeros_like(group_scores)
        group_mask.scatter_(1, group_idx, 1)
        score_mask = (
            group_mask.unsqueeze(-1)
            .expand(-1, self.n_group, self.n_routed_experts // self.n_group)
            .reshape(-1, self.n_routed_experts)
        )
        scores_for_choice = scores_for_choice.masked_fill(~score_mask.bool(), 0.0)
        topk_indices = torch.topk(scores_for_choice, k=self.top_k, dim=-1, sorted=False)[1]
        return topk_indices

    def forward(self, hidden_states):  # L136-146
        hidden_states = hidden_states.view(-1, self.hidden_size)
        router_logits = F.linear(hidden_states.type(torch.float32), self.weight.type(torch.float32))
        scores = router_logits.sigmoid()
        topk_indices = self.get_topk_indices(scores)
        topk_weights = scores.gather(1, topk_indices)
        if self.norm_topk_prob:
            denominator = topk_weights.sum(dim=-1, keepdim=True) + 1e-20
            topk_weights /= denominator
        topk_weights = topk_weights * self.routed_scaling_factor
        return topk_indices, topk_weights


class _Method(nn.Module):
    """Calls a bound method: runs no op of its own, gives the method a module path."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


class DeepseekV3MoE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.experts = nn.ModuleList(
            [DeepseekV3MLP(cfg, intermediate_size=cfg["moe_intermediate_size"]) for _ in range(cfg["n_routed_experts"])]
        )
        self.gate = DeepseekV3TopkRouter(cfg)
        self.shared_experts = DeepseekV3MLP(cfg, intermediate_size=cfg["moe_intermediate_size"] * cfg["n_shared_experts"])
        # self.moe(...) through a parameterless module, only so that the recorder's module hooks
        # attribute the method's ops to a node of their own (costi's DeepseekV3MoE.moe)
        self.moe_call = _Method(self.moe)

    def moe(self, hidden_states, topk_indices, topk_weights):  # L168-192
        final_hidden_states = torch.zeros_like(hidden_states, dtype=topk_weights.dtype)
        expert_mask = torch.nn.functional.one_hot(topk_indices, num_classes=len(self.experts))
        expert_mask = expert_mask.permute(2, 0, 1)
        for expert_idx in range(len(self.experts)):
            expert = self.experts[expert_idx]
            mask = expert_mask[expert_idx]
            token_indices, weight_indices = torch.where(mask)
            if token_indices.numel() > 0:
                expert_weights = topk_weights[token_indices, weight_indices]
                expert_input = hidden_states[token_indices]
                expert_output = expert(expert_input)
                weighted_output = expert_output * expert_weights.unsqueeze(-1)
                final_hidden_states.index_add_(0, token_indices, weighted_output)
        return final_hidden_states.type(hidden_states.dtype)

    def forward(self, hidden_states):  # L194-201
        residuals = hidden_states
        orig_shape = hidden_states.shape
        topk_indices, topk_weights = self.gate(hidden_states)
        hidden_states = hidden_states.view(-1, hidden_states.shape[-1])
        hidden_states = self.moe_call(hidden_states, topk_indices, topk_weights).view(*orig_shape)
        hidden_states = hidden_states + self.shared_experts(residuals)
        return hidden_states


def apply_rotary_pos_emb_interleave(q, k, cos, sin, position_ids=None, unsqueeze_dim=1):  # L276-311
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    b, h, s, d = q.shape
    q = q.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    b, h, s, d = k.shape
    k = k.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed, k_embed


class DeepseekV3Attention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L321-370 (rope_scaling None: scaling = qk_head_dim ** -0.5)
        super().__init__()
        self.cfg = cfg
        self.layer_idx = layer_idx
        self.num_key_value_groups = cfg["num_attention_heads"] // cfg["num_key_value_heads"]
        self.num_heads = cfg["num_attention_heads"]
        self.q_lora_rank = cfg["q_lora_rank"]
        self.qk_rope_head_dim = cfg["qk_rope_head_dim"]
        self.kv_lora_rank = cfg["kv_lora_rank"]
        self.v_head_dim = cfg["v_head_dim"]
        self.qk_nope_head_dim = cfg["qk_nope_head_dim"]
        self.qk_head_dim = cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]
        H, eps = cfg["hidden_size"], cfg["rms_norm_eps"]
        bias = cfg["attention_bias"]
        self.q_a_proj = nn.Linear(H, self.q_lora_rank, bias=bias)
        self.q_a_layernorm = LlamaRMSNorm(self.q_lora_rank, 1e-6)
        self.q_b_proj = nn.Linear(self.q_lora_rank, self.num_heads * self.qk_head_dim, bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(H, self.kv_lora_rank + self.qk_rope_head_dim, bias=bias)
        self.kv_a_layernorm = LlamaRMSNorm(self.kv_lora_rank, 1e-6)
        self.kv_b_proj = nn.Linear(self.kv_lora_rank, self.num_heads * (self.qk_nope_head_dim + self.v_head_dim),
                                   bias=False)
        self.o_proj = nn.Linear(self.num_heads * self.v_head_dim, H, bias=bias)
        self.scaling = self.qk_head_dim ** (-0.5)

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L372-438, eager
        batch_size, seq_length = hidden_states.shape[:-1]
        query_shape = (batch_size, seq_length, -1, self.qk_head_dim)
        key_shape = (batch_size, seq_length, -1, self.qk_nope_head_dim + self.v_head_dim)
        q_states = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(hidden_states)))
        q_states = q_states.view(query_shape).transpose(1, 2)
        q_pass, q_rot = torch.split(q_states, [self.qk_nope_head_dim, self.qk_rope_head_dim], dim=-1)
        compressed_kv = self.kv_a_proj_with_mqa(hidden_states)
        k_pass, k_rot = torch.split(compressed_kv, [self.kv_lora_rank, self.qk_rope_head_dim], dim=-1)
        k_pass = self.kv_b_proj(self.kv_a_layernorm(k_pass)).view(key_shape).transpose(1, 2)
        k_pass, value_states = torch.split(k_pass, [self.qk_nope_head_dim, self.v_head_dim], dim=-1)
        k_rot = k_rot.view(batch_size, 1, seq_length, self.qk_rope_head_dim)
        cos, sin = position_embeddings
        if self.cfg["rope_interleave"]:
            q_rot, k_rot = apply_rotary_pos_emb_interleave(q_rot, k_rot, cos, sin)
        else:
            q_rot, k_rot = apply_rotary_pos_emb(q_rot, k_rot, cos, sin)
        k_rot = k_rot.expand(*k_pass.shape[:-1], -1)
        query_states = torch.cat((q_pass, q_rot), dim=-1)
        key_states = torch.cat((k_pass, k_rot), dim=-1)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        attn_output, attn_weights = eager_attention_forward(self, query_states, key_states, value_states,
                                                            attention_mask, self.scaling)
        attn_output = attn_output.reshape(batch_size, seq_length, -1).contiguous()
        attn_output = self.o_proj(attn_output)
        return attn_output, attn_weights


class DeepseekV3DecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):
        super().__init__()
        H = cfg["hidden_size"]
        self.self_attn = DeepseekV3Attention(cfg, layer_idx)
        if layer_idx >= cfg["first_k_dense_replace"]:
            self.mlp = DeepseekV3MoE(cfg)
        else:
            self.mlp = DeepseekV3MLP(cfg)
        self.input_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.post_attention_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):  # L456-487
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states, _ = self.self_attn(hidden_states, position_embeddings, attention_mask, cache)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        hidden_states = residual + hidden_states
        return hidden_states


class DeepseekV3Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H = cfg["hidden_size"]
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], H)
        self.layers = nn.ModuleList([DeepseekV3DecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        # DeepseekV3Config sets head_dim = qk_rope_head_dim, the rotary dimension
        self.rotary_emb = LlamaRotaryEmbedding(cfg["qk_rope_head_dim"], cfg["rope_theta"])

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L546-602
        inputs_embeds = self.embed_tokens(input_ids)
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for decoder_layer in self.layers[: self.cfg["num_hidden_layers"]]:
            hidden_states = decoder_layer(hidden_states, causal_mask, position_embeddings, cache)
        hidden_states = self.norm(hidden_states)
        return hidden_states


class DeepseekV3ForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = DeepseekV3Model(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L628-689
        hidden_states = self.model(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)
        return self.lm_head(hidden_states[:, slice_indices, :])


def build(cfg, dtype, seed=0):
    model = shared_plain.random_model(DeepseekV3ForCausalLM, cfg, dtype, seed)
    # from_pretrained(torch_dtype=...) builds the model under that default dtype: the router's
    # e_score_correction_bias buffer (torch.zeros) is in it too; inv_freq is explicitly float32.
    for name, buf in model.named_buffers():
        if name.endswith("e_score_correction_bias"):
            buf.data = buf.data.to(dtype)
    return model


def costi_path(path):
    """costi's label path for a module path: the layer list is split into dense_layers and
    moe_layers (DeepseekV3Model), the layer's MLP is mlp_dense or mlp_moe
    (DeepseekV3DecoderLayer), and the routed experts sit under the moe() method's node."""
    parts = path.split(".")
    if len(parts) >= 3 and parts[:2] == ["model", "layers"]:
        moe = int(parts[2]) >= CFG["first_k_dense_replace"]
        parts[1] = "moe_layers" if moe else "dense_layers"
        if len(parts) >= 4 and parts[3] == "mlp":
            parts[3] = "mlp_moe" if moe else "mlp_dense"
            if moe and len(parts) >= 5 and parts[4] == "experts":
                parts.insert(4, "moe")
            elif moe and len(parts) >= 5 and parts[4] == "moe_call":
                parts[4] = "moe"
    return ".".join(parts)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config: low-rank Q and joint KV latents (MLA) with interleaved RoPE, one dense layer
# then one MoE layer of 4 routed experts in 2 groups (every expert chosen for every token:
# module docstring) plus a shared expert; default RoPE (rope_scaling absent).
CFG = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "deepseek_v3",
    "hidden_size": 64,
    "intermediate_size": 96,
    "moe_intermediate_size": 32,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "q_lora_rank": 32,
    "kv_lora_rank": 32,
    "qk_nope_head_dim": 16,
    "qk_rope_head_dim": 8,
    "v_head_dim": 16,
    "num_hidden_layers": 2,
    "first_k_dense_replace": 1,
    "n_routed_experts": 4,
    "num_experts_per_tok": 4,
    "n_group": 2,
    "topk_group": 2,
    "n_shared_experts": 1,
    "norm_topk_prob": True,
    "routed_scaling_factor": 2.5,
    "vocab_size": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "rope_interleave": True,
    "attention_bias": False,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

# Differences known and explained, (dtype name, module path) -> (cause, exact costi - torch):
# the MoE loop's two CPU-vs-CUDA steps, as Mixtral's (mixtral_plain.py: one_hot's CPU-only
# range checks, CUDA nonzero's copy of the strided [T, k] expert mask), in the MoE layers.
_MOE = moe_cpu_vs_cuda(CFG["num_hidden_layers"] - CFG["first_k_dense_replace"], CFG["n_routed_experts"],
                       CFG["num_experts_per_tok"])
KNOWN = {(dtype, path): _MOE for dtype in ("float32", "bfloat16")
         for path in ("model.moe_layers.mlp_moe.moe", "model.moe_layers.mlp_moe", "model.moe_layers", "model", "")}


def prepare(model, batch, seq_len, cache_len, dtype):
    """Fills the cache with cache_len tokens (not recorded) and returns the step to record."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return shared_plain.fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                                      lambda b, q, past: causal_mask(b, q, past, dtype))
