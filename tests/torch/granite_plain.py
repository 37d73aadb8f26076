"""GraniteForCausalLM's inference forward in plain PyTorch, from the lines kernels/granite.cost cites
(src/transformers/models/granite/modeling_granite.py @ b6dd89b47daad100034ac4e3b7beb2101f07d7f1,
a v4.52-era file generated from modular_granite.py). Granite is Llama's code with four scalar
multipliers: GraniteRMSNorm (L210-215), the rotary embedding's forward (L363-374),
rotate_half / apply_rotary_pos_emb (L51-82), repeat_kv / eager_attention_forward (L85-120) and
GraniteAttention's forward (L149-197) are Llama's lines, imported from llama_plain.py, with
GraniteAttention's scaling = attention_multiplier (L132) and q/k/v/o biases from
attention_bias (L136-147). Written out: GraniteMLP with mlp_bias (L227-234), the decoder
layer's residual_multiplier (L298, L304), the embedding_multiplier (L435), logits / logits_scaling
(L718). The cache is the one the kernels cost, DynamicLayer.update (cache_utils.py @ 004999d9:
always torch.cat; docs/conventions.md, "KV cache"). Eager attention. The L-numbers are those of
the cited file.
"""

from torch import nn

from llama_plain import (DynamicLayer, LlamaAttention, LlamaRMSNorm, LlamaRotaryEmbedding, build as llama_build,
                         causal_mask)
from shared_plain import fill_and_step


class GraniteAttention(LlamaAttention):  # forward L149-197: LlamaAttention's lines
    def __init__(self, cfg, layer_idx):
        super().__init__(cfg, layer_idx)
        H, d, bias = cfg["hidden_size"], self.head_dim, cfg["attention_bias"]
        self.scaling = cfg["attention_multiplier"]                 # L132
        self.q_proj = nn.Linear(H, self.num_heads * d, bias=bias)  # L136-147
        self.k_proj = nn.Linear(H, self.num_kv * d, bias=bias)
        self.v_proj = nn.Linear(H, self.num_kv * d, bias=bias)
        self.o_proj = nn.Linear(self.num_heads * d, H, bias=bias)


class GraniteMLP(nn.Module):
    def __init__(self, cfg):  # L227-230
        super().__init__()
        H, I, bias = cfg["hidden_size"], cfg["intermediate_size"], cfg["mlp_bias"]
        self.gate_proj = nn.Linear(H, I, bias=bias)
        self.up_proj = nn.Linear(H, I, bias=bias)
        self.down_proj = nn.Linear(I, H, bias=bias)
        assert cfg["hidden_act"] == "silu"
        self.act_fn = nn.SiLU()

    def forward(self, x):  # L232-234
        down_proj = self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))
        return down_proj


class GraniteDecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):
        super().__init__()
        H = cfg["hidden_size"]
        self.self_attn = GraniteAttention(cfg, layer_idx)
        self.mlp = GraniteMLP(cfg)
        self.input_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.post_attention_layernorm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.residual_multiplier = cfg["residual_multiplier"]

    def forward(self, hidden_states, attention_mask, position_embeddings, cache):  # L248-311
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)                          # L284
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask, cache)
        hidden_states = residual + hidden_states * self.residual_multiplier          # L298
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)                 # L302
        hidden_states = self.mlp(hidden_states)                                      # L303
        hidden_states = residual + hidden_states * self.residual_multiplier          # L304
        return (hidden_states,)


class GraniteModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H = cfg["hidden_size"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], H)
        self.layers = nn.ModuleList([GraniteDecoderLayer(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(H, cfg["rms_norm_eps"])
        self.rotary_emb = LlamaRotaryEmbedding(H // cfg["num_attention_heads"], cfg["rope_theta"])
        self.embedding_multiplier = cfg["embedding_multiplier"]

    def forward(self, input_ids, position_ids, causal_mask, cache):  # L404-494
        inputs_embeds = self.embed_tokens(input_ids)                                 # L433
        inputs_embeds = inputs_embeds * self.embedding_multiplier                    # L435
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)           # L456
        for decoder_layer in self.layers:                                            # L462-478
            layer_outputs = decoder_layer(hidden_states, causal_mask, position_embeddings, cache)
            hidden_states = layer_outputs[0]
        return self.norm(hidden_states)                                              # L483


class GraniteForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = GraniteModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)  # L633
        self.logits_scaling = cfg["logits_scaling"]

    def forward(self, input_ids, position_ids, causal_mask, cache, logits_to_keep=0):  # L658-730
        hidden_states = self.model(input_ids, position_ids, causal_mask, cache)
        slice_indices = slice(-logits_to_keep, None)                                 # L716
        logits = self.lm_head(hidden_states[:, slice_indices, :])                    # L717
        logits = logits / self.logits_scaling                                        # L718
        return logits


def build(cfg, dtype, seed=0):
    # L130 getattr(config, "head_dim", hidden_size // num_attention_heads): llama_plain reads cfg["head_dim"]
    cfg = dict(cfg, head_dim=cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"]))
    return llama_build(cfg, dtype, seed, cls=GraniteForCausalLM)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config with grouped-query attention, no head_dim key (GraniteConfig has none:
# hidden_size // heads = 16), attention and MLP biases on, and the four multipliers set to
# values other than 1 (granite-3.x style: embedding 12, residual 0.22, attention 1/64,
# logits 8).
CFG = {
    "architectures": ["GraniteForCausalLM"],
    "model_type": "granite",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "attention_bias": True,
    "mlp_bias": True,
    "embedding_multiplier": 12.0,
    "residual_multiplier": 0.22,
    "attention_multiplier": 0.015625,
    "logits_scaling": 8.0,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

KNOWN = {}


def prepare(model, batch, seq_len, cache_len, dtype):
    """A DynamicLayer per layer; the eager path's 4-D float causal mask (_update_causal_mask,
    [B, 1, S, C + S] for generate()'s all-ones attention_mask)."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                         lambda b, q, past: causal_mask(b, q, past, dtype))
