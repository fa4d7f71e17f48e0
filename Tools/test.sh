#!/usr/bin/env bash
# The README's test command (what CI runs): set-up, build, unit + golden + CLI tests, the ARM kernel tests
# under QEMU, older x86-64 CPUs under QEMU (Tools/x86-test.sh; the server's and the C ABI's tests are part of swift test), every fuzz harness (15,000 inputs from its seed
# corpus, seed 1), and the unit tests under AddressSanitizer and ThreadSanitizer. Each phase prints its time.
#   EARSHOT_TEST_QUICK=1 Tools/test.sh    skip the fuzz and sanitizer phases (a local edit-test loop)
set -euo pipefail
cd "$(dirname "$0")/.."
phase() { echo "== test.sh: $1 ($(( $(date +%s) - start )) s so far)"; }
start=$(date +%s)
Tools/setup.sh
phase "release build of earshot"
swift build -c release --product earshot
phase "swift test"
swift test
if [ -x Tools/arm-test.sh ]; then phase "ARM kernels under QEMU"; Tools/arm-test.sh; fi
phase "older x86-64 CPUs under QEMU"; Tools/x86-test.sh
if [ -z "${EARSHOT_TEST_QUICK:-}" ]; then
    phase "fuzz smoke run"; Tools/fuzz.sh --ci
    phase "sanitizers"; Tools/sanitize.sh
fi
phase "done"
