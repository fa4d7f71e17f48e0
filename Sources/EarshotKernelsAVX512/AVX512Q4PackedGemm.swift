// AVX512Q4PackedGemm: q4 weights × int8 activations for many tokens, tokens in the vector lanes (the
// token-lane activations of AVX512Q8PackedGemm; activation scales are per 256-value super-block).
// A block of 64 rows × one K slice (≤ 4096) is first unpacked into an L2-resident scratch: the nibbles as
// bytes in natural order (0…15, valid as vpdpbusd's s8 operand), and per row the integer sub-scales,
// the folded u8-offset correction and the float mins. Then, exactly as the q8 kernel, each vpdpbusd
// takes 16 tokens × 4 u8 activations and 4 weight bytes as an embedded broadcast. Per sub-block (8
// vpdpbusd) the int32 sums are scaled by the 6-bit sub-scale (vpmulld); per super-block one float step:
//   y_rt += d_r·dx_t·(Σ_j sc_j·Σ_k q·(x+128) − 128·Σ_j sc_j·Σ_k q) − dmin_r·Σ_j m_j·(dx_t·Σ_k x_j)
// Needs cols % 256 == 0 (whole super-blocks); the caller uses the other kernels otherwise.

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// y[t·ldy + r] = q4 row r · token t for r in `rows`, t < tokens, from QuantizedActivations' token-lane
    /// arrays (`lanes`, `laneScales`, `laneSums`) built with one scale per super-block.
    @export(interface)
    public static func q4PackedGemm(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                                    _ packed: UnsafeRawPointer, _ packedScales: UnsafePointer<Float>,
                                    _ packedSums: UnsafePointer<Float>,
                                    tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let groups = (tokens &+ 15) / 16
        let rowBlock = 64, sliceSuper = 16  // 16 super-blocks = 4096 values per K slice
        let superBlocks = cols / 256
        let scratch = Q4Scratch(rows: rowBlock, superBlocks: min(sliceSuper, superBlocks))
        defer { scratch.deallocate() }
        var rb = rows.lowerBound
        while rb < rows.upperBound {
            let re = min(rows.upperBound, rb &+ rowBlock)
            var s0 = 0
            while s0 < superBlocks {
                let s1 = min(superBlocks, s0 &+ sliceSuper)
                for r in rb..<re { scratch.unpack(row: r &- rb, w + r &* rowBytes, cols: cols, s0, s1) }
                var g = 0
                while g < groups {
                    let g1 = min(groups &- 1, g &+ 1)
                    var r = rb
                    while r < re {
                        q4Tile4x2(scratch, r &- rb, re &- rb, s1 &- s0, s0, cols, packed, packedScales, packedSums,
                                  g, g1, tokens, y + rb, ldy, accumulate: s0 > 0)
                        r &+= 4
                    }
                    g &+= 2
                }
                s0 = s1
            }
            rb = re
        }
    }

    /// Unpacked q4 rows for one row block × K slice. Per row: `stride` bytes of codes, then per super-block
    /// 8 Int32 sub-scales, 8 Float −dmin·m_j, Float d, Int32 correction −128·Σ_j sc_j·Σ q_j.
    struct Q4Scratch {
        let codes: UnsafeMutableRawPointer     // [rows][stride] UInt8 (0…15)
        let scales: UnsafeMutablePointer<Int32> // [rows][superBlocks][8]
        let mins: UnsafeMutablePointer<Float>   // [rows][superBlocks][8]  −dmin·m_j
        let d: UnsafeMutablePointer<Float>      // [rows][superBlocks]
        let corr: UnsafeMutablePointer<Int32>   // [rows][superBlocks]
        let stride: Int, superBlocks: Int

        init(rows: Int, superBlocks: Int) {
            self.superBlocks = superBlocks
            stride = 256 &* superBlocks
            codes = .allocate(byteCount: rows &* stride, alignment: 64)
            scales = .allocate(capacity: rows &* superBlocks &* 8)
            mins = .allocate(capacity: rows &* superBlocks &* 8)
            d = .allocate(capacity: rows &* superBlocks)
            corr = .allocate(capacity: rows &* superBlocks)
        }

        func deallocate() { codes.deallocate(); scales.deallocate(); mins.deallocate(); d.deallocate(); corr.deallocate() }

        /// Unpacks super-blocks s0..<s1 of one q4 row (full super-blocks) into row slot `i`.
        @inline(__always) func unpack(row i: Int, _ w: UnsafeRawPointer, cols: Int, _ s0: Int, _ s1: Int) {
            let low = _mm512_set1_epi8(0x0F), ones = _mm512_set1_epi8(1)
            let out = codes + i &* stride
            for s in s0..<s1 {
                let k = s &- s0, slot = i &* superBlocks &+ k
                var sums = SIMD8<Int32>()  // Σq per sub-block
                for c in 0..<2 {
                    let v = w.loadUnaligned(fromByteOffset: 128 &* s &+ 64 &* c, as: __m512i.self)
                    let lo = _mm512_and_si512(v, low), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low)
                    out.storeBytes(of: lo, toByteOffset: 256 &* k &+ 128 &* c, as: __m512i.self)
                    out.storeBytes(of: hi, toByteOffset: 256 &* k &+ 128 &* c &+ 64, as: __m512i.self)
                    // Σq per sub-block: vpdpbusd(1, q) sums 4 bytes per lane; 8 lanes per 32-value sub-block.
                    let a = unsafeBitCast(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, lo), to: SIMD16<Int32>.self)
                    let b = unsafeBitCast(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, hi), to: SIMD16<Int32>.self)
                    sums[4 &* c] = hsum8(a.lowHalf); sums[4 &* c &+ 1] = hsum8(a.highHalf)
                    sums[4 &* c &+ 2] = hsum8(b.lowHalf); sums[4 &* c &+ 3] = hsum8(b.highHalf)
                }
                let h = cols / 2 &+ 16 &* s
                let dw = loadHalf(w, h), dmin = loadHalf(w, h &+ 2)
                let sb = w.loadUnaligned(fromByteOffset: h &+ 4, as: UInt64.self)
                let mb = w.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16
                var c: Int32 = 0
                for j in 0..<8 {
                    let sc = Int32(truncatingIfNeeded: (sb >> UInt64(6 &* j)) & 63)
                    let m = Float(Int32(truncatingIfNeeded: (mb >> UInt64(6 &* j)) & 63))
                    scales[slot &* 8 &+ j] = sc
                    mins[slot &* 8 &+ j] = -dmin * m
                    c &+= sc &* sums[j]
                }
                d[slot] = dw
                corr[slot] = c &* -128
            }
        }
    }

    @inline(__always) static func hsum8(_ v: SIMD8<Int32>) -> Int32 {
        let a = v.lowHalf &+ v.highHalf, b = a.lowHalf &+ a.highHalf
        return b[0] &+ b[1]
    }

    /// Scratch rows i..<i+4 (rows past `n` repeat row n−1 and are not stored) × token groups g, g1 over the
    /// slice's `count` super-blocks (global index s0 + k); y points at the row block's first row.
    @inline(__always) static func q4Tile4x2(_ sc: Q4Scratch, _ i: Int, _ n: Int, _ count: Int, _ s0: Int, _ cols: Int,
                                            _ packed: UnsafeRawPointer, _ packedScales: UnsafePointer<Float>,
                                            _ packedSums: UnsafePointer<Float>, _ g: Int, _ g1: Int, _ tokens: Int,
                                            _ y: UnsafeMutablePointer<Float>, _ ldy: Int, accumulate: Bool) {
        let nb = cols / 32
        let last = n &- 1
        let i0 = i, i1 = min(i &+ 1, last), i2 = min(i &+ 2, last), i3 = min(i &+ 3, last)
        let q0 = UnsafeRawPointer(sc.codes + i0 &* sc.stride), q1 = UnsafeRawPointer(sc.codes + i1 &* sc.stride)
        let q2 = UnsafeRawPointer(sc.codes + i2 &* sc.stride), q3 = UnsafeRawPointer(sc.codes + i3 &* sc.stride)
        let xa = packed + g &* 16 &* cols, xb = packed + g1 &* 16 &* cols
        let sa = packedScales + g &* 16 &* nb, sb = packedScales + g1 &* 16 &* nb
        let ma = packedSums + g &* 16 &* nb, mb = packedSums + g1 &* 16 &* nb
        var f00 = SIMD16<Float>(), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00, f30 = f00, f31 = f00
        for k in 0..<count {
            let s = s0 &+ k
            let o0 = i0 &* sc.superBlocks &+ k, o1 = i1 &* sc.superBlocks &+ k
            let o2 = i2 &* sc.superBlocks &+ k, o3 = i3 &* sc.superBlocks &+ k
            var t00 = _mm512_set1_epi32(sc.corr[o0]), t10 = _mm512_set1_epi32(sc.corr[o1])
            var t20 = _mm512_set1_epi32(sc.corr[o2]), t30 = _mm512_set1_epi32(sc.corr[o3])
            var t01 = t00, t11 = t10, t21 = t20, t31 = t30
            for j in 0..<8 {
                let zero = _mm512_setzero_si512()
                var a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero
                for c in 0..<8 {
                    let o = 256 &* s &+ 32 &* j &+ 4 &* c   // K index of this 4-value chunk
                    let qo = 256 &* k &+ 32 &* j &+ 4 &* c  // same, inside the scratch slice
                    let va = xa.loadUnaligned(fromByteOffset: 16 &* o, as: __m512i.self)
                    let vb = xb.loadUnaligned(fromByteOffset: 16 &* o, as: __m512i.self)
                    @inline(__always) func row(_ q: UnsafeRawPointer, _ acc0: inout __m512i, _ acc1: inout __m512i) {
                        let wv = _mm512_set1_epi32(q.loadUnaligned(fromByteOffset: qo, as: Int32.self))
                        acc0 = _mm512_dpbusd_epi32(acc0, va, wv)
                        acc1 = _mm512_dpbusd_epi32(acc1, vb, wv)
                    }
                    row(q0, &a00, &a01); row(q1, &a10, &a11); row(q2, &a20, &a21); row(q3, &a30, &a31)
                }
                @inline(__always) func scale(_ o: Int, _ a0: __m512i, _ a1: __m512i, _ t0: inout __m512i, _ t1: inout __m512i) {
                    let m = _mm512_set1_epi32(sc.scales[o &* 8 &+ j])
                    t0 = _mm512_add_epi32(t0, _mm512_mullo_epi32(a0, m))
                    t1 = _mm512_add_epi32(t1, _mm512_mullo_epi32(a1, m))
                }
                scale(o0, a00, a01, &t00, &t01); scale(o1, a10, a11, &t10, &t11)
                scale(o2, a20, a21, &t20, &t21); scale(o3, a30, a31, &t30, &t31)
            }
            let b = 8 &* s
            let da = UnsafeRawPointer(sa + 16 &* b).loadUnaligned(as: SIMD16<Float>.self)
            let db = UnsafeRawPointer(sb + 16 &* b).loadUnaligned(as: SIMD16<Float>.self)
            @inline(__always) func finish(_ o: Int, _ t0: __m512i, _ t1: __m512i, _ f0: inout SIMD16<Float>, _ f1: inout SIMD16<Float>) {
                let dw = sc.d[o]
                f0 = f0.addingProduct(_mm512_cvtepi32_ps(t0), da * dw)
                f1 = f1.addingProduct(_mm512_cvtepi32_ps(t1), db * dw)
                for j in 0..<8 {
                    let m = SIMD16<Float>(repeating: sc.mins[o &* 8 &+ j])
                    f0 = f0.addingProduct(m, UnsafeRawPointer(ma + 16 &* (b &+ j)).loadUnaligned(as: SIMD16<Float>.self))
                    f1 = f1.addingProduct(m, UnsafeRawPointer(mb + 16 &* (b &+ j)).loadUnaligned(as: SIMD16<Float>.self))
                }
            }
            finish(o0, t00, t01, &f00, &f01); finish(o1, t10, t11, &f10, &f11)
            finish(o2, t20, t21, &f20, &f21); finish(o3, t30, t31, &f30, &f31)
        }
        storeTokenLaneTile((f00, f01, f10, f11, f20, f21, f30, f31), row: i, last: last, g, g1, tokens, y, ldy,
                           accumulate: accumulate)
    }
}
#endif
