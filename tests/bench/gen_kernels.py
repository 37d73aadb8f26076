#!/usr/bin/env python3
"""Writes a .cost file of N kernels for the scale measurements of docs/performance.md.

Kernels come in chains of DEPTH, each calling the next (the checker refuses calls nested
deeper than 256); the first kernel of every chain is called by a root kernel, which the
model runs. Every kernel assigns flops, so the total is N exactly.

  python3 tests/bench/gen_kernels.py 100000 > /tmp/k100k.cost   # about 5 MB
  costi check /tmp/k100k.cost
"""
import sys


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 250
    out = sys.stdout
    out.write('import "stdlib/prelude.cost"\n')
    roots = []
    for i in range(n):
        if i % depth == 0:
            roots.append(i)
        last = i % depth == depth - 1 or i == n - 1
        call = "" if last else f"\n  next: $K{i + 1}(n = n + 1)"
        out.write(f"kernel K{i}(n = 1) {{\n  flops = 1{call}\n}}\n")
    out.write("kernel Root {\n")
    for r in roots:
        out.write(f"  c{r}: $K{r}()\n")
    out.write("}\nmodel chains = $Root\n")


if __name__ == "__main__":
    main()
