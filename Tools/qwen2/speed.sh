#!/usr/bin/env bash
# Speed on the real Qwen2.5-Coder-1.5B-Instruct, Earshot and llama.cpp side by side in one run (issue #19 item 5):
# decode (128 tokens after a 512-position KV cache) and prefill (512 tokens) at 1 and 2 threads.
#   llama.cpp  llama-bench on the original Q4_K_M GGUF and on Q8_0 (Tools/qwen2/quality.sh makes it)
#   Earshot    earshot-bench decode / prefill on the .ear files converted from that GGUF (q8, q4m, q4)
# Rounds alternate engine by engine (ROUNDS, default 2) so a noisy shared machine hits both alike; medians printed.
#
#   Tools/qwen2/speed.sh                    # after Tools/qwen2/quality.sh (which writes the .ear and GGUF files)
set -euo pipefail
source "$(dirname "$0")/paths.sh"
ROUNDS="${ROUNDS:-2}"
THREADS="${THREADS:-1,2}"
GGUFS="${GGUFS:-$GGUF $DIR/qwen2.5-coder-1.5b.Q8_0.gguf}"
EARS="${EARS:-$DIR/qwen2.5-coder-1.5b.q8.ear $DIR/qwen2.5-coder-1.5b.q4m.ear $DIR/qwen2.5-coder-1.5b.q4.ear}"
(cd "$ROOT" && swift build -c release --product earshot-bench >/dev/null)
BENCH="$ROOT/.build/release/earshot-bench"
echo "== $(date -u '+%F %T') UTC, $(nproc) CPUs,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  for g in $GGUFS; do
    echo "== round $r: llama.cpp $(basename "$g")"
    "$LLAMA/llama-bench" -m "$g" -t "$THREADS" -p 512 -n 0 -r 1 -o md 2>/dev/null | grep -E '\| *pp512' || true
    "$LLAMA/llama-bench" -m "$g" -t "$THREADS" -p 0 -n 128 -d 512 -r 1 -o md 2>/dev/null | grep -E '\| *tg128' || true
  done
  for e in $EARS; do
    echo "== round $r: Earshot $(basename "$e")"
    "$BENCH" decode --model "$e" --threads "$THREADS" --context 512 --tokens 128 --runs 1 | grep '^result'
    "$BENCH" prefill --model "$e" --threads "$THREADS" --tokens 512 --runs 1 | grep '^result'
  done
done
