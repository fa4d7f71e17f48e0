#!/usr/bin/env bash
# Log-mel speed: earshot (release build) vs the reference log_mel_spectrogram (torch, as in
# whisper/audio.py and Qwen-Audio audio.py; and numpy) on the same 30 s of audio, in the same run,
# single-threaded (and earshot with 2 threads for information). Prints the ratios.
#
#   Tools/bench/mel_bench.sh [AUDIO.wav (16 kHz mono PCM16, ≥ 30 s)] [RUNS]
#
# Needs numpy; torch is optional (pip install torch). OpenBLAS/OMP threads are pinned to 1 for the
# single-thread figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
AUDIO=${1:-Tests/Fixtures/audio/music-31s.wav}
RUNS=${2:-30}
swift build -c release --product earshot >/dev/null
BIN=$(swift build -c release --show-bin-path)/earshot

ours1=$("$BIN" mel "$AUDIO" --time "$RUNS" --threads 1 2>&1 >/dev/null | grep mel_ms_min)
ours2=$("$BIN" mel "$AUDIO" --time "$RUNS" --threads 2 2>&1 >/dev/null | grep mel_ms_min)
ref=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
      python3 Tools/bench/mel_ref.py "$AUDIO" "$RUNS" 1)

python3 - "$ours1" "$ours2" "$ref" <<'PY'
import json, sys
o1, o2 = json.loads(sys.argv[1]), json.loads(sys.argv[2])
refs = [json.loads(l) for l in sys.argv[3].splitlines() if l.strip()]
print(f"log-mel of 30 s (80 × 3000), best of {o1['runs']} runs, same machine, same run")
print(f"  earshot, 1 thread : {o1['mel_ms_min']:7.2f} ms  (median {o1['mel_ms_median']:.2f})")
print(f"  earshot, 2 threads: {o2['mel_ms_min']:7.2f} ms  (median {o2['mel_ms_median']:.2f})")
for r in refs:
    if "impl" in r and "ms_min" in r:
        print(f"  {r['impl']:<17s}: {r['ms_min']:7.2f} ms  (median {r['ms_median']:.2f}, 1 thread)"
              f"  → earshot 1T is {r['ms_min'] / o1['mel_ms_min']:.1f}× faster")
    elif "skipped" in r:
        print(f"  {r['impl']}: skipped ({r['skipped']})")
    elif "check" in r:
        print(f"  ({r['check']}: {r['value']:.2e})")
PY
