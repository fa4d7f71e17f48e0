#!/usr/bin/env bash
# The unit tests under AddressSanitizer (with LeakSanitizer) and ThreadSanitizer, each sanitizer in its own
# build directory (.build-asan, .build-tsan: the normal .build is untouched). What CI runs; a clean run
# prints the per-target test counts and exits 0.
#
#   Tools/sanitize.sh                 both sanitizers
#   Tools/sanitize.sh address         ASan only (or: thread)
#   SANITIZE_FILTER='EarshotFormatTests' Tools/sanitize.sh address
#
# Targets: the format, tokenizer, audio, kernels, converter and library tests (SANITIZE_FILTER overrides).
# The CLI and model golden suites are left out: they run the same code as the targets above through
# child processes and multi-second model runs, and would double the time under a sanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
which=("${@:-address thread}")
[ "${which[*]}" = "address thread" ] && which=(address thread)
filter="${SANITIZE_FILTER:-EarshotFormatTests|EarshotTokenizerTests|EarshotAudioTests|EarshotKernelsTests|EarshotConvertTests|EarshotTests}"
supp="$PWD/Tools/sanitize.supp"
lsan_supp="$PWD/Tools/sanitize-lsan.supp"

for s in "${which[@]}"; do
    case "$s" in
        address) dir=.build-asan ;;
        thread) dir=.build-tsan ;;
        *) echo "unknown sanitizer $s (address or thread)"; exit 2 ;;
    esac
    echo "== $s sanitizer: build ($dir)"
    start=$(date +%s)
    swift build --build-tests --sanitize="$s" --scratch-path "$dir" 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | grep -v "^\[" || true
    built=$(date +%s)
    echo "== $s sanitizer: tests ($filter)"
    # halt_on_error: the first report fails the run. Leak reports name their allocation stack.
    set +e
    ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:allocator_may_return_null=0" \
    LSAN_OPTIONS="suppressions=$lsan_supp:print_suppressions=0" \
    TSAN_OPTIONS="halt_on_error=1:suppressions=$supp" \
        swift test --skip-build --sanitize="$s" --scratch-path "$dir" --filter "$filter" >"$dir/sanitize-test.log" 2>&1
    status=$?
    set -e
    grep -E "Test run with|Executed [0-9]+ tests|✘|ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|SUMMARY" "$dir/sanitize-test.log" || true
    end=$(date +%s)
    echo "== $s sanitizer: build $((built - start)) s, tests $((end - built)) s, exit $status"
    [ "$status" -eq 0 ] || exit "$status"
done
