// AVX512Float: f32 / f16 / bf16 weight rows against f32 activations, compiled for x86-64-v4 (zmm).
// Same source shape as EarshotKernels/SIMD/PortableFloatDots.swift; this module's flags make it AVX-512.

#if arch(x86_64)
import _Builtin_intrinsics.intel

public enum AVX512 {}

extension AVX512 {
    /// y[t·ldy + r] = row_r · x_t for r in `rows`, t < tokens. kind: WeightType raw value (0 f32, 1 f16, 2 bf16).
    @export(interface)
    public static func floatMatmul(_ w: UnsafeRawPointer, kind: UInt8, rowBytes: Int, cols: Int, rows: Range<Int>,
                                   _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        var rb = rows.lowerBound
        while rb < rows.upperBound {
            let re = min(rows.upperBound, rb &+ 8)
            for t in 0..<tokens {
                let xt = x + t &* cols
                var r = rb
                // Long f32 rows go 4 at a time: one activation load feeds 4 rows (x no longer fits L1 at
                // K > 4096) and 4 DRAM streams are in flight.
                while kind == 0 && cols > 4096 && r &+ 4 <= re {
                    dotF32Rows4(w + r &* rowBytes, rowBytes, xt, cols, y + (t &* ldy &+ r))
                    r &+= 4
                }
                while r < re {
                    let row = w + r &* rowBytes
                    y[t &* ldy &+ r] = kind == 0 ? dotF32(row, xt, cols) : dotHalf(row, xt, cols, isBF16: kind == 2)
                    r &+= 1
                }
            }
            rb = re
        }
    }

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
        return hsum16((s0 + s1) + (s2 + s3)) + tail
    }

    /// y[0..<4] = rows w, w+rowBytes, … (f32) · x. Written with intrinsics: with SIMD16 `addingProduct`
    /// LLVM's SLP vectorizer re-packed the four rows' lanes into xmm shuffles (3.5× slower than one row).
    @inline(__always) static func dotF32Rows4(_ w: UnsafeRawPointer, _ rowBytes: Int, _ x: UnsafePointer<Float>, _ n: Int,
                                              _ y: UnsafeMutablePointer<Float>) {
        let xr = UnsafeRawPointer(x)
        let w0 = w, w1 = w + rowBytes, w2 = w + 2 &* rowBytes, w3 = w + 3 &* rowBytes
        var a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0
        var k = 0
        while k &+ 32 <= n {
            let o = 4 &* k
            let xa = xr.loadUnaligned(fromByteOffset: o, as: __m512.self)
            let xb = xr.loadUnaligned(fromByteOffset: o &+ 64, as: __m512.self)
            a0 = _mm512_fmadd_ps(w0.loadUnaligned(fromByteOffset: o, as: __m512.self), xa, a0)
            a1 = _mm512_fmadd_ps(w1.loadUnaligned(fromByteOffset: o, as: __m512.self), xa, a1)
            a2 = _mm512_fmadd_ps(w2.loadUnaligned(fromByteOffset: o, as: __m512.self), xa, a2)
            a3 = _mm512_fmadd_ps(w3.loadUnaligned(fromByteOffset: o, as: __m512.self), xa, a3)
            b0 = _mm512_fmadd_ps(w0.loadUnaligned(fromByteOffset: o &+ 64, as: __m512.self), xb, b0)
            b1 = _mm512_fmadd_ps(w1.loadUnaligned(fromByteOffset: o &+ 64, as: __m512.self), xb, b1)
            b2 = _mm512_fmadd_ps(w2.loadUnaligned(fromByteOffset: o &+ 64, as: __m512.self), xb, b2)
            b3 = _mm512_fmadd_ps(w3.loadUnaligned(fromByteOffset: o &+ 64, as: __m512.self), xb, b3)
            k &+= 32
        }
        @inline(__always) func finish(_ wr: UnsafeRawPointer, _ a: __m512, _ b: __m512) -> Float {
            var t: Float = 0
            for kk in k..<n { t += wr.loadUnaligned(fromByteOffset: 4 &* kk, as: Float.self) * x[kk] }
            return hsum16(_mm512_add_ps(a, b)) + t
        }
        y[0] = finish(w0, a0, b0); y[1] = finish(w1, a1, b1); y[2] = finish(w2, a2, b2); y[3] = finish(w3, a3, b3)
    }

    @inline(__always) static func dotHalf(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int, isBF16: Bool) -> Float {
        let xr = UnsafeRawPointer(x)
        var s0 = SIMD16<Float>(), s1 = s0
        @inline(__always) func cvt(_ v: SIMD16<UInt16>) -> SIMD16<Float> {
            if isBF16 {
                var r = SIMD16<UInt32>()
                for i in 0..<16 { r[i] = UInt32(v[i]) }
                return unsafeBitCast(r &<< 16, to: SIMD16<Float>.self)
            }
            var r = SIMD16<Float>()
            for i in 0..<16 { r[i] = Float(Float16(bitPattern: v[i])) }
            return r
        }
        var k = 0
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
        return hsum16(s0 + s1) + tail
    }
}

@inline(__always) func hsum16(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf, b = a.lowHalf + a.highHalf, c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

@inline(__always) func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}
#endif

#if arch(x86_64)
extension AVX512 {
    /// Read-only zmm stream over `bytes` bytes (multiple of 256); returns a checksum.
    @export(interface)
    public static func streamRead(_ p: UnsafeRawPointer, bytes: Int) -> UInt32 {
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
#endif
