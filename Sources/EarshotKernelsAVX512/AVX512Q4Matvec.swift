// AVX512Q4Matvec: q4 rows × a few tokens' int8 activations (decode). Row layout: Formats/quant-blocks.md § q4.
// Per row and super-block s (256 weights):
//   y += d_s·dx_s · Σ_j sc_j·(q·x)_j  −  dmin_s·dx_s · Σ_j m_j·Σcode_j        (j = 8 sub-blocks of 32)
//
// Memory order: a row is walked in two passes, its nibbles first, then its headers, so the whole matrix
// is read as one ascending stream (row r's headers end where row r+1's nibbles start). Reading the
// header of each group of 4 super-blocks between the nibbles (the obvious loop) skips 688 bytes ahead
// and back every row at K = 11008, and the hardware prefetchers lose the stream: even a loop that only
// loads the nibbles, skipping the headers, reads 4096×11008 at ~11 GB/s vs ~28 GB/s in memory order
// (1 thread, cold, `earshot bench kernels`).
//
// Pass 1 (nibbles): vpdpbusd(nibbles, codes) → int32 per 4 weights (|.| ≤ 4·15·127), the two halves of each
// 64-byte nibble vector packed to int16 (vpackssdw, exact) → 2 zmm per super-block into an L1 scratch.
// Pass 2 (headers, 4 super-blocks = one zmm, one header per 128-bit lane): vpshufb + vpsrlvw + and unpack
// the 8 sub-scales and 8 sub-mins of each super-block to int16 words in its lane; each super-block's
// products meet their sub-scales in vpmaddwd + vpdpwssd (int32, exact; 2 vpermw broadcasts), then one
// float FMA with d·dx. The sub-mins of all 4 super-blocks take one vpmaddwd against the integer per-32
// sums of the codes (made once per call) and one FMA with dmin·dx; d and dmin come from one vpermw +
// vcvtph2ps each.

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// y[t·ldy + r] for r in `rows`, t < tokens (few tokens: each row is read from memory once and reused
    /// from L1 for the other tokens). Needs cols % 256 == 0 and per-super-block activation scales (`xd[b]`
    /// equal for the 8 blocks of a super-block); `xs` is not read (the min terms use integer sums of the codes).
    @export(interface)
    public static func q4Matvec(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                                _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32, superBlocks = cols / 256, groups = (superBlocks &+ 3) / 4
        // Scratch: per token, int16 block sums [groups·32] (64 B per group) and dx per lane [groups·16] f32
        // (64 B per group); then one row's products (128 B per super-block). 11008 columns, 1 token: 7 KB.
        let perToken = groups &* 128
        withUnsafeTemporaryAllocation(byteCount: tokens &* perToken &+ superBlocks &* 128, alignment: 64) { buf in
            let base = UnsafeMutableRawPointer(buf.baseAddress!)
            let products = base + tokens &* perToken
            for t in 0..<tokens {
                let sums = base + t &* perToken
                q4PrepareActivations(UnsafeRawPointer(xq + t &* cols), xd + t &* nb, superBlocks, groups, sums, sums + groups &* 64)
            }
            let k = Q4MatvecConstants()
            for r in rows {
                for t in 0..<tokens {
                    let sums = UnsafeRawPointer(base + t &* perToken)
                    let a = Q4ActivationView(x: UnsafeRawPointer(xq + t &* cols), sums: sums, dxLanes: sums + groups &* 64)
                    y[t &* ldy &+ r] = q4Row(w + r &* rowBytes, cols, superBlocks, a, k, products)
                }
            }
        }
    }

    /// One token's activations as the q4 matvec reads them: codes, integer per-32 sums (int16, zero past
    /// the last super-block up to a multiple of 4) and dx of super-block 4g+L in lanes 4L..<4L+4 of group g.
    struct Q4ActivationView {
        let x: UnsafeRawPointer, sums: UnsafeRawPointer, dxLanes: UnsafeRawPointer
    }

    /// Fills the per-call activation side tables (see `Q4ActivationView`).
    @inline(__always) static func q4PrepareActivations(_ x: UnsafeRawPointer, _ xd: UnsafePointer<Float>, _ superBlocks: Int,
                                                       _ groups: Int, _ sums: UnsafeMutableRawPointer,
                                                       _ dxLanes: UnsafeMutableRawPointer) {
        let s16 = sums.assumingMemoryBound(to: Int16.self), dx = dxLanes.assumingMemoryBound(to: Float.self)
        for b in 0..<(groups &* 32) {
            if b < superBlocks &* 8 {
                let v = SIMD32<Int16>(truncatingIfNeeded: x.loadUnaligned(fromByteOffset: 32 &* b, as: SIMD32<Int8>.self))
                s16[b] = v.wrappedSum()
            } else {
                s16[b] = 0
            }
        }
        for s in 0..<(groups &* 4) {
            let d: Float = s < superBlocks ? xd[8 &* s] : 0
            dx[4 &* s] = d; dx[4 &* s &+ 1] = d; dx[4 &* s &+ 2] = d; dx[4 &* s &+ 3] = d
        }
    }

    /// Shuffle/permute tables, built once per call.
    struct Q4MatvecConstants {
        let low = _mm512_set1_epi8(0x0F)
        let six = _mm512_set1_epi16(0x3F)
        /// vpshufb: word j of each lane = the 2 header bytes holding bit 6j of the sub-scale (sub-min) field.
        let scBytes: __m512i, mnBytes: __m512i
        /// vpsrlvw: 6j mod 8 for word j.
        let fieldShift: __m512i
        /// vpermw: words 4L..<4L+4 = word 8L (d of lane L) / 8L+1 (dmin).
        let dIdx: __m512i, dminIdx: __m512i
        /// vpermw: sub-scales of super-block L of the group laid out like `packs(dpbusd(lo), dpbusd(hi))` of
        /// nibble half i (lanes 0,1: words 0..<4 = sub-block 4i, 4..<8 = 4i+2; lanes 2,3: 4i+1, 4i+3).
        let pair: (__m512i, __m512i, __m512i, __m512i, __m512i, __m512i, __m512i, __m512i)
        /// vpermps: lane 4L broadcast.
        let lane: (__m512i, __m512i, __m512i, __m512i)

        @inline(__always) init() {
            @inline(__always) func bytes(_ base: Int) -> __m512i {
                var v = SIMD64<UInt8>()
                for l in 0..<4 { for j in 0..<8 {
                    let b = base &+ (6 &* j) / 8
                    v[16 &* l &+ 2 &* j] = UInt8(b)
                    v[16 &* l &+ 2 &* j &+ 1] = b &+ 1 < 16 ? UInt8(b &+ 1) : 0x80
                } }
                return unsafeBitCast(v, to: __m512i.self)
            }
            scBytes = bytes(4); mnBytes = bytes(10)
            var sh = SIMD32<Int16>()
            for i in 0..<32 { sh[i] = Int16((6 &* (i % 8)) % 8) }
            fieldShift = unsafeBitCast(sh, to: __m512i.self)
            @inline(__always) func words(_ f: (Int) -> Int) -> __m512i {
                var v = SIMD32<Int16>()
                for i in 0..<32 { v[i] = Int16(f(i)) }
                return unsafeBitCast(v, to: __m512i.self)
            }
            dIdx = words { 8 &* ((($0 % 16)) / 4) }
            dminIdx = words { 8 &* ((($0 % 16)) / 4) &+ 1 }
            @inline(__always) func p(_ l: Int, _ i: Int) -> __m512i {
                words { 8 &* l &+ 4 &* i &+ ($0 % 8 >= 4 ? 2 : 0) &+ ($0 >= 16 ? 1 : 0) }
            }
            pair = (p(0, 0), p(0, 1), p(1, 0), p(1, 1), p(2, 0), p(2, 1), p(3, 0), p(3, 1))
            @inline(__always) func b(_ l: Int32) -> __m512i { unsafeBitCast(SIMD16<Int32>(repeating: 4 &* l), to: __m512i.self) }
            lane = (b(0), b(1), b(2), b(3))
        }

        @inline(__always) func pairs(_ l: Int) -> (__m512i, __m512i) {
            switch l {
            case 0: return (pair.0, pair.1)
            case 1: return (pair.2, pair.3)
            case 2: return (pair.4, pair.5)
            default: return (pair.6, pair.7)
            }
        }

        @inline(__always) func laneIndex(_ l: Int) -> __m512i {
            switch l {
            case 0: return lane.0
            case 1: return lane.1
            case 2: return lane.2
            default: return lane.3
            }
        }
    }

    /// One row's view of a group of 4 super-blocks: sub-scales (int16 words, lane L = super-block 4g+L)
    /// and d·dx per lane group; the group's min terms are added to `fm` on construction.
    struct Q4RowGroup {
        let sc: __m512i
        let dd: __m512

        @inline(__always) init(_ wr: UnsafeRawPointer, _ cols: Int, _ g: Int, _ n: Int, _ a: Q4ActivationView,
                               _ k: Q4MatvecConstants, _ fm: inout __m512) {
            let hp = wr + (cols / 2 &+ 64 &* g)
            let hdr = n == 4 ? hp.loadUnaligned(as: __m512i.self)
                             : _mm512_maskz_loadu_epi64(__mmask8(truncatingIfNeeded: (1 << (2 &* n)) &- 1), hp)
            sc = _mm512_and_si512(_mm512_srlv_epi16(_mm512_shuffle_epi8(hdr, k.scBytes), k.fieldShift), k.six)
            let mn = _mm512_and_si512(_mm512_srlv_epi16(_mm512_shuffle_epi8(hdr, k.mnBytes), k.fieldShift), k.six)
            let dx = a.dxLanes.loadUnaligned(fromByteOffset: 64 &* g, as: __m512.self)
            dd = _mm512_mul_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(k.dIdx, hdr))), dx)
            let dm = _mm512_mul_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(k.dminIdx, hdr))), dx)
            let mins = _mm512_madd_epi16(mn, a.sums.loadUnaligned(fromByteOffset: 64 &* g, as: __m512i.self))
            fm = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins), dm, fm)
        }
    }

    /// The integer products of super-block s before sub-scales: (q·x) per 4 weights of nibble halves 0/1
    /// and 2/3 packed to int16 (|.| ≤ 4·15·127): `packs(lo, hi)` per 64-byte half.
    @inline(__always) static func q4Products(_ wr: UnsafeRawPointer, _ s: Int, _ x: UnsafeRawPointer, _ k: Q4MatvecConstants)
        -> (__m512i, __m512i) {
        let v0 = wr.loadUnaligned(fromByteOffset: 128 &* s, as: __m512i.self)
        let v1 = wr.loadUnaligned(fromByteOffset: 128 &* s &+ 64, as: __m512i.self)
        let xs = x + 256 &* s
        let zero = _mm512_setzero_si512()
        let p0 = _mm512_dpbusd_epi32(zero, _mm512_and_si512(v0, k.low), xs.loadUnaligned(as: __m512i.self))
        let p1 = _mm512_dpbusd_epi32(zero, _mm512_and_si512(_mm512_srli_epi16(v0, 4), k.low), xs.loadUnaligned(fromByteOffset: 64, as: __m512i.self))
        let p2 = _mm512_dpbusd_epi32(zero, _mm512_and_si512(v1, k.low), xs.loadUnaligned(fromByteOffset: 128, as: __m512i.self))
        let p3 = _mm512_dpbusd_epi32(zero, _mm512_and_si512(_mm512_srli_epi16(v1, 4), k.low), xs.loadUnaligned(fromByteOffset: 192, as: __m512i.self))
        return (_mm512_packs_epi32(p0, p1), _mm512_packs_epi32(p2, p3))
    }

    /// f += d·dx · Σ_j sc_j·(q·x)_j of super-block 4g + l from its stored products.
    @inline(__always) static func q4ScaleProducts(_ p: UnsafeRawPointer, _ l: Int, _ grp: Q4RowGroup, _ k: Q4MatvecConstants,
                                                  _ f: inout __m512) {
        let (i0, i1) = k.pairs(l)
        let acc = _mm512_dpwssd_epi32(_mm512_madd_epi16(p.load(as: __m512i.self), _mm512_permutexvar_epi16(i0, grp.sc)),
                                      p.load(fromByteOffset: 64, as: __m512i.self), _mm512_permutexvar_epi16(i1, grp.sc))
        f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_permutexvar_ps(k.laneIndex(l), grp.dd), f)
    }

    /// One row in memory order: the nibbles (products into `scratch`, 128 bytes per super-block), then the
    /// headers (sub-scales, d, mins) — one sequential stream per row, rows back to back.
    @inline(__always) static func q4Row(_ wr: UnsafeRawPointer, _ cols: Int, _ superBlocks: Int,
                                        _ a: Q4ActivationView, _ k: Q4MatvecConstants,
                                        _ scratch: UnsafeMutableRawPointer) -> Float {
        for s in 0..<superBlocks {
            let (p01, p23) = q4Products(wr, s, a.x, k)
            scratch.storeBytes(of: p01, toByteOffset: 128 &* s, as: __m512i.self)
            scratch.storeBytes(of: p23, toByteOffset: 128 &* s &+ 64, as: __m512i.self)
        }
        var f0 = _mm512_setzero_ps(), f1 = f0, fm = f0
        var g = 0, s = 0
        while s < superBlocks {
            let n = min(4, superBlocks &- s)
            let grp = Q4RowGroup(wr, cols, g, n, a, k, &fm)
            let p = UnsafeRawPointer(scratch + 128 &* s)
            if n == 4 {
                q4ScaleProducts(p, 0, grp, k, &f0); q4ScaleProducts(p + 128, 1, grp, k, &f1)
                q4ScaleProducts(p + 256, 2, grp, k, &f0); q4ScaleProducts(p + 384, 3, grp, k, &f1)
            } else {
                for l in 0..<n { q4ScaleProducts(p + 128 &* l, l, grp, k, &f0) }
            }
            g &+= 1; s &+= 4
        }
        return _mm512_reduce_add_ps(_mm512_sub_ps(_mm512_add_ps(f0, f1), fm))
    }
}
#endif
