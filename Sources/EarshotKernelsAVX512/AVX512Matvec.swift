// AVX512Matvec: q8 / q4 rows × one token's int8 activations (decode). q8 in 8-row tiles and q4 in 4-row
// (q4: 8-row) tiles for long rows (K > 4096; the rows share each activation load, and more rows in flight measured
// better: q8 4096×11008 61% of read bandwidth with 2 rows, 72% with 4, 85% with 8), q4 one row at a time
// otherwise (integer super-block dot). Same arithmetic as the GEMM tiles (AVX512Q8Gemm / AVX512Q4Gemm).
// q4 walks super-blocks in pairs: the min terms of two super-blocks (8 + 8 sub-blocks) fill one 16-lane
// FMA against the contiguous per-32 activation sums, and the single-row path keeps four independent
// float accumulators (1 thread, cold, vs the one-super-block loop: 4096×4096 and 11008×4096 ~+15–20%,
// 4096×11008 ~+5–7%). Row tiles only for K > 4096 (4-row tiles at K = 4096 measured 8 vs 13 GB/s); at
// K = 11008 8-row tiles beat 4-row (11.3 vs 10.6 GB/s) and 2-row (9.0).

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

    /// y[t·ldy + r] for r in `rows`, t < tokens (few tokens): q4 in 8-row (then 4-row) tiles when `fourRows`. Needs cols % 256 == 0 and
    /// per-super-block activation scales.
    @export(interface)
    public static func q4Matvec(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                                _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int, fourRows: Bool) {
        let nb = cols / 32
        for t in 0..<tokens {
            let x = UnsafeRawPointer(xq + t &* cols), d = xd + t &* nb, s = xs + t &* nb
            var r = rows.lowerBound
            while r &+ 8 <= rows.upperBound && fourRows {
                q4Rows8(w + r &* rowBytes, rowBytes, cols, x, d, s, y + (t &* ldy &+ r))
                r &+= 8
            }
            while r &+ 4 <= rows.upperBound && fourRows {
                q4Rows4(w + r &* rowBytes, rowBytes, cols, x, d, s, y + (t &* ldy &+ r))
                r &+= 4
            }
            while r < rows.upperBound { y[t &* ldy &+ r] = q4Row1(w + r &* rowBytes, cols, x, d, s); r &+= 1 }
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

    /// One super-block's integer dot Σ_j sc_j·(nibbles_j · x_j) as 16 int32 lanes (two chains).
    @inline(__always) static func q4SuperDot(_ wr: UnsafeRawPointer, _ cols: Int, _ s: Int, _ x: UnsafeRawPointer) -> __m512i {
        let low = _mm512_set1_epi8(0x0F)
        let h = cols / 2 &+ 16 &* s, xo = 256 &* s
        let (sa, sb, sc, sd) = scaleVectors(wr.loadUnaligned(fromByteOffset: h &+ 4, as: UInt64.self))
        let v0 = wr.loadUnaligned(fromByteOffset: 128 &* s, as: __m512i.self)
        let v1 = wr.loadUnaligned(fromByteOffset: 128 &* s &+ 64, as: __m512i.self)
        let a0 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(_mm512_and_si512(v0, low), x.loadUnaligned(fromByteOffset: xo, as: __m512i.self)), sa)
        let a1 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(v0, 4), low), x.loadUnaligned(fromByteOffset: xo &+ 64, as: __m512i.self)), sb)
        let a2 = _mm512_dpwssd_epi32(a0, _mm512_maddubs_epi16(_mm512_and_si512(v1, low), x.loadUnaligned(fromByteOffset: xo &+ 128, as: __m512i.self)), sc)
        let a3 = _mm512_dpwssd_epi32(a1, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(v1, 4), low), x.loadUnaligned(fromByteOffset: xo &+ 192, as: __m512i.self)), sd)
        return _mm512_add_epi32(a2, a3)
    }

    /// One q4 row, two super-blocks per step: the min terms of both fill one 16-lane FMA (against the
    /// contiguous per-32 activation sums), and four float accumulators keep the chains independent.
    @inline(__always) static func q4Row1(_ wr: UnsafeRawPointer, _ cols: Int, _ x: UnsafeRawPointer,
                                         _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>) -> Float {
        let superBlocks = cols / 256
        var f0 = SIMD16<Float>(), f1 = f0, f2 = f0, f3 = f0
        var s = 0
        while s &+ 2 <= superBlocks {
            let h = cols / 2 &+ 16 &* s
            let accA = q4SuperDot(wr, cols, s, x)
            let accB = q4SuperDot(wr, cols, s &+ 1, x)
            let mA = sixBit(wr.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16)
            let mB = sixBit(wr.loadUnaligned(fromByteOffset: h &+ 24, as: UInt64.self) >> 16)
            let dm = SIMD16<Float>(lowHalf: SIMD8(repeating: -loadHalf(wr, h &+ 2)), highHalf: SIMD8(repeating: -loadHalf(wr, h &+ 18)))
            f0 = f0.addingProduct(_mm512_cvtepi32_ps(accA), SIMD16(repeating: loadHalf(wr, h) * xd[8 &* s]))
            f1 = f1.addingProduct(_mm512_cvtepi32_ps(accB), SIMD16(repeating: loadHalf(wr, h &+ 16) * xd[8 &* s &+ 8]))
            f2 = f2.addingProduct(SIMD16(lowHalf: mA, highHalf: mB) * dm, UnsafeRawPointer(xs + 8 &* s).loadUnaligned(as: SIMD16<Float>.self))
            s &+= 2
        }
        if s < superBlocks {
            let h = cols / 2 &+ 16 &* s, b = 8 &* s
            let acc = q4SuperDot(wr, cols, s, x)
            let m = sixBit(wr.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16) * -loadHalf(wr, h &+ 2)
            f0 = f0.addingProduct(_mm512_cvtepi32_ps(acc), SIMD16(repeating: loadHalf(wr, h) * xd[b]))
            f3 = f3.addingProduct(SIMD16(lowHalf: m, highHalf: .zero), UnsafeRawPointer(xs + b).loadUnaligned(as: SIMD16<Float>.self))
        }
        return hsum16((f0 + f1) + (f2 + f3))
    }

    /// The activations of one 256-value super-block, loaded once and shared by every row of a tile.
    struct Q4SuperActivations {
        let xa: __m512i, xb: __m512i, xc: __m512i, xe: __m512i
        let dx: Float
        @inline(__always) init(_ x: UnsafeRawPointer, _ xd: UnsafePointer<Float>, _ s: Int) {
            let xo = 256 &* s
            xa = x.loadUnaligned(fromByteOffset: xo, as: __m512i.self)
            xb = x.loadUnaligned(fromByteOffset: xo &+ 64, as: __m512i.self)
            xc = x.loadUnaligned(fromByteOffset: xo &+ 128, as: __m512i.self)
            xe = x.loadUnaligned(fromByteOffset: xo &+ 192, as: __m512i.self)
            dx = xd[8 &* s]
        }
    }

    /// f += d · Σ sub-scale · (codes · x) of super-block `s` of row `wr` (the min term comes separately).
    @inline(__always) static func q4RowSuperBlock(_ wr: UnsafeRawPointer, _ cols: Int, _ s: Int,
                                                  _ a: Q4SuperActivations, _ f: inout SIMD16<Float>) {
        let low = _mm512_set1_epi8(0x0F)
        let h = cols / 2 &+ 16 &* s
        let (sa, sb, sc, sd) = scaleVectors(wr.loadUnaligned(fromByteOffset: h &+ 4, as: UInt64.self))
        let v0 = wr.loadUnaligned(fromByteOffset: 128 &* s, as: __m512i.self)
        let v1 = wr.loadUnaligned(fromByteOffset: 128 &* s &+ 64, as: __m512i.self)
        var acc = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(_mm512_and_si512(v0, low), a.xa), sa)
        acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(v0, 4), low), a.xb), sb)
        acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(_mm512_and_si512(v1, low), a.xc), sc)
        acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(v1, 4), low), a.xe), sd)
        f = f.addingProduct(_mm512_cvtepi32_ps(acc), SIMD16(repeating: loadHalf(wr, h) * a.dx))
    }

    /// f −= dmin · Σ sub-min · Σx for super-blocks `s` and `s+1` of row `wr` in one 16-lane FMA
    /// (`sx`: the 16 per-32 activation sums of the pair).
    @inline(__always) static func q4RowMinsPair(_ wr: UnsafeRawPointer, _ cols: Int, _ s: Int,
                                                _ sx: SIMD16<Float>, _ f: inout SIMD16<Float>) {
        let h = cols / 2 &+ 16 &* s
        let mA = sixBit(wr.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16)
        let mB = sixBit(wr.loadUnaligned(fromByteOffset: h &+ 24, as: UInt64.self) >> 16)
        let dm = SIMD16<Float>(lowHalf: SIMD8(repeating: -loadHalf(wr, h &+ 2)), highHalf: SIMD8(repeating: -loadHalf(wr, h &+ 18)))
        f = f.addingProduct(SIMD16(lowHalf: mA, highHalf: mB) * dm, sx)
    }

    /// The min term of a lone (odd, last) super-block `s` of row `wr` (`sx`: its 8 activation sums).
    @inline(__always) static func q4RowMinsSingle(_ wr: UnsafeRawPointer, _ cols: Int, _ s: Int,
                                                  _ sx: SIMD8<Float>, _ f: inout SIMD16<Float>) {
        let h = cols / 2 &+ 16 &* s
        let m = sixBit(wr.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16) * -loadHalf(wr, h &+ 2)
        f = f.addingProduct(SIMD16(lowHalf: m, highHalf: .zero), SIMD16(lowHalf: sx, highHalf: .zero))
    }

    /// Four q4 rows sharing each activation load; super-blocks in pairs so the min terms of both fill
    /// one 16-lane FMA per row (against the contiguous per-32 activation sums).
    @inline(__always) static func q4Rows4(_ w: UnsafeRawPointer, _ rowBytes: Int, _ cols: Int, _ x: UnsafeRawPointer,
                                          _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let superBlocks = cols / 256
        let w0 = w, w1 = w + rowBytes, w2 = w + 2 &* rowBytes, w3 = w + 3 &* rowBytes
        var f0 = SIMD16<Float>(), f1 = f0, f2 = f0, f3 = f0
        @inline(__always) func superBlock(_ s: Int) {
            let a = Q4SuperActivations(x, xd, s)
            q4RowSuperBlock(w0, cols, s, a, &f0); q4RowSuperBlock(w1, cols, s, a, &f1)
            q4RowSuperBlock(w2, cols, s, a, &f2); q4RowSuperBlock(w3, cols, s, a, &f3)
        }
        var s = 0
        while s &+ 2 <= superBlocks {
            superBlock(s)
            superBlock(s &+ 1)
            let sx = UnsafeRawPointer(xs + 8 &* s).loadUnaligned(as: SIMD16<Float>.self)
            q4RowMinsPair(w0, cols, s, sx, &f0); q4RowMinsPair(w1, cols, s, sx, &f1)
            q4RowMinsPair(w2, cols, s, sx, &f2); q4RowMinsPair(w3, cols, s, sx, &f3)
            s &+= 2
        }
        if s < superBlocks {
            superBlock(s)
            let sx = UnsafeRawPointer(xs + 8 &* s).loadUnaligned(as: SIMD8<Float>.self)
            q4RowMinsSingle(w0, cols, s, sx, &f0); q4RowMinsSingle(w1, cols, s, sx, &f1)
            q4RowMinsSingle(w2, cols, s, sx, &f2); q4RowMinsSingle(w3, cols, s, sx, &f3)
        }
        y[0] = hsum16(f0); y[1] = hsum16(f1); y[2] = hsum16(f2); y[3] = hsum16(f3)
    }

    /// Eight q4 rows sharing each activation load (the 4-row tile's scheme on twice the rows).
    @inline(__always) static func q4Rows8(_ w: UnsafeRawPointer, _ rowBytes: Int, _ cols: Int, _ x: UnsafeRawPointer,
                                          _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let superBlocks = cols / 256
        let w0 = w, w1 = w + rowBytes, w2 = w + 2 &* rowBytes, w3 = w + 3 &* rowBytes
        let w4 = w + 4 &* rowBytes, w5 = w + 5 &* rowBytes, w6 = w + 6 &* rowBytes, w7 = w + 7 &* rowBytes
        var f0 = SIMD16<Float>(), f1 = f0, f2 = f0, f3 = f0, f4 = f0, f5 = f0, f6 = f0, f7 = f0
        @inline(__always) func superBlock(_ s: Int) {
            let a = Q4SuperActivations(x, xd, s)
            q4RowSuperBlock(w0, cols, s, a, &f0); q4RowSuperBlock(w1, cols, s, a, &f1)
            q4RowSuperBlock(w2, cols, s, a, &f2); q4RowSuperBlock(w3, cols, s, a, &f3)
            q4RowSuperBlock(w4, cols, s, a, &f4); q4RowSuperBlock(w5, cols, s, a, &f5)
            q4RowSuperBlock(w6, cols, s, a, &f6); q4RowSuperBlock(w7, cols, s, a, &f7)
        }
        var s = 0
        while s &+ 2 <= superBlocks {
            superBlock(s)
            superBlock(s &+ 1)
            let sx = UnsafeRawPointer(xs + 8 &* s).loadUnaligned(as: SIMD16<Float>.self)
            q4RowMinsPair(w0, cols, s, sx, &f0); q4RowMinsPair(w1, cols, s, sx, &f1)
            q4RowMinsPair(w2, cols, s, sx, &f2); q4RowMinsPair(w3, cols, s, sx, &f3)
            q4RowMinsPair(w4, cols, s, sx, &f4); q4RowMinsPair(w5, cols, s, sx, &f5)
            q4RowMinsPair(w6, cols, s, sx, &f6); q4RowMinsPair(w7, cols, s, sx, &f7)
            s &+= 2
        }
        if s < superBlocks {
            superBlock(s)
            let sx = UnsafeRawPointer(xs + 8 &* s).loadUnaligned(as: SIMD8<Float>.self)
            q4RowMinsSingle(w0, cols, s, sx, &f0); q4RowMinsSingle(w1, cols, s, sx, &f1)
            q4RowMinsSingle(w2, cols, s, sx, &f2); q4RowMinsSingle(w3, cols, s, sx, &f3)
            q4RowMinsSingle(w4, cols, s, sx, &f4); q4RowMinsSingle(w5, cols, s, sx, &f5)
            q4RowMinsSingle(w6, cols, s, sx, &f6); q4RowMinsSingle(w7, cols, s, sx, &f7)
        }
        y[0] = hsum16(f0); y[1] = hsum16(f1); y[2] = hsum16(f2); y[3] = hsum16(f3)
        y[4] = hsum16(f4); y[5] = hsum16(f5); y[6] = hsum16(f6); y[7] = hsum16(f7)
    }
}
#endif
