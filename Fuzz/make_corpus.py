#!/usr/bin/env python3
"""Writes the committed seed corpora of the fuzz harnesses (Fuzz/corpus/<harness>/), small valid inputs
each parser accepts, so libFuzzer starts from deep inside the format instead of from random bytes.

Usage: Fuzz/make_corpus.py EARSHOT_BENCH_BINARY [SESSION_MODEL.ear]   (run once; the outputs are committed)
Needs numpy, ffmpeg and the zstd tool. The .ear seeds come from `earshot-bench write-example` (our own
writer); the session seeds from `earshot chat --save` (the `earshot` binary next to earshot-bench) on the
tiny model Tools/fuzz.sh builds (Fuzz/.build/session-model.ear).
"""
import base64, io, json, os, struct, subprocess, sys, tempfile, zipfile
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + blob


def ear(earshot):
    with tempfile.TemporaryDirectory() as t:
        for name, args in [("example.ear", []), ("tiny.ear", ["--tiny"])]:
            p = os.path.join(t, name)
            subprocess.run([earshot, "write-example"] + args + [p], check=True)
            put("fuzz-ear", name, open(p, "rb").read())


def st():
    bf16 = np.arange(8, dtype=np.float32).view(np.uint32) >> 16
    one = safetensors({"a.weight": ("BF16", [2, 4], bf16.astype("<u2").tobytes()),
                       "b.bias": ("F32", [3], np.ones(3, "<f4").tobytes()),
                       "c": ("F16", [0], b"")}, {"format": "pt"})
    put("fuzz-safetensors", "file", b"\x00" + one)
    put("fuzz-safetensors", "header", b"\x01" + one[8:8 + struct.unpack("<Q", one[:8])[0]])
    index = {"metadata": {"total_size": 24}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                                                          "lm_head.weight": "model-00002-of-00002.safetensors"}}
    put("fuzz-safetensors", "index", b"\x02" + json.dumps(index).encode())
    config = json.load(open(os.path.join(ROOT, "Tests/Fixtures/qwen-audio-tiny/config.json")))
    put("fuzz-safetensors", "config", b"\x03" + json.dumps(config).encode())


def ct2():
    src = os.path.join(ROOT, "Tests/Fixtures/whisper/tiny-random/model.bin")
    put("fuzz-ctranslate2", "tiny-random.bin", open(src, "rb").read())

    def s(x):
        b = x.encode() + b"\0"
        return struct.pack("<H", len(b)) + b
    v = struct.pack("<I", 6) + s("WhisperSpec") + struct.pack("<I", 1) + struct.pack("<I", 2)
    v += s("encoder/num_heads") + bytes([0]) + bytes([2]) + struct.pack("<I", 2) + struct.pack("<h", 4)
    v += s("w") + bytes([2]) + struct.pack("<II", 2, 2) + bytes([1]) + struct.pack("<I", 4) + bytes([1, 2, 3, 4])
    v += struct.pack("<I", 1) + s("alias") + s("w")
    put("fuzz-ctranslate2", "small.bin", v)


def npz():
    mel = np.abs(np.random.default_rng(1).standard_normal((4, 6))).astype(np.float32)
    for name, save in [("stored.npz", np.savez), ("deflated.npz", np.savez_compressed)]:
        b = io.BytesIO()
        save(b, mel_80=mel)
        put("fuzz-npz", name, b.getvalue())
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mel_80.npy", b"\x93NUMPY" + b"x" * 200)
    put("fuzz-npz", "deflate-text.zip", raw.getvalue())


def tiktoken():
    lines = open(os.path.join(ROOT, "Tests/Fixtures/tokenizer/qwen.tiktoken"), "rb").read().split(b"\n")
    put("fuzz-tiktoken", "first-300", b"\n".join(lines[:300]) + b"\n")
    put("fuzz-tiktoken", "bytes-only", b"".join(base64.b64encode(bytes([i])) + b" %d\n" % i for i in range(256)))


def tokenizer_json():
    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|de|>", "<|translate|>", "<|transcribe|>",
                "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
    vocab = {c: i for i, c in enumerate(["h", "e", "l", "o", "Ġ", "w", "r", "d", "he", "ll", "hell", "hello", "Ġw"])}
    doc = {"version": "1.0", "truncation": None, "model": {"type": "BPE", "vocab": vocab,
                                                           "merges": ["h e", "l l", "he ll", "hell o", "Ġ w"]},
           "added_tokens": [{"id": len(vocab) + i, "content": c, "special": True} for i, c in enumerate(specials)],
           "normalizer": None, "escapes": "a\\u00e9\\ud83d\\ude00\\n"}
    body = json.dumps(doc).encode()
    put("fuzz-tokenizer-json", "small", b"\x00\x00" + body)
    doc["model"]["merges"] = [m.split(" ") for m in doc["model"]["merges"]]
    put("fuzz-tokenizer-json", "pair-merges", b"\x02\x01" + json.dumps(doc).encode())


def audio():
    with tempfile.TemporaryDirectory() as t:
        for name, codec in [("tone.wav", ["-c:a", "pcm_s16le"]), ("tone.flac", ["-c:a", "flac"]),
                            ("tone.mp3", ["-c:a", "libmp3lame", "-b:a", "32k"]), ("tone.ogg", ["-c:a", "libvorbis"]),
                            ("tone.opus", ["-c:a", "libopus", "-b:a", "12k"]), ("stereo-float.wav", ["-ac", "2", "-c:a", "pcm_f32le"])]:
            p = os.path.join(t, name)
            ch = [] if "stereo" in name else ["-ac", "1"]
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.25",
                            "-ar", "8000"] + ch + codec + [p], check=True)
            put("fuzz-audio", name, open(p, "rb").read())


def gguf():
    for rel in ["Tests/Fixtures/gguf/types.gguf", "Tests/Fixtures/qwen2-tiny/tied.gguf"]:
        put("fuzz-gguf", os.path.basename(rel), open(os.path.join(ROOT, rel), "rb").read())


def session(earshot, model):
    """Mode 0: a saved file as is; mode 1: its payload with the model checksum replaced by "*"."""
    with tempfile.TemporaryDirectory() as t:
        for name, turns in [("one-turn", "hello there\n"), ("two-turns", "hi\nwhat next?\n")]:
            p = os.path.join(t, name + ".sess")
            subprocess.run([earshot, "chat", "--model", model, "--max-tokens", "3", "--quiet", "--save", p],
                           input=turns.encode(), check=True, capture_output=True)
            raw = open(p, "rb").read()
            put("fuzz-session", name + ".file", b"\x00" + raw)
            payload = subprocess.run(["zstd", "-d", "-c"], input=raw[28:], check=True, capture_output=True).stdout
            size = struct.unpack("<I", payload[:4])[0]
            header = json.loads(payload[4:4 + size])
            header["modelChecksum"] = "*"
            h = json.dumps(header, separators=(",", ":")).encode()
            put("fuzz-session", name + ".payload", b"\x01" + struct.pack("<I", len(h)) + h + payload[4 + size:])


def qwen():
    prompts = json.load(open(os.path.join(ROOT, "Tests/Fixtures/tokenizer/prompts.json")))
    texts = ["Hello world", "<audio>a.wav</audio><|startoftranscript|><|en|><|transcribe|><|en|><|notimestamps|><|wo_itn|>",
             "<|im_start|>user\n中文 ÷ ﬁ e\u0301 🙂\t\t  x<|im_end|>", "<|0.50|>x<|endoftext|></audio>"]
    for i, p in enumerate(prompts[:4]):
        texts.append(p.get("text") or p.get("prompt") or json.dumps(p))
    for i, t in enumerate(texts):
        put("fuzz-qwen-encode", "text-%d" % i, bytes([i % 3]) + t.encode())


if __name__ == "__main__":
    ear(sys.argv[1])
    st(); ct2(); npz(); tiktoken(); tokenizer_json(); audio(); qwen(); gguf()
    if len(sys.argv) > 2:
        session(os.path.join(os.path.dirname(sys.argv[1]), "earshot"), sys.argv[2])
    for h in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, h))
        print(h, len(files), "files", sum(os.path.getsize(os.path.join(CORPUS, h, f)) for f in files), "bytes")
