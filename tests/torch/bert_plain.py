"""BertForMaskedLM's inference forward in plain PyTorch, line by line from the modeling code
costi's kernels/bert.cost cites (src/transformers/models/bert/modeling_bert.py @
8ec58104181bfb34d824d89bccc009b4f6be6e0e; ACT2FN["gelu"] is GELUActivation, which calls
nn.functional.gelu), eager attention (BertSelfAttention; torch 1.13 has no
F.scaled_dot_product_attention). Module names are transformers', so module paths match the
call labels of costi's tree but for two differences (costi_path): BertEncoder is no node of
costi's (its layers are BertModel's "layer"), and BertForMaskedLM's head
cls.predictions.{transform.{dense, transform_act_fn, LayerNorm}, decoder} is flattened to
transform_dense, transform_act_fn, transform_LayerNorm and decoder. The L-numbers are those
kernels/bert.cost counts in the cited file.

BERT is an encoder: one forward over the whole sequence, seq_len tokens, no cache. The
attention mask is all ones (no padding): BertModel.forward's get_extended_attention_mask
(L1114) makes the [B, 1, 1, S] float mask every layer adds to its scores; as costi does not
count building masks (docs/conventions.md, "Masks"), it is built outside the recorded forward.
"""

import math

import torch
from torch import nn

import shared_plain


class BertEmbeddings(nn.Module):  # L159-220
    def __init__(self, cfg):
        super().__init__()
        H = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], H, padding_idx=cfg.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], H)
        self.token_type_embeddings = nn.Embedding(cfg["type_vocab_size"], H)
        self.LayerNorm = nn.LayerNorm(H, eps=cfg["layer_norm_eps"])
        self.dropout = nn.Dropout(0.0)
        self.register_buffer("position_ids", torch.arange(cfg["max_position_embeddings"]).expand((1, -1)),
                             persistent=False)
        self.register_buffer("token_type_ids", torch.zeros(self.position_ids.size(), dtype=torch.long),
                             persistent=False)

    def forward(self, input_ids, token_type_ids):  # L186-220, absolute positions, no past
        seq_length = input_ids.shape[1]
        position_ids = self.position_ids[:, 0:seq_length]            # L196-197: a [1, S] slice
        inputs_embeds = self.word_embeddings(input_ids)              # L210-211
        token_type_embeddings = self.token_type_embeddings(token_type_ids)  # L212
        embeddings = inputs_embeds + token_type_embeddings           # L214
        position_embeddings = self.position_embeddings(position_ids)  # L216
        embeddings += position_embeddings                            # L217 (broadcast over the batch)
        embeddings = self.LayerNorm(embeddings)                      # L218
        return self.dropout(embeddings)                              # L219


class BertSelfAttention(nn.Module):  # L223-348, the eager path
    def __init__(self, cfg):
        super().__init__()
        self.num_attention_heads = cfg["num_attention_heads"]
        self.attention_head_size = int(cfg["hidden_size"] / cfg["num_attention_heads"])
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(cfg["hidden_size"], self.all_head_size)
        self.key = nn.Linear(cfg["hidden_size"], self.all_head_size)
        self.value = nn.Linear(cfg["hidden_size"], self.all_head_size)
        self.dropout = nn.Dropout(0.0)

    def transpose_for_scores(self, x):  # L250-253
        new_x_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
        return x.view(new_x_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask):  # no cross-attention, no cache, no head_mask
        mixed_query_layer = self.query(hidden_states)                           # L265
        key_layer = self.transpose_for_scores(self.key(hidden_states))          # L287
        value_layer = self.transpose_for_scores(self.value(hidden_states))      # L288
        query_layer = self.transpose_for_scores(mixed_query_layer)              # L290
        attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))  # L304
        attention_scores = attention_scores / math.sqrt(self.attention_head_size)  # L328
        attention_scores = attention_scores + attention_mask                   # L329-331
        attention_probs = nn.functional.softmax(attention_scores, dim=-1)      # L334
        attention_probs = self.dropout(attention_probs)                        # L338
        context_layer = torch.matmul(attention_probs, value_layer)             # L344
        context_layer = context_layer.permute(0, 2, 1, 3).contiguous()         # L346
        new_context_layer_shape = context_layer.size()[:-2] + (self.all_head_size,)
        return context_layer.view(new_context_layer_shape)                     # L347-348


class BertSelfOutput(nn.Module):  # L458-469
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])
        self.LayerNorm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])
        self.dropout = nn.Dropout(0.0)

    def forward(self, hidden_states, input_tensor):
        hidden_states = self.dropout(self.dense(hidden_states))
        return self.LayerNorm(hidden_states + input_tensor)


class BertAttention(nn.Module):  # L478-526
    def __init__(self, cfg):
        super().__init__()
        self.self = BertSelfAttention(cfg)   # BERT_SELF_ATTENTION_CLASSES["eager"]
        self.output = BertSelfOutput(cfg)

    def forward(self, hidden_states, attention_mask):
        return self.output(self.self(hidden_states, attention_mask), hidden_states)


class GELUActivation(nn.Module):  # ACT2FN["gelu"] (activations.py): nn.functional.gelu
    def forward(self, x):
        return nn.functional.gelu(x)


class BertIntermediate(nn.Module):  # L529-541
    def __init__(self, cfg):
        super().__init__()
        assert cfg.get("hidden_act", "gelu") == "gelu"
        self.dense = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])
        self.intermediate_act_fn = GELUActivation()

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(nn.Module):  # L544-555
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["intermediate_size"], cfg["hidden_size"])
        self.LayerNorm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])
        self.dropout = nn.Dropout(0.0)

    def forward(self, hidden_states, input_tensor):
        hidden_states = self.dropout(self.dense(hidden_states))
        return self.LayerNorm(hidden_states + input_tensor)


class BertLayer(nn.Module):  # L558-641, an encoder layer (no cross-attention)
    def __init__(self, cfg):
        super().__init__()
        self.attention = BertAttention(cfg)
        self.intermediate = BertIntermediate(cfg)
        self.output = BertOutput(cfg)

    def forward(self, hidden_states, attention_mask):
        attention_output = self.attention(hidden_states, attention_mask)  # L585-591
        # apply_chunking_to_forward with chunk_size_feed_forward 0: feed_forward_chunk once (L638-641)
        intermediate_output = self.intermediate(attention_output)
        return self.output(intermediate_output, attention_output)


class BertEncoder(nn.Module):  # L644-734
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(cfg) for _ in range(cfg["num_hidden_layers"])])

    def forward(self, hidden_states, attention_mask):
        for layer_module in self.layer:
            hidden_states = layer_module(hidden_states, attention_mask)
        return hidden_states


class BertPooler(nn.Module):  # L737-749
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        first_token_tensor = hidden_states[:, 0]
        return self.activation(self.dense(first_token_tensor))


class BertModel(nn.Module):  # L957-1167
    def __init__(self, cfg, add_pooling_layer=True):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)
        self.pooler = BertPooler(cfg) if add_pooling_layer else None

    def forward(self, input_ids, extended_attention_mask):
        batch_size, seq_length = input_ids.shape
        # L1070-1076: token_type_ids, the zero buffer sliced and expanded to [B, S] (views)
        token_type_ids = self.embeddings.token_type_ids[:, :seq_length].expand(batch_size, seq_length)
        embedding_output = self.embeddings(input_ids, token_type_ids)        # L1078-1084
        # L1086-1114 the mask: built by the caller (extended_attention_mask); L1140 head_mask None
        sequence_output = self.encoder(embedding_output, extended_attention_mask)  # L1142-1153
        pooled_output = self.pooler(sequence_output) if self.pooler is not None else None  # L1155
        return sequence_output, pooled_output


class BertPredictionHeadTransform(nn.Module):  # L752-766
    def __init__(self, cfg):
        super().__init__()
        assert cfg.get("hidden_act", "gelu") == "gelu"
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])
        self.transform_act_fn = GELUActivation()
        self.LayerNorm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])

    def forward(self, hidden_states):
        return self.LayerNorm(self.transform_act_fn(self.dense(hidden_states)))


class BertLMPredictionHead(nn.Module):  # L769-789
    def __init__(self, cfg):
        super().__init__()
        self.transform = BertPredictionHeadTransform(cfg)
        self.decoder = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        self.bias = nn.Parameter(torch.zeros(cfg["vocab_size"]))
        self.decoder.bias = self.bias  # L781: one Parameter, the decoder's bias

    def forward(self, hidden_states):
        return self.decoder(self.transform(hidden_states))


class BertOnlyMLMHead(nn.Module):  # L792-799
    def __init__(self, cfg):
        super().__init__()
        self.predictions = BertLMPredictionHead(cfg)

    def forward(self, sequence_output):
        return self.predictions(sequence_output)


class BertForMaskedLM(nn.Module):  # L1406-1495
    def __init__(self, cfg):
        super().__init__()
        self.bert = BertModel(cfg, add_pooling_layer=False)  # L1419
        self.cls = BertOnlyMLMHead(cfg)
        if cfg.get("tie_word_embeddings", True):  # _tied_weights_keys (L1408): the decoder's weight is the input embeddings'
            self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids, extended_attention_mask):
        sequence_output = self.bert(input_ids, extended_attention_mask)[0]  # L1464-1477
        return self.cls(sequence_output)                                    # L1479


def build(cfg, dtype, seed=0):
    classes = {"BertForMaskedLM": BertForMaskedLM, "BertModel": BertModel}
    return shared_plain.random_model(classes[cfg["architectures"][0]], cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config: 2 layers, 4 heads of 8, intermediate 64, a vocabulary of 50, 16 positions, 2
# token types; eager attention.
CFG = {
    "architectures": ["BertForMaskedLM"],
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "hidden_act": "gelu",
    "vocab_size": 50,
    "max_position_embeddings": 16,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "is_decoder": False,
    "add_cross_attention": False,
    "chunk_size_feed_forward": 0,
    "tie_word_embeddings": True,
    "_attn_implementation": "eager",
}

# An encoder: no cache. Batch 1 with a sequence (q, k, v views fold into matmul's reshape), a
# batch with sequences (copied), one token (nothing copied), and the full 16 positions.
STEPS = ((1, 5, 0), (2, 3, 0), (3, 1, 0), (2, 16, 0))


def costi_path(path):
    """bert.encoder.layer.i.X -> bert.layer.i.X (costi has no BertEncoder node);
    cls.predictions.transform.dense -> transform_dense (and transform_act_fn, LayerNorm ->
    transform_LayerNorm), cls.predictions.decoder -> decoder; BertModel alone: encoder.layer.i
    -> layer.i."""
    parts = path.split(".") if path else []
    if "encoder" in parts[:2]:
        parts.remove("encoder")
    if parts[:2] == ["cls", "predictions"]:
        rest = parts[2:]
        if rest[:1] == ["transform"] and len(rest) > 1:
            name = rest[1]
            parts = [name if name.startswith("transform_") else "transform_" + name] + rest[2:]
        elif rest[:1] == ["decoder"]:
            parts = rest
        else:
            parts = []   # cls, cls.predictions, cls.predictions.transform: no node of costi's
    return ".".join(parts)


# Differences known and explained, (dtype name, module path) -> (cause, delta): asserted.
# nn.LayerNorm's native_layer_norm also writes a per-row mean and rstd, [M] each: costi counts
# them in CUDA's float32, the CPU kernel in bfloat16 (tests/torch/gpt2_plain.py says where).
# Each norm of M = batch * seq_len rows writes 2*M*(4 - 2) = 4*M bytes more in costi.
_LN_STATS = "bfloat16 LayerNorm mean/rstd: CPU writes them in bfloat16, CUDA (costi) in float32"


def _ln_stats(cfg, norms_per_layer, others):
    def delta(batch, seq_len, cache_len):
        norms = norms_per_layer * cfg["num_hidden_layers"] + others
        return (0, 0, norms * 4 * batch * seq_len)
    return (_LN_STATS, delta)


def known(cfg, prefix, head_norms):
    """The LayerNorm statistics' difference of every module that holds a norm; prefix is the
    BertModel's path ("bert." inside BertForMaskedLM, "" for BertModel itself), head_norms the
    norms outside it (the MLM head's transform_LayerNorm: 1)."""
    paths = [(prefix + "embeddings.LayerNorm", 0, 1), (prefix + "embeddings", 0, 1),
             (prefix + "layer.attention.output.LayerNorm", 1, 0), (prefix + "layer.attention.output", 1, 0),
             (prefix + "layer.attention", 1, 0), (prefix + "layer.output.LayerNorm", 1, 0),
             (prefix + "layer.output", 1, 0), (prefix + "layer", 2, 0), ("", 2, 1 + head_norms)]
    if prefix:
        paths.append((prefix[:-1], 2, 1))
    if head_norms:
        paths.append(("transform_LayerNorm", 0, 1))
    return {("bfloat16", path): _ln_stats(cfg, per_layer, others) for path, per_layer, others in paths}


KNOWN = known(CFG, "bert.", 1)


def prepare(model, batch, seq_len, cache_len, dtype):
    """The step to record: one forward over `batch` sequences of seq_len random tokens, the
    all-ones attention mask extended as get_extended_attention_mask does (L1114:
    (1 - mask[:, None, None, :]) * finfo(dtype).min, all zeros), built here, not recorded."""
    assert cache_len == 0
    input_ids = torch.randint(0, CFG["vocab_size"], (batch, seq_len))
    ones = torch.ones(batch, seq_len)
    extended = (1.0 - ones[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
    return lambda: model(input_ids, extended)
