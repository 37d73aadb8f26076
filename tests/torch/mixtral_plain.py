"""MixtralForCausalLM's inference forward in plain PyTorch, line by line from the modeling code
costi's kernels/mixtral.cost cites (src/transformers/models/mixtral/modeling_mixtral.py @
5dd4a63548857797727ae73eeb6a6e886ea02a3e), eager attention, the torch.cat cache
(DynamicLayer.update of cache_utils.py @ 004999d972e478164dd7e8e508350937c803531e, as the
kernels model it). MixtralRMSNorm, rotate_half, apply_rotary_pos_emb, repeat_kv,
eager_attention_forward, MixtralAttention and MixtralRotaryEmbedding's forward are Llama's
lines verbatim (the file is generated from modular_mixtral.py, which takes them from
Mistral/Llama), so they are imported from llama_plain. Module names are transformers', so
module paths match the call labels of costi's tree.

Routing is made deterministic by the config: num_experts_per_tok == num_local_experts, so
top-k selects every expert for every token whatever the router computes, each expert gets
exactly T tokens, and costi's uniform share T*k/E (docs/conventions.md, "Mixture of
experts") is the count the loop runs, at every batch size and sequence length.
"""

import torch
import torch.nn.functional as F
from torch import nn

import llama_plain
import shared_plain
from llama_plain import DynamicLayer, LlamaAttention, LlamaRMSNorm, LlamaRotaryEmbedding, causal_mask


class MixtralBlockSparseTop2MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.w1 = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"], bias=False)
        self.w2 = nn.Linear(cfg["intermediate_size"], cfg["hidden_size"], bias=False)
        self.w3 = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"], bias=False)
        assert cfg["hidden_act"] == "silu"
        self.act_fn = nn.SiLU()

    def forward(self, hidden_states):  # L80-83
        current_hidden_states = self.act_fn(self.w1(hidden_states)) * self.w3(hidden_states)
        current_hidden_states = self.w2(current_hidden_states)
        return current_hidden_states


class MixtralSparseMoeBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.hidden_dim = cfg["hidden_size"]
        self.num_experts = cfg["num_local_experts"]
        self.top_k = cfg["num_experts_per_tok"]
        self.gate = nn.Linear(self.hidden_dim, self.num_experts, bias=False)
        self.experts = nn.ModuleList([MixtralBlockSparseTop2MLP(cfg) for _ in range(self.num_experts)])

    def forward(self, hidden_states):  # L113-151 (eval: no jitter)
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        hidden_states = hidden_states.view(-1, hidden_dim)
        router_logits = self.gate(hidden_states)
        routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float)
        routing_weights, selected_experts = torch.topk(routing_weights, self.top_k, dim=-1)
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
        final_hidden_states = final_hidden_states.reshape(batch_size, sequence_length, hidden_dim)
        return final_hidden_states, router_logits


class MixtralDecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):
        super().__init__()
        H = cfg["hidden_size"]
        self.self_attn = LlamaAttention(cfg, layer_idx)  # MixtralAttention, L246-311: Llama's lines
        self.block_sparse_moe = MixtralSparseMoeBlock(cfg)
        self.input_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.post_attention_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):  # L325-392
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask, cache)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states, router_logits = self.block_sparse_moe(hidden_states)
        hidden_states = residual + hidden_states
        return (hidden_states,)


class MixtralModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H = cfg["hidden_size"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], H)
        self.layers = nn.ModuleList([MixtralDecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.rotary_emb = LlamaRotaryEmbedding(cfg["head_dim"], cfg["rope_theta"])

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L613-729
        inputs_embeds = self.embed_tokens(input_ids)
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for decoder_layer in self.layers:
            layer_outputs = decoder_layer(hidden_states, causal_mask, position_embeddings, cache)
            hidden_states = layer_outputs[0]
        return self.norm(hidden_states)


class MixtralForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = MixtralModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L1007-1130
        hidden_states = self.model(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)
        return self.lm_head(hidden_states[:, slice_indices, :])


def build(cfg, dtype, seed=0):
    return shared_plain.random_model(MixtralForCausalLM, cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention and 4 experts, every one chosen for every token
# (num_experts_per_tok == num_local_experts: deterministic routing, module docstring).
CFG = {
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-5,
    "rope_theta": 1e6,
    "hidden_act": "silu",
    "num_local_experts": 4,
    "num_experts_per_tok": 4,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

# Differences known and explained, (dtype name, module path) -> (cause, exact costi - torch).
# Two steps of the MoE loop run differently on CUDA, which costi models, and on torch 1.13's
# CPU, both on int64 index tensors, per MoE layer with T = batch*seq_len tokens, Tk = T*k:
#  * F.one_hot(selected_experts, num_classes=E) checks its input's range off CUDA only
#    (aten/src/ATen/native/Onehot.cpp @ pytorch/pytorch 2ed5f270: "if (self.device().type()
#    != at::kCUDA)" guards self.min().item() and self.max().item()): two full reductions over
#    the Tk indices (Tk compares each, Tk*8 bytes read each, one int64 written each) and two
#    .item() reads of 8 bytes, which CUDA does not run: torch has 2*Tk FLOPs, 2*Tk*8 + 2*8
#    bytes read and 2*8 written more.
#  * torch.where(expert_mask[e]) runs nonzero over the expert's [k, T] slice of the permuted
#    one-hot, a non-contiguous view. CUDA's nonzero copies it first (nonzero_cuda_out_impl,
#    self.contiguous(); costi's torch.nonzero(contiguous = 0), docs/conventions.md "Mixture of
#    experts"), CPU's reads it strided: costi has Tk*8 bytes read and written more per expert.
# The enclosing modules differ by exactly the same, summed over the layers.
def moe_cpu_vs_cuda(moe_layers, experts, top_k):
    """(cause, delta) for a transformers MoE loop of `experts` experts, top_k per token, in
    moe_layers layers: costi - torch of (flops, read, write) at a step."""
    def delta(batch, seq_len, cache_len):
        L, E, Tk = moe_layers, experts, batch * seq_len * top_k
        return (-L * 2 * Tk, L * (E * Tk * 8 - 2 * Tk * 8 - 2 * 8), L * (E * Tk * 8 - 2 * 8))
    return ("one_hot's CPU-only min/max range checks; CUDA nonzero's copy of the strided expert mask", delta)


_MOE = moe_cpu_vs_cuda(CFG["num_hidden_layers"], CFG["num_local_experts"], CFG["num_experts_per_tok"])
KNOWN = {(dtype, path): _MOE for dtype in ("float32", "bfloat16")
         for path in ("model.layers.block_sparse_moe", "model.layers", "model", "")}


def prepare(model, batch, seq_len, cache_len, dtype):
    """Fills the cache with cache_len tokens (not recorded) and returns the step to record."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return shared_plain.fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                                      lambda b, q, past: causal_mask(b, q, past, dtype))
