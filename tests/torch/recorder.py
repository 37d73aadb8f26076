"""Records every aten op PyTorch executes and costs it by costi's conventions.

docs/conventions.md, Part I, is the rule book: views are free; a kernel reads each input
tensor once, for the distinct elements it holds (a broadcast or expanded operand holds
fewer elements than its shape: the product of the sizes whose stride is not 0), and
writes its output once; GEMMs count 2·M·K·N (torch/utils/flop_counter.py's mm/addmm/bmm/
baddbmm formulas); element-wise ops one FLOP per output element, softmax three, a mean
one per input element plus one per output; copies, casts and gathers none; an index op
reads its indices and only the rows it addresses; a convolution FlopCounterMode's
2·batch·C_out·(C_in/groups)·prod(kernel)·prod(output spatial).

Every record is attributed to the module path that was running (forward pre/post hooks),
so a model's cost can be compared with costi's tree node by node.
"""

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

aten = torch.ops.aten

# Ops that only make a view (no kernel runs, nothing is read or written).
VIEW_OPS = {
    "view", "_unsafe_view", "expand", "transpose", "t", "permute", "unsqueeze", "squeeze",
    "slice", "select", "as_strided", "alias", "detach", "_reshape_alias", "split",
    "split_with_sizes", "unbind", "lift_fresh", "view_as_real", "view_as_complex",
}

# One FLOP per output element.
ELEMENTWISE = {
    "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "neg", "pow", "rsqrt",
    "exp", "cos", "sin", "tanh", "sigmoid", "silu", "gelu", "relu", "where", "masked_fill",
    "masked_fill_", "bitwise_not", "sqrt", "reciprocal", "log", "erf", "minimum", "maximum",
    "clamp", "abs", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "bitwise_and",
    "bitwise_or", "sign", "softplus",
}

# Zero FLOPs: data movement and creation.
COPIES = {
    "_to_copy", "copy_", "clone", "cat", "zeros", "zero_", "empty", "empty_like", "full",
    "fill_", "ones", "arange", "index_copy_", "new_zeros", "new_empty", "new_ones",
    "scalar_tensor", "_local_scalar_dense", "full_like", "zeros_like", "ones_like",
}


# torch.stack is a cat along a new dim; repeat_interleave (its Tensor overload) writes the int64
# index an index_select then gathers with: plain copies, read for what their inputs hold.
COPIES |= {"stack", "repeat_interleave"}

# Tensor.roll is a copy of its input into a new tensor (MambaCache.update_conv_state).
COPIES |= {"roll"}


# Copies that create a tensor: nothing read, whatever tensor gives them their shape.
CREATION = {"zeros", "empty", "full", "ones", "arange", "new_zeros", "new_empty", "new_ones", "scalar_tensor",
            "full_like", "zeros_like", "ones_like", "empty_like"}


def held(t):
    """Distinct elements a (possibly broadcast) tensor view holds."""
    n = 1
    for size, stride in zip(t.shape, t.stride()):
        if size == 0:
            return 0
        if stride != 0:
            n *= size
    return n


def nbytes_held(t):
    return held(t) * t.element_size()


def tensors(xs):
    flat, _ = tree_flatten(xs)
    return [x for x in flat if isinstance(x, torch.Tensor)]


class Record:
    __slots__ = ("op", "path", "flops", "read", "write")

    def __init__(self, op, path, flops, read, write):
        self.op, self.path, self.flops, self.read, self.write = op, path, flops, read, write

    def __repr__(self):
        return f"{self.path or '<root>'}: {self.op} flops={self.flops} read={self.read} write={self.write}"


def mm_flops(a, b):
    return 2 * a.shape[0] * a.shape[1] * b.shape[1]


def bmm_flops(a, b):
    return 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]


class CostRecorder(TorchDispatchMode):
    """with CostRecorder(model) as rec: model(...); rec.records is the list of costed ops."""

    def __init__(self, model=None):
        super().__init__()
        self.records = []
        self.stack = [""]
        self.unknown = set()
        self.hooks = []
        if model is not None:
            for name, module in model.named_modules():
                if name:
                    self.hooks.append(module.register_forward_pre_hook(self._enter(name)))
                    self.hooks.append(module.register_forward_hook(self._leave(name)))

    def _enter(self, name):
        def hook(module, args):
            self.stack.append(name)
        return hook

    def _leave(self, name):
        def hook(module, args, out):
            assert self.stack[-1] == name, (self.stack, name)
            self.stack.pop()
        return hook

    def remove_hooks(self):
        for h in self.hooks:
            h.remove()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = func.overloadpacket.__name__
        if name in VIEW_OPS:
            return out
        ins = tensors((args, kwargs))
        outs = tensors(out)
        flops, read, write = self.cost(name, args, ins, outs)
        self.records.append(Record(name, self.stack[-1], flops, read, write))
        return out

    def cost(self, name, args, ins, outs):
        write = sum(o.numel() * o.element_size() for o in outs)
        read = sum(nbytes_held(t) for t in ins)
        if name in CREATION:
            # a template tensor (zeros_like(x), x.new_zeros) gives only a shape and dtype
            return 0, 0, write
        if name == "mm":
            return mm_flops(args[0], args[1]), read, write
        if name == "addmm":
            # bias [N] (or broadcast): read for what it holds, as every other operand
            return mm_flops(args[1], args[2]), read, write
        if name == "bmm":
            return bmm_flops(args[0], args[1]), read, write
        if name == "baddbmm":
            return bmm_flops(args[1], args[2]), read, write
        if name == "convolution" and not args[6]:
            # aten.convolution(input, weight, bias, stride, padding, dilation, transposed,
            # output_padding, groups): torch/utils/flop_counter.py's conv_flop_count, 2 · batch ·
            # C_out · prod(output spatial) · (C_in / groups) · prod(kernel spatial), the bias not
            # counted; every operand read for what it holds (input, weight, bias)
            w = args[1]
            per_output = 1
            for s in w.shape[1:]:
                per_output *= s
            return 2 * outs[0].numel() * per_output, read, write
        if name == "embedding":
            weight, idx = args[0], args[1]
            rows = idx.numel()
            return 0, idx.numel() * idx.element_size() + rows * weight.shape[1] * weight.element_size(), write
        if name == "index_select":
            src, dim, idx = args[0], args[1], args[2]
            addressed = outs[0].numel()
            return 0, idx.numel() * idx.element_size() + addressed * src.element_size(), write
        if name == "zero_":
            # a fill: writes the tensor, reads nothing (costi's torch.zeros)
            return 0, 0, write
        if name == "constant_pad_nd":
            # F.pad(x, pad) with a constant: reads the input elements the output keeps (a
            # negative pad crops), writes the whole output (zeros included)
            x, pad = args[0], list(args[1])
            kept = 1
            for d, size in enumerate(x.shape):
                j = len(x.shape) - 1 - d          # pad pairs run from the last dim backwards
                lo, hi = (pad[2 * j], pad[2 * j + 1]) if 2 * j + 1 < len(pad) else (0, 0)
                kept *= size + min(lo, 0) + min(hi, 0)
            return 0, kept * x.element_size(), write
        if name == "index_put_":
            # x[..., idx] = values (no accumulate): reads the values and the indices, writes
            # only the addressed elements
            target, idx, values = args[0], [t for t in args[1] if t is not None], args[2]
            written = aten.index.Tensor(target, list(args[1])).numel()
            return 0, nbytes_held(values) + sum(nbytes_held(t) for t in idx), written * target.element_size()
        if name == "copy_":
            dst, src = args[0], args[1]
            return 0, nbytes_held(src), dst.numel() * dst.element_size()
        if name in ("_softmax", "softmax", "_log_softmax"):
            return 3 * outs[0].numel(), read, write
        if name == "native_layer_norm":
            # docs/conventions.md "Reductions, norms, pooling": M*(5n + 4) + (has_weight + has_bias)*M*n
            x, shape, weight, bias = args[0], args[1], args[2], args[3]
            n = 1
            for s in shape:
                n *= s
            m = x.numel() // n
            return m * (5 * n + 4) + ((weight is not None) + (bias is not None)) * m * n, read, write
        if name in ("topk", "min", "max", "amax", "argmax", "nonzero"):
            # a compare per input element; reads the input, writes values and/or int64 indices
            return ins[0].numel(), read, write
        if name == "index":
            # advanced indexing x[i, j]: the index entries and only the addressed elements
            src = args[0]
            idx = [t for t in args[1] if t is not None]
            return 0, sum(nbytes_held(t) for t in idx) + outs[0].numel() * src.element_size(), write
        if name == "index_add_":
            # target.index_add_(dim, idx, source): reads source, the addressed target elements
            # and the indices; writes the addressed target elements
            target, idx, source = args[0], args[2], args[3]
            n = source.numel() * target.element_size()
            return source.numel(), 2 * n + nbytes_held(idx), n
        if name == "scatter_":
            # x.scatter_(dim, idx, src or value): reads src (nothing for a scalar) and the
            # indices; writes one element per index entry
            target, idx = args[0], args[2]
            src = args[3] if len(args) > 3 and isinstance(args[3], torch.Tensor) else None
            return 0, nbytes_held(idx) + (nbytes_held(src) if src is not None else 0), idx.numel() * target.element_size()
        if name == "scatter":
            # torch.scatter(x, dim, idx, src or value), out of place, no reduce: ATen's
            # scatter_impl (aten/src/ATen/native/TensorAdvancedIndexing.cpp @ pytorch/pytorch
            # 7bc3a81d) copies x into the new output (out.copy_(self): x's held elements read,
            # all written), then fills as scatter_ does: reads src (nothing for a scalar) and
            # the indices, writes one element per index entry. costi: torch.clone + torch.scatter_.
            target, idx = args[0], args[2]
            src = args[3] if len(args) > 3 and isinstance(args[3], torch.Tensor) else None
            es = target.element_size()
            return (0, nbytes_held(target) + nbytes_held(idx) + (nbytes_held(src) if src is not None else 0),
                    outs[0].numel() * outs[0].element_size() + idx.numel() * es)
        if name == "gather":
            src, idx = args[0], args[2]
            return 0, nbytes_held(idx) + idx.numel() * src.element_size(), write
        if name == "mean":
            return ins[0].numel() + outs[0].numel(), read, write
        if name in ("sum", "cumsum"):
            # one accumulate per input element (cumsum: an inclusive scan, N outputs)
            return ins[0].numel(), read, write
        if name in ELEMENTWISE:
            return outs[0].numel(), read, write
        if name in COPIES:
            return 0, read, write
        self.unknown.add(name)
        return 0, read, write


def totals_by_path(records, strip_layer_index=True):
    """Inclusive totals per module path ('' is the whole model); 'layers.3.mlp' -> 'layers.mlp'."""
    out = {}
    for r in records:
        parts = [p for p in r.path.split(".") if p and not (strip_layer_index and p.isdigit())] if r.path else []
        for i in range(len(parts) + 1):
            key = ".".join(parts[:i])
            f, rd, w = out.get(key, (0, 0, 0))
            out[key] = (f + r.flops, rd + r.read, w + r.write)
    return out
