// StreamRead: a read-only pass over memory, the bandwidth yardstick `earshot-bench kernels` compares
// matvec kernels against (same bytes, same run). Not used by the model.
import EarshotKernels
import EarshotKernelsAVX512

extension Kernels {
    /// Reads `bytes` bytes (a multiple of 256) from `p` with wide vector loads; returns a checksum so
    /// the loads cannot be optimised away.
    static func streamRead(_ p: UnsafeRawPointer, bytes: Int) -> UInt32 {
        #if arch(x86_64)
        if path == .avx512 { return AVX512.streamRead(p, bytes: bytes) }
        #endif
        var a0 = SIMD16<UInt32>(), a1 = a0, a2 = a0, a3 = a0
        var o = 0
        while o &+ 256 <= bytes {
            a0 ^= p.loadUnaligned(fromByteOffset: o, as: SIMD16<UInt32>.self)
            a1 ^= p.loadUnaligned(fromByteOffset: o &+ 64, as: SIMD16<UInt32>.self)
            a2 ^= p.loadUnaligned(fromByteOffset: o &+ 128, as: SIMD16<UInt32>.self)
            a3 ^= p.loadUnaligned(fromByteOffset: o &+ 192, as: SIMD16<UInt32>.self)
            o &+= 256
        }
        let a = (a0 ^ a1) ^ (a2 ^ a3)
        var r: UInt32 = 0
        for i in 0..<16 { r ^= a[i] }
        return r
    }
}
