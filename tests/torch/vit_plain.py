"""ViTForImageClassification's inference forward in plain PyTorch, line by line from the modeling
code costi's kernels/vit.cost cites (src/transformers/models/vit/modeling_vit.py @
005db8208dee358fe8fe63ae3cc49dd054aad48d; GELUActivation is nn.functional.gelu), eager
attention (torch 1.13 has no F.scaled_dot_product_attention). Module names are transformers',
so module paths match the call labels of costi's tree. The L-numbers are those of the cited
file.

ViT is an encoder over the image: one forward of batch images, S = num_patches + 1 positions
each, no cache. costi does not read seq_len for it, so the steps below vary seq_len to show
that the cost does not follow it.
"""

import torch
from torch import nn

import shared_plain


def eager_attention_forward(module, query, key, value, attention_mask, scaling):  # L187-214
    attn_weights = torch.matmul(query, key.transpose(-1, -2)) * scaling
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_weights = nn.functional.dropout(attn_weights, p=0.0, training=module.training)
    if attention_mask is not None:
        attn_weights = attn_weights * attention_mask
    attn_output = torch.matmul(attn_weights, value)
    attn_output = attn_output.transpose(1, 2).contiguous()
    return attn_output, attn_weights


class ViTPatchEmbeddings(nn.Module):  # L148-184
    def __init__(self, cfg):
        super().__init__()
        image_size, patch_size = cfg["image_size"], cfg["patch_size"]
        self.num_patches = (image_size // patch_size) * (image_size // patch_size)
        self.projection = nn.Conv2d(cfg["num_channels"], cfg["hidden_size"], kernel_size=patch_size, stride=patch_size)

    def forward(self, pixel_values):
        return self.projection(pixel_values).flatten(2).transpose(1, 2)  # L183


class ViTEmbeddings(nn.Module):  # L60-145
    def __init__(self, cfg):
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, cfg["hidden_size"]))
        self.patch_embeddings = ViTPatchEmbeddings(cfg)
        num_patches = self.patch_embeddings.num_patches
        self.position_embeddings = nn.Parameter(torch.randn(1, num_patches + 1, cfg["hidden_size"]))
        self.dropout = nn.Dropout(0.0)

    def forward(self, pixel_values):  # L117-145, no bool_masked_pos, no interpolation
        batch_size = pixel_values.shape[0]
        embeddings = self.patch_embeddings(pixel_values)
        cls_tokens = self.cls_token.expand(batch_size, -1, -1)
        embeddings = torch.cat((cls_tokens, embeddings), dim=1)
        embeddings = embeddings + self.position_embeddings
        return self.dropout(embeddings)


class ViTSelfAttention(nn.Module):  # L217-277
    def __init__(self, cfg):
        super().__init__()
        self.num_attention_heads = cfg["num_attention_heads"]
        self.attention_head_size = int(cfg["hidden_size"] / cfg["num_attention_heads"])
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        bias = cfg.get("qkv_bias", True)
        self.query = nn.Linear(cfg["hidden_size"], self.all_head_size, bias=bias)
        self.key = nn.Linear(cfg["hidden_size"], self.all_head_size, bias=bias)
        self.value = nn.Linear(cfg["hidden_size"], self.all_head_size, bias=bias)
        self.scaling = self.attention_head_size ** -0.5

    def transpose_for_scores(self, x):  # L239-242
        new_x_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
        return x.view(new_x_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states):  # L244-277, eager
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        context_layer, _ = eager_attention_forward(self, query_layer, key_layer, value_layer, None, self.scaling)
        new_context_layer_shape = context_layer.size()[:-2] + (self.all_head_size,)
        return context_layer.view(new_context_layer_shape)


class ViTSelfOutput(nn.Module):  # L280-295
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])
        self.dropout = nn.Dropout(0.0)

    def forward(self, hidden_states):
        return self.dropout(self.dense(hidden_states))


class ViTAttention(nn.Module):  # L298-334
    def __init__(self, cfg):
        super().__init__()
        self.attention = ViTSelfAttention(cfg)
        self.output = ViTSelfOutput(cfg)

    def forward(self, hidden_states):
        return self.output(self.attention(hidden_states))


class ViTIntermediate(nn.Module):  # L337-350
    def __init__(self, cfg):
        super().__init__()
        assert cfg.get("hidden_act", "gelu") == "gelu"
        self.dense = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])
        self.intermediate_act_fn = nn.GELU()  # ACT2FN["gelu"]: GELUActivation -> nn.functional.gelu

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class ViTOutput(nn.Module):  # L353-365
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["intermediate_size"], cfg["hidden_size"])
        self.dropout = nn.Dropout(0.0)

    def forward(self, hidden_states, input_tensor):
        hidden_states = self.dropout(self.dense(hidden_states))
        return hidden_states + input_tensor


class ViTLayer(nn.Module):  # L368-407
    def __init__(self, cfg):
        super().__init__()
        self.attention = ViTAttention(cfg)
        self.intermediate = ViTIntermediate(cfg)
        self.output = ViTOutput(cfg)
        self.layernorm_before = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])
        self.layernorm_after = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])

    def forward(self, hidden_states):
        attention_output = self.attention(self.layernorm_before(hidden_states))
        hidden_states = attention_output + hidden_states
        layer_output = self.layernorm_after(hidden_states)
        layer_output = self.intermediate(layer_output)
        return self.output(layer_output, hidden_states)


class ViTEncoder(nn.Module):  # L410-458
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([ViTLayer(cfg) for _ in range(cfg["num_hidden_layers"])])

    def forward(self, hidden_states):
        for layer_module in self.layer:
            hidden_states = layer_module(hidden_states)
        return hidden_states


class ViTPooler(nn.Module):  # L637-649
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        first_token_tensor = hidden_states[:, 0]
        return self.activation(self.dense(first_token_tensor))


class ViTModel(nn.Module):  # L542-634
    def __init__(self, cfg, add_pooling_layer=True):
        super().__init__()
        self.embeddings = ViTEmbeddings(cfg)
        self.encoder = ViTEncoder(cfg)
        self.layernorm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])
        self.pooler = ViTPooler(cfg) if add_pooling_layer else None

    def forward(self, pixel_values):
        embedding_output = self.embeddings(pixel_values)
        sequence_output = self.encoder(embedding_output)
        sequence_output = self.layernorm(sequence_output)
        pooled_output = self.pooler(sequence_output) if self.pooler is not None else None
        return sequence_output, pooled_output


class ViTForImageClassification(nn.Module):  # L793-878
    def __init__(self, cfg):
        super().__init__()
        self.vit = ViTModel(cfg, add_pooling_layer=False)  # L798
        self.classifier = nn.Linear(cfg["hidden_size"], cfg["num_labels"])

    def forward(self, pixel_values):
        sequence_output = self.vit(pixel_values)[0]
        return self.classifier(sequence_output[:, 0, :])  # L842


def build(cfg, dtype, seed=0):
    classes = {"ViTForImageClassification": ViTForImageClassification, "ViTModel": ViTModel}
    return shared_plain.random_model(classes[cfg["architectures"][0]], cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config: 8 x 8 images of 3 channels in 4 x 4 patches (4 patches, 5 positions), 2
# layers, 4 heads, 5 labels (given as id2label, as a Hub config does, and as num_labels, which
# costi needs: it cannot count id2label's entries); eager attention.
CFG = {
    "architectures": ["ViTForImageClassification"],
    "model_type": "vit",
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "hidden_act": "gelu",
    "image_size": 8,
    "patch_size": 4,
    "num_channels": 3,
    "qkv_bias": True,
    "layer_norm_eps": 1e-12,
    "id2label": {"0": "a", "1": "b", "2": "c", "3": "d", "4": "e"},
    "num_labels": 5,
    "_attn_implementation": "eager",
}

S = (CFG["image_size"] // CFG["patch_size"]) ** 2 + 1

# An encoder: no cache. seq_len is passed to costi (and ignored by it); the image fixes S.
STEPS = ((1, 1, 0), (2, 7, 0), (3, 1, 0))

# Differences known and explained, (dtype name, module path) -> (cause, delta): asserted.
# nn.LayerNorm's native_layer_norm also writes a per-row mean and rstd, [M] each: costi counts
# them in CUDA's float32, the CPU kernel in bfloat16 (tests/torch/gpt2_plain.py says where).
# Each norm of M = batch * S rows writes 2*M*(4 - 2) = 4*M bytes more in costi.
_LN_STATS = "bfloat16 LayerNorm mean/rstd: CPU writes them in bfloat16, CUDA (costi) in float32"


def _ln_stats(cfg, norms_per_layer, final):
    def delta(batch, seq_len, cache_len):
        norms = norms_per_layer * cfg["num_hidden_layers"] + final
        return (0, 0, norms * 4 * batch * S)
    return (_LN_STATS, delta)


def known(cfg, prefix):
    """The LayerNorm statistics' difference of every module that holds a norm; prefix is the
    ViTModel's path ("vit." inside ViTForImageClassification, "" for ViTModel itself)."""
    paths = [(prefix + "encoder.layer.layernorm_before", 1, 0), (prefix + "encoder.layer.layernorm_after", 1, 0),
             (prefix + "layernorm", 0, 1), (prefix + "encoder.layer", 2, 0), (prefix + "encoder", 2, 0), ("", 2, 1)]
    if prefix:
        paths.append((prefix[:-1], 2, 1))
    return {("bfloat16", path): _ln_stats(cfg, per_layer, final) for path, per_layer, final in paths}


KNOWN = known(CFG, "vit.")


def prepare(model, batch, seq_len, cache_len, dtype):
    """The step to record: one forward over `batch` images (already in the model's dtype)."""
    assert cache_len == 0
    pixel_values = torch.randn(batch, CFG["num_channels"], CFG["image_size"], CFG["image_size"]).to(dtype)
    return lambda: model(pixel_values)
