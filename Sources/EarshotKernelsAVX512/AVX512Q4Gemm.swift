// AVX512Q4Gemm: q4 weights × int8 activations for many tokens (prefill, encoder), register-tiled
// 2 rows × 4 tokens. Needs activations with one scale per 256-value super-block (QuantizedActivations
// `superBlocks: true`), so a whole super-block stays in int32:
//   acc_rt += vpdpwssd(vpmaddubsw(nibbles_r (u8), x_t (s8)), sc_r (6-bit sub-scale, i16 lanes))
// then once per super-block: y_rt += d_r·dx_t·acc_rt − dmin_r·Σ_j m_j·(dx_t·Σ codes_j).
// Requires cols % 256 == 0 (full super-blocks); the caller uses the per-row dot otherwise.
// Now used only for 8–15 tokens (and with EARSHOT_PACKED_GEMM=0): from 16 tokens the token-lane GEMM
// (AVX512Q8PackedGemm / AVX512Q4PackedGemm) is 2–2.5× faster.

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// y[t·ldy + r] = q4 row r · token t for r in `rows`, t < tokens. Activation scales must be per
    /// super-block; `xs` must be readable 8 floats past its end (QuantizedActivations pads it).
    @export(interface)
    public static func q4Gemm(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                              _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                              tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        let fullTokens = cols % 256 == 0 ? tokens & ~7 : 0
        var t = 0
        // K is cut into slices of 8 super-blocks so the 8 tokens' activations (16 KB) stay in L1.
        let superBlocks = cols / 256
        // Rows go in blocks of 32 so the block's weights stay in L2 across all token tiles.
        var rb = rows.lowerBound
        while rb < rows.upperBound && fullTokens > 0 {
            let re = min(rows.upperBound, rb &+ 32)
            t = 0
            while t < fullTokens {
                var s0 = 0
                while s0 < superBlocks {
                    let s1 = min(superBlocks, s0 &+ 8)
                    for r in rb..<re {
                        tile1x8(w + r &* rowBytes, cols, s0, s1, UnsafeRawPointer(xq + t &* cols), xd + t &* nb, xs + t &* nb,
                                y + (t &* ldy &+ r), ldy, accumulate: s0 > 0)
                    }
                    s0 = s1
                }
                t &+= 8
            }
            rb = re
        }
        t = fullTokens
        for r in rows {
            for tt in t..<tokens {
                y[tt &* ldy &+ r] = q4Dot(w + r &* rowBytes, cols, UnsafeRawPointer(xq + tt &* cols), xd + tt &* nb, xs + tt &* nb)
            }
        }
    }

    /// The 8 sub-scales of a header as i16 lanes, permuted for the two 64-byte halves of each chunk:
    /// (lanes 0..<16 = sc_a, lanes 16..<32 = sc_b) for (a, b) = (0, 1), (2, 3), (4, 5), (6, 7).
    /// One broadcast + variable qword shift + AND puts sc_j in qword j; vpermw picks word 4j.
    @inline(__always) static func scaleVectors(_ bits: UInt64) -> (__m512i, __m512i, __m512i, __m512i) {
        let q = (SIMD8<UInt64>(repeating: bits) &>> SIMD8<UInt64>(0, 6, 12, 18, 24, 30, 36, 42)) & 63
        let m = unsafeBitCast(q, to: __m512i.self)
        @inline(__always) func idx(_ a: Int16, _ b: Int16) -> __m512i {
            unsafeBitCast(SIMD32<Int16>(lowHalf: SIMD16(repeating: 4 &* a), highHalf: SIMD16(repeating: 4 &* b)), to: __m512i.self)
        }
        return (_mm512_permutexvar_epi16(idx(0, 1), m), _mm512_permutexvar_epi16(idx(2, 3), m),
                _mm512_permutexvar_epi16(idx(4, 5), m), _mm512_permutexvar_epi16(idx(6, 7), m))
    }

    /// One q4 row against 8 tokens: the row's nibbles and sub-scale vectors stay in registers, each
    /// token's activations come from L1.
    /// Super-blocks s0..<s1 only; adds to y when `accumulate`.
    @inline(__always) static func tile1x8(_ w: UnsafeRawPointer, _ cols: Int, _ s0: Int, _ s1: Int, _ x: UnsafeRawPointer,
                                          _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                          _ y: UnsafeMutablePointer<Float>, _ ldy: Int, accumulate: Bool) {
        let low = _mm512_set1_epi8(0x0F)
        let nb = cols / 32
        var f0 = SIMD16<Float>(), f1 = f0, f2 = f0, f3 = f0, f4 = f0, f5 = f0, f6 = f0, f7 = f0
        for s in s0..<s1 {
            let h = cols / 2 &+ 16 &* s
            let (sa, sb, sc, sd) = scaleVectors(w.loadUnaligned(fromByteOffset: h &+ 4, as: UInt64.self))
            let v0 = w.loadUnaligned(fromByteOffset: 128 &* s, as: __m512i.self)
            let v1 = w.loadUnaligned(fromByteOffset: 128 &* s &+ 64, as: __m512i.self)
            let lo0 = _mm512_and_si512(v0, low), hi0 = _mm512_and_si512(_mm512_srli_epi16(v0, 4), low)
            let lo1 = _mm512_and_si512(v1, low), hi1 = _mm512_and_si512(_mm512_srli_epi16(v1, 4), low)
            let dw = loadHalf(w, h)
            let m = sixBit(w.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16) * -loadHalf(w, h &+ 2)
            let mneg = SIMD16<Float>(lowHalf: m, highHalf: .zero)
            let b = 8 &* s, xo = 256 &* s
            @inline(__always) func tok(_ t: Int, _ f: inout SIMD16<Float>) {
                let xt = x + (t &* cols &+ xo)
                var acc = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(lo0, xt.loadUnaligned(as: __m512i.self)), sa)
                acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(hi0, xt.loadUnaligned(fromByteOffset: 64, as: __m512i.self)), sb)
                acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(lo1, xt.loadUnaligned(fromByteOffset: 128, as: __m512i.self)), sc)
                acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(hi1, xt.loadUnaligned(fromByteOffset: 192, as: __m512i.self)), sd)
                let bt = t &* nb &+ b
                f = f.addingProduct(_mm512_cvtepi32_ps(acc), SIMD16(repeating: dw * xd[bt]))
                f = f.addingProduct(mneg, UnsafeRawPointer(xs + bt).loadUnaligned(as: SIMD16<Float>.self))
            }
            tok(0, &f0); tok(1, &f1); tok(2, &f2); tok(3, &f3); tok(4, &f4); tok(5, &f5); tok(6, &f6); tok(7, &f7)
        }
        @inline(__always) func put(_ i: Int, _ f: SIMD16<Float>) { y[i &* ldy] = accumulate ? y[i &* ldy] + hsum16(f) : hsum16(f) }
        put(0, f0); put(1, f1); put(2, f2); put(3, f3); put(4, f4); put(5, f5); put(6, f6); put(7, f7)
    }
}
#endif
