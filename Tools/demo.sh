#!/usr/bin/env bash
# The README's main-job command. For now: set up, build, write a small .ear file and inspect it.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build -c release --product earshot
.build/release/earshot --help
