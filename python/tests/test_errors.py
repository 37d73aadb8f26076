"""costi.Error: every error the command line reports, with its text (ctest python.errors)."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from support import costi, main, write_cost  # noqa: E402


class Errors(unittest.TestCase):
    def setUp(self):
        self.path = write_cost(self)

    def test_unknown_model_suggests(self):
        with self.assertRaises(costi.Error) as c:
            costi.load("llama3-8b")
        self.assertIn("did you mean 'llama-3-8b'?", str(c.exception))
        self.assertEqual(c.exception.code, "E0002")

    def test_failed_require_is_the_command_lines_text(self):
        with self.assertRaises(costi.Error) as c:
            costi.load(self.path, name="tiny").run(seq_len=1001)
        self.assertEqual(c.exception.code, "E0207")
        self.assertIn("Tiny takes at most 1000 tokens", str(c.exception))
        exe = os.environ.get("COSTI_EXE")
        if exe and os.path.exists(exe):
            cli = subprocess.run([exe, "run", self.path, "--model", "tiny", "--seq_len", "1001"],
                                 capture_output=True, text=True)
            self.assertEqual(cli.returncode, 1)
            self.assertEqual(str(c.exception), cli.stderr)

    def test_value_outside_domain(self):
        with self.assertRaises(costi.Error) as c:
            costi.load(self.path, name="tiny").run(seq_len=0)
        self.assertEqual(c.exception.code, "usage")
        self.assertIn("--seq_len", str(c.exception))

    def test_unknown_runtime_variable_and_config_key(self):
        m = costi.load(self.path, name="tiny")
        with self.assertRaises(costi.Error) as c:
            m.run(seqlen=4)
        self.assertIn("did you mean 'seq_len'?", str(c.exception))
        with self.assertRaises(costi.Error) as c:
            m.run(config={"hiden": 4})
        self.assertIn("did you mean 'config.hidden'?", str(c.exception))

    def test_syntax_error_in_a_file(self):
        path = write_cost(self, "kernel Broken {\n  flops = 2 *\n}\n", "broken.cost")
        with self.assertRaises(costi.Error) as c:
            costi.load(path)
        self.assertEqual(c.exception.code, "E0001")
        self.assertIn("broken.cost:", str(c.exception))

    def test_a_file_of_several_models_needs_a_name(self):
        with self.assertRaises(costi.Error) as c:
            costi.load(self.path)
        self.assertEqual(c.exception.code, "E0111")
        self.assertIn("tiny", str(c.exception))
        with self.assertRaises(costi.Error) as c:
            costi.load(self.path, name="tiny2")
        self.assertIn("did you mean 'tiny'?", str(c.exception))

    def test_unknown_hardware(self):
        with self.assertRaises(costi.Error) as c:
            costi.load(self.path, name="tiny").run(hw="h100-sxn")
        self.assertIn("did you mean 'h100-sxm'?", str(c.exception))

    def test_errors_leave_the_model_usable(self):
        m = costi.load(self.path, name="tiny")
        for bad in ({"seq_len": 1001}, {"seq_len": -1}, {"seq_len": "x"}):
            with self.assertRaises(costi.Error):
                m.run(**bad)
        self.assertEqual(m.run(seq_len=2).totals["flops"], 3 * 2 * 2 * 8 * 16)

    def test_sweep_over_nothing(self):
        with self.assertRaises(costi.Error) as c:
            costi.load(self.path, name="tiny").sweep(seq_len=[])
        self.assertEqual(c.exception.code, "usage")

    def test_not_a_number(self):
        with self.assertRaises(TypeError):
            costi.load(self.path, name="tiny").run(seq_len=object())

    def test_sweep_point_errors(self):
        m = costi.load(self.path, name="tiny")
        with self.assertRaises(costi.Error) as c:
            m.sweep(seq_len=[999, 1000, 1001])
        self.assertEqual(c.exception.code, "E0207")
        cols = m.sweep(seq_len=[999, 1000, 1001], columns=["flops"], errors="column")
        self.assertEqual(cols["flops"], [768 * 999, 768 * 1000, None])
        self.assertIsNone(cols["error"][0])
        self.assertTrue(cols["error"][2].startswith("E0207"))


if __name__ == "__main__":
    main()
