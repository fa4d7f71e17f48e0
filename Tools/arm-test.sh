#!/usr/bin/env bash
# ARM kernel tests: cross-compile the kernel modules with Embedded Swift for aarch64, link them with the
# harness against aarch64 glibc (-static-pie) and run it under QEMU as a Raspberry Pi 4 (cortex-a72: NEON
# only, the dotprod path must be skipped) and a Pi 5 class CPU (max: dotprod). Needs (apt):
# gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static. Recipe: notes/arm-cross.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFTC=${SWIFTC:-swiftc}
B=.build/arm64-embedded; mkdir -p "$B"
for tool in aarch64-linux-gnu-gcc qemu-aarch64-static; do
  command -v "$tool" >/dev/null || { echo "arm-test: $tool not found (apt install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)" >&2; exit 2; }
done
E=(-target aarch64-none-none-elf -enable-experimental-feature Embedded -wmo -Ounchecked -parse-as-library)
BASE=(-Xcc -march=armv8-a)             # Cortex-A72 / Raspberry Pi 4 (NEON only)
DOTP=(-Xcc -march=armv8.2-a+dotprod)   # Cortex-A76 / Raspberry Pi 5 (SDOT)
"$SWIFTC" "${E[@]}" "${DOTP[@]}" -module-name EarshotKernelsDotProd \
  -emit-module -emit-module-path "$B/EarshotKernelsDotProd.swiftmodule" \
  -c Sources/EarshotKernelsDotProd/*.swift -o "$B/EarshotKernelsDotProd.o"
"$SWIFTC" "${E[@]}" "${BASE[@]}" -module-name EarshotKernelsAVX512 \
  -emit-module -emit-module-path "$B/EarshotKernelsAVX512.swiftmodule" \
  -c Sources/EarshotKernelsAVX512/*.swift -o "$B/EarshotKernelsAVX512.o"
mapfile -t KSRC < <(find Sources/EarshotKernels -name '*.swift' | sort)   # includes NN/ when it lands
"$SWIFTC" "${E[@]}" "${BASE[@]}" -I "$B" -module-name EarshotKernels \
  -emit-module -emit-module-path "$B/EarshotKernels.swiftmodule" -c "${KSRC[@]}" -o "$B/EarshotKernels.o"
"$SWIFTC" "${E[@]}" "${BASE[@]}" -enable-experimental-feature Extern -I "$B" -module-name ArmKernelTests \
  -c Tests/ArmKernelTests/*.swift -o "$B/main.o"
aarch64-linux-gnu-gcc -static-pie "$B/main.o" "$B/EarshotKernels.o" "$B/EarshotKernelsDotProd.o" \
  "$B/EarshotKernelsAVX512.o" -lm -o "$B/arm-kernel-tests"
status=0
for cpu in cortex-a72 max; do
  echo "== qemu-aarch64 -cpu $cpu"
  qemu-aarch64-static -cpu "$cpu" "$B/arm-kernel-tests" || status=1
done
exit $status
