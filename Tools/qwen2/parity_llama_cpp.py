#!/usr/bin/env python3
"""Greedy parity of `earshot generate` with llama.cpp (llama-cpp-python) on the same Qwen2 GGUF.

For each prompt (English prose, code, Chinese; 24 built in): tokenizes it with both (llama.cpp's
`tokenize(special=False, add_bos=False)` vs `earshot generate --print-prompt-ids --no-special`), then feeds
llama.cpp's ids to both and decodes greedily (argmax, no penalty) for --tokens tokens, stopping at <|endoftext|> /
<|im_end|>. Reports per prompt: tokenization equal?, the first step where the continuations differ (or
"identical"), llama.cpp's top-2 margin at that step (a near-tie when < 0.05), and max |d| of the last-prompt-position
logits (`earshot generate --dump-logits` vs llama.cpp's logits after the prompt).

  pip install llama-cpp-python            # builds llama.cpp from source
  python3 Tools/qwen2/parity_llama_cpp.py --gguf ~/.cache/earshot/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \
      --ear ~/.cache/earshot/qwen2.5-coder-1.5b-instruct.q8.ear [--earshot .build/release/earshot] [--tokens 64]

The `.ear` is written from the same GGUF by earshot-convert: q8 re-quantizes the dequantized Q4_K/Q6_K weights
(so logits differ by q8's rounding on top of the two engines' activation quantization); q4 re-lays most Q4_K
blocks as they are. Exit status 0 when every prompt is identical or differs only after a near-tie.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

PROMPTS = [
    # English prose
    "The history of the printing press begins in",
    "Once upon a time, in a small village by the sea, there lived",
    "The three most important things to remember when learning to swim are",
    "Photosynthesis is the process by which plants",
    "In 1969, the Apollo 11 mission",
    "A good night's sleep matters because",
    "The difference between weather and climate is that",
    "Dear hiring manager, I am writing to apply for",
    # code
    "def fibonacci(n):",
    "import numpy as np\n\ndef softmax(x):\n",
    "// Binary search in a sorted array\nint binary_search(const int *a, int n, int key) {\n",
    "fn main() {\n    let v = vec![3, 1, 2];\n",
    "SELECT name, COUNT(*) FROM orders",
    "class Stack:\n    def __init__(self):\n",
    "#!/bin/bash\n# Count the lines of every .swift file\n",
    "function debounce(fn, ms) {\n",
    "public struct Point: Equatable {\n    var x: Double\n",
    "# Quick sort in Python\ndef quicksort(arr):\n",
    # Chinese
    "中国的首都是",
    "人工智能的发展历史可以追溯到",
    "请用一句话解释什么是机器学习：",
    "春天来了，公园里",
    "写一个Python函数，计算列表中所有数字的和：",
    "长城是世界上最",
]
STOP = {151643, 151645}


def earshot_generate(exe, ear, ids, tokens, threads, logits_path):
    cmd = [exe, "generate", "--model", ear, "--greedy", "--print-ids", "--quiet", "--max-tokens", str(tokens),
           "--threads", str(threads), "--dump-logits", logits_path, "--prompt-ids", json.dumps(ids)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    gen = json.loads(out.strip().splitlines()[-1])
    raw = open(logits_path, "rb").read()
    return gen, np.array(struct.unpack("<%df" % (len(raw) // 4), raw), dtype=np.float32)


def earshot_tokenize(exe, ear, text):
    cmd = [exe, "generate", "--model", ear, "--print-prompt-ids", "--print-ids", "--quiet", "--no-special",
           "--max-tokens", "1", "--greedy", text]
    err = subprocess.run(cmd, check=True, capture_output=True, text=True).stderr
    return json.loads(err.strip().splitlines()[0])


def llama_greedy(llm, ids, tokens):
    llm.reset()
    llm.eval(ids)
    first = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
    out, margins = [], []
    logits = first
    for _ in range(tokens):
        order = np.argsort(-logits, kind="stable")[:2]
        tok = int(order[0])
        margins.append(float(logits[order[0]] - logits[order[1]]))
        out.append(tok)
        if tok in STOP or len(out) == tokens:
            break
        llm.eval([tok])
        logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
    return out, margins, first


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--ear", required=True)
    ap.add_argument("--earshot", default=os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "earshot"))
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--near-tie", type=float, default=0.05)
    ap.add_argument("--json", help="also write the per-prompt results here")
    ap.add_argument("--prompts", help="only these prompts, 1-based and comma-separated (e.g. 1,2,5)")
    a = ap.parse_args()

    from llama_cpp import Llama
    llm = Llama(model_path=a.gguf, n_ctx=512, n_threads=a.threads, n_batch=512, logits_all=True, verbose=False)
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        chosen = {int(k) - 1 for k in a.prompts.split(",")} if a.prompts else set(range(len(PROMPTS)))
        for i, text in enumerate(PROMPTS):
            if i not in chosen:
                continue
            ids = llm.tokenize(text.encode(), add_bos=False, special=False)
            ours = earshot_tokenize(a.earshot, a.ear, text)
            ref, margins, ref_logits = llama_greedy(llm, ids, a.tokens)
            gen, logits = earshot_generate(a.earshot, a.ear, ids, a.tokens, a.threads, os.path.join(tmp, "l.f32"))
            n = min(len(ref_logits), len(logits))
            d = float(np.max(np.abs(ref_logits[:n] - logits[:n])))
            diff = next((k for k in range(min(len(gen), len(ref))) if gen[k] != ref[k]), None)
            if diff is None and len(gen) != len(ref):
                diff = min(len(gen), len(ref))
            margin = margins[diff] if diff is not None and diff < len(margins) else None
            tie = diff is not None and margin is not None and margin < a.near_tie
            verdict = "identical" if diff is None else (f"near-tie at {diff} (margin {margin:.3f})" if tie
                                                        else f"DIFFERS at {diff} (margin {margin if margin is None else round(margin, 3)})")
            ok &= diff is None or tie
            rows.append(dict(prompt=text, tokens_equal=ids == ours, prompt_tokens=len(ids), generated=len(gen),
                             first_difference=diff, margin=margin, logits_max_abs_diff=d,
                             argmax_equal=int(np.argmax(ref_logits)) == int(np.argmax(logits)), verdict=verdict))
            print(f"{i + 1:2d} tok={'=' if ids == ours else '≠'} {len(ids):3d}+{len(gen):2d}  max|d| {d:6.3f}  {verdict:32s} {text[:40]!r}",
                  flush=True)
    same = sum(r["first_difference"] is None for r in rows)
    ties = sum(r["first_difference"] is not None and r["margin"] is not None and r["margin"] < a.near_tie for r in rows)
    print(f"\n{len(rows)} prompts: {same} identical over {a.tokens} tokens, {ties} differ after a near-tie (< {a.near_tie}), "
          f"{len(rows) - same - ties} differ otherwise; tokenization equal on {sum(r['tokens_equal'] for r in rows)}; "
          f"last-position logits max |d|: median {np.median([r['logits_max_abs_diff'] for r in rows]):.3f}, "
          f"max {max(r['logits_max_abs_diff'] for r in rows):.3f}")
    if a.json:
        json.dump(rows, open(a.json, "w"), ensure_ascii=False, indent=1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
