// AVX512AttentionTiles: the register tile of blocked ("flash") attention on AVX-512: 4 rows × 64 columns
// (16 zmm accumulators; per k: 4 column loads, 4 broadcasts, 16 FMAs). The portable 4 × 16 tile
// (FlashAttention.swift) needs 1.25 loads per FMA and fits AVX2's 16 registers; this one needs 0.5 and uses
// AVX-512's 32. Used for both S = Q·Kᵀ (b = a Kᵀ tile) and O += P·V (b = V rows).

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// c[i·cStride + j] += Σ_{k<n} a[i·aStride + k] · b[k·bStride + j] for i < 4, j < 64.
    @export(interface)
    public static func tile4x64(_ a: UnsafePointer<Float>, _ aStride: Int, _ b: UnsafePointer<Float>, _ bStride: Int,
                                _ n: Int, _ c: UnsafeMutablePointer<Float>, _ cStride: Int) {
        let cr = UnsafeMutableRawPointer(c)
        @inline(__always) func ld(_ i: Int, _ j: Int) -> __m512 { cr.loadUnaligned(fromByteOffset: 4 &* (i &* cStride &+ 16 &* j), as: __m512.self) }
        var c00 = ld(0, 0), c01 = ld(0, 1), c02 = ld(0, 2), c03 = ld(0, 3)
        var c10 = ld(1, 0), c11 = ld(1, 1), c12 = ld(1, 2), c13 = ld(1, 3)
        var c20 = ld(2, 0), c21 = ld(2, 1), c22 = ld(2, 2), c23 = ld(2, 3)
        var c30 = ld(3, 0), c31 = ld(3, 1), c32 = ld(3, 2), c33 = ld(3, 3)
        let a0 = a, a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride
        var k = 0
        while k < n {
            let br = UnsafeRawPointer(b + k &* bStride)
            let b0 = br.loadUnaligned(as: __m512.self), b1 = br.loadUnaligned(fromByteOffset: 64, as: __m512.self)
            let b2 = br.loadUnaligned(fromByteOffset: 128, as: __m512.self), b3 = br.loadUnaligned(fromByteOffset: 192, as: __m512.self)
            let x0 = _mm512_set1_ps(a0[k]), x1 = _mm512_set1_ps(a1[k]), x2 = _mm512_set1_ps(a2[k]), x3 = _mm512_set1_ps(a3[k])
            c00 = _mm512_fmadd_ps(x0, b0, c00); c01 = _mm512_fmadd_ps(x0, b1, c01); c02 = _mm512_fmadd_ps(x0, b2, c02); c03 = _mm512_fmadd_ps(x0, b3, c03)
            c10 = _mm512_fmadd_ps(x1, b0, c10); c11 = _mm512_fmadd_ps(x1, b1, c11); c12 = _mm512_fmadd_ps(x1, b2, c12); c13 = _mm512_fmadd_ps(x1, b3, c13)
            c20 = _mm512_fmadd_ps(x2, b0, c20); c21 = _mm512_fmadd_ps(x2, b1, c21); c22 = _mm512_fmadd_ps(x2, b2, c22); c23 = _mm512_fmadd_ps(x2, b3, c23)
            c30 = _mm512_fmadd_ps(x3, b0, c30); c31 = _mm512_fmadd_ps(x3, b1, c31); c32 = _mm512_fmadd_ps(x3, b2, c32); c33 = _mm512_fmadd_ps(x3, b3, c33)
            k &+= 1
        }
        @inline(__always) func st(_ i: Int, _ j: Int, _ v: __m512) { cr.storeBytes(of: v, toByteOffset: 4 &* (i &* cStride &+ 16 &* j), as: __m512.self) }
        st(0, 0, c00); st(0, 1, c01); st(0, 2, c02); st(0, 3, c03)
        st(1, 0, c10); st(1, 1, c11); st(1, 2, c12); st(1, 3, c13)
        st(2, 0, c20); st(2, 1, c21); st(2, 2, c22); st(2, 3, c23)
        st(3, 0, c30); st(3, 1, c31); st(3, 2, c32); st(3, 3, c33)
    }
}
#endif
