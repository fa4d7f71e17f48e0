// PortableFloatDots: row · activation dot products for f32, f16 and bf16 weights with f32 activations,
// written with portable SIMD types (zmm/ymm on x86, NEON q-registers on aarch64).

enum PortableFloat {
    /// Σ_k w[k]·x[k] for f32 weights (any `n`).
    @inline(__always) static func dotF32(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let xr = UnsafeRawPointer(x)
        var s0 = SIMD16<Float>(), s1 = s0, s2 = s0, s3 = s0
        var k = 0
        while k &+ 64 <= n {
            let o = 4 &* k
            s0 = s0.addingProduct(w.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self), xr.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
            s1 = s1.addingProduct(w.loadUnaligned(fromByteOffset: o &+ 64, as: SIMD16<Float>.self), xr.loadUnaligned(fromByteOffset: o &+ 64, as: SIMD16<Float>.self))
            s2 = s2.addingProduct(w.loadUnaligned(fromByteOffset: o &+ 128, as: SIMD16<Float>.self), xr.loadUnaligned(fromByteOffset: o &+ 128, as: SIMD16<Float>.self))
            s3 = s3.addingProduct(w.loadUnaligned(fromByteOffset: o &+ 192, as: SIMD16<Float>.self), xr.loadUnaligned(fromByteOffset: o &+ 192, as: SIMD16<Float>.self))
            k &+= 64
        }
        while k &+ 16 <= n {
            s0 = s0.addingProduct(w.loadUnaligned(fromByteOffset: 4 &* k, as: SIMD16<Float>.self), xr.loadUnaligned(fromByteOffset: 4 &* k, as: SIMD16<Float>.self))
            k &+= 16
        }
        var tail: Float = 0
        while k < n { tail += w.loadUnaligned(fromByteOffset: 4 &* k, as: Float.self) * x[k]; k &+= 1 }
        return hsum((s0 + s1) + (s2 + s3)) + tail
    }

    /// Σ_k w[k]·x[k] for f16 (`isBF16 == false`) or bf16 weights.
    @inline(__always) static func dotHalf(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int, isBF16: Bool) -> Float {
        let xr = UnsafeRawPointer(x)
        var s0 = SIMD16<Float>(), s1 = s0
        var k = 0
        @inline(__always) func cvt(_ v: SIMD16<UInt16>) -> SIMD16<Float> { isBF16 ? f32(v, bfloat: ()) : f32(v, half: ()) }
        while k &+ 32 <= n {
            s0 = s0.addingProduct(cvt(w.loadUnaligned(fromByteOffset: 2 &* k, as: SIMD16<UInt16>.self)), xr.loadUnaligned(fromByteOffset: 4 &* k, as: SIMD16<Float>.self))
            s1 = s1.addingProduct(cvt(w.loadUnaligned(fromByteOffset: 2 &* k &+ 32, as: SIMD16<UInt16>.self)), xr.loadUnaligned(fromByteOffset: 4 &* k &+ 64, as: SIMD16<Float>.self))
            k &+= 32
        }
        var tail: Float = 0
        while k < n {
            let bits = w.loadUnaligned(fromByteOffset: 2 &* k, as: UInt16.self)
            tail += (isBF16 ? Float(bitPattern: UInt32(bits) << 16) : Float(Float16(bitPattern: bits))) * x[k]
            k &+= 1
        }
        return hsum(s0 + s1) + tail
    }
}
