// AVX512Q8PackedGemm: q8 weights × int8-per-32 activations for many tokens (prefill, encoder) with the
// tokens in the vector lanes. The activations are repacked once per matmul (QuantizedActivations `tokenLanes`) into groups
// of 16 tokens, 4 bytes of K per token per 64-byte vector, as u8 (code + 128):
//   packed [G = ⌈T/16⌉][K/4][16 tokens × 4 bytes]      scales [G][K/32][16 floats]  (pad tokens: scale 0)
// so each vpdpbusd takes one packed vector and 4 bytes of one weight row as an embedded broadcast
// ({1to16}) and adds 16 tokens × 4 products into 16 int32 lanes. The weights need no repacking, no
// lane ever needs a horizontal sum, and the per-block float step (cvt, scale multiply, FMA) is paid
// once per 8 vpdpbusd instead of once per vpdpbusd as in the row-in-lanes tile (AVX512Q8Gemm).
// The +128 offset of the u8 activations is removed by starting each block's int32 accumulator at
// −128·Σ_k w[r, k] (the block's weight sum, computed once per row block).
// Register tile: 4 rows × 2 token groups (8 int32 + 8 float accumulators); rows go in blocks of 64 so
// their weights stay in L2 across all token tiles, and K in slices of 4096 so a token tile's packed
// activations (32 × 4096 bytes) stay in L2 too.

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// y[t·ldy + r] = q8 row r · token t for r in `rows`, t < tokens, from QuantizedActivations' token-lane arrays.
    /// Needs cols % 32 == 0.
    @export(interface)
    public static func q8PackedGemm(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                                    _ packed: UnsafeRawPointer, _ packedScales: UnsafePointer<Float>,
                                    tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        let groups = (tokens &+ 15) / 16
        let rowBlock = 64, slice = 128  // blocks per K slice (4096 values)
        let corrections = UnsafeMutablePointer<Int32>.allocate(capacity: rowBlock &* nb)
        defer { corrections.deallocate() }
        var rb = rows.lowerBound
        while rb < rows.upperBound {
            let re = min(rows.upperBound, rb &+ rowBlock)
            for r in rb..<re { blockCorrections(w + r &* rowBytes, nb, corrections + (r &- rb) &* nb) }
            var b0 = 0
            while b0 < nb {
                let b1 = min(nb, b0 &+ slice)
                var g = 0
                while g < groups {
                    let g1 = min(groups &- 1, g &+ 1)
                    var r = rb
                    while r < re {
                        q8Tile4x2(w, rowBytes, cols, r, re, corrections + (r &- rb) &* nb, b0, b1,
                                  packed, packedScales, g, g1, tokens, y, ldy, accumulate: b0 > 0)
                        r &+= 4
                    }
                    g &+= 2
                }
                b0 = b1
            }
            rb = re
        }
    }

    /// −128 · Σ w over each 32-block of one q8 row (the u8 offset of the packed activations).
    @inline(__always) static func blockCorrections(_ w: UnsafeRawPointer, _ nb: Int, _ out: UnsafeMutablePointer<Int32>) {
        let ones = _mm512_set1_epi8(1)
        var b = 0
        while b &+ 2 <= nb {
            let s = unsafeBitCast(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones,
                                                       w.loadUnaligned(fromByteOffset: 32 &* b, as: __m512i.self)),
                                  to: SIMD16<Int32>.self)
            out[b] = s.lowHalf.wrappedSum() &* -128
            out[b &+ 1] = s.highHalf.wrappedSum() &* -128
            b &+= 2
        }
        if b < nb {
            var s: Int32 = 0
            for k in 0..<32 { s &+= Int32(w.load(fromByteOffset: 32 &* b &+ k, as: Int8.self)) }
            out[b] = s &* -128
        }
    }

    /// Rows r..<r+4 (rows past `re` repeat row re−1 and are not stored) × token groups g and g1 (g1 == g:
    /// one group) over blocks b0..<b1; writes (or adds to) y.
    @inline(__always) static func q8Tile4x2(_ w: UnsafeRawPointer, _ rowBytes: Int, _ cols: Int, _ r: Int, _ re: Int,
                                            _ corr: UnsafePointer<Int32>, _ b0: Int, _ b1: Int,
                                            _ packed: UnsafeRawPointer, _ packedScales: UnsafePointer<Float>,
                                            _ g: Int, _ g1: Int, _ tokens: Int,
                                            _ y: UnsafeMutablePointer<Float>, _ ldy: Int, accumulate: Bool) {
        let nb = cols / 32
        let last = re &- 1
        let w0 = w + r &* rowBytes, w1 = w + min(r &+ 1, last) &* rowBytes
        let w2 = w + min(r &+ 2, last) &* rowBytes, w3 = w + min(r &+ 3, last) &* rowBytes
        let c0 = corr, c1 = corr + (min(r &+ 1, last) &- r) &* nb
        let c2 = corr + (min(r &+ 2, last) &- r) &* nb, c3 = corr + (min(r &+ 3, last) &- r) &* nb
        let xa = packed + g &* 16 &* cols, xb = packed + g1 &* 16 &* cols
        let sa = packedScales + g &* 16 &* nb, sb = packedScales + g1 &* 16 &* nb
        var f00 = SIMD16<Float>(), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00, f30 = f00, f31 = f00
        for b in b0..<b1 {
            var a00 = _mm512_set1_epi32(c0[b]), a10 = _mm512_set1_epi32(c1[b])
            var a20 = _mm512_set1_epi32(c2[b]), a30 = _mm512_set1_epi32(c3[b])
            var a01 = a00, a11 = a10, a21 = a20, a31 = a30
            for c in 0..<8 {
                let o = 32 &* b &+ 4 &* c
                let va = xa.loadUnaligned(fromByteOffset: 16 &* o, as: __m512i.self)
                let vb = xb.loadUnaligned(fromByteOffset: 16 &* o, as: __m512i.self)
                @inline(__always) func row(_ wr: UnsafeRawPointer, _ acc0: inout __m512i, _ acc1: inout __m512i) {
                    let wv = _mm512_set1_epi32(wr.loadUnaligned(fromByteOffset: o, as: Int32.self))
                    acc0 = _mm512_dpbusd_epi32(acc0, va, wv)
                    acc1 = _mm512_dpbusd_epi32(acc1, vb, wv)
                }
                row(w0, &a00, &a01); row(w1, &a10, &a11); row(w2, &a20, &a21); row(w3, &a30, &a31)
            }
            let da = UnsafeRawPointer(sa + 16 &* b).loadUnaligned(as: SIMD16<Float>.self)
            let db = UnsafeRawPointer(sb + 16 &* b).loadUnaligned(as: SIMD16<Float>.self)
            @inline(__always) func scale(_ wr: UnsafeRawPointer, _ a0: __m512i, _ a1: __m512i,
                                         _ f0: inout SIMD16<Float>, _ f1: inout SIMD16<Float>) {
                let dw = loadHalf(wr, cols &+ 2 &* b)
                f0 = f0.addingProduct(_mm512_cvtepi32_ps(a0), da * dw)
                f1 = f1.addingProduct(_mm512_cvtepi32_ps(a1), db * dw)
            }
            scale(w0, a00, a01, &f00, &f01); scale(w1, a10, a11, &f10, &f11)
            scale(w2, a20, a21, &f20, &f21); scale(w3, a30, a31, &f30, &f31)
        }
        let tile = (f00, f01, f10, f11, f20, f21, f30, f31)
        storeTokenLaneTile(tile, row: r, last: last, g, g1, tokens, y, ldy, accumulate: accumulate)
    }

    typealias TokenLaneTile = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                               SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

    /// Writes (or adds) a 4-row × 2-group tile (row0 g, row0 g1, row1 g, …): rows row..<row+4 up to `last`,
    /// the real tokens of groups g and g1 (g1 == g: one group). Shared by the q8 and q4 token-lane GEMMs.
    @inline(__always) static func storeTokenLaneTile(_ f: TokenLaneTile, row: Int, last: Int, _ g: Int, _ g1: Int, _ tokens: Int,
                                                     _ y: UnsafeMutablePointer<Float>, _ ldy: Int, accumulate: Bool) {
        let na = min(16, tokens &- 16 &* g), nbt = g1 == g ? 0 : min(16, tokens &- 16 &* g1)
        @inline(__always) func put(_ row: Int, _ fa: SIMD16<Float>, _ fb: SIMD16<Float>) {
            guard row <= last else { return }
            for i in 0..<na {
                let p = y + ((16 &* g &+ i) &* ldy &+ row)
                p.pointee = accumulate ? p.pointee + fa[i] : fa[i]
            }
            for i in 0..<nbt {
                let p = y + ((16 &* g1 &+ i) &* ldy &+ row)
                p.pointee = accumulate ? p.pointee + fb[i] : fb[i]
            }
        }
        put(row, f.0, f.1); put(row &+ 1, f.2, f.3); put(row &+ 2, f.4, f.5); put(row &+ 3, f.6, f.7)
    }
}
#endif
