#!/usr/bin/env bash
# The README's main-job command: set up a fresh Debian machine, build, fetch + convert the default model
# (Whisper tiny.en → q8 .ear, cached), and transcribe Tests/Fixtures/audio/jfk.wav.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build -c release --product earshot
swift build -c release --product earshot-convert
Tools/get-default-model.sh
cache="${EARSHOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/earshot}"
.build/release/earshot transcribe --model "$cache/whisper-tiny.en.q8.ear" Tests/Fixtures/audio/jfk.wav
