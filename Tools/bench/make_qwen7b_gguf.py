#!/usr/bin/env python3
"""Write a random-weight GGUF with the exact Qwen-7B (QWen v1) shapes of Qwen-Audio's LLM, for llama.cpp timing.

Usage: make_qwen7b_gguf.py OUT.gguf [--type f16|q4_0|q8_0]

arch `qwen`: 32 layers, hidden 4096, 32 heads, fused attn_qkv (+bias), FFN 11008 (w1/w2/c_proj), vocab 155947,
rope base 10000, ctx 2048. Adapted from the project's shared notes tool. With --type q4_0 / q8_0 the matrices are
written directly in that ggml block type: 64 distinct rows of N(0, 0.02) values are quantized (gguf.quants) per
row width and cycled, so no f16 intermediate and no llama-quantize pass are needed (speed does not depend on the
values). Norms = 1, biases ~ N(0, 0.02) in f32. Needs `pip install gguf numpy`.
"""
import argparse, time
import numpy as np
import gguf

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--type", default="q4_0", choices=["f16", "q4_0", "q8_0"])
args = ap.parse_args()

N_VOCAB, N_EMBD, N_LAYER, N_HEAD, N_FF_HALF, N_CTX = 155947, 4096, 32, 32, 11008, 2048
QT = {"f16": gguf.GGMLQuantizationType.F16, "q4_0": gguf.GGMLQuantizationType.Q4_0,
      "q8_0": gguf.GGMLQuantizationType.Q8_0}[args.type]
FTYPE = {"f16": gguf.LlamaFileType.MOSTLY_F16, "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0,
         "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[args.type]

w = gguf.GGUFWriter(args.out, "qwen")
w.add_name("random-qwen-7b-audio-shapes")
w.add_context_length(N_CTX)
w.add_embedding_length(N_EMBD)
w.add_block_count(N_LAYER)
w.add_feed_forward_length(2 * N_FF_HALF)  # llama.cpp's qwen loader uses n_ff/2 per matrix (HF intermediate_size=22016)
w.add_rope_dimension_count(N_EMBD // N_HEAD)
w.add_head_count(N_HEAD)
w.add_layer_norm_rms_eps(1e-6)
w.add_rope_freq_base(10000.0)
w.add_file_type(FTYPE)

# minimal consistent gpt2-style (byte-level BPE) vocab: 256 byte tokens, 1 merged token, dummies, Qwen specials
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]

toks = bytes_to_unicode() + ["Ġt"]
types = [gguf.TokenType.NORMAL] * len(toks)
specials = {151643: "<|endoftext|>", 151644: "<|im_start|>", 151645: "<|im_end|>"}
for i in range(len(toks), N_VOCAB):
    if i in specials:
        toks.append(specials[i]); types.append(gguf.TokenType.CONTROL)
    elif i >= 151851:  # Qwen-Audio's extra audio/timestamp tokens
        toks.append(f"<|audio_extra_{i}|>"); types.append(gguf.TokenType.CONTROL)
    else:
        toks.append(f"<dummy_{i}>"); types.append(gguf.TokenType.NORMAL)
assert len(toks) == N_VOCAB
w.add_tokenizer_model("gpt2")
w.add_tokenizer_pre("qwen2")
w.add_token_list(toks)
w.add_token_types(types)
w.add_token_merges(["Ġ t"])
w.add_bos_token_id(151643)
w.add_eos_token_id(151643)
w.add_add_bos_token(False)

# tensors (numpy shape order = reversed ggml ne)
specs = [("token_embd.weight", (N_VOCAB, N_EMBD), "w")]
for i in range(N_LAYER):
    p = f"blk.{i}."
    specs += [
        (p + "attn_norm.weight", (N_EMBD,), "one"),
        (p + "attn_qkv.weight", (3 * N_EMBD, N_EMBD), "w"),
        (p + "attn_qkv.bias", (3 * N_EMBD,), "b"),
        (p + "attn_output.weight", (N_EMBD, N_EMBD), "w"),
        (p + "ffn_norm.weight", (N_EMBD,), "one"),
        (p + "ffn_gate.weight", (N_FF_HALF, N_EMBD), "w"),
        (p + "ffn_up.weight", (N_FF_HALF, N_EMBD), "w"),
        (p + "ffn_down.weight", (N_EMBD, N_FF_HALF), "w"),
    ]
specs += [("output_norm.weight", (N_EMBD,), "one"), ("output.weight", (N_VOCAB, N_EMBD), "w")]

rng = np.random.default_rng(1234)
pools = {}

def row_pool(cols):
    """64 rows of N(0, 0.02) encoded in the file's type: uint8 [64, rowbytes] (or f16 [64, cols])."""
    if cols not in pools:
        a = (rng.standard_normal((64, cols), dtype=np.float32) * 0.02)
        pools[cols] = a.astype(np.float16) if QT == gguf.GGMLQuantizationType.F16 else gguf.quants.quantize(a, QT)
    return pools[cols]

def info(name, shape, kind):
    if kind in ("one", "b"):
        w.add_tensor_info(name, shape, np.dtype(np.float32), int(np.prod(shape)) * 4)
        return
    pool = row_pool(shape[1])
    nbytes = shape[0] * pool.shape[1] * pool.itemsize
    if QT == gguf.GGMLQuantizationType.F16:
        w.add_tensor_info(name, shape, np.dtype(np.float16), nbytes)
    else:
        w.add_tensor_info(name, (shape[0], pool.shape[1]), np.dtype(np.uint8), nbytes, raw_dtype=QT)

for name, shape, kind in specs:
    info(name, shape, kind)

w.write_header_to_file()
w.write_kv_data_to_file()
w.write_ti_data_to_file()

t0 = time.time(); nbytes = 0
for name, shape, kind in specs:
    if kind == "one":
        a = np.ones(shape, np.float32)
    elif kind == "b":
        a = (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)
    else:
        pool = row_pool(shape[1])
        reps = -(-shape[0] // 64)
        a = np.tile(pool, (reps, 1))[: shape[0]]
    nbytes += a.nbytes
    w.write_tensor_data(a)
    del a
w.close()
print(f"wrote {args.out} ({args.type}): {nbytes/1e9:.2f} GB of tensors in {time.time()-t0:.1f}s")
