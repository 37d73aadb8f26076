"""Falcon with ALiBi (alibi true: Falcon-RW-1B's form, the per-head layout, the sequential
layer, biases) for tests/torch/crosscheck.py: the forward of falcon_plain.py
(modeling_falcon.py @ 00dcc6dd) taking the ALiBi branch of the eager attention (L386-416: float32
scores, + alibi, * inv_norm_factor, + the mask merged with alibi, softmax in the activation
dtype, _merge_heads). build_alibi_tensor and the merged mask are built outside the recorded
forward, as every mask is.
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
    "alibi": True,
    "bias": True,
    "multi_query": False,
    "new_decoder_architecture": False,
    "parallel_attn": False,
    "_attn_implementation": "eager",
}

KNOWN = known(CFG)
prepare = prepare_with(CFG)
