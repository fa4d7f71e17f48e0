#!/usr/bin/env python3
"""Whole-pipeline goldens for Qwen2-Audio: what the official `Qwen2AudioProcessor` (WhisperFeatureExtractor
128 bins + the checkpoint's tokenizer + its chat template) makes of real prompts and audio files, and what
`Qwen2AudioForConditionalGeneration` generates from them — so Earshot's own prompts (task prompts, the
Instruct chat template rendered turn by turn) and its own front end are checked end to end, not only the
model on given ids and mels (that is make_tiny_qwen2_audio.py, whose checkpoint `a` this script reads).

For each case (`pipeline.goldens.json`): the prompt text exactly as the processor receives it (for chats,
`apply_chat_template(messages, add_generation_prompt=True, tokenize=False)` of the structured messages, which
are recorded too), the audios (file + samples used), the processor's input_ids (`<|AUDIO|>` expanded), the
last-position logits and 12 greedy ids (`generate`, do_sample=False) with their smallest top-2 margin.

Prompts: the base-model task prompts of Docs/qwen2-audio.md §5 (README's caption prompt, the ASR and
translation prompts of the evaluation data as reported), a two-turn chat with an audio in each user turn, a
voice-chat turn (audio only), a custom system prompt with two audios in one turn, and a long three-turn chat
(three audios, README/Docs paragraphs as text; well over a thousand tokens).

  v/bin/python Tools/qwen2audio/make_pipeline_goldens.py   # → Tests/Fixtures/qwen2-audio-tiny/pipeline.goldens.json
"""
import json
import os

import numpy as np
import soundfile as sf
import torch
from transformers import AutoTokenizer, Qwen2AudioForConditionalGeneration, Qwen2AudioProcessor, WhisperFeatureExtractor

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FIX = os.path.join(ROOT, "Tests", "Fixtures", "qwen2-audio-tiny")
AUDIO = os.path.join(ROOT, "Tests", "Fixtures", "audio")
SPAN = "<|audio_bos|><|AUDIO|><|audio_eos|>"
CLIPS = {"jfk.wav": None, "1272-128104-0000.flac": 56000}     # file → samples kept (None: all)


def load(clip):
    x, sr = sf.read(os.path.join(AUDIO, clip), dtype="float32")
    assert sr == 16000
    return x if CLIPS[clip] is None else x[:CLIPS[clip]]


def audio_part(clip):
    return {"type": "audio", "audio_url": clip}


def long_text(start, lines):
    """Consecutive lines of corpus.txt (this repository's README and Docs) as one user message."""
    with open(os.path.join(FIX, "corpus.txt")) as f:
        corpus = [l.strip() for l in f if l.strip()]
    return " ".join(corpus[start:start + lines])


def cases():
    return [
        ("asr", SPAN + "Detect the language and recognize the speech: <|en|>", ["jfk.wav"], None),
        ("translate", SPAN + "Detect the language and translate the speech into German: <|en|>", ["jfk.wav"], None),
        ("caption", SPAN + "Generate the caption in English:", ["1272-128104-0000.flac"], None),
        ("chat_two_turns", None, ["jfk.wav", "1272-128104-0000.flac"], [
            {"role": "user", "content": [audio_part("jfk.wav"), {"type": "text", "text": "What does the speaker say?"}]},
            {"role": "assistant", "content": "He asks what you can do for your country."},
            {"role": "user", "content": [audio_part("1272-128104-0000.flac"), {"type": "text", "text": "And in this one?"}]}]),
        ("voice_chat", None, ["jfk.wav"], [{"role": "user", "content": [audio_part("jfk.wav")]}]),
        ("system_two_audios", None, ["1272-128104-0000.flac", "jfk.wav"], [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": [audio_part("1272-128104-0000.flac"), audio_part("jfk.wav"),
                                         {"type": "text", "text": "Which one is longer?"}]}]),
        ("long_chat", None, ["jfk.wav", "1272-128104-0000.flac", "jfk.wav"], [
            {"role": "user", "content": [audio_part("jfk.wav"), {"type": "text", "text": long_text(0, 6)}]},
            {"role": "assistant", "content": long_text(40, 3)},
            {"role": "user", "content": [audio_part("1272-128104-0000.flac"), {"type": "text", "text": long_text(80, 6)}]},
            {"role": "assistant", "content": long_text(120, 3)},
            {"role": "user", "content": [audio_part("jfk.wav"), {"type": "text", "text": long_text(160, 5)}]}]),
    ]


def main():
    directory = os.path.join(FIX, "a")
    with open(os.path.join(directory, "chat_template.json")) as f:
        template = json.load(f)["chat_template"]
    fe = WhisperFeatureExtractor(feature_size=128, sampling_rate=16000, hop_length=160, chunk_length=30, n_fft=400)
    processor = Qwen2AudioProcessor(feature_extractor=fe, tokenizer=AutoTokenizer.from_pretrained(directory),
                                    chat_template=template)
    model = Qwen2AudioForConditionalGeneration.from_pretrained(directory, dtype=torch.float32).eval()
    out = {"reference": f"transformers {__import__('transformers').__version__} Qwen2AudioProcessor + "
                        "Qwen2AudioForConditionalGeneration f32 CPU, checkpoint a",
           "clips": {k: (v if v is not None else len(load(k))) for k, v in CLIPS.items()}, "cases": []}
    with torch.no_grad():
        for name, text, audios, messages in cases():
            if messages is not None:
                text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            inputs = processor(text=text, audio=[load(a) for a in audios], sampling_rate=16000, return_tensors="pt")
            ids = inputs["input_ids"][0].tolist()
            logits = model(**inputs).logits[0, -1].float()
            gen = model.generate(**inputs, max_new_tokens=12, do_sample=False, output_scores=True, return_dict_in_generate=True)
            greedy = gen.sequences[0, len(ids):].tolist()
            margins = [float(torch.topk(s[0].float(), 2).values.diff().abs()) for s in gen.scores]
            out["cases"].append({"name": name, "text": text, "messages": messages, "audios": audios, "input_ids": ids,
                                 "logits": [round(float(v), 6) for v in logits], "greedy": greedy,
                                 "margins": [round(m, 5) for m in margins]})
            print(name, len(ids), greedy[:6], "min margin", round(min(margins), 4))
    with open(os.path.join(FIX, "pipeline.goldens.json"), "w") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
