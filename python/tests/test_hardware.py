"""Model.run(hw=...) and Model.request: time and memory on a device (ctest python.hardware)."""
import os
import sys
import unittest
from fractions import Fraction

sys.path.insert(0, os.path.dirname(__file__))
from support import costi, main, write_cost  # noqa: E402

# hardware/h100-sxm.cost: BF16 dense 989.4e12 FLOP/s, HBM3 3.35e12 B/s, 80e9 B
# (NVIDIA's H100 datasheet).
BF16, BW = Fraction("989.4e12"), Fraction("3.35e12")


class Hardware(unittest.TestCase):
    def setUp(self):
        self.m = costi.load(write_cost(self), name="tiny")

    def test_roofline_time_by_hand(self):
        # One token: each of the 3 linears reads x (8 x 2 B) and W (128 x 2 B), writes y (16 x 2 B):
        # 304 bytes against 256 flops, memory-bound: time = 3 * 304 B / 3.35e12 B/s.
        r = self.m.run(seq_len=1, hw="h100-sxm", engine="transformers")
        self.assertEqual(r.hardware, "h100-sxm")
        self.assertEqual(r.totals["compute_time"], 3 * 256 / BF16)
        self.assertEqual(r.totals["memory_time"], 3 * 304 / BW)
        self.assertEqual(r.time, 3 * 304 / BW)
        self.assertIsInstance(r.time, Fraction)
        mem = r.device["memory"]
        self.assertEqual(mem["weights"], 3 * 128 * 2)
        self.assertEqual(mem["capacity"], 80 * 10 ** 9)
        self.assertTrue(mem["fits"])

    def test_no_device_no_time(self):
        r = self.m.run(seq_len=1)
        self.assertIsNone(r.time)
        self.assertIsNone(r.device)
        self.assertNotIn("time", r.totals)

    def test_request_sums_every_step(self):
        # A prompt of 4 tokens then 2 decode steps, the last position's logits only: the
        # prefill is seq_len 4 (M = 4), each step seq_len 1; the tiny model reads no cache.
        q = self.m.request(4, 2, hw="h100-sxm", engine="transformers")
        self.assertEqual(q["prefill"]["flops"], 3 * 2 * 4 * 8 * 16)
        self.assertEqual(q["decode"]["flops"], 2 * 3 * 2 * 1 * 8 * 16)
        prefill_time = 3 * (4 * 16 + 256 + 4 * 32) / BW
        step_time = 3 * 304 / BW
        self.assertEqual(q["ttft"], prefill_time)
        self.assertEqual(q["decode_time"], 2 * step_time)
        self.assertEqual(q["total_time"], prefill_time + 2 * step_time)

    def test_request_needs_a_device(self):
        with self.assertRaises(TypeError):
            self.m.request(4, 2)
        with self.assertRaises(costi.Error):
            self.m.request(0, 2, hw="h100-sxm")

    def test_library_model_decode_on_a_device(self):
        m = costi.load("llama-3-8b")
        r = m.run(seq_len=1, cache_len=4095, hw="h100-sxm", depth=0)
        self.assertEqual(r.engine, "vllm")
        # Each leaf takes the longer of its compute and memory times: the sum is at least each.
        self.assertGreaterEqual(r.time, r.totals["memory_time"])
        self.assertGreaterEqual(r.time, r.totals["compute_time"])
        # A decode step reads every weight it holds but the embedding table (one row per token).
        c = m.config
        embedding = c["vocab_size"] * c["hidden_size"] * 2
        self.assertGreaterEqual(r.totals["memory_time"], (r.totals["weight_bytes"] - embedding) / BW)
        self.assertLess(r.totals["memory_time"], (r.totals["weight_bytes"] + 2 * 10 ** 9) / BW)


if __name__ == "__main__":
    main()
