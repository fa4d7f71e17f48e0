#!/usr/bin/env python3
"""Tiny random Qwen2-Audio checkpoints and their goldens, made by the official transformers
`Qwen2AudioForConditionalGeneration` and `WhisperFeatureExtractor` (f32, CPU).

Two variants, each a seeded random model with 128 mel bins and the real 1500-position encoder (the reference
insists on 3000-frame mels), small widths otherwise:
  a: audio d_model 64, 2 layers, 4 heads, FFN 256; text hidden 64, 2 layers, 4 heads / 2 KV heads (GQA),
     FFN 128, vocab 400, RMSNorm eps 1e-6, stored f32, 3 shards + index.
  b: same widths, 4 KV heads (no GQA, as the released 7B), RMSNorm eps 1e-5, seed 2, stored **bf16**
     (goldens computed in f32 from the bf16-rounded weights, so converting the bf16 file must give the same).
Checkpoints are written in the released Hub layout (`audio_tower.*`, `multi_modal_projector.linear.*`,
`language_model.model.*`, `language_model.lm_head.weight`; config.json with `rope_theta`), so the converter
reads them as it reads Qwen/Qwen2-Audio-7B.

A tiny byte-level BPE tokenizer in the Hub files' form (vocab.json, merges.txt, tokenizer_config.json with
`added_tokens_decoder`, chat_template.json with the Instruct template): the 256 byte tokens, 131 merges learned
from `corpus.txt` (lines of this repository's README and Docs), then Qwen2-Audio's six specials in their real order, ids 387 … 392; rows 393 …
399 of the embedding are padding. `tokenizer.goldens.json`: the official tokenizer as transformers loads these files
(`AutoTokenizer.from_pretrained`, Qwen2Tokenizer) encoding and decoding ≥ 300 lines (README and Docs lines, with specials and
ChatML turns mixed in).

Goldens (`<variant>.goldens.json`): for the audios `jfk.wav` (11 s) and the first 3.5 s of
`1272-128104-0000.flac` (Tests/Fixtures/audio), the valid mel length and the projected audio features
[N × 64]; for each prompt (ids with `<|AUDIO|>` expanded to N tokens, as the processor does), the
last-position logits and 12 greedy ids (model.generate, do_sample=False). The 128-bin log-mels themselves
(the feature extractor's output, first L + 4 frames) go to `mel/<clip>.mel128.f32` (shared by both variants).

  python3 -m venv v && v/bin/pip install torch transformers safetensors soundfile numpy
  v/bin/python Tools/qwen2audio/make_tiny_qwen2_audio.py   # → Tests/Fixtures/qwen2-audio-tiny/
"""
import json
import os
import shutil

import numpy as np
import soundfile as sf
import torch
from safetensors.torch import save_file
from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor

import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qwen2"))
from make_tiny_qwen2 import byte_alphabet  # noqa: E402  (GPT-2's byte-to-unicode alphabet, one copy)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "qwen2-audio-tiny")
AUDIO = os.path.join(ROOT, "Tests", "Fixtures", "audio")
VOCAB, AUDIO_ID, BOS_ID, EOS_ID = 400, 390, 391, 392          # <|AUDIO|>, <|audio_bos|>, <|audio_eos|>
ENDOFTEXT, IM_START, IM_END = 387, 388, 389                     # Qwen2-Audio's order: 151643 … 151648
RANKS = 387                                                     # byte-level BPE tokens 0 ..< 387 (256 bytes + 131 merges)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>"]
MIN_MARGIN = 0.02
VARIANTS = {"a": dict(seed=1, kv=2, eps=1e-6, dtype=torch.float32, shards=3),
            "b": dict(seed=2, kv=4, eps=1e-5, dtype=torch.bfloat16, shards=2)}


def clips():
    jfk, sr = sf.read(os.path.join(AUDIO, "jfk.wav"), dtype="float32")
    assert sr == 16000
    ls, sr = sf.read(os.path.join(AUDIO, "1272-128104-0000.flac"), dtype="float32")
    assert sr == 16000
    return {"jfk.wav": jfk, "1272-128104-0000.flac": ls[:56000]}


def features(audios):
    fe = WhisperFeatureExtractor(feature_size=128, sampling_rate=16000, hop_length=160, chunk_length=30, n_fft=400)
    out = {}
    for name, x in audios.items():
        f = fe(x, sampling_rate=16000, return_attention_mask=True, padding="max_length", return_tensors="pt")
        out[name] = (f["input_features"], f["attention_mask"])
    return out


def build(v, seed):
    torch.manual_seed(seed)
    cfg = Qwen2AudioConfig(
        audio_config=dict(d_model=64, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=256,
                          num_mel_bins=128, max_source_positions=1500),
        text_config=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=v["kv"],
                         intermediate_size=128, vocab_size=VOCAB, rms_norm_eps=v["eps"], max_position_embeddings=2048,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        audio_token_index=AUDIO_ID)
    model = Qwen2AudioForConditionalGeneration(cfg).eval().to(torch.float32)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "embed_positions" in name:
                continue                                  # the fixed sinusoids stay as HF made them
            if name.endswith("norm.weight") or name.endswith("layernorm.weight") or "layer_norm.weight" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
        if v["dtype"] == torch.bfloat16:                  # goldens from exactly the weights the file holds
            for p in model.parameters():
                p.copy_(p.to(torch.bfloat16).to(torch.float32))
    return cfg, model


def hub_name(k):
    """transformers 5 state-dict key → the released checkpoint's key."""
    if k.startswith("model.audio_tower.") or k.startswith("model.multi_modal_projector."):
        return k[len("model."):]
    if k.startswith("model.language_model."):
        return "language_model.model." + k[len("model.language_model."):]
    if k == "lm_head.weight":
        return "language_model.lm_head.weight"
    raise KeyError(k)


def save(model, cfg, v, directory):
    os.makedirs(directory, exist_ok=True)
    sd = {hub_name(k): t.detach().to(v["dtype"]).contiguous() for k, t in model.state_dict().items()}
    names = sorted(sd)
    n = v["shards"]
    weight_map = {}
    for i in range(n):
        part = names[i::n]
        fname = f"model-{i + 1:05d}-of-{n:05d}.safetensors"
        save_file({k: sd[k] for k in part}, os.path.join(directory, fname), metadata={"format": "pt"})
        weight_map.update({k: fname for k in part})
    total = sum(t.numel() * t.element_size() for t in sd.values())
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
    t = cfg.text_config
    config = {
        "architectures": ["Qwen2AudioForConditionalGeneration"], "model_type": "qwen2_audio",
        "audio_token_index": AUDIO_ID, "ignore_index": -100, "vocab_size": VOCAB,
        "audio_config": {"model_type": "qwen2_audio_encoder", "d_model": 64, "encoder_layers": 2,
                         "encoder_attention_heads": 4, "encoder_ffn_dim": 256, "num_mel_bins": 128,
                         "max_source_positions": 1500, "activation_function": "gelu", "scale_embedding": False},
        "text_config": {"model_type": "qwen2", "hidden_size": t.hidden_size, "num_hidden_layers": t.num_hidden_layers,
                        "num_attention_heads": t.num_attention_heads, "num_key_value_heads": t.num_key_value_heads,
                        "intermediate_size": t.intermediate_size, "vocab_size": VOCAB, "rms_norm_eps": t.rms_norm_eps,
                        "rope_theta": 10000.0, "max_position_embeddings": 2048,
                        "eos_token_id": IM_END, "bos_token_id": ENDOFTEXT, "torch_dtype": "bfloat16" if v["dtype"] == torch.bfloat16 else "float32"},
    }
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


CORPUS = os.path.join(OUT, "corpus.txt")   # fixed text (once taken from README.md and Docs/), so reruns agree


def corpus_lines():
    with open(CORPUS, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def train_bpe(lines, merges_wanted):
    """Plain BPE on the pre-tokenized README words: most frequent adjacent pair first, ties by the pair."""
    import regex
    pat = regex.compile(r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
    enc = byte_alphabet()
    words = {}
    for l in lines:
        for w in pat.findall(l):
            key = tuple(enc[b] for b in w.encode())
            words[key] = words.get(key, 0) + 1
    merges = []
    for _ in range(merges_wanted):
        pairs = {}
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + c
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        new = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1]); i += 2
                else:
                    out.append(w[i]); i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + c
        words = new
    return merges


def write_tokenizer(directory, merges):
    enc = byte_alphabet()
    vocab = {enc[b]: b for b in range(256)}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    assert len(vocab) == RANKS, len(vocab)
    with open(os.path.join(directory, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    added = {str(RANKS + i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                              "single_word": False, "special": True} for i, t in enumerate(SPECIALS)}
    config = {"added_tokens_decoder": added, "additional_special_tokens": SPECIALS[1:], "bos_token": None,
              "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "unk_token": None,
              "clean_up_tokenization_spaces": False, "errors": "replace", "model_max_length": 32768,
              "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer"}
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(directory, "chat_template.json"), "w") as f:
        json.dump({"chat_template": CHAT_TEMPLATE}, f)


CHAT_TEMPLATE = ("{% set audio_count = namespace(value=0) %}{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
                 "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n"
                 "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
                 "{% if 'audio' in content or 'audio_url' in content or message['type'] == 'audio' %}{% set audio_count.value = audio_count.value + 1 %}"
                 "Audio {{ audio_count.value }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
                 "{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def tokenizer_goldens(directory, lines):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(directory)     # as the Hub files load: vocab.json, merges.txt, added tokens
    for i, t in enumerate(SPECIALS):
        assert tok.convert_tokens_to_ids(t) == RANKS + i, (t, tok.convert_tokens_to_ids(t))
    rng = np.random.default_rng(5)
    cases = []
    for i, l in enumerate(lines[:300]):
        if i % 7 == 3:
            l = f"<|im_start|>user\nAudio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n{l}<|im_end|>\n<|im_start|>assistant\n"
        elif i % 11 == 5:
            l = l + "<|endoftext|>"
        cases.append(l)
    cases += ["", " ", "\n\n", "  leading spaces", "tabs\tand\r\nCRLF", "数字 12345 and ünïcödé", "emoji 🎧🔊 ok",
              "<|AUDIO|><|AUDIO|><|AUDIO|>", "caf\u0065\u0301 (decomposed é)"]
    out = []
    for text in cases:
        ids = tok.encode(text, add_special_tokens=False)
        out.append({"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    return {"reference": f"transformers AutoTokenizer ({type(tok).__name__}) {__import__('transformers').__version__}", "cases": out}


def prompts(ns):
    rng = np.random.default_rng(11)
    text = lambda n: [int(i) for i in rng.integers(0, 380, n)]
    span = lambda n: [BOS_ID] + [AUDIO_ID] * n + [EOS_ID]
    a, b = ns["jfk.wav"], ns["1272-128104-0000.flac"]
    return {
        "asr": (span(a) + text(9), ["jfk.wav"]),
        "caption": (span(b) + text(6), ["1272-128104-0000.flac"]),
        "chat_two_audios": ([IM_START] + text(5) + [IM_END, IM_START] + text(2) + span(a) + text(1) + span(b)
                            + text(7) + [IM_END, IM_START] + text(2), ["jfk.wav", "1272-128104-0000.flac"]),
        "text_only": (text(40), []),
    }


def goldens(model, feats, name):
    out = {"variant": name, "reference": "transformers Qwen2AudioForConditionalGeneration f32 CPU", "audios": [], "cases": []}
    ns = {}
    with torch.no_grad():
        for clip, (x, mask) in feats.items():
            length = int(mask.sum())
            _, n = model.model.audio_tower._get_feat_extract_output_lengths(torch.tensor(length))
            n = int(n)
            ns[clip] = n
            # The features the model splices in: run the reference's own merge on a prompt of N audio tokens.
            ids = torch.tensor([[BOS_ID] + [AUDIO_ID] * n + [EOS_ID]])
            captured = {}
            h = model.model.language_model.register_forward_pre_hook(
                lambda mod, args, kwargs: captured.update(e=kwargs["inputs_embeds"].clone()), with_kwargs=True)
            model(input_ids=ids, input_features=x, feature_attention_mask=mask)
            h.remove()
            proj = captured["e"][0, 1:1 + n].float().numpy()
            out["audios"].append({"clip": clip, "mel_length": length, "tokens": n,
                                  "features": [round(float(v), 7) for v in proj.reshape(-1)]})
        for case, (ids, audios) in prompts(ns).items():
            kw = {}
            if audios:
                kw["input_features"] = torch.cat([feats[a][0] for a in audios])
                kw["feature_attention_mask"] = torch.cat([feats[a][1] for a in audios])
            x = torch.tensor([ids])
            logits = model(input_ids=x, attention_mask=torch.ones_like(x), **kw).logits[0, -1].float()
            gen = model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=12, do_sample=False,
                                 output_scores=True, return_dict_in_generate=True, **kw)
            greedy = gen.sequences[0, len(ids):].tolist()
            margins = [float(torch.topk(s[0].float(), 2).values.diff().abs()) for s in gen.scores]
            out["cases"].append({"name": case, "prompt": ids, "audios": audios,
                                 "logits": [round(float(v), 6) for v in logits], "greedy": greedy,
                                 "min_top2_margin": min(margins)})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = corpus_lines()
    merges = train_bpe(lines[:400], RANKS - 256)
    tok_dir = os.path.join(OUT, "a")           # the tokenizer files, copied into b below
    os.makedirs(tok_dir, exist_ok=True)
    write_tokenizer(tok_dir, merges)
    with open(os.path.join(OUT, "tokenizer.goldens.json"), "w") as f:
        json.dump(tokenizer_goldens(tok_dir, lines), f, ensure_ascii=False)
    audios = clips()
    feats = features(audios)
    os.makedirs(os.path.join(OUT, "mel"), exist_ok=True)
    index = {}
    for clip, (x, mask) in feats.items():
        length = int(mask.sum())
        keep = min(3000, length + 4)
        np.ascontiguousarray(x[0, :, :keep].numpy().astype("<f4")).tofile(os.path.join(OUT, "mel", clip + ".mel128.f32"))
        index[clip] = {"samples": len(audios[clip]), "mel_length": length, "frames_kept": keep, "bins": 128,
                       "pad_value": float(x[0, 0, 2999])}
    with open(os.path.join(OUT, "mel", "index.json"), "w") as f:
        json.dump(index, f, indent=2)
    for name, v in VARIANTS.items():
        seed = v["seed"]
        while True:
            cfg, model = build(v, seed)
            g = goldens(model, feats, name)
            if all(c["min_top2_margin"] >= MIN_MARGIN for c in g["cases"]):
                break
            seed += 100
        g["seed"] = seed
        save(model, cfg, v, os.path.join(OUT, name))
        for f in ["vocab.json", "merges.txt", "tokenizer_config.json", "chat_template.json"] if name != "a" else []:
            shutil.copyfile(os.path.join(tok_dir, f), os.path.join(OUT, name, f))
        with open(os.path.join(OUT, f"{name}.goldens.json"), "w") as f:
            json.dump(g, f)
        print(name, "seed", seed, [(c["name"], c["greedy"][:4], round(c["min_top2_margin"], 3)) for c in g["cases"]])


if __name__ == "__main__":
    main()
