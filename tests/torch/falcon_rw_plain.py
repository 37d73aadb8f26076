"""Falcon without multi_query or new_decoder_architecture and without parallel attention (the
Falcon-RW form, less its ALiBi, which costi refuses) for tests/torch/crosscheck.py: the forward
of falcon_plain.py (modeling_falcon.py @ 00dcc6dd) with a config that takes the per-head layout
of query_key_value (H -> 3H viewed [B, S, h, 3, d], _split_heads L254-257: views only), the
sequential decoder layer (input_layernorm, attention, residual add, post_attention_layernorm,
MLP, residual add: L620-627, L644), biases on every FalconLinear and an untied lm_head.
"""

from falcon_plain import build, known, prepare_with  # noqa: F401

CFG = {
    "architectures": ["FalconForCausalLM"],
    "model_type": "falcon",
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "layer_norm_epsilon": 1e-5,
    "alibi": False,
    "bias": True,
    "multi_query": False,
    "new_decoder_architecture": False,
    "parallel_attn": False,
    "tie_word_embeddings": False,
    "_attn_implementation": "eager",
}

KNOWN = known(CFG)
prepare = prepare_with(CFG)
