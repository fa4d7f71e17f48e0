#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Fuzz/, a separate package) with ASan and runs each for a while from its
# committed seed corpus (Fuzz/corpus/<harness>/) plus a working corpus that grows between runs
# (Fuzz/.build/work/<harness>/, not committed). Stops with status 1 on the first crash, leak, timeout or
# out-of-memory, leaving the input in Fuzz/.build/artifacts/ (turn it into a regression test).
#
#   Tools/fuzz.sh                       every harness, 60 s each
#   Tools/fuzz.sh --ci                  what CI runs: every harness for 15,000 inputs (at most 60 s), seed 1:
#                                       a fixed number of inputs from a fixed seed replays exactly the
#                                       mutations a local --ci run tried, so CI fails on a regression, not on
#                                       a new lucky find (about 2–4 min plus the build)
#   Tools/fuzz.sh --seconds 3600 fuzz-ear fuzz-safetensors
#   Tools/fuzz.sh --runs 10000000 fuzz-ear   stop after that many executions instead of a time
#   FUZZ_JOBS=2 Tools/fuzz.sh ...       libFuzzer -fork=2 (more cores); FUZZ_SEED=N fixes the seed
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
runs=""
seed="${FUZZ_SEED:-}"
cap=""
harnesses=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --ci) runs=15000; cap=60; seed="${FUZZ_SEED:-1}"; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) harnesses+=("$1"); shift ;;
    esac
done
all=(fuzz-ear fuzz-safetensors fuzz-ctranslate2 fuzz-npz fuzz-tiktoken fuzz-tokenizer-json fuzz-audio fuzz-qwen-encode fuzz-gguf fuzz-onnx fuzz-session fuzz-hf-checkpoint)
[ ${#harnesses[@]} -eq 0 ] && harnesses=("${all[@]}")

build=Fuzz/.build
echo "== building the harnesses (release, -sanitize=fuzzer,address)"
swift build -c release --package-path Fuzz --scratch-path "$build" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing 2>&1 | grep -v "Cannot export local symbol" | tail -3
bin=$(swift build -c release --package-path Fuzz --scratch-path "$build" --show-bin-path)

mkdir -p "$build/artifacts" "$build/logs"

# fuzz-session loads sessions into a tiny Qwen-Audio-Chat model: a random-weight checkpoint of the test
# fixture's config, converted by this checkout's own tools (debug build, reused when present).
session_model="$PWD/$build/session-model.ear"
if [[ " ${harnesses[*]} " == *" fuzz-session "* ]] && [ ! -f "$session_model" ]; then
    echo "== writing the tiny model for fuzz-session ($session_model)"
    swift build --product earshot-bench 2>&1 | grep -E "error" || true
    swift build --product earshot-convert 2>&1 | grep -E "error" || true
    debug=$(swift build --show-bin-path)
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/assets"
    cp Tests/Fixtures/tokenizer/qwen.tiktoken Tests/Fixtures/qwen-audio-tiny/generation_config.json "$tmp/assets/"
    "$debug/earshot-bench" write-checkpoint Tests/Fixtures/qwen-audio-tiny/config.json "$tmp/ckpt" --assets "$tmp/assets" --single-file >/dev/null
    "$debug/earshot-convert" "$tmp/ckpt" -o "$session_model" >/dev/null
fi
export FUZZ_SESSION_MODEL="$session_model"
status=0
printf '%-22s %14s %9s  %s\n' harness executions seconds result
for h in "${harnesses[@]}"; do
    work="$build/work/$h"
    mkdir -p "$work"
    args=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/$h-")
    [ -f "Fuzz/dictionaries/$h.dict" ] && args+=(-dict="Fuzz/dictionaries/$h.dict")
    if [ -n "$runs" ]; then args+=(-runs="$runs"); else args+=(-max_total_time="$seconds"); fi
    [ -n "$cap" ] && args+=(-max_total_time="$cap")
    [ -n "$seed" ] && args+=(-seed="$seed")
    [ -n "${FUZZ_JOBS:-}" ] && args+=(-fork="$FUZZ_JOBS" -ignore_crashes=0)
    log="$build/logs/$h.log"
    start=$(date +%s)
    if ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0" LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0" "$bin/$h" "${args[@]}" "$work" "Fuzz/corpus/$h" >"$log" 2>&1; then
        result="ok (0 crashes, 0 timeouts, 0 leaks)"
    else
        result="FAILED: $(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|Fatal error|ALARM|out-of-memory' "$log" || tail -1 "$log") (see $log)"
        status=1
    fi
    elapsed=$(( $(date +%s) - start ))
    execs=$(grep -E 'stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}' || true)
    printf '%-22s %14s %9s  %s\n' "$h" "${execs:-?}" "$elapsed" "$result"
    [ $status -ne 0 ] && break
done
exit $status
