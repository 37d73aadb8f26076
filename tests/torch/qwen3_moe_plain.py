"""Qwen3MoeForCausalLM's inference forward in plain PyTorch, from the lines kernels/qwen3_moe.cost
cites (src/transformers/models/qwen3_moe/modeling_qwen3_moe.py @ 16b6c53c8ec3a720bd45c1c377bf94e1d01249c5,
generated from modular_qwen3_moe.py). Qwen3MoeAttention (L152-194) is Qwen3Attention's code
and is imported from qwen3_plain.py; RMSNorm (L277-282), the rotary embedding's forward
(L390-401) and the decoder layer's residual lines are Llama's, imported from llama_plain.py.
What Qwen3-MoE has of its own is written out: Qwen3MoeMLP with its intermediate_size argument
(L197-210), the sparse MoE block whose loop runs over `expert_hit`, the experts that received a
token (L226-264), the dense / sparse layer choice by decoder_sparse_step (L295-300), and
sliding_window on every layer when it is set (L149; one DynamicSlidingWindowLayer per layer,
the sliding-window mask for all layers, L471-479). Eager attention. The L-numbers are those
of the cited file.

Routing is made deterministic by the config as Mixtral's (tests/torch/mixtral_plain.py):
num_experts_per_tok == num_experts, so every expert is hit and gets exactly T tokens, and
costi's n_hit = min(E, T*k) = E and share T*k/E are the counts the loop runs.
"""

import torch
import torch.nn.functional as F
from torch import nn

from llama_plain import LlamaRMSNorm, LlamaRotaryEmbedding, build as llama_build
from mixtral_plain import moe_cpu_vs_cuda
from qwen3_plain import Qwen3Attention
from shared_plain import DynamicSlidingWindowLayer, fill_and_step, sliding_causal_mask


def head_dim(cfg):
    # L129 getattr(config, "head_dim", hidden_size // num_attention_heads)
    return cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])


class Qwen3MoeMLP(nn.Module):
    def __init__(self, cfg, intermediate_size=None):  # L197-206
        super().__init__()
        self.hidden_size = cfg["hidden_size"]
        self.intermediate_size = intermediate_size if intermediate_size is not None else cfg["intermediate_size"]
        self.gate_proj = nn.Linear(self.hidden_size, self.intermediate_size, bias=False)
        self.up_proj = nn.Linear(self.hidden_size, self.intermediate_size, bias=False)
        self.down_proj = nn.Linear(self.intermediate_size, self.hidden_size, bias=False)
        assert cfg["hidden_act"] == "silu"
        self.act_fn = nn.SiLU()

    def forward(self, x):  # L208-210
        down_proj = self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))
        return down_proj


class Qwen3MoeSparseMoeBlock(nn.Module):
    def __init__(self, cfg):  # L214-224
        super().__init__()
        self.num_experts = cfg["num_experts"]
        self.top_k = cfg["num_experts_per_tok"]
        self.norm_topk_prob = cfg["norm_topk_prob"]
        self.gate = nn.Linear(cfg["hidden_size"], cfg["num_experts"], bias=False)
        self.experts = nn.ModuleList(
            [Qwen3MoeMLP(cfg, intermediate_size=cfg["moe_intermediate_size"]) for _ in range(self.num_experts)])

    def forward(self, hidden_states):  # L226-264
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
        expert_hit = torch.greater(expert_mask.sum(dim=(-1, -2)), 0).nonzero()
        for expert_idx in expert_hit:
            expert_layer = self.experts[expert_idx]
            idx, top_x = torch.where(expert_mask[expert_idx].squeeze(0))
            current_state = hidden_states[None, top_x].reshape(-1, hidden_dim)
            current_hidden_states = expert_layer(current_state) * routing_weights[top_x, idx, None]
            final_hidden_states.index_add_(0, top_x, current_hidden_states.to(hidden_states.dtype))
        final_hidden_states = final_hidden_states.reshape(batch_size, sequence_length, hidden_dim)
        return final_hidden_states, router_logits


class Qwen3MoeDecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L289-303
        super().__init__()
        H = cfg["hidden_size"]
        self.self_attn = Qwen3Attention(dict(cfg, head_dim=head_dim(cfg)), layer_idx)
        if cfg["num_experts"] > 0 and (layer_idx + 1) % cfg["decoder_sparse_step"] == 0:   # L295-300
            self.mlp = Qwen3MoeSparseMoeBlock(cfg)
        else:
            self.mlp = Qwen3MoeMLP(cfg, intermediate_size=cfg["intermediate_size"])
        self.input_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.post_attention_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])

    def forward(self, hidden_states, position_embeddings, attention_mask, cache):  # L306-365
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask, cache)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        if isinstance(hidden_states, tuple):
            hidden_states, _ = hidden_states
        hidden_states = residual + hidden_states
        return hidden_states


class Qwen3MoeModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H = cfg["hidden_size"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], H)
        self.layers = nn.ModuleList([Qwen3MoeDecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.rotary_emb = LlamaRotaryEmbedding(head_dim(cfg), cfg["rope_theta"])   # Qwen3MoeRotaryEmbedding, L390-401

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L443-503
        inputs_embeds = self.embed_tokens(input_ids)                     # L461
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)   # L484
        for decoder_layer in self.layers:                                # L486-496: one mask for all layers
            hidden_states = decoder_layer(hidden_states, position_embeddings, causal_mask, cache)
        return self.norm(hidden_states)                                  # L498


class Qwen3MoeForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = Qwen3MoeModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L608-690
        hidden_states = self.model(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)                     # L664
        return self.lm_head(hidden_states[:, slice_indices, :])          # L665


def build(cfg, dtype, seed=0):
    return llama_build(cfg, dtype, seed, cls=Qwen3MoeForCausalLM)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config: grouped-query attention with q/k/v/o biases and head_dim 24 (set, as the
# shipped checkpoints set it, != hidden_size / heads = 16), norm_topk_prob on, every layer
# sliding with a window of 4 (smaller than the keys of every case with a cache, cache_len 4-6),
# decoder_sparse_step 2: layer 0 is dense (intermediate_size 96), layer 1 sparse, 4 experts
# of moe_intermediate_size 32, every one chosen for every token (module docstring).
CFG = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "model_type": "qwen3_moe",
    "hidden_size": 64,
    "intermediate_size": 96,
    "moe_intermediate_size": 32,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 24,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "hidden_act": "silu",
    "attention_bias": True,
    "use_sliding_window": True,
    "sliding_window": 4,
    "decoder_sparse_step": 2,
    "num_experts": 4,
    "num_experts_per_tok": 4,
    "norm_topk_prob": True,
    "mlp_only_layers": [],
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

N_MOE = CFG["num_hidden_layers"] // CFG["decoder_sparse_step"]

# Differences known and explained, (dtype name, module path) -> (cause, exact costi - torch).
#  * one_hot's CPU-only range checks and CUDA nonzero's copy of the strided expert mask, as
#    Mixtral's (mixtral_plain.moe_cpu_vs_cuda; the loop runs over the E experts hit, all of them
#    here). expert_mask[expert_idx] is advanced indexing whose output keeps the permuted
#    mask's strides ([1, k, T] with strides (k*T, 1, k): not contiguous, on the meta device as
#    on CPU, the layout TensorIterator gives any device), so CUDA's nonzero copies it too.
#  * L251 self.experts[expert_idx] turns the one-element index tensor into a Python int
#    (operator.index -> .item()): an 8-byte read per expert hit in the trace, a host
#    synchronisation costi does not count (docs/conventions.md, "Host synchronisations are not
#    counted").
_LOOP = moe_cpu_vs_cuda(N_MOE, CFG["num_experts"], CFG["num_experts_per_tok"])


def _moe_delta(batch, seq_len, cache_len):
    f, r, w = _LOOP[1](batch, seq_len, cache_len)
    return f, r - N_MOE * CFG["num_experts"] * 8, w


_MOE = (_LOOP[0] + "; the expert lookup's .item(), a host synchronisation", _moe_delta)
KNOWN = {(dtype, path): _MOE for dtype in ("float32", "bfloat16")
         for path in ("model.layers_moe.mlp_moe", "model.layers_moe", "model", "")}


def costi_path(path):
    """costi's Qwen3MoeModel calls the sparse and the dense layers layers_moe / layers_dense and
    their MLPs mlp_moe / mlp_dense, and Qwen3MoeAttention calls Qwen3Attention as `attn`
    (kernels/qwen3_moe.cost)."""
    parts = path.split(".")
    if parts[:2] == ["model", "layers"] and len(parts) > 2:
        moe = (int(parts[2]) + 1) % CFG["decoder_sparse_step"] == 0
        parts[1] = "layers_moe" if moe else "layers_dense"
        if len(parts) > 3 and parts[3] == "mlp":
            parts[3] = "mlp_moe" if moe else "mlp_dense"
        if len(parts) > 3 and parts[3] == "self_attn":
            parts.insert(4, "attn")
    return ".".join(parts)


def prepare(model, batch, seq_len, cache_len, dtype):
    """DynamicCache(config=...) without layer_types but with a sliding_window: one
    DynamicSlidingWindowLayer per layer; L471-479: the sliding-window mask for every layer."""
    W = CFG["sliding_window"]
    cache = [DynamicSlidingWindowLayer(W) for _ in range(CFG["num_hidden_layers"])]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: sliding_causal_mask(b, q, past, dtype, W))
