"""Model.sweep (columns pandas takes) and Model.formula (sympy) (ctest python.sweep_formula)."""
import os
import sys
import unittest
from fractions import Fraction

sys.path.insert(0, os.path.dirname(__file__))
from support import costi, main, write_cost  # noqa: E402

try:
    import pandas
except ImportError:
    pandas = None
try:
    import sympy
except ImportError:
    sympy = None


def tiny_flops(b, s):
    return 3 * 2 * (b * s) * 8 * 16


class Sweep(unittest.TestCase):
    def setUp(self):
        self.m = costi.load(write_cost(self), name="tiny")

    def test_grid_order_and_values(self):
        cols = self.m.sweep(batch_size=[1, 2], seq_len=range(1, 5), columns=["flops", "params"])
        self.assertEqual(list(cols), ["batch_size", "seq_len", "flops", "params"])
        self.assertEqual(cols["batch_size"], [1, 1, 1, 1, 2, 2, 2, 2])  # the first outermost
        self.assertEqual(cols["seq_len"], [1, 2, 3, 4] * 2)
        self.assertEqual(cols["flops"], [tiny_flops(b, s) for b in (1, 2) for s in range(1, 5)])
        self.assertEqual(cols["params"], [384] * 8)

    def test_ranges_texts_fixed_values_and_expression_columns(self):
        cols = self.m.sweep(seq_len="1..64*4", batch_size=2,
                            columns=["intensity=flops/(read+write)"])
        self.assertEqual(cols["seq_len"], [1, 4, 16, 64])
        for s, v in zip(cols["seq_len"], cols["intensity"]):
            M = 2 * s
            self.assertEqual(v, Fraction(tiny_flops(2, s), 3 * (M * 16 + 256) + 3 * M * 32))
        self.assertEqual(self.m.sweep(seq_len=range(1, 100, 7), columns=["flops"])["seq_len"],
                         list(range(1, 100, 7)))

    def test_the_interpreter_agrees(self):
        fast = self.m.sweep(seq_len=range(1, 50), batch_size=[1, 3])
        slow = self.m.sweep(seq_len=range(1, 50), batch_size=[1, 3], interpret=True)
        self.assertEqual(fast, slow)

    def test_floats_when_asked(self):
        cols = costi.load(write_cost(self), name="third").sweep(seq_len=[1, 2], columns=["flops"], as_float=True)
        self.assertEqual(cols["flops"], [1 / 3, 2 / 3])

    @unittest.skipIf(pandas is None, "pandas is not installed (python3-pandas)")
    def test_pandas_takes_the_columns(self):
        df = pandas.DataFrame(self.m.sweep(seq_len=range(1, 9), columns=["flops"]))
        self.assertEqual(df.shape, (8, 2))
        self.assertEqual(int(df["flops"].sum()), sum(tiny_flops(1, s) for s in range(1, 9)))


@unittest.skipIf(sympy is None, "sympy is not installed (python3-sympy)")
class Formula(unittest.TestCase):
    def test_tiny_polynomial(self):
        m = costi.load(write_cost(self), name="tiny")
        f = m.formula(free=["seq_len", "batch_size"])
        s, b = sympy.Symbol("seq_len"), sympy.Symbol("batch_size")
        self.assertEqual(sympy.expand(f["flops"] - 768 * b * s), 0)
        self.assertEqual(sympy.expand(f["read"] - (48 * b * s + 768)), 0)
        self.assertEqual(f["params"], 384)

    def test_exact_rational_coefficients(self):
        f = costi.load(write_cost(self), name="third").formula(free="seq_len")
        s = sympy.Symbol("seq_len")
        self.assertEqual(f["flops"], sympy.Rational(1, 3) * s)

    def test_gpt2_closed_form_matches_runs(self):
        m = costi.load("gpt2")
        f = m.formula(free=["seq_len"])
        s = sympy.Symbol("seq_len")
        for n in (1, 7, 1024):
            totals = m.run(seq_len=n, depth=0).totals
            for metric in ("flops", "read", "write", "params"):
                self.assertEqual(f[metric].subs(s, n), totals[metric], (metric, n))

    def test_llama_decode_with_atoms(self):
        # Atoms (max, floor, …) where the model has them: the sympy form must still agree.
        m = costi.load("llama-3-8b")
        f = m.formula(free=["cache_len"], seq_len=1)
        c = sympy.Symbol("cache_len")
        for n in (0, 1, 4095):
            self.assertEqual(f["flops"].subs(c, n), m.run(seq_len=1, cache_len=n, depth=0).totals["flops"])


if __name__ == "__main__":
    main()
