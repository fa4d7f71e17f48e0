#!/usr/bin/env bash
# The perplexity golden: llama.cpp's `llama-perplexity` on the tiny random Qwen2 (Tests/Fixtures/qwen2-tiny/tied.gguf,
# f32) over a short text, 4 chunks of 64 tokens, writing its base file (tokens + compressed log-probs) and its
# final perplexity. PerplexityCLITests scores Earshot's conversion of the same GGUF on that file.
#
#   Tools/qwen2/make_perplexity_fixture.sh     # needs llama.cpp's tools ($LLAMA_BIN, built by Tools/bench/peers.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LLAMA="${LLAMA_BIN:-/work/scratch/bench/llama_cpp_python-0.3.36/vendor/llama.cpp/build/bin}"
OUT="$ROOT/Tests/Fixtures/qwen2-tiny"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# Text: this script's own header and README lines, repeated: any bytes tokenize (256 byte tokens).
{ for _ in 1 2 3 4 5 6; do sed -n '1,40p' "$ROOT/Tools/qwen2/README.md"; done; } > "$tmp/text.txt"
"$LLAMA/llama-perplexity" -m "$OUT/tied.gguf" -f "$tmp/text.txt" -c 64 -b 64 --chunks 4 -t 1 \
    --kl-divergence-base "$OUT/tied.ppl-base.kld" > "$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
ppl=$(sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p' "$tmp/log")
[ -n "$ppl" ] || { cat "$tmp/log"; exit 1; }
version="llama.cpp vendored by llama-cpp-python ${LLAMA_CPP_PY:-0.3.36}"
printf '{"llama_cpp": "%s", "n_ctx": 64, "chunks": 4, "ppl": %s}\n' "$version" "$ppl" > "$OUT/tied.ppl.json"
cat "$OUT/tied.ppl.json"
