"""Evaluates the predecessor's JSON formats exactly, with Python's own arithmetic on
fractions.Fraction: the reference `costi import` is tested against (tests/import/run_equality.py).

Written from the formats' meaning (docs/import.md), not from the importer's code: formulas
are parsed by Python's `ast` module and evaluated by Python's operators and built-ins
(int(), round(), math.ceil, min, ...) on Fractions; number literals are read as the exact
decimal they spell.
"""
import ast
import json
import math
import os
import re
from fractions import Fraction

RUNTIME = ["batch_size", "seq_len", "cache_len", "w_bytes", "a_bytes", "kv_bytes", "bytes"]
METRICS = ["flops", "read", "write"]
FUNCS = {"min", "max", "abs", "int", "round"}


class EvalError(Exception):
    pass


def to_python(text):
    """The formula as Python source: {x} -> x, ${A.B}( -> __ref__("A.B")(."""
    text = re.sub(r"\$\{\s*([A-Za-z_][\w.]*)\s*\}", lambda m: '__ref__("%s")' % m.group(1), text)
    text = re.sub(r"\{\s*([A-Za-z_][\w.]*)\s*\}", lambda m: m.group(1), text)
    return text


def literal(src):
    s = src.replace("_", "")
    if s[:2].lower() in ("0x", "0o", "0b"):
        return Fraction(int(s, 0))
    return Fraction(s)


class Formula:
    def __init__(self, text):
        self.text = str(text)
        self.src = to_python(self.text)
        self.tree = ast.parse(self.src, mode="eval").body
        for node in ast.walk(self.tree):  # a literal is the exact number its digits spell
            if isinstance(node, ast.Constant) and type(node.value) in (int, float):
                node.exact = literal(ast.get_source_segment(self.src, node))

    def names(self):
        """Free names in source order (not config, math, functions, references)."""
        found = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name) and node.id not in ("config", "math", "__ref__", "True", "False"):
                found.append((node.lineno, node.col_offset, node.id))
        skip = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                skip.add((node.func.lineno, node.func.col_offset))
        out = []
        for line, col, name in sorted(found):
            if (line, col) in skip:
                continue
            if name not in out:
                out.append(name)
        return out


class Evaluator:
    def __init__(self, defs, name_map):
        self.defs = defs
        self.name_map = name_map

    def resolve(self, name):
        if name in self.defs and self.defs[name]["kind"] != "model":
            return self.defs[name]
        short = self.name_map.get(name)
        if short in self.defs:
            return self.defs[short]
        raise EvalError("undefined " + name)

    def order(self, d):
        if d["kind"] in ("leaf", "composite"):
            return d["params"]
        if "order" not in d:
            names = []
            for e in d["entries"]:
                for f in ([e["repeat"]] if e["repeat"] is not None else []) + [e[m] for m in METRICS]:
                    for n in f.names():
                        if n not in names:
                            names.append(n)
            # Parameters the module's references leave unbound become its own (appended).
            d["order"] = names
            for e in d["entries"]:
                for m in METRICS:
                    refs = sorted((n for n in ast.walk(e[m].tree) if self.is_ref(n)),
                                  key=lambda n: (n.lineno, n.col_offset))
                    for node in refs:
                        if True:
                            callee = self.resolve(node.func.args[0].value)
                            corder = self.order(callee)
                            bound = set(corder[: len(node.args)]) | {k.arg for k in node.keywords}
                            for p in corder:
                                if p not in bound and p not in RUNTIME and p not in names:
                                    names.append(p)
        return d["order"]

    @staticmethod
    def is_ref(node):
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Call)
                and isinstance(node.func.func, ast.Name) and node.func.func.id == "__ref__")

    def value(self, node, env, config, metric, dynamic):
        v = lambda n: self.value(n, env, config, metric, dynamic)
        if isinstance(node, ast.Constant):
            if node.value is True or node.value is False:
                return Fraction(int(node.value))
            if hasattr(node, "exact"):
                return node.exact
            raise EvalError("constant")
        if isinstance(node, ast.Name):
            if node.id == "True":
                return Fraction(1)
            if node.id == "False":
                return Fraction(0)
            if node.id not in env:
                raise EvalError("unbound " + node.id)
            return env[node.id]
        if isinstance(node, ast.Attribute):
            parts = []
            n = node
            while isinstance(n, ast.Attribute):
                parts.append(n.attr)
                n = n.value
            if isinstance(n, ast.Name) and n.id == "config":
                return config[".".join(reversed(parts))]
            raise EvalError("attribute")
        if isinstance(node, ast.BinOp):
            a, b = v(node.left), v(node.right)
            op = type(node.op)
            if op is ast.Add:
                return a + b
            if op is ast.Sub:
                return a - b
            if op is ast.Mult:
                return a * b
            if op is ast.Div:
                return a / b
            if op is ast.FloorDiv:
                return Fraction(a // b)
            if op is ast.Mod:
                return a % b
            if op is ast.Pow:
                if b.denominator != 1:
                    raise EvalError("inexact power")
                return Fraction(a ** int(b))
            raise EvalError("operator")
        if isinstance(node, ast.UnaryOp):
            x = v(node.operand)
            if isinstance(node.op, ast.USub):
                return -x
            if isinstance(node.op, ast.UAdd):
                return +x
            if isinstance(node.op, ast.Not):
                return Fraction(int(not x))
            raise EvalError("unary")
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                r = v(node.values[0])
                for x in node.values[1:]:
                    r = r and v(x)
                return Fraction(r)
            r = v(node.values[0])
            for x in node.values[1:]:
                r = r or v(x)
            return Fraction(r)
        if isinstance(node, ast.Compare):
            ops = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
                   ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}
            left = v(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = v(right_node)
                if not ops[type(op)](left, right):
                    return Fraction(0)
                left = right
            return Fraction(1)
        if isinstance(node, ast.IfExp):
            return v(node.body) if v(node.test) else v(node.orelse)
        if isinstance(node, ast.Call):
            if self.is_ref(node):
                return self.call(node, env, config, metric, dynamic)
            args = [v(a) for a in node.args]
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "math":
                return Fraction({"ceil": math.ceil, "floor": math.floor}[f.attr](args[0]))
            fn = {"min": min, "max": max, "abs": abs, "int": int}.get(f.id)
            if fn is not None:
                return Fraction(fn(*args))
            if f.id == "round":
                return Fraction(round(args[0], int(args[1])) if len(args) == 2 else round(args[0]))
        raise EvalError("unsupported " + ast.dump(node))

    def call(self, node, env, config, metric, dynamic):
        callee = self.resolve(node.func.args[0].value)
        bindings = {}
        corder = self.order(callee)
        for i, a in enumerate(node.args):
            if i >= len(corder):  # --drop-extra-arguments
                break
            bindings[corder[i]] = self.value(a, env, config, metric, dynamic)
        for k in node.keywords:
            bindings[k.arg] = self.value(k.value, env, config, metric, dynamic)
        return self.metric(callee, self.callee_env(env, bindings, dynamic), config, metric)

    @staticmethod
    def callee_env(env, bindings, dynamic):
        if dynamic:  # the predecessor's names are global: the callee sees the caller's
            new = dict(env)
        else:
            new = {k: env[k] for k in RUNTIME if k in env}
        new.update(bindings)
        return new

    def metric(self, d, env, config, m):
        kind = d["kind"]
        if kind == "leaf":
            return self.value(d[m].tree, env, config, m, False)
        if kind == "composite":
            total = Fraction(0)
            for c in d["children"]:
                callee = self.resolve(c["kernel"])
                b = {k: self.value(f.tree, env, config, m, False) for k, f in c["bindings"].items()}
                count = self.value(c["count"].tree, env, config, m, False) if c["count"] is not None else 1
                total += count * self.metric(callee, self.callee_env(env, b, False), config, m)
            return total
        if kind == "module":
            total = Fraction(0)
            for e in d["entries"]:
                r = self.value(e["repeat"].tree, env, config, m, True) if e["repeat"] is not None else 1
                total += r * self.value(e[m].tree, env, config, m, True)
            return total
        if kind == "model":
            return self.layers(d["layers"], env, config, m)
        raise EvalError(kind)

    def layers(self, layers, env, config, m):
        total = Fraction(0)
        for l in layers:
            r = self.value(Formula(l["repeat"]).tree, env, config, m, True) if "repeat" in l else 1
            if l.get("sub_layers"):
                total += r * self.layers(l["sub_layers"], env, config, m)
            else:
                total += r * self.metric(self.resolve(l["class"]), dict(env), config, m)
        return total


def load(paths):
    """The definitions and name map of the JSON files under `paths`."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                files += [os.path.join(root, n) for n in names if n.endswith(".json")]
        else:
            files.append(p)
    defs, name_map = {}, {}
    for f in sorted(files):
        doc = json.load(open(f))
        if "$schema" in doc:
            continue
        if "kernel_name" in doc:
            params = doc.get("init_params", []) + doc.get("forward_params", [])
            if "children" in doc:
                children = [{"kernel": c["kernel"], "count": Formula(c["count"]) if "count" in c else None,
                             "bindings": {k: Formula(x) for k, x in c["bindings"].items()}}
                            for c in doc["children"].values()]
                defs[doc["kernel_name"]] = {"kind": "composite", "params": params, "children": children}
            else:
                defs[doc["kernel_name"]] = {"kind": "leaf", "params": params, "flops": Formula(doc["flops"]),
                                            "read": Formula(doc["memory_read"]), "write": Formula(doc["memory_write"])}
        elif "class_name" in doc:
            entries = [{"repeat": Formula(k["repeat"]) if "repeat" in k else None, "flops": Formula(k["flops"]),
                        "read": Formula(k["memory_access"]["read"]), "write": Formula(k["memory_access"]["write"])}
                       for k in doc["kernels"]]
            defs[doc["class_name"]] = {"kind": "module", "entries": entries}
        elif "layers" in doc:
            defs[doc["model_id"]] = {"kind": "model", "layers": doc["layers"]}
        else:
            name_map.update(doc)
    return defs, name_map


def model_params(ev, d):
    """A model tree's parameters: those of the classes of its layers, in order, and repeat's names."""
    out = []

    def walk(layers):
        for l in layers:
            if "repeat" in l:
                for n in Formula(l["repeat"]).names():
                    if n not in out and n not in RUNTIME:
                        out.append(n)
            if l.get("sub_layers"):
                walk(l["sub_layers"])
            else:
                for n in ev.order(ev.resolve(l["class"])):
                    if n not in out and n not in RUNTIME:
                        out.append(n)
    walk(d["layers"])
    return out
