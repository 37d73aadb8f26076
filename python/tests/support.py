"""What the Python module's tests share: the skip when the module was not built (exit 77,
which ctest reports as skipped) and small .cost files written for a test."""
import os
import sys
import tempfile
import unittest

if os.environ.get("COSTI_PYTHON_MODULE", "ON").upper() in ("OFF", "0", "FALSE"):
    print("skipped: the Python module was not built (needs pybind11-dev and python3-dev)")
    sys.exit(77)

import costi  # noqa: E402  (after the skip)

# A model small enough to cost by hand: three calls of a linear layer x[M,8] @ W[16,8]^T,
# M = batch_size * seq_len (stdlib/matmul.cost's F.linear: flops 2*M*K*N, reads x and W at
# 2 bytes, writes y at 2 bytes, params K*N).
TINY = """import "stdlib/all.cost"

kernel Tiny {
  require seq_len <= 1000 "Tiny takes at most 1000 tokens"
  proj: repeat 3 $F.linear(M = batch_size * seq_len, K = config.hidden, N = 16)
}

kernel Third {
  flops = seq_len / 3
  params = 2^100
}

model tiny = $Tiny {
  config { hidden = 8 }
}

model third = $Third {}
"""


def write_cost(test, text=TINY, name="tiny.cost"):
    """Writes `text` to a .cost file in a directory removed after the test; returns its path."""
    d = tempfile.TemporaryDirectory()
    test.addCleanup(d.cleanup)
    path = os.path.join(d.name, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    unittest.main(verbosity=2)
