// AVX512ActivationQuant: the AVX-512 form of QuantizedActivations' quantizer (int8 codes, scale and
// d·Σcode per 32-block; one scale per `span` blocks). Same results as the portable scalar loop, bit for
// bit: amax ignores NaN (vmaxps keeps its second operand), codes = round-half-even(x·127/amax) via
// vcvtps2dq under the default rounding mode, NaN → 0 (replaced before the convert), clamped to ±127.

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// Quantizes one token row x[0..<32·blocks] into q; spans of `span` blocks share one scale (1: per 32,
    /// 8: per 256); scales d[b] and sums s[b] = d·Σ codes of block b.
    @export(interface)
    public static func quantizeActivations(_ x: UnsafePointer<Float>, blocks: Int, span: Int, _ q: UnsafeMutablePointer<Int8>,
                                           _ d: UnsafeMutablePointer<Float>, _ s: UnsafeMutablePointer<Float>) {
        let raw = UnsafeRawPointer(x)
        let absMask = _mm512_set1_epi32(0x7FFF_FFFF)
        var b0 = 0
        while b0 < blocks {
            let b1 = min(blocks, b0 &+ span)
            var m = _mm512_setzero_ps()
            for i in (2 &* b0)..<(2 &* b1) {
                let v = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(raw.loadUnaligned(fromByteOffset: 64 &* i, as: __m512.self)), absMask))
                m = _mm512_max_ps(v, m)  // a NaN in v yields m
            }
            let amax = _mm512_reduce_max_ps(m)
            let inv: Float = amax > 0 && amax.isFinite ? 127 / amax : 0
            let scale: Float = inv == 0 ? 0 : amax / 127
            let vinv = _mm512_set1_ps(inv), lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127)
            for b in b0..<b1 {
                @inline(__always) func codes(_ o: Int) -> __m512i {
                    let r: SIMD16<Float> = _mm512_mul_ps(raw.loadUnaligned(fromByteOffset: o, as: __m512.self), vinv)
                    let c = _mm512_cvtps_epi32(r.replacing(with: 0, where: r .!= r))
                    return _mm512_min_epi32(_mm512_max_epi32(c, lo), hi)
                }
                let c0 = codes(128 &* b), c1 = codes(128 &* b &+ 64)
                UnsafeMutableRawPointer(q + 32 &* b).storeBytes(of: _mm512_cvtepi32_epi8(c0), as: __m128i.self)
                UnsafeMutableRawPointer(q + (32 &* b &+ 16)).storeBytes(of: _mm512_cvtepi32_epi8(c1), as: __m128i.self)
                d[b] = scale
                s[b] = scale * Float(_mm512_reduce_add_epi32(_mm512_add_epi32(c0, c1)))
            }
            b0 = b1
        }
    }
}
#endif
