"""Qwen2MoeForCausalLM's inference forward in plain PyTorch, from the lines kernels/qwen2_moe.cost
cites (src/transformers/models/qwen2_moe/modeling_qwen2_moe.py @ 5dd4a63548857797727ae73eeb6a6e886ea02a3e,
the v4.48-era design, as Mixtral's). Qwen2MoeRMSNorm, rotate_half, apply_rotary_pos_emb and
repeat_kv are "Copied from" Llama, and Qwen2MoeRotaryEmbedding's forward is Llama's lines:
imported from llama_plain.py. What Qwen2-MoE has of its own is written out: the eager
Qwen2MoeAttention (q/k/v biases always, o_proj without, head_dim = hidden_size // heads, its
own eager lines, L298-395), Qwen2MoeMLP with an intermediate_size argument (L267-280), the
sparse MoE block (L607-666: Mixtral's loop over all experts, then the shared expert scaled by
sigmoid(shared_expert_gate(x))), the dense / sparse layer choice by decoder_sparse_step
(L676-681). Eager attention (QWEN2MOE_ATTENTION_CLASSES["eager"], L674). The L-numbers are
those of the cited file.

Routing is made deterministic by the config as Mixtral's (tests/torch/mixtral_plain.py):
num_experts_per_tok == num_experts, every expert gets exactly T tokens, costi's T*k/E.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from llama_plain import (DynamicLayer, LlamaRMSNorm, LlamaRotaryEmbedding, apply_rotary_pos_emb,
                         build as llama_build, causal_mask, repeat_kv)
from mixtral_plain import moe_cpu_vs_cuda
from shared_plain import fill_and_step


class Qwen2MoeMLP(nn.Module):
    def __init__(self, cfg, intermediate_size=None):  # L274-277: gate_proj, up_proj, down_proj, act_fn
        super().__init__()
        self.hidden_size = cfg["hidden_size"]
        self.intermediate_size = intermediate_size
        self.gate_proj = nn.Linear(self.hidden_size, self.intermediate_size, bias=False)
        self.up_proj = nn.Linear(self.hidden_size, self.intermediate_size, bias=False)
        self.down_proj = nn.Linear(self.intermediate_size, self.hidden_size, bias=False)
        assert cfg["hidden_act"] == "silu"
        self.act_fn = nn.SiLU()

    def forward(self, x):  # L279-280
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class Qwen2MoeAttention(nn.Module):  # L298-395
    def __init__(self, cfg, layer_idx):
        super().__init__()
        self.layer_idx = layer_idx
        self.hidden_size = cfg["hidden_size"]
        self.num_heads = cfg["num_attention_heads"]
        self.head_dim = self.hidden_size // self.num_heads                   # L317
        self.num_key_value_heads = cfg["num_key_value_heads"]
        self.num_key_value_groups = self.num_heads // self.num_key_value_heads
        self.q_proj = nn.Linear(self.hidden_size, self.num_heads * self.head_dim, bias=True)            # L330
        self.k_proj = nn.Linear(self.hidden_size, self.num_key_value_heads * self.head_dim, bias=True)  # L331
        self.v_proj = nn.Linear(self.hidden_size, self.num_key_value_heads * self.head_dim, bias=True)  # L332
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, self.hidden_size, bias=False)           # L333
        # L335 self.rotary_emb = Qwen2MoeRotaryEmbedding(config): built, never called (a buffer, no parameter)

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):  # L338-395
        bsz, q_len, _ = hidden_states.size()
        query_states = self.q_proj(hidden_states)
        key_states = self.k_proj(hidden_states)
        value_states = self.v_proj(hidden_states)
        query_states = query_states.view(bsz, q_len, -1, self.head_dim).transpose(1, 2)
        key_states = key_states.view(bsz, q_len, -1, self.head_dim).transpose(1, 2)
        value_states = value_states.view(bsz, q_len, -1, self.head_dim).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        key_states = repeat_kv(key_states, self.num_key_value_groups)
        value_states = repeat_kv(value_states, self.num_key_value_groups)
        attn_weights = torch.matmul(query_states, key_states.transpose(2, 3)) / math.sqrt(self.head_dim)
        if attention_mask is not None:  # no matter the length, we just slice it
            causal_mask = attention_mask[:, :, :, : key_states.shape[-2]]
            attn_weights = attn_weights + causal_mask
        attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query_states.dtype)
        attn_weights = nn.functional.dropout(attn_weights, p=0.0, training=False)
        attn_output = torch.matmul(attn_weights, value_states)
        attn_output = attn_output.transpose(1, 2).contiguous()
        attn_output = attn_output.reshape(bsz, q_len, self.hidden_size)
        return self.o_proj(attn_output)


class Qwen2MoeSparseMoeBlock(nn.Module):
    def __init__(self, cfg):  # L608-621
        super().__init__()
        self.num_experts = cfg["num_experts"]
        self.top_k = cfg["num_experts_per_tok"]
        self.norm_topk_prob = cfg["norm_topk_prob"]
        self.gate = nn.Linear(cfg["hidden_size"], cfg["num_experts"], bias=False)
        self.experts = nn.ModuleList(
            [Qwen2MoeMLP(cfg, intermediate_size=cfg["moe_intermediate_size"]) for _ in range(self.num_experts)])
        self.shared_expert = Qwen2MoeMLP(cfg, intermediate_size=cfg["shared_expert_intermediate_size"])
        self.shared_expert_gate = torch.nn.Linear(cfg["hidden_size"], 1, bias=False)

    def forward(self, hidden_states):  # L623-666
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        hidden_states = hidden_states.view(-1, hidden_dim)
        router_logits = self.gate(hidden_states)
        routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float)
        routing_weights, selected_experts = torch.topk(routing_weights, self.top_k, dim=-1)
        if self.norm_topk_prob:
            routing_weights /= routing_weights.sum(dim=-1, keepdim=True)
        routing_weights = routing_weights.to(hidden_states.dtype)
        final_hidden_states = torch.zeros(
            (batch_size * sequence_length, hidden_dim), dtype=hidden_states.dtype, device=hidden_states.device
        )
        expert_mask = torch.nn.functional.one_hot(selected_experts, num_classes=self.num_experts).permute(2, 1, 0)
        for expert_idx in range(self.num_experts):
            expert_layer = self.experts[expert_idx]
            idx, top_x = torch.where(expert_mask[expert_idx])
            current_state = hidden_states[None, top_x].reshape(-1, hidden_dim)
            current_hidden_states = expert_layer(current_state) * routing_weights[top_x, idx, None]
            final_hidden_states.index_add_(0, top_x, current_hidden_states.to(hidden_states.dtype))
        shared_expert_output = self.shared_expert(hidden_states)
        shared_expert_output = F.sigmoid(self.shared_expert_gate(hidden_states)) * shared_expert_output
        final_hidden_states = final_hidden_states + shared_expert_output
        final_hidden_states = final_hidden_states.reshape(batch_size, sequence_length, hidden_dim)
        return final_hidden_states, router_logits


def is_sparse(cfg, layer_idx):
    """L676-681, mlp_only_layers empty."""
    return cfg["num_experts"] > 0 and (layer_idx + 1) % cfg["decoder_sparse_step"] == 0


class Qwen2MoeDecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L670-684
        super().__init__()
        H = cfg["hidden_size"]
        self.self_attn = Qwen2MoeAttention(cfg, layer_idx)
        if is_sparse(cfg, layer_idx):
            self.mlp = Qwen2MoeSparseMoeBlock(cfg)
        else:
            self.mlp = Qwen2MoeMLP(cfg, intermediate_size=cfg["intermediate_size"])
        self.input_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.post_attention_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):  # L686-764
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, attention_mask, position_embeddings, cache)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        if isinstance(hidden_states, tuple):
            hidden_states, router_logits = hidden_states
        hidden_states = residual + hidden_states
        return (hidden_states,)


class Qwen2MoeModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H = cfg["hidden_size"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], H)
        self.layers = nn.ModuleList([Qwen2MoeDecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.rotary_emb = LlamaRotaryEmbedding(H // cfg["num_attention_heads"], cfg["rope_theta"])

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L892-1063
        inputs_embeds = self.embed_tokens(input_ids)                      # L973-974
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)   # L991
        for decoder_layer in self.layers:                                 # L999-1037
            layer_outputs = decoder_layer(hidden_states, causal_mask, position_embeddings, cache)
            hidden_states = layer_outputs[0]
        return self.norm(hidden_states)                                   # L1040


class Qwen2MoeForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = Qwen2MoeModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)   # L1228

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L1219-1363
        hidden_states = self.model(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)                      # L1331
        return self.lm_head(hidden_states[:, slice_indices, :])           # L1332


def build(cfg, dtype, seed=0):
    return llama_build(cfg, dtype, seed, cls=Qwen2MoeForCausalLM)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config: grouped-query attention (q/k/v biases always), head_dim 64 / 4 = 16,
# decoder_sparse_step 2: layer 0 dense (intermediate_size 96), layer 1 sparse with 4 experts of
# moe_intermediate_size 32, every one chosen for every token (module docstring), renormalised
# (norm_topk_prob), and the shared expert of shared_expert_intermediate_size 48.
CFG = {
    "architectures": ["Qwen2MoeForCausalLM"],
    "model_type": "qwen2_moe",
    "hidden_size": 64,
    "intermediate_size": 96,
    "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 48,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "hidden_act": "silu",
    "decoder_sparse_step": 2,
    "num_experts": 4,
    "num_experts_per_tok": 4,
    "norm_topk_prob": True,
    "mlp_only_layers": [],
    "use_sliding_window": False,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

# Differences known and explained, (dtype name, module path) -> (cause, exact costi - torch):
# the MoE loop's two CPU-vs-CUDA steps, as Mixtral's (the same loop over all E experts, the
# expert mask a strided select), in the one sparse layer.
_MOE = moe_cpu_vs_cuda(sum(is_sparse(CFG, i) for i in range(CFG["num_hidden_layers"])),
                       CFG["num_experts"], CFG["num_experts_per_tok"])
KNOWN = {(dtype, path): _MOE for dtype in ("float32", "bfloat16")
         for path in ("model.layers_sparse.mlp", "model.layers_sparse", "model", "")}


def costi_path(path):
    """costi's Qwen2MoeModel calls the sparse and the dense layers layers_sparse / layers_dense,
    a dense layer's MLP mlp_dense, and the eager attention class self_attn_eager
    (kernels/qwen2_moe.cost)."""
    parts = path.split(".")
    if parts[:2] == ["model", "layers"] and len(parts) > 2:
        sparse = is_sparse(CFG, int(parts[2]))
        parts[1] = "layers_sparse" if sparse else "layers_dense"
        if len(parts) > 3 and parts[3] == "mlp" and not sparse:
            parts[3] = "mlp_dense"
        if len(parts) > 3 and parts[3] == "self_attn":
            parts[3] = "self_attn_eager"
    return ".".join(parts)


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache: a DynamicLayer per layer; the eager path's 4-D float causal mask
    (_update_causal_mask, L1065-1138: [B, 1, S, C + S] for generate()'s all-ones attention_mask)."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: causal_mask(b, q, past, dtype))
