#!/usr/bin/env python3
"""Regenerates docs/analysis.md: fills the @@OUT name@@ markers of docs/tools/analysis.md.in
with the real output of the command named `name`, so every output block in the page is what
costi prints. Run from the repository root after a build:

    python3 docs/tools/fill_analysis.py docs/tools/analysis.md.in docs/analysis.md [build/costi]

Only the output blocks change; the prose and its hand derivations are in the template.
"""
import os, re, subprocess, sys
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COSTI = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else os.path.join(ROOT, "build", "costi")
CMDS = {
 "list":   ("costi list hardware | head -5", None),
 "a_h100": ("costi run llama-3-70b --seq_len 1 --cache_len 32768 --kv_bytes 1 --hw h100-sxm --depth 1", None),
 "a_mi":   ("costi run llama-3-70b --seq_len 1 --cache_len 32768 --kv_bytes 1 --hw mi300x --depth 1", None),
 "b_l4":   ("costi run llama-3-8b --seq_len 1 --cache_len 4095 --hw l4 --depth 0", None),
 "b_h100": ("costi run llama-3-8b --seq_len 1 --cache_len 4095 --hw h100-sxm --depth 0", "memory"),
 "b_l4_10": ("costi run llama-3-8b --seq_len 1 --cache_len 4095 --batch_size 10 --hw l4 --depth 0", "total"),
 "b_l4_11": ("costi run llama-3-8b --seq_len 1 --cache_len 4095 --batch_size 11 --hw l4 --depth 0", "total"),
 "c_req":  ("costi run llama-3-8b --prompt 4096 --generate 512 --hw h100-sxm --price 2", None),
 "d_awq":  ("costi run --config docs/examples/llama-3-8b-awq.json --hw l4 --seq_len 1 --cache_len 4095 --depth 3 --metrics params,weight_bytes", None),
 "prefill": ("costi run llama-3-8b --seq_len 4096 --logits_to_keep 1 --hw h100-sxm --depth 3 --metrics flops,time,compute_time,memory_time", None),
 "eff":    ("costi run llama-3-8b --seq_len 1 --cache_len 4095 --hw h100-sxm --compute_eff 0.7 --memory_eff 0.8 --depth 0", "time"),
 "gpt2":   ("costi run gpt2 --seq_len 1 --cache_len 511 --hw l4 --depth 0", "maxctx"),
 "fp8err": ("costi run llama-3-8b --seq_len 4096 --a_bytes 1 --w_bytes 1 --hw a100-80gb-sxm", "err"),
 "ds":     ("costi run deepseek-v3 --seq_len 1 --cache_len 4095 --hw h200-sxm --depth 0 --metrics params,weight_bytes,kv_cache", "totals"),
 "ds_bf16": ("costi run deepseek-v3 --seq_len 1 --cache_len 4095 --hw h200-sxm --depth 0 --metrics params,weight_bytes,kv_cache --quant_bits 0", "totals"),
 "mistral": ("costi run mistral-7b-v0.1 --seq_len 1 --cache_len 32767 --hw l4 --depth 0 --metrics kv_cache", "memory"),
 "x_dec_t": ("costi run llama-3-8b --seq_len 1 --cache_len 4096 --hw h100-sxm --depth 0 --metrics flops,read,write,time,kv_cache --engine transformers", "totals"),
 "x_dec_v": ("costi run llama-3-8b --seq_len 1 --cache_len 4096 --hw h100-sxm --depth 0 --metrics flops,read,write,time,kv_cache --engine vllm", "totals"),
 "x_pre_t": ("costi run llama-3-8b --seq_len 4096 --hw h100-sxm --depth 0 --metrics flops,read,write,time,workspace --engine transformers", "totals"),
 "x_pre_v": ("costi run llama-3-8b --seq_len 4096 --hw h100-sxm --depth 0 --metrics flops,read,write,time,workspace --engine vllm", "totals"),
 "x_mis_t": ("costi run mistral-7b-v0.1 --seq_len 1 --cache_len 8192 --hw h100-sxm --depth 0 --metrics flops,read,write,time,kv_cache --engine transformers", "totals"),
 "x_mis_v": ("costi run mistral-7b-v0.1 --seq_len 1 --cache_len 8192 --hw h100-sxm --depth 0 --metrics flops,read,write,time,kv_cache --engine vllm", "totals"),
 "x_ds_t": ("costi run deepseek-v3 --seq_len 1 --cache_len 4095 --hw h200-sxm --depth 0 --metrics flops,read,write,time,kv_cache,weight_bytes --engine transformers", "totals"),
 "x_ds_v": ("costi run deepseek-v3 --seq_len 1 --cache_len 4095 --hw h200-sxm --depth 0 --metrics flops,read,write,time,kv_cache,weight_bytes --engine vllm", "totals"),
 "x_dsp_t": ("costi run deepseek-v3 --seq_len 4096 --logits_to_keep 1 --hw h200-sxm --depth 0 --metrics flops,read,write,time,workspace --engine transformers", "totals"),
 "x_dsp_v": ("costi run deepseek-v3 --seq_len 4096 --hw h200-sxm --depth 0 --metrics flops,read,write,time,workspace --engine vllm", "totals"),
 "tp4":    ("costi run llama-3-70b --tp 4 --seq_len 1 --cache_len 4095 --hw h100-sxm --depth 1", None),
 "repl":   (None, None),
 "leaf":   (None, None),
}
REPL_IN = [":hw h100-sxm", "seq_len = 1", "cache_len = 4095", "time", "kv_cache",
           "kv_cache / (cache_len + seq_len)", "weight_bytes / hw.mem_bw", ":request 4096 512"]

def run(name):
    cmd, cut = CMDS[name]
    if name == "leaf":
        t = open(os.path.join(ROOT, "stdlib", "roofline.cost")).read()
        a = t.index("every leaf (")
        b = t.index("\n}", a) + 2
        return t[a:b]
    if name == "repl":
        p = subprocess.run([COSTI, "repl", "llama-3-8b"], input="\n".join(REPL_IN) + "\n",
                           capture_output=True, text=True, cwd=ROOT)
        out = p.stdout + p.stderr
        lines = out.splitlines()
        # interleave: show the input lines as the prompt would
        return "\n".join(lines)
    sh = cmd.replace("costi ", COSTI + " ", 1)
    p = subprocess.run(sh, shell=True, capture_output=True, text=True, cwd=ROOT)
    out = (p.stdout + p.stderr)
    lines = [l.rstrip() for l in out.splitlines()]
    if cut == "memory":
        i = next(i for i, l in enumerate(lines) if l.startswith("memory on"))
        lines = lines[i:]
    elif cut == "total":
        lines = [l for l in lines if l.startswith("  total") or l.startswith("  kv cache") or l.startswith("  workspace")]
    elif cut == "time":
        i = next(i for i, l in enumerate(lines) if l.startswith("time on"))
        lines = lines[i:i+3]
    elif cut == "maxctx":
        lines = [l for l in lines if "max context" in l or "max batch" in l]
    elif cut == "err":
        lines = lines[:4]
    elif cut == "totals":
        i = next(i for i, l in enumerate(lines) if l.startswith("totals"))
        j = next(i2 for i2 in range(i, len(lines)) if lines[i2] == "")
        lines = lines[i:j]
    return "\n".join(lines).replace(ROOT + "/", "")

src = open(sys.argv[1]).read()
def sub(m):
    return run(m.group(1))
open(sys.argv[2], "w").write(re.sub(r"@@OUT (\w+)@@", sub, src))
