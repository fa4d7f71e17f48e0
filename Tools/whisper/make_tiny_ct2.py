#!/usr/bin/env python3
"""A tiny random Whisper model in CTranslate2 format, plus CTranslate2's own outputs on it, so the Swift
reader, encoder and decoder are checked against the reference without downloading real weights.

  pip install ctranslate2 numpy
  python3 Tools/whisper/make_tiny_ct2.py Tests/Fixtures/whisper/tiny-random

Model: n_mels 8, audio ctx 20 (40 mel frames), width 16, 2 heads, 2 encoder + 2 decoder layers, text ctx 24,
vocabulary 80 (50 plain tokens, Whisper's 9 specials at 50…58, timestamps <|0.00|>… at 59…79), f16 weights.
Writes model.bin, config.json, vocabulary.json (CTranslate2's files) and golden.json:
  mel [8 × 40] input, encoder [20 × 16] output, and from that encoder output: greedy and beam-5 tokens with
  prompt [sot, notimestamps], greedy and beam-5 tokens with prompt [sot] (timestamp rules on), and the
  greedy run's logits of every step (CTranslate2 sets suppressed ids to -3.4e38).
"""
import json, os, sys

import ctranslate2
import numpy as np
from ctranslate2.specs import model_spec, whisper_spec

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261125)
M, C, D, H, L, T = 8, 20, 16, 2, 2, 24
specials = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>",
            "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
vocab = ["t%d" % i for i in range(50)] + specials + ["<|%.2f|>" % (i * 0.02) for i in range(21)]
V = len(vocab)

spec = whisper_spec.WhisperSpec(L, H, L, H)


def shape_for(name):
    parts = name.split("/")
    leaf, parent = parts[-1], parts[-2]
    if name == "encoder/conv1/weight": return (D, M, 3)
    if name == "encoder/conv2/weight": return (D, D, 3)
    if name == "encoder/position_encodings/encodings": return (C, D)
    if name == "decoder/position_encodings/encodings": return (T, D)
    if name in ("decoder/embeddings/weight", "decoder/projection/weight"): return (V, D)
    if leaf in ("gamma", "beta") or (leaf == "bias" and "conv" in parent): return (D,)
    rows = {"self_attention": {"linear_0": 3 * D, "linear_1": D},
            "attention": {"linear_0": D, "linear_1": 2 * D, "linear_2": D},
            "ffn": {"linear_0": 4 * D, "linear_1": D}}[parts[-3]][parent]
    cols = 4 * D if (parts[-3] == "ffn" and parent == "linear_1") else D
    return (rows, cols) if leaf == "weight" else (rows,)


def fill(s, name, value):
    leaf = name.split("/")[-1]
    optional = isinstance(value, str) and value == model_spec.OPTIONAL
    if name.startswith("decoder/projection") or not (value is None or (optional and leaf in ("bias", "encodings"))):
        return
    shape = shape_for(name)
    if leaf == "gamma":
        v = 1 + 0.1 * rng.standard_normal(shape)
    elif "position_encodings" in name or "embeddings" in name:
        v = 0.5 * rng.standard_normal(shape)
    else:
        v = 0.3 * rng.standard_normal(shape)
    setattr(s, leaf, v.astype(np.float16))


spec._visit(fill)
# Tie the projection to the embeddings, as Whisper does (the saver turns it into an alias).
spec.decoder.projection.weight = spec.decoder.embeddings.weight
spec.register_vocabulary(vocab)
cfg = spec.get_default_config()
cfg.suppress_ids = [1, 2, 51, 53, 54, 55, 56, 57]
cfg.suppress_ids_begin = [7, 50]
cfg.lang_ids = [52]
cfg.alignment_heads = [[1, 0], [1, 1]]
spec._config = cfg
spec.validate()
spec.optimize()
spec.save(out)

m = ctranslate2.models.Whisper(out, compute_type="float32", intra_threads=1)
mel = rng.standard_normal((M, 2 * C)).astype(np.float32)
enc = np.array(m.encode(ctranslate2.StorageView.from_array(mel[None])))[0]
encoded = ctranslate2.StorageView.from_array(enc[None].astype(np.float32))
sot, eot, nts = 51, 50, 58
g = m.generate(encoded, [[sot, nts]], beam_size=1, max_length=12, return_logits_vocab=True)[0]
b = m.generate(encoded, [[sot, nts]], beam_size=5, max_length=12)[0]
gt = m.generate(encoded, [[sot]], beam_size=1, max_length=12)[0]
bt = m.generate(encoded, [[sot]], beam_size=5, max_length=12)[0]
json.dump({"mel": mel.ravel().tolist(), "encoder": enc.ravel().tolist(),
           "greedy": g.sequences_ids[0], "beam5": b.sequences_ids[0],
           "greedy_timestamps": gt.sequences_ids[0], "beam5_timestamps": bt.sequences_ids[0],
           "greedy_logits": np.array(g.logits[0]).tolist(), "max_length": 12,
           "ctranslate2": ctranslate2.__version__}, open(os.path.join(out, "golden.json"), "w"))
print(g.sequences_ids, b.sequences_ids, gt.sequences_ids, bt.sequences_ids)
