#!/usr/bin/env bash
# The README's test command: set-up, build, unit + golden + CLI tests, then the ARM kernel tests under QEMU.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build -c release --product earshot
swift test
if [ -x Tools/arm-test.sh ]; then Tools/arm-test.sh; fi
