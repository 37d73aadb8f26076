"""MambaForCausalLM's inference forward in plain PyTorch, from the lines kernels/mamba.cost cites
(src/transformers/models/mamba/modeling_mamba.py @ 00328d4e5b22c29e40d28b27c2a99cd7d0c5c14e):
the slow path, MambaMixer.slow_forward (L367-446), which transformers runs whenever the
mamba-ssm / causal-conv1d CUDA kernels are absent (MambaMixer.forward L449-461), with the
MambaCache (L48-148) that MambaModel.forward creates on a call without one (L684-687) and that
generate() passes back for each decode step. The L-numbers are those of the cited file.
"""

import torch
from torch import nn

import shared_plain  # random_model; Mamba fills its own cache (prepare)


def act_fn(name):
    return {"silu": nn.functional.silu, "swish": nn.functional.silu}[name]


class MambaCache:  # L48-148
    def __init__(self, cfg, max_batch_size, dtype):
        I, K, N = cfg["intermediate_size"], cfg["conv_kernel"], cfg["state_size"]
        self.conv_kernel_size = K
        self.conv_states, self.ssm_states = [], []
        for _ in range(cfg["num_hidden_layers"]):  # L101-120
            self.conv_states.append(torch.zeros(max_batch_size, I, K, dtype=dtype))
            self.ssm_states.append(torch.zeros(max_batch_size, I, N, dtype=dtype))

    def update_conv_state(self, layer_idx, new_conv_state, cache_position):  # L122-137
        conv_state = self.conv_states[layer_idx]
        cache_position = cache_position.clamp(0, self.conv_kernel_size - 1)
        conv_state = conv_state.roll(shifts=-1, dims=-1)
        conv_state[:, :, cache_position] = new_conv_state.to(device=conv_state.device, dtype=conv_state.dtype)
        self.conv_states[layer_idx].zero_()
        self.conv_states[layer_idx] += conv_state
        return self.conv_states[layer_idx]


class MambaMixer(nn.Module):  # __init__ L159-227
    def __init__(self, cfg, layer_idx):
        super().__init__()
        H, I, N, K = cfg["hidden_size"], cfg["intermediate_size"], cfg["state_size"], cfg["conv_kernel"]
        self.ssm_state_size, self.conv_kernel_size, self.intermediate_size = N, K, I
        self.time_step_rank = int(cfg["time_step_rank"])
        self.layer_idx = layer_idx
        self.use_conv_bias = cfg["use_conv_bias"]
        self.conv1d = nn.Conv1d(I, I, bias=cfg["use_conv_bias"], kernel_size=K, groups=I, padding=K - 1)
        self.act = act_fn(cfg["hidden_act"])
        self.in_proj = nn.Linear(H, I * 2, bias=cfg["use_bias"])
        self.x_proj = nn.Linear(I, self.time_step_rank + N * 2, bias=False)
        self.dt_proj = nn.Linear(self.time_step_rank, I, bias=True)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, N + 1, dtype=torch.float32)[None, :].expand(I, -1).contiguous()))
        self.D = nn.Parameter(torch.ones(I))
        self.out_proj = nn.Linear(I, H, bias=cfg["use_bias"])

    def forward(self, input_states, cache_params=None, cache_position=None):  # slow_forward L367-446
        batch_size, seq_len, _ = input_states.shape
        dtype = input_states.dtype
        projected_states = self.in_proj(input_states).transpose(1, 2)
        hidden_states, gate = projected_states.chunk(2, dim=1)
        if cache_params is not None:
            ssm_state = cache_params.ssm_states[self.layer_idx].clone()
            if cache_position.shape[0] == self.conv_kernel_size:
                conv_state = nn.functional.pad(hidden_states, (self.conv_kernel_size - hidden_states.shape[-1], 0))
                cache_params.update_conv_state(self.layer_idx, conv_state, cache_position)
                hidden_states = self.act(self.conv1d(hidden_states)[..., :seq_len])
            else:
                conv_state = cache_params.update_conv_state(self.layer_idx, hidden_states, cache_position)
                hidden_states = torch.sum(conv_state * self.conv1d.weight[:, 0, :], dim=-1)
                if self.use_conv_bias:
                    hidden_states += self.conv1d.bias
                hidden_states = self.act(hidden_states).to(dtype).unsqueeze(-1)
        else:
            ssm_state = torch.zeros((batch_size, self.intermediate_size, self.ssm_state_size), dtype=dtype)
            hidden_states = self.act(self.conv1d(hidden_states)[..., :seq_len])
        ssm_parameters = self.x_proj(hidden_states.transpose(1, 2))
        time_step, B, C = torch.split(
            ssm_parameters, [self.time_step_rank, self.ssm_state_size, self.ssm_state_size], dim=-1)
        discrete_time_step = self.dt_proj(time_step)
        discrete_time_step = nn.functional.softplus(discrete_time_step).transpose(1, 2)
        A = -torch.exp(self.A_log.float())
        discrete_A = torch.exp(A[None, :, None, :] * discrete_time_step[:, :, :, None])
        discrete_B = discrete_time_step[:, :, :, None] * B[:, None, :, :].float()
        deltaB_u = discrete_B * hidden_states[:, :, :, None].float()
        scan_outputs = []
        for i in range(seq_len):
            ssm_state = discrete_A[:, :, i, :] * ssm_state + deltaB_u[:, :, i, :]
            scan_output = torch.matmul(ssm_state.to(dtype), C[:, i, :].unsqueeze(-1))
            scan_outputs.append(scan_output[:, :, 0])
        scan_output = torch.stack(scan_outputs, dim=-1)
        scan_output = scan_output + (hidden_states * self.D[None, :, None])
        scan_output = (scan_output * self.act(gate))
        if cache_params is not None:
            cache_params.ssm_states[self.layer_idx].copy_(ssm_state)
        return self.out_proj(scan_output.transpose(1, 2))


class MambaRMSNorm(nn.Module):  # L464-481
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)


class MambaBlock(nn.Module):  # L484-509
    def __init__(self, cfg, layer_idx):
        super().__init__()
        self.residual_in_fp32 = cfg["residual_in_fp32"]
        self.norm = MambaRMSNorm(cfg["hidden_size"], eps=cfg["layer_norm_epsilon"])
        self.mixer = MambaMixer(cfg, layer_idx)

    def forward(self, hidden_states, cache_params, cache_position):
        residual = hidden_states
        hidden_states = self.norm(hidden_states.to(dtype=self.norm.weight.dtype))
        if self.residual_in_fp32:
            residual = residual.to(torch.float32)
        hidden_states = self.mixer(hidden_states, cache_params=cache_params, cache_position=cache_position)
        return residual + hidden_states


class MambaModel(nn.Module):  # __init__ L623-633, forward L648-725
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embeddings = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([MambaBlock(cfg, i) for i in range(cfg["num_hidden_layers"])])
        self.norm_f = MambaRMSNorm(cfg["hidden_size"], eps=cfg["layer_norm_epsilon"])

    def forward(self, input_ids, cache_params=None, cache_position=None):
        inputs_embeds = self.embeddings(input_ids)
        if cache_params is None:  # use_cache (config.use_cache, eval mode), L684-687
            cache_params = MambaCache(self.cfg, inputs_embeds.size(0), dtype=inputs_embeds.dtype)
            cache_position = torch.arange(0, self.cfg["conv_kernel"])
        hidden_states = inputs_embeds
        for mixer_block in self.layers:
            hidden_states = mixer_block(hidden_states, cache_params=cache_params, cache_position=cache_position)
        hidden_states = self.norm_f(hidden_states)
        return hidden_states, cache_params


class MambaForCausalLM(nn.Module):  # __init__ L737-742, forward L819-882
    def __init__(self, cfg):
        super().__init__()
        self.backbone = MambaModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        self.lm_head.weight = self.backbone.embeddings.weight  # _tied_weights_keys (L735): tie_word_embeddings

    def forward(self, input_ids, cache_params=None, cache_position=None, logits_to_keep=0):
        hidden_states, cache_params = self.backbone(input_ids, cache_params, cache_position)
        slice_indices = slice(-logits_to_keep, None)
        logits = self.lm_head(hidden_states[:, slice_indices, :].to(self.lm_head.weight.dtype)).float()
        return logits, cache_params


def build(cfg, dtype, seed=0):
    return shared_plain.random_model(MambaForCausalLM, cfg, dtype, seed)


# ---- what tests/torch/crosscheck.py needs of a family ------------------------------------------

# A tiny config: hidden 32, expand 2 (intermediate 64), state 8, conv 4, time_step_rank "auto"
# = ceil(32 / 16) = 2 (MambaConfig.__init__ resolves it; the plain model reads the number),
# use_bias true so in_proj and out_proj carry biases, conv bias on.
CFG = {
    "architectures": ["MambaForCausalLM"],
    "model_type": "mamba",
    "hidden_size": 32,
    "intermediate_size": 64,
    "expand": 2,
    "state_size": 8,
    "conv_kernel": 4,
    "time_step_rank": 2,
    "num_hidden_layers": 2,
    "vocab_size": 128,
    "layer_norm_epsilon": 1e-5,
    "hidden_act": "silu",
    "use_bias": True,
    "use_conv_bias": True,
    "residual_in_fp32": True,
    "use_cache": True,
    "tie_word_embeddings": True,
}

# slow_forward runs one new token per step once the cache holds a state (the decode branch
# sums a [B, I, conv_kernel] window into one position): a prompt is one prefill, cache_len 0.
# The steps crosscheck.py runs (STEPS): prefills shorter than, equal to and longer than
# conv_kernel (the pad of L385-388 pads, copies or crops), decode steps at batch 1 and 3.
STEPS = ((1, 5, 0), (2, 3, 0), (2, 4, 0), (1, 1, 0), (1, 1, 5), (3, 1, 6))

KNOWN = {}


def costi_path(path):
    """costi calls MambaModel's first block `layers_first` (its input is the embedding output,
    not the float32 residual stream of the later blocks: kernels/mamba.cost)."""
    parts = path.split(".")
    if parts[:3] == ["backbone", "layers", "0"]:
        return ".".join(["backbone", "layers_first"] + parts[3:])
    return path


def prepare(model, batch, seq_len, cache_len, dtype):
    """cache_len > 0: a prompt of cache_len tokens through the model (not recorded) fills the
    MambaCache; the recorded step is then one token with cache_position of one entry, as
    generate() passes (_update_model_kwargs_for_generation, L750-768). cache_len 0: the model
    creates the cache itself (L684-687)."""
    cache, position = None, None
    if cache_len:
        with torch.no_grad():
            _, cache = model(torch.randint(0, CFG["vocab_size"], (batch, cache_len)))
        position = torch.tensor([cache_len])
    ids = torch.randint(0, CFG["vocab_size"], (batch, seq_len))
    return lambda: model(ids, cache, position)
