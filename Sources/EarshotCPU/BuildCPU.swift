// BuildCPU: whether this CPU can run the kernels as this package builds them. The portable kernels and the
// audio front end are compiled for x86-64-v3 (AVX2, FMA, F16C, BMI1/2, LZCNT, MOVBE: Package.swift's
// `baselineCPU`); on an older x86-64 (Atom/Celeron without AVX2, or an OS that does not enable AVX) their
// first instruction would be an illegal-instruction crash. Every entry point asks here first — this module
// is compiled for the plain x86-64 baseline — and refuses with one line naming what is missing. aarch64
// builds need only ARMv8-A NEON, which every 64-bit ARM core has.
import CEarshotCPU

public enum BuildCPU {
    /// The x86-64-v3 features this CPU (or its OS) lacks, by name; empty when the kernels can run here.
    public static let missingFeatures: [String] = {
        #if arch(x86_64)
        let bits = earshot_x86_missing_v3()
        let names: [(UInt32, String)] = [
            (UInt32(EARSHOT_CPU_AVX), "AVX"), (UInt32(EARSHOT_CPU_AVX2), "AVX2"),
            (UInt32(EARSHOT_CPU_FMA), "FMA"), (UInt32(EARSHOT_CPU_F16C), "F16C"),
            (UInt32(EARSHOT_CPU_BMI1), "BMI1"), (UInt32(EARSHOT_CPU_BMI2), "BMI2"),
            (UInt32(EARSHOT_CPU_LZCNT), "LZCNT"), (UInt32(EARSHOT_CPU_MOVBE), "MOVBE"),
            (UInt32(EARSHOT_CPU_OS_AVX), "OS support for AVX state (XSAVE)"),
        ]
        return names.filter { bits & $0.0 != 0 }.map(\.1)
        #else
        return []
        #endif
    }()

    /// nil when the kernels can run here, else why not (one sentence for an error message).
    public static var refusal: String? {
        guard !missingFeatures.isEmpty else { return nil }
        return "this build of Earshot needs an x86-64-v3 CPU (Intel Haswell / AMD Excavator or newer); "
            + "this one lacks \(missingFeatures.joined(separator: ", "))"
    }
}
