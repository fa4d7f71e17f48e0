#!/usr/bin/env python3
"""Speed and parity of `earshot tokenize` against the `tiktoken` package (the official Qwen tokenizer's
engine), on the same texts in the same run.

Usage: tokenizer_bench.py EARSHOT_BINARY QWEN_TIKTOKEN   (Tools/bench/tokenizer_bench.sh does the set-up)

For each corpus: tiktoken's best-of-3 encode time (single thread, allowed_special="all", the text already
NFC as the official tokenizer would pass it) and the Swift release binary's best-of-3 encode time
(`--timing`: the encode call only, NFC included), the ratio tiktoken/earshot (> 1 means earshot is
faster), and whether the ids are identical. Then a fuzz run: random Unicode strings through `--jsonl`
in every special mode, compared id for id with tiktoken (after Python's NFC).
"""
import base64, glob, json, os, random, subprocess, sys, sysconfig, time, unicodedata

import tiktoken

PAT_STR = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""


def qwen_specials():
    """SPECIAL_TOKENS + AUDIO_ST of tokenization_qwen.py (the recipe of spec §5)."""
    general = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [f"<|extra_{i}|>" for i in range(205)]
    audio = (["[[[AUDIO:modality]]]", "<|startoftranscript|>", "<|startofanalysis|>", "<|translate|>",
              "<|transcribe|>", "<|caption|>", "<|keyword|>", "<|unknown|>"]
             + [f"<|{l}|>" for l in ["en", "zh", "de", "es", "ko", "fr", "ja", "it"]]
             + ["<|zh_tr|>", "<|notimestamps|>", "<|sil|>", "<|timestamps|>"]
             + [f"<|{i * 0.01:.2f}|>" for i in range(3001)]
             + ["<|caption_audiocaps|>", "<|caption_clotho|>", "<|audioset_ontology|>", "<|caption_plain|>",
                "<|itn|>", "<|wo_itn|>", "<|startofentityvalue|>", "<|endofentityvalue|>", "<|startofentitytype|>",
                "<|endofentitytype|>", "<|named_entity_recognition|>", "<|audio_grounding|>", "<|startofword|>",
                "<|endofword|>", "<|delim|>", "<|emotion_recognition|>", "<|music_description|>",
                "<|note_analysis|>", "<|pitch|>"]
             + [f"<|midi_pitch_{i}|>" for i in range(128)] + ["<|velocity|>"]
             + [f"<|midi_velocity_{i}|>" for i in range(128)]
             + ["<|sonic|>", "<|instrument|>", "<|speaker_meta|>", "<|song_meta|>", "<|question|>", "<|answer|>",
                "<|choice|>", "<|scene|>", "<|event|>", "<|vocal_classification|>", "<|speech_understanding|>",
                "<|scenario|>", "<|action|>", "<|entities|>", "<|speech_edit|>", "<audio>", "</audio>"])
    return general, audio


def load_encoding(path):
    with open(path, "rb") as f:
        ranks = {base64.b64decode(t): int(r) for t, r in (l.split() for l in f.read().splitlines() if l)}
    general, audio = qwen_specials()
    specials = {s: len(ranks) + i for i, s in enumerate(general + audio)}
    enc = tiktoken.Encoding("Qwen", pat_str=PAT_STR, mergeable_ranks=ranks, special_tokens=specials)
    return enc, set(audio)


def corpora(repo):
    """(name, text) pairs built from files every Python install (and this repo) has."""
    stdlib = sysconfig.get_paths()["stdlib"]
    code = ""
    for path in sorted(glob.glob(os.path.join(stdlib, "*.py"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            code += f.read()
        if len(code) > 3_000_000:
            break
    fixture_texts = []
    with open(os.path.join(repo, "Tests/Fixtures/tokenizer/encode.jsonl"), encoding="utf-8") as f:
        for line in f:
            fixture_texts.append(json.loads(line)["text"])
    multilingual = ""
    for path in sorted(glob.glob(os.path.join(stdlib, "test", "cjkencodings", "*-utf8.txt"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            multilingual += f.read()
    mixed = "\n".join(fixture_texts)
    while len(multilingual) < 1_000_000:
        multilingual += mixed
    return [("code+English (Python stdlib)", code[:3_000_000]),
            ("multilingual (CJK test texts + golden texts)", multilingual[:1_000_000])]


def time_tiktoken(enc, text):
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        ids = enc.encode(text, allowed_special="all")
        best = min(best, time.perf_counter() - start)
    return best, ids


def run_earshot(binary, tiktoken_path, text, *extra):
    result = subprocess.run([binary, "tokenize", "--tokenizer", tiktoken_path, "--timing", *extra],
                            input=text.encode("utf-8"), capture_output=True, check=True)
    return result.stdout.decode("utf-8"), result.stderr.decode("utf-8").strip()


def parse_ms(stderr, key):
    # "load 78.3 ms; encode 217.3 ms for …"
    return float(stderr.split(key + " ")[1].split(" ms")[0])


def random_ascii_text(rng):
    """Short texts over a small alphabet that stresses the pattern: contractions, digits, whitespace runs."""
    alphabet = "aAsStTlLdDmMrReEvV'' 0123456789\t\r\n\n  .,!?-_<|>ſ\u00a0\u3000é"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(30)))


def random_long_piece(rng):
    """One long pre-token (a run of letters, 129…2000 characters): the heap path of the byte-pair merge."""
    alphabet = rng.choice(["ab", "aab ", "abcdefghij", "的一是不了人我在有他这", "éèêë", "ﬁﬂ", "aAbB"])
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(129, 2000)))


def random_text(rng):
    if rng.random() < 0.02:
        return random_long_piece(rng)
    if rng.random() < 0.3:
        return random_ascii_text(rng)
    pieces = ["<|en|>", "<|im_start|>", "<audio>", "</audio>", "<|", "|>", "'s", "'LL", "\r\n", "\n\n", "   ",
              "\t", "\u3000", "\u00a0", "e\u0301", "\u212b", "0123", "Hello", " world", "你好", "🫠", "👩‍👧‍👦"]
    out = []
    for _ in range(rng.randrange(40)):
        r = rng.random()
        if r < 0.25:
            out.append(rng.choice(pieces))
            continue
        while True:
            kind = rng.randrange(7)
            v = [rng.randrange(0x80), 0x300 + rng.randrange(0x70), rng.randrange(0x3000), rng.randrange(0x10000),
                 0x10000 + rng.randrange(0x100000), rng.choice([0x20, 0x0A, 0x0D, 0x09, 0x85, 0x2028, 0x1680]),
                 0x1F300 + rng.randrange(0x700)][kind]
            if not (0xD800 <= v < 0xE000) and unicodedata.category(chr(v)) != "Cn":
                out.append(chr(v))
                break
    return "".join(out)


def fuzz(binary, tiktoken_path, enc, audio_specials, count=20000):
    rng = random.Random(1234)
    texts = [random_text(rng) for _ in range(count)]
    payload = "".join(json.dumps(t) + "\n" for t in texts)
    mismatches = 0
    for mode, allowed in [("all", "all"), ("audio", audio_specials), ("none", set())]:
        stdout, _ = run_earshot(binary, tiktoken_path, payload, "--jsonl", "--special", mode)
        got = [json.loads(l) for l in stdout.splitlines()]
        for text, ids in zip(texts, got):
            expected = enc.encode(unicodedata.normalize("NFC", text), allowed_special=allowed, disallowed_special=())
            if ids != expected:
                mismatches += 1
                if mismatches <= 5:
                    print(f"  MISMATCH ({mode}) {text!r}: earshot {ids} tiktoken {expected}")
    return count * 3, mismatches


def main():
    binary, tiktoken_path = sys.argv[1], sys.argv[2]
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    enc, audio_specials = load_encoding(tiktoken_path)
    print(f"tiktoken {tiktoken.__version__}; earshot binary {binary}")
    print(f"{'corpus':48} {'MB':>5} {'tiktoken ms':>12} {'earshot ms':>11} {'ratio':>6}  ids")
    for name, text in corpora(repo):
        text = unicodedata.normalize("NFC", text)
        tt, expected = time_tiktoken(enc, text)
        stdout, stderr = run_earshot(binary, tiktoken_path, text)
        ours = parse_ms(stderr, "encode") / 1000
        same = json.loads(stdout) == expected
        print(f"{name:48} {len(text.encode()) / 1e6:5.2f} {tt * 1000:12.1f} {ours * 1000:11.1f} {tt / ours:5.2f}×  "
              f"{'identical' if same else 'DIFFERENT'} ({len(expected)} tokens)")
        print(f"  earshot: {stderr}")
    load_runs, cpu_runs = [], []
    for _ in range(5):
        _, stderr = run_earshot(binary, tiktoken_path, "x")
        load_runs.append(parse_ms(stderr, "load"))
        cpu_runs.append(parse_ms(stderr, "(CPU"))
    print(f"load of {tiktoken_path} (151,643 ranks, ready to encode): wall best {min(load_runs):.1f} ms, "
          f"median {sorted(load_runs)[2]:.1f} ms; CPU best {min(cpu_runs):.1f} ms, median {sorted(cpu_runs)[2]:.1f} ms (5 runs)")
    start = time.perf_counter()
    load_encoding(tiktoken_path)
    print(f"  (Python: reading ranks + building tiktoken.Encoding takes {(time.perf_counter() - start) * 1000:.0f} ms)")
    checked, mismatches = fuzz(binary, tiktoken_path, enc, audio_specials)
    print(f"fuzz: {checked} random strings × modes, {mismatches} mismatches")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
