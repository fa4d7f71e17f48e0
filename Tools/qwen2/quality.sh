#!/usr/bin/env bash
# Quantization quality of Earshot and llama.cpp on the real Qwen2.5-Coder-1.5B-Instruct weights, side by side,
# on the same tokens, chunks and reference (issue #19 item 4; perplexity parity, item 3):
#   reference  the GGUF's weights dequantized to F32 (llama-quantize --allow-requantize … F32), run by llama.cpp
#              → base.kld (tokens + log-probs, llama-perplexity --kl-divergence-base)
#   llama.cpp  Q8_0, Q4_0, Q4_K_M, IQ4_XS quantized from that F32 GGUF, scored by llama-perplexity --kl-divergence
#   Earshot    f32, q8, q4m, q4-out8 (q4 with lm_head q8), q4 .ear converted from the original GGUF, scored by `earshot-bench perplexity` on
#              base.kld (same positions, llama.cpp's formulas); its f32 run also writes ours.kld, and llama.cpp's
#              F32 is scored against it (the two engines' f32 runs compared both ways)
# Text: this repository's Swift sources at a pinned commit (Sources/**/*.swift, sorted), 512-token chunks.
#
#   Tools/qwen2/quality.sh                 # needs Tools/get-qwen2.sh's GGUF and llama.cpp (Tools/bench/peers.sh builds it)
#   CHUNKS=80 THREADS=2 Tools/qwen2/quality.sh
#   CROSS=0 EAR_TYPES='f32 q8' Tools/qwen2/quality.sh   # skip the cross-check pass; only these Earshot types
# Work files (GBs) go to $QUALITY_DIR (default /work/scratch/quality); prints a markdown table at the end.
set -euo pipefail
source "$(dirname "$0")/paths.sh"
CHUNKS="${CHUNKS:-40}"
CTX="${CTX:-512}"
THREADS="${THREADS:-2}"
TEXT_COMMIT="${TEXT_COMMIT:-65ed52d}"
EAR_TYPES="${EAR_TYPES:-f32 q8 q4m q4-out8=q4,output.weight=q8 q4}"
LLAMA_TYPES="${LLAMA_TYPES:-Q8_0 Q4_K_M IQ4_XS Q4_0}"
mkdir -p "$DIR"
[ -s "$GGUF" ] || { echo "quality: $GGUF missing (run Tools/get-qwen2.sh)" >&2; exit 2; }
[ -x "$LLAMA/llama-perplexity" ] || { echo "quality: llama.cpp tools not in $LLAMA" >&2; exit 2; }
(cd "$ROOT" && swift build -c release --product earshot-bench >/dev/null && swift build -c release --product earshot-convert >/dev/null)
BENCH="$ROOT/.build/release/earshot-bench"
CONVERT="$ROOT/.build/release/earshot-convert"

text="$DIR/text-$TEXT_COMMIT.txt"
if [ ! -s "$text" ]; then
  git -C "$ROOT" ls-tree -r --name-only "$TEXT_COMMIT" -- Sources | grep '\.swift$' | sort |
    while read -r f; do git -C "$ROOT" show "$TEXT_COMMIT:$f"; done > "$text"
fi
echo "== text: $(wc -c < "$text") bytes of Sources/**/*.swift at $TEXT_COMMIT; $CHUNKS chunks of $CTX tokens, $THREADS threads"

f32="$DIR/qwen2.5-coder-1.5b.F32.gguf"
[ -s "$f32" ] || "$LLAMA/llama-quantize" --allow-requantize "$GGUF" "$f32" F32 > "$DIR/quantize-F32.log" 2>&1
ppl() { "$LLAMA/llama-perplexity" -m "$1" -f "$text" -c "$CTX" --chunks "$CHUNKS" -t "$THREADS" -b "$CTX" "${@:2}"; }
[ -s "$DIR/base.kld" ] || ppl "$f32" --kl-divergence-base "$DIR/base.kld" > "$DIR/llama-F32.log" 2>&1
for t in $LLAMA_TYPES; do
  g="$DIR/qwen2.5-coder-1.5b.$t.gguf"
  [ -s "$g" ] || "$LLAMA/llama-quantize" --allow-requantize "$f32" "$g" "$t" > "$DIR/quantize-$t.log" 2>&1
  [ -s "$DIR/llama-$t.log" ] && grep -q "Same top p" "$DIR/llama-$t.log" ||
    ppl "$g" --kl-divergence-base "$DIR/base.kld" --kl-divergence > "$DIR/llama-$t.log" 2>&1
done
for spec in $EAR_TYPES; do        # NAME or NAME=QUANT[,PATTERN=TYPE...] (e.g. q4-out8=q4,output.weight=q8)
  t="${spec%%=*}"; recipe=(--quant "$t")
  if [ "$spec" != "$t" ]; then
    IFS=, read -r -a parts <<< "${spec#*=}"
    recipe=(--quant "${parts[0]}"); for k in "${parts[@]:1}"; do recipe+=(--keep "$k"); done
  fi
  e="$DIR/qwen2.5-coder-1.5b.$t.ear"
  [ -s "$e" ] || "$CONVERT" "$GGUF" "${recipe[@]}" -o "$e" > "$DIR/convert-$t.log" 2>&1
  extra=(); [ "$t" = f32 ] && extra=(--write-base "$DIR/ours.kld")
  [ -s "$DIR/earshot-$t.log" ] && grep -q "^result" "$DIR/earshot-$t.log" ||
    "$BENCH" perplexity --model "$e" --base "$DIR/base.kld" --threads "$THREADS" "${extra[@]}" > "$DIR/earshot-$t.log" 2>"$DIR/earshot-$t.err"
done
if [ "${CROSS:-1}" = 1 ]; then    # llama.cpp's F32 scored against Earshot f32's log-probs (one more F32 pass)
  [ -s "$DIR/llama-F32-vs-ours.log" ] && grep -q "Same top p" "$DIR/llama-F32-vs-ours.log" ||
    ppl "$f32" --kl-divergence-base "$DIR/ours.kld" --kl-divergence > "$DIR/llama-F32-vs-ours.log" 2>&1
fi

python3 "$ROOT/Tools/qwen2/quality_table.py" "$DIR" --ear-types "$(for s in $EAR_TYPES; do printf "%s " "${s%%=*}"; done)" --llama-types "$LLAMA_TYPES"
