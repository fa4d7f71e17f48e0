#!/usr/bin/env python3
"""quality_table: the markdown table of Tools/qwen2/quality.sh's logs (Earshot and llama.cpp side by side).

Bits per weight = file bytes × 8 / parameters (the F32 GGUF's tensor elements) for both engines, so headers,
metadata and f32 norms count alike. PPL delta and KL divergence are against llama.cpp's F32 run (base.kld).
  python3 Tools/qwen2/quality_table.py /work/scratch/quality
"""
import argparse
import os
import re
import sys


def grab(path, pattern, group=1):
    if not os.path.exists(path):
        return None
    m = re.search(pattern, open(path, errors="replace").read(), re.M)
    return float(m.group(group)) if m else None


def params(f32_gguf):
    import gguf
    r = gguf.GGUFReader(f32_gguf)
    return sum(int(t.n_elements) for t in r.tensors)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--ear-types", default="f32 q8 q4m q4")
    ap.add_argument("--llama-types", default="Q8_0 Q4_K_M IQ4_XS Q4_0")
    a = ap.parse_args()
    d = a.dir
    f32 = os.path.join(d, "qwen2.5-coder-1.5b.F32.gguf")
    n = params(f32)
    base_ppl = grab(os.path.join(d, "llama-F32.log"), r"Final estimate: PPL = ([0-9.]+)")
    positions = None
    rows = []
    for t in a.llama_types.split():
        log = os.path.join(d, f"llama-{t}.log")
        size = os.path.getsize(os.path.join(d, f"qwen2.5-coder-1.5b.{t}.gguf"))
        rows.append(("llama.cpp " + t, size * 8 / n, grab(log, r"Mean PPL\(Q\)\s*:\s*([0-9.]+)"),
                     grab(log, r"Mean\s+KLD:\s*([0-9.]+)"), grab(log, r"^99\.0%\s+KLD:\s*([0-9.]+)"),
                     grab(log, r"Same top p:\s*([0-9.]+)")))
    for t in a.ear_types.split():
        log = os.path.join(d, f"earshot-{t}.log")
        size = os.path.getsize(os.path.join(d, f"qwen2.5-coder-1.5b.{t}.ear"))
        top1 = grab(log, r"top1=([0-9.]+)")
        positions = grab(log, r"positions=([0-9]+)") or positions
        rows.append(("Earshot " + t, size * 8 / n, grab(log, r"ppl=([0-9.]+)"), grab(log, r" kld=([0-9.]+)"),
                     grab(log, r"kld99=([0-9.]+)"), top1 * 100 if top1 is not None else None))
    cross_kld = grab(os.path.join(d, "llama-F32-vs-ours.log"), r"Mean\s+KLD:\s*([0-9.]+)")
    cross_top = grab(os.path.join(d, "llama-F32-vs-ours.log"), r"Same top p:\s*([0-9.]+)")
    fmt = lambda v, f: "—" if v is None else format(v, f)
    print(f"Reference: llama.cpp F32 (the GGUF dequantized), PPL {fmt(base_ppl, '.4f')}; "
          f"{int(positions) if positions else '?'} scored positions; {n:,} parameters.\n")
    print("| engine, type | bits/weight | PPL | PPL Δ vs F32 | mean KLD | 99 % KLD | same top-1 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, bpw, ppl, kld, k99, top in rows:
        delta = None if ppl is None or base_ppl is None else 100 * (ppl / base_ppl - 1)
        print(f"| {name} | {bpw:.2f} | {fmt(ppl, '.4f')} | {fmt(delta, '+.3f')} % | {fmt(kld, '.6f')} | "
              f"{fmt(k99, '.5f')} | {fmt(top, '.2f')} % |")
    if cross_kld is not None:
        print(f"\nllama.cpp F32 scored against Earshot f32's log-probs (ours.kld): mean KLD {fmt(cross_kld, '.6f')}, "
              f"same top-1 {fmt(cross_top, '.2f')} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
