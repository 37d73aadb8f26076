"""Falcon's new_decoder_architecture (the Falcon-40B / 180B form) for tests/torch/crosscheck.py:
the forward of falcon_plain.py (modeling_falcon.py @ 00dcc6dd) with a config that takes the
grouped layout of query_key_value (num_kv_heads groups of h/kv query heads plus one K and one V
head each, _split_heads L243-253: list-indexed K/V, broadcast, flatten copies), two LayerNorms
(ln_attn, ln_mlp: num_ln_in_parallel_attn None -> 2, L567-568) and biases (config.bias).
"""

from falcon_plain import build, known, prepare_with  # noqa: F401

CFG = {
    "architectures": ["FalconForCausalLM"],
    "model_type": "falcon",
    "hidden_size": 64,
    "num_attention_heads": 8,
    "num_kv_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "ffn_hidden_size": 96,
    "layer_norm_epsilon": 1e-5,
    "alibi": False,
    "bias": True,
    "multi_query": True,
    "new_decoder_architecture": True,
    "parallel_attn": True,
    "_attn_implementation": "eager",
}

KNOWN = known(CFG)
prepare = prepare_with(CFG)
