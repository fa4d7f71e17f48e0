#!/usr/bin/env bash
# x86-64 CPUs older than this machine, under qemu-x86_64 (user mode emulates the CPU model's CPUID):
#   -cpu Haswell  (AVX2, no AVX-512): the kernel suite passes on the portable path the dispatcher picks there
#                 (the AVX-512 kernels must not be chosen from the host's /proc/cpuinfo), and a transcription
#                 gives the text this machine gives with EARSHOT_KERNELS=portable;
#   -cpu Nehalem  (no AVX): earshot and earshot-convert refuse with one line naming the missing instruction
#                 sets, exit status 1, instead of dying of an illegal instruction.
# Reuses the debug build of `swift test` (builds it when missing). Needs qemu-user-static (Tools/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
qemu=$(command -v qemu-x86_64-static || command -v qemu-x86_64 || true)
[ -n "$qemu" ] || { echo "x86-test: qemu-x86_64 not found (apt-get install qemu-user-static)"; exit 1; }
[ "$(uname -m)" = x86_64 ] || { echo "x86-test: only on x86-64 hosts"; exit 0; }
swift build --build-tests 2>&1 | grep -E "error|Compiling|Build complete" | tail -2
bin=$(swift build --show-bin-path)

echo "== kernel suite, qemu -cpu Haswell (no AVX-512)"
set +e
suite=$("$qemu" -cpu Haswell "$bin/EarshotPackageTests.xctest" --testing-library swift-testing --filter EarshotKernelsTests 2>&1)
rc=$?
set -e
echo "$suite" | tail -1
[ $rc -eq 0 ] && [[ "$(echo "$suite" | tail -1)" == *"passed"* ]] || { echo "$suite" | tail -30; echo "x86-test: kernel suite failed under -cpu Haswell (status $rc)"; exit 1; }

echo "== transcription, qemu -cpu Haswell vs native portable kernels"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
model="$tmp/tiny.ear"
"$bin/earshot-convert" Tests/Fixtures/qwen2-audio-tiny/a -o "$model" --quant q8 -q >/dev/null
args=(transcribe --model "$model" --print-ids --max-tokens 8 Tests/Fixtures/audio/jfk.wav)
native=$(EARSHOT_KERNELS=portable "$bin/earshot" "${args[@]}" 2>/dev/null)
emulated=$("$qemu" -cpu Haswell "$bin/earshot" "${args[@]}" 2>/dev/null)
[ -n "$native" ] && [ "$native" = "$emulated" ] || { echo "x86-test: -cpu Haswell gave '$emulated', native portable '$native'"; exit 1; }
echo "same ids: $native"

echo "== refusal, qemu -cpu Nehalem (no AVX)"
for tool in earshot earshot-convert; do
    if [ $tool = earshot ]; then cmd=("$bin/earshot" "${args[@]}"); else cmd=("$bin/earshot-convert" Tests/Fixtures/qwen2-audio-tiny/a -o "$tmp/x.ear"); fi
    set +e; err=$("$qemu" -cpu Nehalem "${cmd[@]}" 2>&1 >/dev/null); rc=$?; set -e
    [ $rc -eq 1 ] && [[ "$err" == *"needs an x86-64-v3 CPU"*"AVX2"* ]] || { echo "x86-test: $tool under -cpu Nehalem: status $rc, '$err'"; exit 1; }
    [ ! -e "$tmp/x.ear" ] || { echo "x86-test: earshot-convert wrote a file on a CPU it refused"; exit 1; }
    echo "$err"
done
echo "x86-test: ok"
