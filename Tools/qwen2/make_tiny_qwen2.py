#!/usr/bin/env python3
"""Tiny random Qwen2 checkpoints and their goldens, made by the official transformers `Qwen2ForCausalLM` (f32, CPU).

For each variant (`tied`, `untied`): builds a seeded random Qwen2ForCausalLM (hidden 64, 2 layers, 4 query heads
/ 2 KV heads of 16, FFN 128, vocab 320, RoPE base 1e6, RMSNorm eps 1e-6), writes it as a GGUF f32 file with the
`gguf` package (the tensor names and metadata keys llama.cpp's converter uses for qwen2, plus a small byte-level
BPE tokenizer: 256 byte tokens, 18 merges, 3 specials, 43 unused [PAD] entries), and records, for a few prompts,
the last-position logits and 16 greedy ids (model.generate, do_sample=False) in `<variant>.goldens.json`.

  pip install torch transformers gguf
  python3 Tools/qwen2/make_tiny_qwen2.py          # → Tests/Fixtures/qwen2-tiny/{tied,untied}.gguf + .goldens.json

Weights are drawn larger than HF's init (std 0.2, biases 0.1, norms 1 ± 0.1) so logits are spread and greedy
choices are not near-ties; the script takes the first seed whose every greedy step has a top-2 margin ≥ 0.02.
"""
import json
import os

import numpy as np
import torch
import gguf
from transformers import Qwen2Config, Qwen2ForCausalLM

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "qwen2-tiny")
VOCAB = 320
ROPE_THETA = 1e6
MIN_MARGIN = 0.02
PROMPTS = {"short": [3, 77, 140, 9, 251], "medium": [int(i) for i in np.random.default_rng(7).integers(0, 293, 17)],
           "long": [int(i) for i in np.random.default_rng(8).integers(0, 296, 40)]}


def byte_alphabet():
    """GPT-2's bytes_to_unicode: byte -> printable stand-in."""
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def tokenizer():
    """256 byte tokens, then merged tokens made from a small corpus in merge order, specials, padding."""
    enc = byte_alphabet()
    tokens = [enc[b] for b in range(256)]
    merges = []
    words = ["def", "return", " if", " the", "fib", "(n)", "in", "er"]
    seen = set(tokens)
    for w in words:
        pieces = [enc[b] for b in w.encode()]
        while len(pieces) > 1:             # merge left to right: each merge makes a new, later-ranked token
            a, b = pieces[0], pieces[1]
            t = a + b
            if t not in seen:
                merges.append(f"{a} {b}")
                tokens.append(t)
                seen.add(t)
            pieces = [t] + pieces[2:]
    types = [1] * len(tokens)
    for s in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]:
        tokens.append(s)
        types.append(3)
    while len(tokens) < VOCAB:
        tokens.append(f"[PAD{len(tokens)}]")
        types.append(5)
    assert len(tokens) == VOCAB, len(tokens)
    return tokens, types, merges


def build(tied, seed):
    torch.manual_seed(seed)
    cfg = Qwen2Config(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      rope_parameters={"rope_type": "default", "rope_theta": ROPE_THETA},
                      rms_norm_eps=1e-6, tie_word_embeddings=tied)
    model = Qwen2ForCausalLM(cfg).eval().to(torch.float32)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    return cfg, model


def write_gguf(path, cfg, model, tied):
    tokens, types, merges = tokenizer()
    w = gguf.GGUFWriter(path, arch="qwen2")
    w.add_name("tiny-random-qwen2-" + ("tied" if tied else "untied"))
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(ROPE_THETA)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_eos_token_id(256 + len(merges))  # <|endoftext|>
    w.add_bos_token_id(256 + len(merges))
    w.add_add_bos_token(False)
    w.add_chat_template("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}")
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    if not tied:
        names["lm_head.weight"] = "output.weight"
    for l in range(cfg.num_hidden_layers):
        hf, g = f"model.layers.{l}.", f"blk.{l}."
        for a, b in [("input_layernorm.weight", "attn_norm.weight"), ("self_attn.q_proj.weight", "attn_q.weight"),
                     ("self_attn.q_proj.bias", "attn_q.bias"), ("self_attn.k_proj.weight", "attn_k.weight"),
                     ("self_attn.k_proj.bias", "attn_k.bias"), ("self_attn.v_proj.weight", "attn_v.weight"),
                     ("self_attn.v_proj.bias", "attn_v.bias"), ("self_attn.o_proj.weight", "attn_output.weight"),
                     ("post_attention_layernorm.weight", "ffn_norm.weight"), ("mlp.gate_proj.weight", "ffn_gate.weight"),
                     ("mlp.up_proj.weight", "ffn_up.weight"), ("mlp.down_proj.weight", "ffn_down.weight")]:
            names[hf + a] = g + b
    for hf, g in names.items():
        w.add_tensor(g, np.ascontiguousarray(sd[hf]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def goldens(model):
    out = []
    for name, ids in PROMPTS.items():
        x = torch.tensor([ids])
        with torch.no_grad():
            logits = model(x).logits[0, -1].float()
            gen = model.generate(x, max_new_tokens=16, do_sample=False, output_scores=True,
                                 return_dict_in_generate=True, pad_token_id=0)
        new = gen.sequences[0, len(ids):].tolist()
        margins = []
        for s in gen.scores:
            top = torch.topk(s[0].float(), 2).values
            margins.append(float(top[0] - top[1]))
        if min(margins) < MIN_MARGIN:
            return None
        out.append({"name": name, "prompt": ids, "logits": [float(v) for v in logits], "greedy": new,
                    "min_top2_margin": min(margins)})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for tied, seed in [(True, 1), (False, 1001)]:
        variant = "tied" if tied else "untied"
        while True:                        # the first seed whose greedy steps all have a clear winner
            cfg, model = build(tied, seed)
            cases = goldens(model)
            if cases is not None:
                break
            seed += 1
        write_gguf(os.path.join(OUT, f"{variant}.gguf"), cfg, model, tied)
        g = {"variant": variant, "reference": f"transformers {__import__('transformers').__version__} Qwen2ForCausalLM, "
             f"torch {torch.__version__}, f32 CPU, seed {seed}", "cases": cases}
        with open(os.path.join(OUT, f"{variant}.goldens.json"), "w") as f:
            json.dump(g, f, indent=1)
        print(variant, [(c["name"], c["greedy"][:6], round(c["min_top2_margin"], 3)) for c in g["cases"]])


if __name__ == "__main__":
    main()
