#!/usr/bin/env python3
"""Build a random-weight Whisper-large-v2-shaped model with transformers and convert it to CTranslate2 int8.

Usage: make_ct2_whisper.py OUT_DIR   (needs `pip install transformers ctranslate2 torch`)
The encoder has Qwen-Audio's audio-encoder shapes (80 mels, 32 layers, width 1280, 20 heads, 1500 positions).
Only the encoder is timed, so the decoder has 2 layers instead of 32 (halves the build time and the file).
Weights are random (speed does not depend on them); saved as f16 in a temporary directory, then converted.
"""
import os, sys, tempfile, time
import torch
from transformers import WhisperConfig, WhisperForConditionalGeneration
import ctranslate2

out = sys.argv[1]
t0 = time.time()
cfg = WhisperConfig(vocab_size=51865, num_mel_bins=80, encoder_layers=32, encoder_attention_heads=20,
                    decoder_layers=2, decoder_attention_heads=20, d_model=1280, encoder_ffn_dim=5120,
                    decoder_ffn_dim=5120, max_source_positions=1500, max_target_positions=448)
torch.manual_seed(0)
with torch.no_grad():
    model = WhisperForConditionalGeneration(cfg).half()
with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(out))) as tmp:
    model.save_pretrained(tmp)
    del model
    # the converter wants a tokenizer; reuse a minimal one is not possible offline, so skip it.
    conv = ctranslate2.converters.TransformersConverter(tmp, load_as_float16=True)
    conv.convert(out, quantization="int8", force=True)
print(f"wrote {out} in {time.time() - t0:.0f} s")
