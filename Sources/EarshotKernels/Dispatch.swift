// Dispatch: which kernel implementation runs — chosen once from the CPU (CPUID flags / HWCAP) and
// overridable with EARSHOT_KERNELS=reference|portable (debugging) or by setting `Kernels.path`.

#if !hasFeature(Embedded)
#if arch(x86_64)
import _Builtin_intrinsics.intel.cpuid
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#endif

/// A kernel implementation level.
public enum KernelPath: UInt8, Sendable, CaseIterable {
    /// Scalar references (`Reference.*`): slow, obviously correct.
    case reference
    /// Portable Swift SIMD (every CPU; NEON on aarch64, AVX2 on x86-64).
    case portable
    /// x86-64 AVX-512 BW/VL/DQ + VNNI (`EarshotKernelsAVX512`).
    case avx512
    /// aarch64 dotprod / SDOT (`EarshotKernelsDotProd`, Raspberry Pi 5 class).
    case dotprod

    public var name: String {
        switch self {
        case .reference: return "reference"
        case .portable: return "portable"
        case .avx512: return "avx512"
        case .dotprod: return "dotprod"
        }
    }

    /// The fastest path this CPU supports (ignores EARSHOT_KERNELS).
    public static var bestForThisCPU: KernelPath {
        #if hasFeature(Embedded)
        return .portable
        #elseif arch(x86_64) && os(Linux)
        // Both the CPU (CPUID: what an emulator such as qemu-x86_64 -cpu Haswell really executes) and the
        // kernel (/proc/cpuinfo hides what the OS does not enable, and shows the host's under an emulator).
        let needed = ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni"]
        let flags = cpuinfoFlags()
        return needed.allSatisfy { flags.contains($0) } && cpuidHasAVX512VNNI() ? .avx512 : .portable
        #elseif arch(arm64) && os(Linux)
        return (getauxval(UInt(AT_HWCAP)) & (1 << 20)) != 0 ? .dotprod : .portable  // HWCAP_ASIMDDP
        #else
        return .portable
        #endif
    }

    /// `bestForThisCPU`, unless EARSHOT_KERNELS names a path (reference, portable, or one this CPU has).
    public static func detect() -> KernelPath {
        let best = bestForThisCPU
        #if !hasFeature(Embedded)
        if let raw = getenv("EARSHOT_KERNELS") {
            let want = String(cString: raw)
            if let p = allCases.first(where: { $0.name == want }),
               p == .reference || p == .portable || p == best { return p }
        }
        #endif
        return best
    }

    #if !hasFeature(Embedded) && os(Linux) && arch(x86_64)
    /// CPUID leaf 7: AVX-512 F, DQ, BW, VL (EBX bits 16, 17, 30, 31) and VNNI (ECX bit 11).
    static func cpuidHasAVX512VNNI() -> Bool {
        var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0, d: UInt32 = 0
        guard __get_cpuid_count(7, 0, &a, &b, &c, &d) != 0 else { return false }
        let ebx: UInt32 = (1 << 16) | (1 << 17) | (1 << 30) | (1 << 31)
        return b & ebx == ebx && c & (1 << 11) != 0
    }
    #endif

    #if !hasFeature(Embedded) && os(Linux)
    /// The `flags` line of /proc/cpuinfo (the kernel hides features the OS does not enable).
    static func cpuinfoFlags() -> Set<String> {
        guard let f = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 1 << 16)
        while fgets(&line, Int32(line.count), f) != nil {
            let s = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if s.hasPrefix("flags") {
                return Set(s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == ":" }).map(String.init))
            }
        }
        return []
    }
    #endif
}

extension Kernels {
    /// The implementation `matmul` uses. Set once at start-up from the CPU and EARSHOT_KERNELS;
    /// tests and benchmarks may change it (not while kernels run).
    public nonisolated(unsafe) static var path: KernelPath = KernelPath.detect()

    /// Development switch for A/B runs: EARSHOT_PACKED_GEMM=0 uses the row-in-lanes q8/q4 GEMMs.
    public nonisolated(unsafe) static var packedGemm: Bool = {
        #if !hasFeature(Embedded)
        if let raw = getenv("EARSHOT_PACKED_GEMM") { return String(cString: raw) != "0" }
        #endif
        return true
    }()
}
