"""OPTForCausalLM's inference forward in plain PyTorch, line by line from the modeling code
costi's kernels/opt.cost cites (transformers src/transformers/models/opt/modeling_opt.py
@ 0184d2087e15afbd83ffa3cef25044a4f6c05047; DynamicLayer.update from cache_utils.py @
004999d972e478164dd7e8e508350937c803531e, imported from llama_plain), eager attention (torch
1.13 has no F.scaled_dot_product_attention). Module names are transformers'; costi's
OPTForCausalLM calls the decoder directly (as L776 does), so model.decoder is costi's
"decoder" (costi_path). The L-numbers are those of the cited file.
"""

import torch
import torch.nn.functional as F
from torch import nn

import shared_plain

from llama_plain import DynamicLayer, causal_mask


class OPTLearnedPositionalEmbedding(nn.Embedding):  # L57-82
    def __init__(self, num_embeddings, embedding_dim):
        self.offset = 2
        super().__init__(num_embeddings + self.offset, embedding_dim)

    def forward(self, position_ids):  # position_ids given (generate()): L76-80 do not run
        return super().forward(position_ids + self.offset)


def eager_attention_forward(module, query, key, value, attention_mask, scaling):  # L86-106
    attn_weights = torch.matmul(query, key.transpose(-1, -2)) * scaling
    if attention_mask is not None:
        attn_weights = attn_weights + attention_mask
    attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_output = torch.matmul(attn_weights, value)
    attn_output = attn_output.transpose(1, 2).contiguous()
    return attn_output, attn_weights


class OPTAttention(nn.Module):
    def __init__(self, cfg, layer_idx):  # L112-145
        super().__init__()
        self.embed_dim = cfg["hidden_size"]
        self.num_heads = cfg["num_attention_heads"]
        self.layer_idx = layer_idx
        self.head_dim = self.embed_dim // self.num_heads
        self.scaling = self.head_dim**-0.5
        bias = cfg.get("enable_bias", True)
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=bias)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=bias)
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=bias)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=bias)

    def forward(self, hidden_states, cache, attention_mask):  # L147-200, eager
        bsz, tgt_len, _ = hidden_states.size()
        query_states = self.q_proj(hidden_states) * self.scaling
        query_states = query_states.view(bsz, -1, self.num_heads, self.head_dim).transpose(1, 2)
        key_states = self.k_proj(hidden_states)
        value_states = self.v_proj(hidden_states)
        key_states = key_states.view(bsz, -1, self.num_heads, self.head_dim).transpose(1, 2)
        value_states = value_states.view(bsz, -1, self.num_heads, self.head_dim).transpose(1, 2)
        key_states, value_states = cache[self.layer_idx].update(key_states, value_states)
        attn_output, attn_weights = eager_attention_forward(self, query_states, key_states, value_states,
                                                            attention_mask, scaling=1.0)
        attn_output = attn_output.reshape(bsz, tgt_len, -1).contiguous()
        attn_output = self.out_proj(attn_output)
        return attn_output, attn_weights


class OPTDecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):  # L204-219
        super().__init__()
        self.embed_dim = cfg["hidden_size"]
        self.self_attn = OPTAttention(cfg, layer_idx)
        self.do_layer_norm_before = cfg.get("do_layer_norm_before", True)
        assert cfg.get("activation_function", "relu") == "relu"
        self.activation_fn = nn.ReLU()
        affine = cfg.get("layer_norm_elementwise_affine", True)
        bias = cfg.get("enable_bias", True)
        self.self_attn_layer_norm = nn.LayerNorm(self.embed_dim, elementwise_affine=affine)
        self.fc1 = nn.Linear(self.embed_dim, cfg["ffn_dim"], bias=bias)
        self.fc2 = nn.Linear(cfg["ffn_dim"], self.embed_dim, bias=bias)
        self.final_layer_norm = nn.LayerNorm(self.embed_dim, elementwise_affine=affine)

    def forward(self, hidden_states, attention_mask, cache):  # L221-297
        residual = hidden_states
        if self.do_layer_norm_before:
            hidden_states = self.self_attn_layer_norm(hidden_states)
        hidden_states, self_attn_weights = self.self_attn(hidden_states, cache, attention_mask)
        hidden_states = residual + hidden_states
        if not self.do_layer_norm_before:
            hidden_states = self.self_attn_layer_norm(hidden_states)
        hidden_states_shape = hidden_states.shape
        hidden_states = hidden_states.reshape(-1, hidden_states.size(-1))
        residual = hidden_states
        if self.do_layer_norm_before:
            hidden_states = self.final_layer_norm(hidden_states)
        hidden_states = self.fc1(hidden_states)
        hidden_states = self.activation_fn(hidden_states)
        hidden_states = self.fc2(hidden_states)
        hidden_states = (residual + hidden_states).view(hidden_states_shape)
        if not self.do_layer_norm_before:
            hidden_states = self.final_layer_norm(hidden_states)
        return (hidden_states,)


class OPTDecoder(nn.Module):
    def __init__(self, cfg):  # L321-354
        super().__init__()
        hidden = cfg["hidden_size"]
        proj = cfg.get("word_embed_proj_dim") or hidden
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], proj, cfg.get("pad_token_id", 1))
        self.embed_positions = OPTLearnedPositionalEmbedding(cfg.get("max_position_embeddings", 2048), hidden)
        self.project_out = nn.Linear(hidden, proj, bias=False) if proj != hidden else None
        self.project_in = nn.Linear(proj, hidden, bias=False) if proj != hidden else None
        before = cfg.get("do_layer_norm_before", True)
        affine = cfg.get("layer_norm_elementwise_affine", True)
        self.final_layer_norm = (nn.LayerNorm(hidden, elementwise_affine=affine)
                                 if before and not cfg.get("_remove_final_layer_norm", False) else None)
        self.layers = nn.ModuleList([OPTDecoderLayer(cfg, layer_idx=i) for i in range(cfg["num_hidden_layers"])])

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L484-647, position_ids given
        input_ids = input_ids.view(-1, input_ids.shape[-1])
        inputs_embeds = self.embed_tokens(input_ids)
        pos_embeds = self.embed_positions(position_ids)
        if self.project_in is not None:
            inputs_embeds = self.project_in(inputs_embeds)
        hidden_states = inputs_embeds + pos_embeds.to(inputs_embeds.device)
        for decoder_layer in self.layers:
            hidden_states = decoder_layer(hidden_states, causal_mask, cache)[0]
        if self.final_layer_norm is not None:
            hidden_states = self.final_layer_norm(hidden_states)
        if self.project_out is not None:
            hidden_states = self.project_out(hidden_states)
        return hidden_states


class OPTModel(nn.Module):
    def __init__(self, cfg):  # L652-656
        super().__init__()
        self.decoder = OPTDecoder(cfg)


class OPTForCausalLM(nn.Module):
    def __init__(self, cfg):  # L713-721
        super().__init__()
        self.model = OPTModel(cfg)
        proj = cfg.get("word_embed_proj_dim") or cfg["hidden_size"]
        self.lm_head = nn.Linear(proj, cfg["vocab_size"], bias=False)
        if cfg.get("tie_word_embeddings", True):  # _tied_weights_keys (L711), PreTrainedModel.tie_weights
            self.lm_head.weight = self.model.decoder.embed_tokens.weight

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L731-805
        hidden_states = self.model.decoder(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)
        return self.lm_head(hidden_states[:, slice_indices, :]).contiguous()


def build(cfg, dtype, seed=0):
    return shared_plain.random_model(OPTForCausalLM, cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config shaped as opt-350m: embeddings narrower than the layers (project_in and
# project_out), LayerNorms after the residual adds and no final LayerNorm; biases, affine
# LayerNorms and the tied lm_head are OPTConfig's / PretrainedConfig's defaults (absent here).
CFG = {
    "architectures": ["OPTForCausalLM"],
    "model_type": "opt",
    "hidden_size": 64,
    "word_embed_proj_dim": 32,
    "ffn_dim": 96,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "max_position_embeddings": 32,
    "vocab_size": 128,
    "activation_function": "relu",
    "do_layer_norm_before": False,
    "_attn_implementation": "eager",
}


def costi_path(path):
    """OPTForCausalLM.forward calls self.model.decoder (L776): costi's label is "decoder"."""
    return path[len("model."):] if path.startswith("model.") else path


# nn.LayerNorm's per-row mean and rstd in bfloat16 on the CPU, float32 in costi (CUDA's
# accumulate type): gpt2_plain.py's _LN_STATS. Two LayerNorms per layer, no final one.
_LN_STATS = "bfloat16 LayerNorm mean/rstd: CPU writes them in bfloat16, CUDA (costi) in float32"


def _ln_stats(norms_per_layer, final):
    def delta(batch, seq_len, cache_len):
        norms = norms_per_layer * CFG["num_hidden_layers"] + final
        return (0, 0, norms * 4 * batch * seq_len)
    return (_LN_STATS, delta)


KNOWN = {("bfloat16", path): _ln_stats(per_layer, 0) for path, per_layer in (
    ("decoder.layers.self_attn_layer_norm", 1), ("decoder.layers.final_layer_norm", 1),
    ("decoder.layers", 2), ("decoder", 2), ("", 2))}


def prepare(model, batch, seq_len, cache_len, dtype):
    """Fills the cache with cache_len tokens (not recorded) and returns the step to record."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return shared_plain.fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                                      lambda b, q, past: causal_mask(b, q, past, dtype))
