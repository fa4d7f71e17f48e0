// AVX512Q8RowMatvec: q8 rows × a few tokens' int8 activations (decode), each row read in memory order — its
// codes, then its scales — as AVX512Q4Matvec does for q4 (a q8 row is [K codes][K/32 f16 scales]; reading the
// 16 scales of every 16 blocks in between the codes jumps K bytes ahead and back, and at K = 11008 the
// hardware prefetchers lose the stream: single rows read at 45% of the read bandwidth that way).
// Pass 1 (codes): per 16 blocks, 8 vpdpbusd (u8 = code_w ⊕ 0x80, s8 = code_x) give 16 int32 lanes per 2
// blocks; a permutex2var tree (14 permutes, 7 adds) folds them into one zmm of 16 block sums, stored in an L1
// scratch (64 bytes per 16 blocks). Pass 2 (scales): y += Σ_b sum_b·d_w,b·d_x,b − 128·Σ_b d_w,b·(d_x,b·Σ code_x)
// 16 blocks per FMA. Integer sums are exact; only the float summation order differs from the reference.

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// y[t·ldy + r] for r in `rows`, t < tokens: rows outer, tokens inner (a row comes from memory once).
    /// Needs cols % 64 == 0.
    @export(interface)
    public static func q8RowMatvec(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                                   _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                   tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32, groups = (nb &+ 15) / 16
        let k = Q8FoldConstants()
        withUnsafeTemporaryAllocation(byteCount: groups &* 64, alignment: 64) { buf in
            let scratch = UnsafeMutableRawPointer(buf.baseAddress!)
            for r in rows {
                for t in 0..<tokens {
                    y[t &* ldy &+ r] = q8RowInOrder(w + r &* rowBytes, cols, UnsafeRawPointer(xq + t &* cols),
                                                    xd + t &* nb, xs + t &* nb, k, scratch)
                }
            }
        }
    }

    /// vpermt2d indices of the three folding levels (even / odd halves).
    struct Q8FoldConstants {
        let e1: __m512i, o1: __m512i, e2: __m512i, o2: __m512i, e3: __m512i, o3: __m512i
        let flip = _mm512_set1_epi8(-128)

        @inline(__always) init() {
            @inline(__always) func idx(_ f: (Int32) -> Int32) -> __m512i {
                var v = SIMD16<Int32>()
                for i in 0..<16 { v[i] = f(Int32(i)) }
                return unsafeBitCast(v, to: __m512i.self)
            }
            // Level 1: 8 lanes per block → 4 (blocks of a, then b); 2: 4 → 2; 3: 2 → 1.
            e1 = idx { ($0 / 4) * 8 + $0 % 4 }           // 0-3, 8-11, 16-19, 24-27
            o1 = idx { ($0 / 4) * 8 + $0 % 4 + 4 }
            e2 = idx { ($0 / 2) * 4 + $0 % 2 }           // 0,1, 4,5, … 28,29
            o2 = idx { ($0 / 2) * 4 + $0 % 2 + 2 }
            e3 = idx { 2 * $0 }
            o3 = idx { 2 * $0 + 1 }
        }

        @inline(__always) func fold(_ a: __m512i, _ b: __m512i, _ e: __m512i, _ o: __m512i) -> __m512i {
            _mm512_add_epi32(_mm512_permutex2var_epi32(a, e, b), _mm512_permutex2var_epi32(a, o, b))
        }
    }

    /// One q8 row · one token's activations, codes then scales (see the file comment).
    @inline(__always) static func q8RowInOrder(_ wr: UnsafeRawPointer, _ cols: Int, _ x: UnsafeRawPointer,
                                               _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                               _ k: Q8FoldConstants, _ scratch: UnsafeMutableRawPointer) -> Float {
        let nb = cols / 32
        let zero = _mm512_setzero_si512()
        var g = 0
        while g < nb {
            let pairs = min(8, (nb &- g) / 2)
            @inline(__always) func p(_ i: Int) -> __m512i {
                guard i < pairs else { return zero }
                let o = 32 &* g &+ 64 &* i
                return _mm512_dpbusd_epi32(zero, _mm512_xor_si512(wr.loadUnaligned(fromByteOffset: o, as: __m512i.self), k.flip),
                                           x.loadUnaligned(fromByteOffset: o, as: __m512i.self))
            }
            let c01 = k.fold(p(0), p(1), k.e1, k.o1), c23 = k.fold(p(2), p(3), k.e1, k.o1)
            let c45 = k.fold(p(4), p(5), k.e1, k.o1), c67 = k.fold(p(6), p(7), k.e1, k.o1)
            let e0 = k.fold(c01, c23, k.e2, k.o2), e1 = k.fold(c45, c67, k.e2, k.o2)
            scratch.storeBytes(of: k.fold(e0, e1, k.e3, k.o3), toByteOffset: 4 &* g, as: __m512i.self)
            g &+= 16
        }
        let sc = wr + cols
        var f = SIMD16<Float>(), fc = f
        g = 0
        while g < nb {
            let cnt = min(16, nb &- g)
            let dw = weightScales16(sc, g, cnt)
            let sums: SIMD16<Float> = _mm512_cvtepi32_ps(scratch.load(fromByteOffset: 4 &* g, as: __m512i.self))
            f = f.addingProduct(sums, dw * first16(UnsafeRawPointer(xd + g), cnt))
            fc = fc.addingProduct(dw, first16(UnsafeRawPointer(xs + g), cnt))
            g &+= 16
        }
        return hsum16(f.addingProduct(fc, SIMD16(repeating: -128)))
    }
}
#endif
