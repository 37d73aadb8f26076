"""gpt_neox_plain.py with use_parallel_residual false: GPTNeoXLayer's sequential branch
(x' = x + attn(ln1(x)); x' + mlp(ln2(x')), modeling_gpt_neox.py L244-248 @ f40ec75f), the
same tiny config otherwise. costi runs the same kernels for both settings; this checks the
sequential data flow against the trace module by module as the parallel one is.
"""

import shared_plain

import gpt_neox_plain
from gpt_neox_plain import KNOWN, build  # noqa: F401
from llama_plain import DynamicLayer, causal_mask

CFG = dict(gpt_neox_plain.CFG, use_parallel_residual=False)


def prepare(model, batch, seq_len, cache_len, dtype):
    """Fills the cache with cache_len tokens (not recorded) and returns the step to record."""
    cache = [DynamicLayer() for _ in range(CFG["num_hidden_layers"])]
    return shared_plain.fill_and_step(model, CFG, batch, seq_len, cache_len, cache,
                                      lambda b, q, past: causal_mask(b, q, past, dtype))
