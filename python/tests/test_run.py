"""costi.load and Model.run: totals, the tree, exact values (python/tests, ctest python.run)."""
import os
import sys
import unittest
from fractions import Fraction

sys.path.insert(0, os.path.dirname(__file__))
from support import costi, main, write_cost  # noqa: E402


class GPT2(unittest.TestCase):
    def test_params_of_gpt2_small(self):
        # GPT-2 small by hand (openai-community/gpt2 config: vocab 50257, n_positions 1024,
        # n_embd 768, n_layer 12, n_inner 4 * 768; lm_head tied to wte, not counted again).
        V, P, d, L = 50257, 1024, 768, 12
        layer = (2 * d                    # ln_1
                 + d * 3 * d + 3 * d      # attn.c_attn (Conv1D with bias)
                 + d * d + d              # attn.c_proj
                 + 2 * d                  # ln_2
                 + d * 4 * d + 4 * d      # mlp.c_fc
                 + 4 * d * d + d)         # mlp.c_proj
        expected = V * d + P * d + L * layer + 2 * d
        self.assertEqual(expected, 124_439_808)  # the published figure
        r = costi.load("gpt2").run(seq_len=1024)
        self.assertEqual(r.totals["params"], expected)
        self.assertIs(type(r.totals["params"]), int)

    def test_same_model_by_name_path_and_declared_name(self):
        by_short = costi.load("gpt2")
        by_path = costi.load("models/gpt2.cost")
        by_declared = costi.load(by_short.name)
        totals = [m.run(seq_len=128).totals for m in (by_short, by_path, by_declared)]
        self.assertEqual(totals[0], totals[1])
        self.assertEqual(totals[0], totals[2])

    def test_config_json(self):
        # tests/models/configs holds Hugging Face config.json files; any Llama one runs.
        configs = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "models", "configs")
        llama = [f for f in sorted(os.listdir(configs)) if f.endswith(".json") and "llama" in f.lower()]
        if not llama:
            self.skipTest("no Llama config.json in tests/models/configs")
        m = costi.load(config=os.path.join(configs, llama[0]))
        self.assertGreater(m.run(seq_len=16).totals["flops"], 0)


class Tiny(unittest.TestCase):
    def setUp(self):
        self.path = write_cost(self)

    def test_flops_reads_writes_by_hand(self):
        m = costi.load(self.path, name="tiny")
        for b, s in [(1, 1), (2, 5), (8, 1000)]:
            M = b * s
            r = m.run(batch_size=b, seq_len=s)
            self.assertEqual(r.totals["flops"], 3 * 2 * M * 8 * 16)
            self.assertEqual(r.totals["read"], 3 * (M * 8 * 2 + 8 * 16 * 2))
            self.assertEqual(r.totals["write"], 3 * M * 16 * 2)
            self.assertEqual(r.totals["params"], 3 * 8 * 16)

    def test_tree(self):
        r = costi.load(self.path, name="tiny").run(seq_len=4)
        root = r.root
        self.assertEqual(root.kernel, "Tiny")
        (proj,) = root.children
        self.assertEqual(proj.label, "proj")
        self.assertEqual(proj.kernel, "F.linear")
        self.assertEqual(proj.name, "F.linear")
        self.assertEqual(proj.repeat, 3)
        self.assertEqual(proj.cost["flops"], 2 * 4 * 8 * 16)        # one call
        self.assertEqual(proj.metrics["flops"], 3 * 2 * 4 * 8 * 16)  # its share of the run
        self.assertEqual(proj.metrics, {k: v for k, v in r.totals.items()})
        self.assertEqual([n.label for _, n in r.walk()], [root.label, "proj"])

    def test_config_override_and_fractional_weights(self):
        m = costi.load(self.path, name="tiny")
        r = m.run(seq_len=2, config={"hidden": 10}, w_bytes=Fraction(1, 2))
        self.assertEqual(r.totals["flops"], 3 * 2 * 2 * 10 * 16)
        # weights at half a byte: 160 weights read at 1/2 byte, x at 2 bytes.
        self.assertEqual(r.totals["read"], 3 * (2 * 10 * 2 + 160 * Fraction(1, 2)))
        self.assertEqual(r.runtime["w_bytes"], Fraction(1, 2))
        # a float is the decimal written: 0.5 is 1/2 exactly
        self.assertEqual(m.run(seq_len=2, config={"hidden": 10}, w_bytes=0.5).totals, r.totals)

    def test_fractions_and_big_integers_are_exact(self):
        r = costi.load(self.path, name="third").run(seq_len=4)
        self.assertEqual(r.totals["flops"], Fraction(4, 3))
        self.assertIsInstance(r.totals["flops"], Fraction)
        self.assertEqual(r.totals["params"], 2 ** 100)
        self.assertIs(type(r.totals["params"]), int)
        self.assertIs(type(r.totals["read"]), int)
        self.assertEqual(r.totals_float()["flops"], 4 / 3)

    def test_table_and_json(self):
        r = costi.load(self.path, name="tiny").run(seq_len=4)
        self.assertIn("proj", r.table())
        self.assertIn('"flops"', r.json())

    def test_library_lists(self):
        self.assertIn("gpt2", costi.models())
        self.assertIn("h100-sxm", costi.hardware())


if __name__ == "__main__":
    main()
