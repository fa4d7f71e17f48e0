// AVX512Q8Gemm: q8 weights × int8-per-32 activations for many tokens (prefill, encoder): one row against
// 8 tokens at a time, the row's 64-byte code vectors (⊕ 0x80 → u8) reused across the tokens, K cut into
// slices of 2048 so the tokens' activations (16 KB) stay in L1. Per 2 blocks and token: vpdpbusd,
// vcvtdq2ps, one scale permute, one FMA; the +128 offset is removed with the activation sums.
// Needs an even number of 32-blocks per row (cols % 64 == 0); the caller uses the per-row dot otherwise.
// Now used only for 8–15 tokens (and with EARSHOT_PACKED_GEMM=0): from 16 tokens the token-lane GEMM
// (AVX512Q8PackedGemm / AVX512Q4PackedGemm) is 2–2.5× faster.

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// y[t·ldy + r] = q8 row r · token t for r in `rows`, t < tokens. `xd`/`xs` readable 16 floats past the end.
    @export(interface)
    public static func q8Gemm(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                              _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                              tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        let fullTokens = nb % 2 == 0 ? tokens & ~7 : 0
        var t = 0
        // Rows go in blocks of 32 so the block's weights stay in L2 across all token tiles.
        var rb = rows.lowerBound
        while rb < rows.upperBound && fullTokens > 0 {
            let re = min(rows.upperBound, rb &+ 32)
            t = 0
            while t < fullTokens {
                var b0 = 0
                while b0 < nb {
                    let b1 = min(nb, b0 &+ 64)
                    for r in rb..<re {
                        q8Tile1x8(w + r &* rowBytes, cols, b0, b1, UnsafeRawPointer(xq + t &* cols), xd + t &* nb, xs + t &* nb,
                                  y + (t &* ldy &+ r), ldy, accumulate: b0 > 0)
                    }
                    b0 = b1
                }
                t &+= 8
            }
            rb = re
        }
        t = fullTokens
        for r in rows {
            for tt in t..<tokens {
                y[tt &* ldy &+ r] = q8Dot(w + r &* rowBytes, cols, UnsafeRawPointer(xq + tt &* cols), xd + tt &* nb, xs + tt &* nb)
            }
        }
    }

    /// 16 floats of activation scales/sums. QuantizedActivations pads its arrays by 16 floats, so a full
    /// load is always in bounds; lanes past the block count meet zero weight scales (see `weightScales16`).
    @inline(__always) static func first16(_ p: UnsafeRawPointer, _ n: Int) -> SIMD16<Float> {
        p.loadUnaligned(as: SIMD16<Float>.self)
    }

    /// The f16 scales of blocks g..<g+n (n ≤ 16) as floats, zero past n. Never reads past the row's
    /// scale array (the last row of a memory-mapped tensor may end at a page boundary).
    @inline(__always) static func weightScales16(_ sc: UnsafeRawPointer, _ g: Int, _ n: Int) -> SIMD16<Float> {
        if n == 16 { return AVX512.cvtHalf16(sc.loadUnaligned(fromByteOffset: 2 &* g, as: SIMD16<UInt16>.self)) }
        var r = SIMD16<Float>()
        for i in 0..<n { r[i] = loadHalf(sc, 2 &* (g &+ i)) }
        return r
    }

    /// Blocks b0..<b1 (even count) of one q8 row against 8 tokens; adds to y when `accumulate`.
    @inline(__always) static func q8Tile1x8(_ w: UnsafeRawPointer, _ cols: Int, _ b0: Int, _ b1: Int, _ x: UnsafeRawPointer,
                                            _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                            _ y: UnsafeMutablePointer<Float>, _ ldy: Int, accumulate: Bool) {
        let nb = cols / 32
        let flip = _mm512_set1_epi8(-128)
        let zero = _mm512_setzero_si512()
        let sc = w + cols
        var f0 = SIMD16<Float>(), f1 = f0, f2 = f0, f3 = f0, f4 = f0, f5 = f0, f6 = f0, f7 = f0
        var g = b0
        while g < b1 {
            let cnt = min(16, b1 &- g)
            let dw = weightScales16(sc, g, cnt)
            let dwn = dw * -128
            @inline(__always) func scale(_ t: Int, _ f: inout SIMD16<Float>) -> SIMD16<Float> {
                let o = t &* nb &+ g
                f = f.addingProduct(dwn, first16(UnsafeRawPointer(xs + o), cnt))
                return dw * first16(UnsafeRawPointer(xd + o), cnt)
            }
            let s0 = scale(0, &f0), s1 = scale(1, &f1), s2 = scale(2, &f2), s3 = scale(3, &f3)
            let s4 = scale(4, &f4), s5 = scale(5, &f5), s6 = scale(6, &f6), s7 = scale(7, &f7)
            for i in 0..<(cnt / 2) {
                let o = 32 &* g &+ 64 &* i
                let wv = _mm512_xor_si512(w.loadUnaligned(fromByteOffset: o, as: __m512i.self), flip)
                let idx = pairIndex(i)
                @inline(__always) func tok(_ t: Int, _ s: SIMD16<Float>, _ f: inout SIMD16<Float>) {
                    let p = _mm512_dpbusd_epi32(zero, wv, x.loadUnaligned(fromByteOffset: t &* cols &+ o, as: __m512i.self))
                    f = f.addingProduct(_mm512_cvtepi32_ps(p), _mm512_permutexvar_ps(idx, s))
                }
                tok(0, s0, &f0); tok(1, s1, &f1); tok(2, s2, &f2); tok(3, s3, &f3)
                tok(4, s4, &f4); tok(5, s5, &f5); tok(6, s6, &f6); tok(7, s7, &f7)
            }
            g &+= cnt
        }
        @inline(__always) func put(_ i: Int, _ f: SIMD16<Float>) { y[i &* ldy] = accumulate ? y[i &* ldy] + hsum16(f) : hsum16(f) }
        put(0, f0); put(1, f1); put(2, f2); put(3, f3); put(4, f4); put(5, f5); put(6, f6); put(7, f7)
    }
}
#endif
