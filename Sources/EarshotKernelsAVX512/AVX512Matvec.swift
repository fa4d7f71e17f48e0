// AVX512Matvec: q8 / q4 rows × one token's int8 activations, 4 rows at a time (decode). The 4 rows share
// each activation load, which keeps the activations in L1 for long rows (K = 11008) while the weights
// stream from DRAM. Same arithmetic as the GEMM tiles (AVX512Q8Gemm / AVX512Q4Gemm), transposed.

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// y[t·ldy + r] for r in `rows`, t < tokens (few tokens): q8 in 4-row tiles. Needs cols % 64 == 0.
    @export(interface)
    public static func q8Matvec(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                                _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        for t in 0..<tokens {
            let x = UnsafeRawPointer(xq + t &* cols), d = xd + t &* nb, s = xs + t &* nb
            var r = rows.lowerBound
            while r &+ 4 <= rows.upperBound {
                q8Rows4(w + r &* rowBytes, rowBytes, cols, x, d, s, y + (t &* ldy &+ r))
                r &+= 4
            }
            while r < rows.upperBound { y[t &* ldy &+ r] = q8Dot(w + r &* rowBytes, cols, x, d, s); r &+= 1 }
        }
    }

    /// y[t·ldy + r] for r in `rows`, t < tokens (few tokens): q4 in 4-row tiles. Needs cols % 256 == 0 and
    /// per-super-block activation scales.
    @export(interface)
    public static func q4Matvec(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                                _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int, fourRows: Bool) {
        let nb = cols / 32
        for t in 0..<tokens {
            let x = UnsafeRawPointer(xq + t &* cols), d = xd + t &* nb, s = xs + t &* nb
            var r = rows.lowerBound
            while r &+ 4 <= rows.upperBound && fourRows {
                q4Rows4(w + r &* rowBytes, rowBytes, cols, x, d, s, y + (t &* ldy &+ r))
                r &+= 4
            }
            while r < rows.upperBound { y[t &* ldy &+ r] = q4Row1(w + r &* rowBytes, cols, x, d, s); r &+= 1 }
        }
    }

    @inline(__always) static func q8Rows4(_ w: UnsafeRawPointer, _ rowBytes: Int, _ cols: Int, _ x: UnsafeRawPointer,
                                          _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let nb = cols / 32
        let flip = _mm512_set1_epi8(-128)
        let zero = _mm512_setzero_si512()
        let w0 = w, w1 = w + rowBytes, w2 = w + 2 &* rowBytes, w3 = w + 3 &* rowBytes
        var f0 = SIMD16<Float>(), f1 = f0, f2 = f0, f3 = f0
        var g = 0
        while g < nb {
            let cnt = min(16, nb &- g)
            let dx = first16(UnsafeRawPointer(xd + g), cnt), sx = first16(UnsafeRawPointer(xs + g), cnt) * -128
            @inline(__always) func scale(_ wr: UnsafeRawPointer, _ f: inout SIMD16<Float>) -> SIMD16<Float> {
                var dw = AVX512.cvtHalf16((wr + cols).loadUnaligned(fromByteOffset: 2 &* g, as: SIMD16<UInt16>.self))
                if cnt < 16 { for i in cnt..<16 { dw[i] = 0 } }
                f = f.addingProduct(dw, sx)
                return dw * dx
            }
            let s0 = scale(w0, &f0), s1 = scale(w1, &f1), s2 = scale(w2, &f2), s3 = scale(w3, &f3)
            for i in 0..<(cnt / 2) {
                let o = 32 &* g &+ 64 &* i
                let xv = x.loadUnaligned(fromByteOffset: o, as: __m512i.self)
                let idx = pairIndex(i)
                @inline(__always) func row(_ wr: UnsafeRawPointer, _ s: SIMD16<Float>, _ f: inout SIMD16<Float>) {
                    let wv = _mm512_xor_si512(wr.loadUnaligned(fromByteOffset: o, as: __m512i.self), flip)
                    f = f.addingProduct(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, wv, xv)), _mm512_permutexvar_ps(idx, s))
                }
                row(w0, s0, &f0); row(w1, s1, &f1); row(w2, s2, &f2); row(w3, s3, &f3)
            }
            g &+= cnt
        }
        y[0] = hsum16(f0); y[1] = hsum16(f1); y[2] = hsum16(f2); y[3] = hsum16(f3)
    }

    @inline(__always) static func q4Row1(_ wr: UnsafeRawPointer, _ cols: Int, _ x: UnsafeRawPointer,
                                         _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>) -> Float {
        let low = _mm512_set1_epi8(0x0F)
        var f0 = SIMD16<Float>(), f1 = f0
        for s in 0..<(cols / 256) {
            let h = cols / 2 &+ 16 &* s, xo = 256 &* s, b = 8 &* s
            let (sa, sb, sc, sd) = scaleVectors(wr.loadUnaligned(fromByteOffset: h &+ 4, as: UInt64.self))
            let v0 = wr.loadUnaligned(fromByteOffset: 128 &* s, as: __m512i.self)
            let v1 = wr.loadUnaligned(fromByteOffset: 128 &* s &+ 64, as: __m512i.self)
            var acc = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(_mm512_and_si512(v0, low), x.loadUnaligned(fromByteOffset: xo, as: __m512i.self)), sa)
            acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(v0, 4), low), x.loadUnaligned(fromByteOffset: xo &+ 64, as: __m512i.self)), sb)
            acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(_mm512_and_si512(v1, low), x.loadUnaligned(fromByteOffset: xo &+ 128, as: __m512i.self)), sc)
            acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(v1, 4), low), x.loadUnaligned(fromByteOffset: xo &+ 192, as: __m512i.self)), sd)
            let m = sixBit(wr.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16) * -loadHalf(wr, h &+ 2)
            f0 = f0.addingProduct(_mm512_cvtepi32_ps(acc), SIMD16(repeating: loadHalf(wr, h) * xd[b]))
            f1 = f1.addingProduct(SIMD16(lowHalf: m, highHalf: .zero), UnsafeRawPointer(xs + b).loadUnaligned(as: SIMD16<Float>.self))
        }
        return hsum16(f0 + f1)
    }

    @inline(__always) static func q4Rows4(_ w: UnsafeRawPointer, _ rowBytes: Int, _ cols: Int, _ x: UnsafeRawPointer,
                                          _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let low = _mm512_set1_epi8(0x0F)
        let w0 = w, w1 = w + rowBytes, w2 = w + 2 &* rowBytes, w3 = w + 3 &* rowBytes
        var f0 = SIMD16<Float>(), f1 = f0, f2 = f0, f3 = f0
        for s in 0..<(cols / 256) {
            let h = cols / 2 &+ 16 &* s, xo = 256 &* s, b = 8 &* s
            let xa = x.loadUnaligned(fromByteOffset: xo, as: __m512i.self)
            let xb = x.loadUnaligned(fromByteOffset: xo &+ 64, as: __m512i.self)
            let xc = x.loadUnaligned(fromByteOffset: xo &+ 128, as: __m512i.self)
            let xe = x.loadUnaligned(fromByteOffset: xo &+ 192, as: __m512i.self)
            let dx = xd[b]
            let sx = UnsafeRawPointer(xs + b).loadUnaligned(as: SIMD16<Float>.self)
            @inline(__always) func row(_ wr: UnsafeRawPointer, _ f: inout SIMD16<Float>) {
                let (sa, sb, sc, sd) = scaleVectors(wr.loadUnaligned(fromByteOffset: h &+ 4, as: UInt64.self))
                let v0 = wr.loadUnaligned(fromByteOffset: 128 &* s, as: __m512i.self)
                let v1 = wr.loadUnaligned(fromByteOffset: 128 &* s &+ 64, as: __m512i.self)
                var acc = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(_mm512_and_si512(v0, low), xa), sa)
                acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(v0, 4), low), xb), sb)
                acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(_mm512_and_si512(v1, low), xc), sc)
                acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(v1, 4), low), xe), sd)
                let m = sixBit(wr.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16) * -loadHalf(wr, h &+ 2)
                f = f.addingProduct(_mm512_cvtepi32_ps(acc), SIMD16(repeating: loadHalf(wr, h) * dx))
                f = f.addingProduct(SIMD16(lowHalf: m, highHalf: .zero), sx)
            }
            row(w0, &f0); row(w1, &f1); row(w2, &f2); row(w3, &f3)
        }
        y[0] = hsum16(f0); y[1] = hsum16(f1); y[2] = hsum16(f2); y[3] = hsum16(f3)
    }
}
#endif
