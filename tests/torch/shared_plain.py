"""Pieces the families' plain forwards share: what transformers itself shares between families
(cache_utils.py's DynamicSlidingWindowLayer @ 004999d972e478164dd7e8e508350937c803531e, the
sliding-window mask of masking_utils' create_sliding_window_causal_mask), and the harness
steps every FAMILY_plain.py takes (fill the cache, then the step to record; the costi label
of a decoder layer whose family calls sliding and full layers by two labels).
DynamicLayer and the full causal mask are in llama_plain.py, the first family checked.
"""

import torch


class DynamicSlidingWindowLayer:  # cache_utils.py L167-211
    def __init__(self, sliding_window):
        self.keys = None
        self.sliding_window = sliding_window
        self.cumulative_length = 0

    def update(self, key_states, value_states):
        if self.keys is None:  # lazy_initialization (L92-96): empty tensors, no kernel
            self.keys = torch.tensor([], dtype=key_states.dtype, device=key_states.device)
            self.values = torch.tensor([], dtype=key_states.dtype, device=key_states.device)
        self.cumulative_length += key_states.shape[-2]
        full_key_states = torch.cat([self.keys, key_states], dim=-2)
        full_value_states = torch.cat([self.values, value_states], dim=-2)
        # Only the last sliding_window - 1 tokens are kept: views of the full states
        self.keys = full_key_states[:, :, -self.sliding_window + 1:, :]
        self.values = full_value_states[:, :, -self.sliding_window + 1:, :]
        return full_key_states, full_value_states


def sliding_causal_mask(batch, q_len, past, dtype, window):
    """The additive mask create_sliding_window_causal_mask gives eager attention (built outside
    the recorded forward, as llama_plain.causal_mask): [B, 1, q_len, kv_len] over the keys the
    sliding cache returns, kv_len = min(past, window - 1) + q_len (get_mask_sizes, L213-224);
    query i (absolute past + i) sees key position p iff p <= past + i and p > past + i - window."""
    offset = max(past - window + 1, 0)          # absolute position of the first key returned
    kv = past - offset + q_len
    i = torch.arange(q_len)[:, None] + past
    p = torch.arange(kv)[None, :] + offset
    m = torch.zeros(q_len, kv, dtype=dtype)
    m = m.masked_fill((p > i) | (p <= i - window), torch.finfo(dtype).min)
    return m[None, None].expand(batch, 1, q_len, kv).contiguous()


def fill_and_step(model, cfg, batch, seq_len, cache_len, cache, mask):
    """Fills cache (one layer object per decoder layer) with cache_len tokens, not recorded,
    and returns the step to record: seq_len new tokens at positions cache_len... (position_ids
    [batch, seq_len], as generate() passes them). mask(batch, q_len, past) is what the model's
    forward takes for its attention mask(s), built outside the recorded forward."""
    if cache_len:
        ids = torch.randint(0, cfg["vocab_size"], (batch, cache_len))
        pos = torch.arange(cache_len)[None].expand(batch, -1)
        with torch.no_grad():
            model(ids, pos, mask(batch, cache_len, 0), cache)
    ids = torch.randint(0, cfg["vocab_size"], (batch, seq_len))
    pos = torch.arange(cache_len, cache_len + seq_len)[None].expand(batch, -1).contiguous()
    step_mask = mask(batch, seq_len, cache_len)
    return lambda: model(ids, pos, step_mask, cache)


def layer_type_path(path, types):
    """model.layers.i.rest -> model.layers_sliding.i.rest or model.layers_full.i.rest, by
    types[i] ("sliding_attention" / "full_attention"): costi's label for that layer."""
    parts = path.split(".")
    if parts[:2] == ["model", "layers"] and len(parts) > 2:
        parts[1] = "layers_sliding" if types[int(parts[2])] == "sliding_attention" else "layers_full"
    return ".".join(parts)


def random_model(cls, cfg, dtype, seed=0):
    """cls(cfg) in eval mode with random weights (N(0, 0.02)) of dtype: the parameters only, as
    from_pretrained(torch_dtype=...) gives (buffers computed with an explicit .float(), such as
    inv_freq, stay float32)."""
    torch.manual_seed(seed)
    model = cls(cfg).eval()
    for p in model.parameters():
        p.data = (torch.randn_like(p) * 0.02).to(dtype)
    return model


def param_count(model):
    """Every Parameter once (a tied weight is one Parameter): crosscheck.py's default."""
    return sum(p.numel() for p in model.parameters())
