#!/usr/bin/env bash
# Side-by-side speed of Earshot vs faster-whisper on the same Whisper tiny.en weights and jfk.wav, in one run,
# at 1 and 2 threads. Earshot: release build, q8 .ear, `earshot transcribe` (beam 5 and --greedy) wall time,
# best of N. faster-whisper: int8 (its CPU default), same options, wall time best of N, model load excluded.
# Prints ratios (the machine is shared and noisy: only same-run ratios mean anything).
#   Tools/whisper/bench.sh MODEL_DIR [N]      MODEL_DIR = the CTranslate2 directory (model.bin, tokenizer.json)
set -euo pipefail
MODEL_DIR=${1:?usage: bench.sh CTRANSLATE2_MODEL_DIR [runs]}
N=${2:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AUDIO="$ROOT/Tests/Fixtures/audio/jfk.wav"
EAR=${TMPDIR:-/tmp}/earshot-bench-whisper.q8.ear
cd "$ROOT"
swift build -c release --product earshot >/dev/null
swift build -c release --product earshot-convert >/dev/null
.build/release/earshot-convert "$MODEL_DIR" --quant q8 -q --force -o "$EAR" >/dev/null
best() {  # best wall time in seconds of N runs of "$@"
  local b=999
  for _ in $(seq "$N"); do
    local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    b=$(python3 -c "print(min($b, $e - $s))")
  done
  echo "$b"
}
for T in 1 2; do
  for MODE in beam5 greedy; do
    FLAG=""; BEAM=5; [ "$MODE" = greedy ] && FLAG="--greedy" && BEAM=1
    E=$(EARSHOT_THREADS=$T best .build/release/earshot transcribe --model "$EAR" $FLAG "$AUDIO")
    F=$(python3 - "$MODEL_DIR" "$AUDIO" "$T" "$BEAM" "$N" <<'PY'
import sys, time
from faster_whisper import WhisperModel
d, audio, t, beam, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
m = WhisperModel(d, device="cpu", compute_type="int8", cpu_threads=t)
best = 1e9
for _ in range(n):
    s = time.perf_counter()
    segs, _ = m.transcribe(audio, beam_size=beam, vad_filter=False, temperature=0.0, without_timestamps=True)
    "".join(x.text for x in segs)
    best = min(best, time.perf_counter() - s)
print(best)
PY
)
    python3 -c "print(f'threads $T $MODE: earshot {float(\"$E\"):.2f} s (incl. process start + model map), faster-whisper int8 {float(\"$F\"):.2f} s (model preloaded) -> earshot/faster-whisper = {float(\"$E\")/float(\"$F\"):.2f}x')"
  done
done
