// AVX512Matvec: q8 rows × one token's int8 activations (decode) in 8-row tiles for long rows (K > 4096;
// the rows share each activation load, and more rows in flight measured better: 4096×11008 61% of read
// bandwidth with 2 rows, 72% with 4, 85% with 8). Same arithmetic as the GEMM tiles (AVX512Q8Gemm).
// The q4 matvec is AVX512Q4Matvec.

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// y[t·ldy + r] for r in `rows`, t < tokens (few tokens): q8 in 8-row tiles. Needs cols % 64 == 0.
    @export(interface)
    public static func q8Matvec(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                                _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        for t in 0..<tokens {
            let x = UnsafeRawPointer(xq + t &* cols), d = xd + t &* nb, s = xs + t &* nb
            var r = rows.lowerBound
            while r &+ 8 <= rows.upperBound {
                q8Rows8(w + r &* rowBytes, rowBytes, cols, x, d, s, y + (t &* ldy &+ r))
                r &+= 8
            }
            while r < rows.upperBound { y[t &* ldy &+ r] = q8Dot(w + r &* rowBytes, cols, x, d, s); r &+= 1 }
        }
    }

    @inline(__always) static func q8Rows8(_ w: UnsafeRawPointer, _ rowBytes: Int, _ cols: Int, _ x: UnsafeRawPointer,
                                          _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let nb = cols / 32
        let flip = _mm512_set1_epi8(-128)
        let zero = _mm512_setzero_si512()
        let w0 = w, w1 = w + rowBytes, w2 = w + 2 &* rowBytes, w3 = w + 3 &* rowBytes
        let w4 = w + 4 &* rowBytes, w5 = w + 5 &* rowBytes, w6 = w + 6 &* rowBytes, w7 = w + 7 &* rowBytes
        var f0 = SIMD16<Float>(), f1 = f0, f2 = f0, f3 = f0, f4 = f0, f5 = f0, f6 = f0, f7 = f0
        var g = 0
        while g < nb {
            let cnt = min(16, nb &- g)
            let dx = first16(UnsafeRawPointer(xd + g), cnt), sx = first16(UnsafeRawPointer(xs + g), cnt) * -128
            @inline(__always) func scale(_ wr: UnsafeRawPointer, _ f: inout SIMD16<Float>) -> SIMD16<Float> {
                let dw = weightScales16(wr + cols, g, cnt)
                f = f.addingProduct(dw, sx)
                return dw * dx
            }
            let s0 = scale(w0, &f0), s1 = scale(w1, &f1), s2 = scale(w2, &f2), s3 = scale(w3, &f3)
            let s4 = scale(w4, &f4), s5 = scale(w5, &f5), s6 = scale(w6, &f6), s7 = scale(w7, &f7)
            for i in 0..<(cnt / 2) {
                let o = 32 &* g &+ 64 &* i
                let xv = x.loadUnaligned(fromByteOffset: o, as: __m512i.self)
                let idx = pairIndex(i)
                @inline(__always) func row(_ wr: UnsafeRawPointer, _ s: SIMD16<Float>, _ f: inout SIMD16<Float>) {
                    let wv = _mm512_xor_si512(wr.loadUnaligned(fromByteOffset: o, as: __m512i.self), flip)
                    f = f.addingProduct(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, wv, xv)), _mm512_permutexvar_ps(idx, s))
                }
                row(w0, s0, &f0); row(w1, s1, &f1); row(w2, s2, &f2); row(w3, s3, &f3)
                row(w4, s4, &f4); row(w5, s5, &f5); row(w6, s6, &f6); row(w7, s7, &f7)
            }
            g &+= cnt
        }
        y[0] = hsum16(f0); y[1] = hsum16(f1); y[2] = hsum16(f2); y[3] = hsum16(f3)
        y[4] = hsum16(f4); y[5] = hsum16(f5); y[6] = hsum16(f6); y[7] = hsum16(f7)
    }
}
#endif
