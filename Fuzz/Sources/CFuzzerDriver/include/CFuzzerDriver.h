// libFuzzer's driver entry point (compiler-rt, FuzzerDriver.cpp): runs the fuzzing loop with the given
// callback and command line. Linked in by -sanitize=fuzzer.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
