// cpu.h: what the CPU running us can execute, asked of the CPU itself (CPUID, and XGETBV for the OS's
// AVX state), never /proc/cpuinfo (an emulator or a container may show the host's). Header-only, compiled
// for the x86-64 baseline wherever it is included.
#ifndef EARSHOT_CPU_H
#define EARSHOT_CPU_H
#include <stdint.h>

// Bits of earshot_x86_missing_v3(): x86-64-v3 features this CPU (or OS) lacks.
enum {
    EARSHOT_CPU_AVX = 1 << 0, EARSHOT_CPU_AVX2 = 1 << 1, EARSHOT_CPU_FMA = 1 << 2, EARSHOT_CPU_F16C = 1 << 3,
    EARSHOT_CPU_BMI1 = 1 << 4, EARSHOT_CPU_BMI2 = 1 << 5, EARSHOT_CPU_LZCNT = 1 << 6, EARSHOT_CPU_MOVBE = 1 << 7,
    EARSHOT_CPU_OS_AVX = 1 << 8,
};

#if defined(__x86_64__)
#include <cpuid.h>
static inline uint32_t earshot_x86_missing_v3(void) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    uint32_t missing = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0x1ff;
    if (!((c >> 28) & 1)) missing |= EARSHOT_CPU_AVX;
    if (!((c >> 12) & 1)) missing |= EARSHOT_CPU_FMA;
    if (!((c >> 29) & 1)) missing |= EARSHOT_CPU_F16C;
    if (!((c >> 22) & 1)) missing |= EARSHOT_CPU_MOVBE;
    if ((c >> 27) & 1) {                       // OSXSAVE: the OS saves XMM and YMM state (XCR0 bits 1, 2)
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        if ((lo & 6) != 6) missing |= EARSHOT_CPU_OS_AVX;
    } else {
        missing |= EARSHOT_CPU_OS_AVX;
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        if (!((b >> 5) & 1)) missing |= EARSHOT_CPU_AVX2;
        if (!((b >> 3) & 1)) missing |= EARSHOT_CPU_BMI1;
        if (!((b >> 8) & 1)) missing |= EARSHOT_CPU_BMI2;
    } else {
        missing |= EARSHOT_CPU_AVX2 | EARSHOT_CPU_BMI1 | EARSHOT_CPU_BMI2;
    }
    if (!__get_cpuid(0x80000001, &a, &b, &c, &d) || !((c >> 5) & 1)) missing |= EARSHOT_CPU_LZCNT;
    return missing;
}
#else
static inline uint32_t earshot_x86_missing_v3(void) { return 0; }
#endif
#endif
