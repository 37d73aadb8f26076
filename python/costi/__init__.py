"""costi from Python: exact costs of ML models (FLOPs, bytes, parameters, time).

    >>> import costi
    >>> m = costi.load("gpt2")
    >>> m.run(seq_len=1024).totals["params"]
    124439808

Every number is exact: an ``int``, or a ``fractions.Fraction`` where a value is not an
integer (never a float unless asked for, as ``Result.totals_float()`` and
``Model.sweep(as_float=True)`` do). Every error costi reports is raised as ``costi.Error``,
whose text is what the command line prints. See docs/python.md.
"""

import numbers
from fractions import Fraction

from . import _costi, _library

_costi.set_library(_library.LIBRARY)

#: The exception every costi error is raised as: ``str(e)`` is the rendered diagnostic
#: (the text ``costi`` prints), ``e.code`` the code of the first one (``"E0207"``), or
#: ``"usage"`` for a call the command line would call a misuse.
Error = _costi.Error

__all__ = ["Error", "Model", "Result", "load", "models", "hardware"]


def models():
    """The library's models: their short names (``costi.load(NAME)`` takes each)."""
    return [m["name"] for m in _costi.models()]


def hardware():
    """The library's devices: their names (``hw=NAME`` takes each)."""
    return _costi.hardware()


def load(model=None, *, config=None, name=None):
    """Loads a model: by a library short name (``"llama-3-8b"``), a declared name
    (``"meta-llama/Meta-Llama-3-8B"``) or a ``.cost`` file path; or, with ``config=``, from
    a Hugging Face ``config.json`` (the kernel from its ``architectures[0]``). ``name``
    picks one model of a file that declares several. Raises ``costi.Error``."""
    if model is not None and not isinstance(model, str):
        model = str(model)  # a pathlib.Path
    if config is not None and not isinstance(config, str):
        config = str(config)
    return Model(_costi.Model(model or "", config or "", name or ""))


# ---- exact values in, as the command line's text ----

def _exact_text(value, what):
    """A number as the exact text costi parses: 42, -7/2, and a float as the decimal it
    prints (0.1 is 1/10, the value written, not the binary double)."""
    if isinstance(value, bool):
        raise TypeError(f"{what}: a number is needed, got {value!r}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Rational):
        f = Fraction(value.numerator, value.denominator)
        return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"
    if isinstance(value, float):
        return _exact_text(Fraction(repr(value)), what)
    if isinstance(value, str):
        return value
    try:  # decimal.Decimal, numpy scalars
        return _exact_text(Fraction(str(value)), what)
    except (ValueError, TypeError):
        raise TypeError(f"{what}: a number is needed, got {value!r}") from None


def _config_entries(config, prefix=""):
    """config={...} as (KEY, VALUE) texts: nested dicts give dotted keys (rope_scaling.factor),
    booleans true/false, strings quoted (always text), numbers exact."""
    out = []
    for key, value in (config or {}).items():
        key = prefix + str(key)
        if isinstance(value, dict):
            out += _config_entries(value, key + ".")
        elif isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, str):
            out.append((key, '"' + value + '"'))
        else:
            out.append((key, _exact_text(value, "config." + key)))
    return out


def _call(runtime, config, hw, engine):
    values = {name: _exact_text(v, name) for name, v in runtime.items()}
    return _costi.Call(values, _config_entries(config), hw or "", engine or "")


def _is_axis(value):
    if isinstance(value, str):
        return "," in value or ".." in value
    return isinstance(value, (range, list, tuple)) or (
        hasattr(value, "__iter__") and not isinstance(value, (dict, bytes)))


def _axis_text(name, values):
    """A swept variable's values as the command line writes them: a range A..B+STEP, a list
    V1,V2,… (or the text itself: "512..32768*2")."""
    if isinstance(values, str):
        return values
    if isinstance(values, range) and values.step > 0 and len(values) > 1:
        return f"{values.start}..{values[-1]}+{values.step}"
    values = list(values)
    if not values:
        raise _usage(f"'{name}' is swept over no values")
    return ",".join(_exact_text(v, name) for v in values)


def _usage(message):
    """A misuse of the API, as costi.Error with the command line's layout and code "usage"."""
    e = Error(f"costi: error: {message}\n")
    e.code = "usage"
    return e


def _float(v):
    return None if v is None or isinstance(v, str) else float(v)


class Model:
    """A loaded model. Runs, sweeps and closed forms take the runtime variables as keywords
    (``seq_len=4096``, ``batch_size=8``, ``cache_len=…``, ``w_bytes=Fraction(1, 2)``, …),
    ``config={...}`` overrides of the model's config, ``hw=`` a device and ``engine=`` an
    execution, as ``costi run``'s flags do."""

    def __init__(self, impl):
        self._impl = impl

    @property
    def name(self):
        """The declared name of the model (``meta-llama/Meta-Llama-3-8B``)."""
        return self._impl.name

    @property
    def file(self):
        """The file the model was loaded from (the config.json for ``config=``)."""
        return self._impl.file

    @property
    def config(self):
        """The model's config (its ``config from`` files, then its config block): a dict of
        dotted keys (``rope_scaling.factor``) to exact values and strings."""
        return self._impl.config

    def __repr__(self):
        return f"costi.Model({self.name!r})"

    def run(self, *, config=None, hw=None, engine=None, depth=-1, **runtime):
        """Evaluates the model once (``costi run``): a ``Result`` with exact totals, the tree of
        calls (``depth`` levels kept below the model; -1 keeps all) and, with ``hw=``, the
        device analysis (time, memory, what fits)."""
        return Result(self._impl.run(_call(runtime, config, hw, engine), depth))

    def request(self, prompt, generate=0, *, hw, config=None, engine=None, **runtime):
        """A whole request on a device (``costi run --prompt P --generate G --hw NAME``): the
        prefill and every decode step summed exactly. A dict: ttft, decode_time, total_time
        (seconds), prefill / decode / last_decode (totals per metric), peak_memory."""
        return self._impl.request(_call(runtime, config, hw, engine),
                                  _exact_text(prompt, "prompt"), _exact_text(generate, "generate"))

    def sweep(self, *, columns=None, config=None, hw=None, engine=None, interpret=False, errors="raise",
              max_points=10_000_000, as_float=False, **runtime):
        """The totals over a grid (``costi sweep``): each runtime keyword given a ``range``, a
        list or a text such as ``"512..32768*2"`` is swept (the first outermost), the others
        fixed. Returns a dict of equal-length lists — the swept variables, then the columns
        (every metric, or ``columns=["flops", "intensity=flops/(read+write)"]``) — that
        ``pandas.DataFrame(...)`` takes as is. Values are exact unless ``as_float``. A point
        that fails raises ``costi.Error``, or with ``errors="column"`` leaves None in its cells
        and its error in a last column ``error``."""
        if errors not in ("raise", "column"):
            raise ValueError("errors= takes 'raise' or 'column'")
        swept = [(name, _axis_text(name, v)) for name, v in runtime.items() if _is_axis(v)]
        fixed = {name: v for name, v in runtime.items() if not _is_axis(v)}
        if isinstance(columns, (list, tuple)):
            columns = ",".join(columns)
        out = self._impl.sweep(_call(fixed, config, hw, engine), swept, columns or "", interpret,
                               errors == "column", max_points)
        if as_float:
            out = {k: (v if k == "error" else [_float(x) for x in v]) for k, v in out.items()}
        return out

    def formula(self, free=None, *, config=None, hw=None, engine=None, raw=False, **runtime):
        """Each metric's total as a closed form (``costi formula``) in the runtime variables
        ``free`` (default: every one the model reads; the others fixed at their values or the
        keywords given): a dict metric -> sympy expression with exact rational coefficients
        (needs sympy: python3-sympy). Non-polynomial parts are sympy's floor, ceiling, Min,
        Max, Abs, Mod and Piecewise. ``raw=True`` returns the compiled form's own terms
        instead (no sympy needed)."""
        if isinstance(free, str):
            free = [free]
        form = self._impl.formula(_call(runtime, config, hw, engine), list(free or []))
        if raw:
            return form
        return _sympy_totals(form)


class Result:
    """One evaluation. ``totals``: metric -> exact value; ``root``: the tree of calls
    (``label``, ``kernel`` (also ``name``), ``repeat``, ``cost`` per call, ``metrics`` — the call's share of
    the whole run, as the table shows — and ``children``); ``runtime``: the values the run
    used; with a device, ``device`` (memory, max_batch, max_context) and ``time``."""

    def __init__(self, impl):
        self._impl = impl
        self.totals = impl.totals
        self.runtime = impl.runtime

    model = property(lambda self: self._impl.model, doc="The declared name of the model run.")
    root = property(lambda self: self._impl.root, doc="The model's call: the root of the tree.")
    hardware = property(lambda self: self._impl.hardware or None, doc="The device, or None.")
    engine = property(lambda self: self._impl.engine, doc="The execution run (transformers, vllm, …).")
    device = property(lambda self: self._impl.device,
                      doc="With a device: memory (a footprint dict), max_batch, max_context; else None.")

    @property
    def time(self):
        """The run's time on its device in seconds (exact), or None without one."""
        return self.totals.get("time") if self.hardware else None

    def totals_float(self):
        """The totals as floats (for plotting; ``totals`` is exact)."""
        return {k: float(v) for k, v in self.totals.items()}

    def walk(self):
        """Every call of the tree, depth first: (depth, node)."""
        stack = [(0, self.root)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, c) for c in reversed(node.children))

    def table(self, depth=3, exact=False):
        """The breakdown table ``costi run`` prints (``depth=-1``: every call)."""
        return self._impl.table(depth, exact)

    def json(self):
        """The JSON of ``costi run --format json`` (every number an exact string)."""
        return self._impl.json()

    def __str__(self):
        return self.table()

    def __repr__(self):
        return f"<costi.Result {self.model}: {len(self.totals)} metrics>"


def _sympy_totals(form):
    try:
        import sympy
    except ImportError:
        raise ImportError("Model.formula needs sympy (Debian: apt-get install python3-sympy); "
                          "formula(raw=True) gives the terms without it") from None

    def rational(c):
        return sympy.Integer(c) if isinstance(c, int) else sympy.Rational(c.numerator, c.denominator)

    variables = [sympy.Symbol(name) for name in form["free"]]

    def poly(terms):
        return sympy.Add(*[rational(c) * sympy.Mul(*[variables[v] ** p for v, p in factors])
                           for c, factors in terms])

    relations = {"==": sympy.Eq, "!=": sympy.Ne, "<": sympy.Lt, "<=": sympy.Le, ">": sympy.Gt, ">=": sympy.Ge}
    for kind, op, args in form["atoms"]:
        a = [poly(p) for p in args]
        if kind == "floor":
            e = sympy.floor(a[0])
        elif kind == "ceil":
            e = sympy.ceiling(a[0])
        elif kind == "abs":
            e = sympy.Abs(a[0])
        elif kind == "min":
            e = sympy.Min(*a)
        elif kind == "max":
            e = sympy.Max(*a)
        elif kind == "mod":
            e = sympy.Mod(a[0], a[1])
        elif kind == "recip":
            e = 1 / a[0]
        elif kind == "cmp":
            e = sympy.Piecewise((1, relations[op](a[0], a[1])), (0, True))
        elif kind == "and":  # operands are 0 or 1
            e = a[0] * a[1]
        elif kind == "or":
            e = a[0] + a[1] - a[0] * a[1]
        elif kind == "not":
            e = 1 - a[0]
        elif kind == "cond":
            e = sympy.Piecewise((a[1], sympy.Ne(a[0], 0)), (a[2], True))
        else:
            raise _usage(f"unknown atom {kind!r} in a compiled form")
        variables.append(e)
    return {metric: poly(terms) for metric, terms in form["totals"].items()}
