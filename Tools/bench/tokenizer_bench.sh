#!/usr/bin/env bash
# Tokenizer speed vs the tiktoken Python package, same texts, same run, plus an id-for-id fuzz check.
# Usage: Tools/bench/tokenizer_bench.sh [path/to/qwen.tiktoken]
set -euo pipefail
cd "$(dirname "$0")/../.."
TIKTOKEN_FILE="${1:-Tests/Fixtures/tokenizer/qwen.tiktoken}"
python3 -m pip install --quiet --disable-pip-version-check tiktoken 2>&1 | grep -v -i 'warning' || true
swift build -c release --product earshot 2>&1 | tail -1
exec python3 Tools/bench/tokenizer_bench.py .build/release/earshot "$TIKTOKEN_FILE"
