#!/usr/bin/env bash
# Earshot vs llama.cpp (decode, prefill) and CTranslate2 (audio encoder) at Qwen-Audio's shapes, random weights.
# Builds what is missing under $BENCH_DIR (default /work/scratch/bench; full-size files, 4.5–8.5 GB each, never
# in the repo), then runs peers.py, which alternates peer and Earshot runs and prints the ratio table.
#
#   Tools/bench/peers.sh                      # everything: q4 and q8, threads 1,2, one round (~25 min from scratch)
#   ROUNDS=3 Tools/bench/peers.sh             # median and spread over 3 alternating rounds (~3x the run time)
#   THREADS=1 DECODE_TOKENS=16 PREFILL_TOKENS=128 WORKLOADS=decode,prefill Tools/bench/peers.sh   # quick look
#   EAR_VIA_CONVERT=1 Tools/bench/peers.sh    # .ear files through synthetic-checkpoint + earshot-convert (slow)
#   SETUP_ONLY=1 Tools/bench/peers.sh         # build/write everything, run nothing (then run again when the machine is quiet)
#
# Steps: (1) pip: gguf, cmake, ninja, ctranslate2, transformers, torch (CPU); (2) llama.cpp from the
# llama-cpp-python $LLAMA_CPP_PY sdist (vendor/llama.cpp), cmake Release with native flags, targets llama-bench;
# (3) GGUF q4_0 / q8_0 (make_qwen7b_gguf.py); (4) .ear q4 / q8 (earshot-bench write-model); (5) CTranslate2 int8
# random Whisper-large-v2 (make_ct2_whisper.py); (6) peers.py.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/work/scratch/bench}"
THREADS="${THREADS:-1,2}"
ROUNDS="${ROUNDS:-1}"
DECODE_TOKENS="${DECODE_TOKENS:-128}"
CONTEXT="${CONTEXT:-512}"   # decode runs after a 512-position KV cache on both sides (llama-bench -d)
PREFILL_TOKENS="${PREFILL_TOKENS:-780}"
WORKLOADS="${WORKLOADS:-decode,prefill,encoder,load}"
TYPES="${TYPES:-q4 q8}"
LLAMA_CPP_PY="${LLAMA_CPP_PY:-0.3.36}"
mkdir -p "$BENCH_DIR"
echo "== $(date -u '+%F %T') UTC, $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load $(cut -d' ' -f1-3 /proc/loadavg)"
df -h "$BENCH_DIR" | tail -1

# (1) Python packages (the peers and their file writers; never a runtime dependency of Earshot).
python3 -c "import gguf, ctranslate2, transformers, torch" 2>/dev/null || \
  pip install -q gguf numpy cmake ninja ctranslate2 transformers torch

# (2) llama.cpp, as llama-cpp-python vendors it.
LLAMA_SRC="$BENCH_DIR/llama_cpp_python-$LLAMA_CPP_PY/vendor/llama.cpp"
LLAMA_BENCH="$LLAMA_SRC/build/bin/llama-bench"
if [ ! -x "$LLAMA_BENCH" ]; then
  if [ ! -d "$LLAMA_SRC" ]; then
    pip download -q "llama-cpp-python==$LLAMA_CPP_PY" --no-deps --no-binary llama-cpp-python -d "$BENCH_DIR"
    tar xzf "$BENCH_DIR/llama_cpp_python-$LLAMA_CPP_PY.tar.gz" -C "$BENCH_DIR"
  fi
  cmake -S "$LLAMA_SRC" -B "$LLAMA_SRC/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF > "$BENCH_DIR/cmake.log"
  ninja -C "$LLAMA_SRC/build" llama-bench > "$BENCH_DIR/build.log"
fi

# (3) GGUFs at the same bits as the .ear files (q4 ↔ Q4_0: 4.5 bits/weight; q8 ↔ Q8_0: 8.5 bits/weight).
declare -A GGUF_TYPE=([q4]=q4_0 [q8]=q8_0)
for t in $TYPES; do
  g="$BENCH_DIR/qwen7b.${GGUF_TYPE[$t]}.gguf"
  [ -s "$g" ] || python3 "$ROOT/Tools/bench/make_qwen7b_gguf.py" "$g" --type "${GGUF_TYPE[$t]}"
done

# (4) .ear files.
(cd "$ROOT" && swift build -c release --product earshot > /dev/null && swift build -c release --product earshot-bench > /dev/null)
EARSHOT="$ROOT/.build/release/earshot"
EARSHOT_BENCH="$ROOT/.build/release/earshot-bench"
for t in $TYPES; do
  e="$BENCH_DIR/qwen7b.$t.ear"
  [ -s "$e" ] && continue
  if [ "${EAR_VIA_CONVERT:-0}" = 1 ]; then
    (cd "$ROOT" && swift build -c release --product earshot-convert > /dev/null)
    ck="$BENCH_DIR/qwen-audio-synth"
    [ -d "$ck" ] || "$EARSHOT_BENCH" write-checkpoint "$ROOT/Tools/bench/qwen-audio-config.json" "$ck"
    "$ROOT/.build/release/earshot-convert" "$ck" --quant "$t" -o "$e"
  else
    "$EARSHOT_BENCH" write-model --type "$t" --output "$e"
  fi
done

# (5) CTranslate2 int8 Whisper-large-v2 shapes.
CT2="$BENCH_DIR/whisper-large-v2-ct2-int8"
if [[ "$WORKLOADS" == *encoder* ]] && [ ! -s "$CT2/model.bin" ]; then
  python3 "$ROOT/Tools/bench/make_ct2_whisper.py" "$CT2"
fi

echo "== set-up done in ${SECONDS} s (llama.cpp, GGUF, .ear and CTranslate2 files are reused when present)"
[ "${SETUP_ONLY:-0}" = 1 ] && exit 0
# (6) Alternating runs and the ratio table.
args=(--earshot "$EARSHOT" --earshot-bench "$EARSHOT_BENCH" --llama-bench "$LLAMA_BENCH" --threads "$THREADS" --rounds "$ROUNDS"
      --decode-tokens "$DECODE_TOKENS" --context "$CONTEXT" --prefill-tokens "$PREFILL_TOKENS" --workloads "$WORKLOADS")
for t in $TYPES; do args+=(--ear "$t=$BENCH_DIR/qwen7b.$t.ear" --gguf "$t=$BENCH_DIR/qwen7b.${GGUF_TYPE[$t]}.gguf"); done
[ -s "$CT2/model.bin" ] && args+=(--ct2 "$CT2")
python3 "$ROOT/Tools/bench/peers.py" "${args[@]}"
echo "== peers.sh finished in ${SECONDS} s ($(date -u '+%T') UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"
