#!/usr/bin/env python3
"""Draws docs/decode_time.png: the time of one decode step against the cache length, for three
models on one accelerator, with the Python module (docs/python.md).

    cmake --build build --target costi_python
    PYTHONPATH=build/python python3 docs/tools/plot_decode.py [OUT.png]

Needs matplotlib (Debian python3-matplotlib). Every time is costi's exact roofline time on the
device (the execution vLLM runs, the default with a device), converted to float only to draw.
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display: write the file
import matplotlib.pyplot as plt  # noqa: E402

import costi  # noqa: E402

HW = "h100-sxm"
MODELS = ["llama-2-7b", "llama-3-8b", "mistral-7b-v0.1"]
CACHE = range(0, 32768 + 1, 256)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "decode_time.png")
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for name in MODELS:
        m = costi.load(name)
        # One decode step (seq_len 1) at every cache length within the context the model was
        # trained for (its config's max_position_embeddings: the step reads cache_len + 1 positions).
        context = m.config["max_position_embeddings"]
        cache = [c for c in CACHE if c + 1 <= context]
        cols = m.sweep(cache_len=cache, seq_len=1, hw=HW, columns=["time"], as_float=True)
        ms = [t * 1e3 for t in cols["time"]]
        ax.plot(cols["cache_len"], ms, label=f"{name} (context {context:,})")
    ax.set_xlabel("cache length (tokens already in the KV cache)")
    ax.set_ylabel("decode step time (ms, batch 1)")
    ax.set_title(f"One decode step on {HW}: roofline time, exact (costi)")
    ax.set_xlim(0, CACHE[-1])
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, metadata={"Software": None})
    print(f"wrote {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
