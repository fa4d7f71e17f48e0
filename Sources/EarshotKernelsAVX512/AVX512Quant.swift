// AVX512Quant: q8 and q4 rows against int8-per-32 activations with AVX-512 VNNI (`vpdpbusd`).
// Row layouts: Formats/quant-blocks.md. Activations: codes (int8), scales d, sums d·Σcode per 32.
//   q8: vpdpbusd(u8 = code_w ⊕ 0x80 = code_w + 128, s8 = code_x) = Σ w·x + 128·Σx; the 128·Σx term is
//       removed once per row with the activation sums.
//   q4: the unsigned nibbles are vpdpbusd's u8 operand directly; mins use the activation sums.

#if arch(x86_64)
import _Builtin_intrinsics.intel

extension AVX512 {
    /// y[t·ldy + r] = q8 row r · token t for r in `rows`, t < tokens.
    @export(interface)
    public static func q8Matmul(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                                _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        var rb = rows.lowerBound
        while rb < rows.upperBound {
            let re = min(rows.upperBound, rb &+ 4)
            for t in 0..<tokens {
                for r in rb..<re {
                    y[t &* ldy &+ r] = q8Dot(w + r &* rowBytes, cols, UnsafeRawPointer(xq + t &* cols), xd + t &* nb, xs + t &* nb)
                }
            }
            rb = re
        }
    }

    /// y[t·ldy + r] = q4 row r · token t for r in `rows`, t < tokens.
    @export(interface)
    public static func q4Matmul(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rows: Range<Int>,
                                _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        var rb = rows.lowerBound
        while rb < rows.upperBound {
            let re = min(rows.upperBound, rb &+ 4)
            for t in 0..<tokens {
                for r in rb..<re {
                    y[t &* ldy &+ r] = q4Dot(w + r &* rowBytes, cols, UnsafeRawPointer(xq + t &* cols), xd + t &* nb, xs + t &* nb)
                }
            }
            rb = re
        }
    }

    // MARK: q8

    @inline(__always) static func q8Dot(_ row: UnsafeRawPointer, _ cols: Int, _ x: UnsafeRawPointer,
                                        _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>) -> Float {
        let nb = cols / 32
        let sc = row + cols
        let flip = _mm512_set1_epi8(-128)
        let zero = _mm512_setzero_si512()
        var acc0 = SIMD16<Float>(), acc1 = acc0, corr = acc0
        var b = 0
        while b &+ 16 <= nb {
            let dw = cvtHalf16(sc.loadUnaligned(fromByteOffset: 2 &* b, as: SIMD16<UInt16>.self))
            let s = dw * UnsafeRawPointer(xd + b).loadUnaligned(as: SIMD16<Float>.self)
            corr = corr.addingProduct(dw, UnsafeRawPointer(xs + b).loadUnaligned(as: SIMD16<Float>.self))
            let base = 32 &* b
            @inline(__always) func pair(_ i: Int) -> SIMD16<Float> {
                let wv = _mm512_xor_si512(row.loadUnaligned(fromByteOffset: base &+ 64 &* i, as: __m512i.self), flip)
                let p = _mm512_dpbusd_epi32(zero, wv, x.loadUnaligned(fromByteOffset: base &+ 64 &* i, as: __m512i.self))
                return _mm512_cvtepi32_ps(p)
            }
            acc0 = acc0.addingProduct(pair(0), _mm512_permutexvar_ps(pairIndex(0), s))
            acc1 = acc1.addingProduct(pair(1), _mm512_permutexvar_ps(pairIndex(1), s))
            acc0 = acc0.addingProduct(pair(2), _mm512_permutexvar_ps(pairIndex(2), s))
            acc1 = acc1.addingProduct(pair(3), _mm512_permutexvar_ps(pairIndex(3), s))
            acc0 = acc0.addingProduct(pair(4), _mm512_permutexvar_ps(pairIndex(4), s))
            acc1 = acc1.addingProduct(pair(5), _mm512_permutexvar_ps(pairIndex(5), s))
            acc0 = acc0.addingProduct(pair(6), _mm512_permutexvar_ps(pairIndex(6), s))
            acc1 = acc1.addingProduct(pair(7), _mm512_permutexvar_ps(pairIndex(7), s))
            b &+= 16
        }
        var tail: Float = 0
        while b &+ 2 <= nb {
            let d0 = loadHalf(sc, 2 &* b), d1 = loadHalf(sc, 2 &* b &+ 2)
            let wv = _mm512_xor_si512(row.loadUnaligned(fromByteOffset: 32 &* b, as: __m512i.self), flip)
            let p = _mm512_dpbusd_epi32(zero, wv, x.loadUnaligned(fromByteOffset: 32 &* b, as: __m512i.self))
            let s = SIMD16<Float>(lowHalf: SIMD8(repeating: d0 * xd[b]), highHalf: SIMD8(repeating: d1 * xd[b &+ 1]))
            acc0 = acc0.addingProduct(_mm512_cvtepi32_ps(p), s)
            tail -= 128 * (d0 * xs[b] + d1 * xs[b &+ 1])
            b &+= 2
        }
        if b < nb {
            let d0 = loadHalf(sc, 2 &* b)
            var isum: Int32 = 0
            for i in 0..<32 {
                isum &+= Int32(row.load(fromByteOffset: 32 &* b &+ i, as: Int8.self)) &* Int32(x.load(fromByteOffset: 32 &* b &+ i, as: Int8.self))
            }
            tail += d0 * xd[b] * Float(isum)
        }
        return hsum16(acc0 + acc1) - 128 * hsum16(corr) + tail
    }

    /// Permutation that puts scale 2i in lanes 0..<8 and scale 2i+1 in lanes 8..<16.
    @inline(__always) static func pairIndex(_ i: Int) -> __m512i {
        let a = Int32(2 &* i), b = a &+ 1
        return unsafeBitCast(SIMD16<Int32>(lowHalf: SIMD8(repeating: a), highHalf: SIMD8(repeating: b)), to: __m512i.self)
    }

    @inline(__always) static func cvtHalf16(_ v: SIMD16<UInt16>) -> SIMD16<Float> {
        var r = SIMD16<Float>()
        for i in 0..<16 { r[i] = Float(Float16(bitPattern: v[i])) }
        return r
    }

    // MARK: q4

    /// Eight 6-bit fields (bits 6j..<6j+6 of `bits`) as floats.
    @inline(__always) static func sixBit(_ bits: UInt64) -> SIMD8<Float> {
        let v = (SIMD8<UInt64>(repeating: bits) &>> SIMD8<UInt64>(0, 6, 12, 18, 24, 30, 36, 42)) & 63
        var r = SIMD8<Float>()
        for i in 0..<8 { r[i] = Float(Int64(bitPattern: v[i])) }
        return r
    }

    @inline(__always) static func q4Dot(_ row: UnsafeRawPointer, _ cols: Int, _ x: UnsafeRawPointer,
                                        _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>) -> Float {
        let low = _mm512_set1_epi8(0x0F)
        let zero = _mm512_setzero_si512()
        var acc0 = SIMD16<Float>(), acc1 = acc0
        var minAcc = SIMD8<Float>()
        var tail: Float = 0
        let superBlocks = (cols &+ 255) / 256
        for s in 0..<superBlocks {
            let h = cols / 2 &+ 16 &* s
            let d = loadHalf(row, h), dmin = loadHalf(row, h &+ 2)
            let sc = sixBit(row.loadUnaligned(fromByteOffset: h &+ 4, as: UInt64.self))
            let mn = sixBit(row.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16)
            let b0 = 8 &* s
            let count = min(256, cols &- 256 &* s)
            let dx = count == 256 ? UnsafeRawPointer(xd + b0).loadUnaligned(as: SIMD8<Float>.self) : partial8(xd + b0, count / 32)
            let sx = count == 256 ? UnsafeRawPointer(xs + b0).loadUnaligned(as: SIMD8<Float>.self) : partial8(xs + b0, count / 32)
            let s8 = (sc * d) * dx
            minAcc = minAcc.addingProduct(mn * dmin, sx)
            let sv = SIMD16<Float>(lowHalf: s8, highHalf: s8)
            let nib = row + 128 &* s
            let xb = x + 256 &* s
            var pos = 0
            while pos < count {
                let rem = count &- pos
                if rem >= 128 {
                    let v = nib.loadUnaligned(fromByteOffset: pos / 2, as: __m512i.self)
                    let lo = _mm512_and_si512(v, low)
                    let hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low)
                    let p0 = _mm512_dpbusd_epi32(zero, lo, xb.loadUnaligned(fromByteOffset: pos, as: __m512i.self))
                    let p1 = _mm512_dpbusd_epi32(zero, hi, xb.loadUnaligned(fromByteOffset: pos &+ 64, as: __m512i.self))
                    let j = pos / 32
                    acc0 = acc0.addingProduct(_mm512_cvtepi32_ps(p0), _mm512_permutexvar_ps(subIndex(j), sv))
                    acc1 = acc1.addingProduct(_mm512_cvtepi32_ps(p1), _mm512_permutexvar_ps(subIndex(j &+ 2), sv))
                    pos &+= 128
                } else {
                    // Short chunk (64 or 32 weights) of a short last super-block: scalar.
                    let n = rem >= 64 ? 64 : 32, half = n / 2
                    for jj in 0..<(n / 32) {
                        var isum: Int32 = 0
                        for i in 0..<32 {
                            let k = 32 &* jj &+ i  // position inside the chunk
                            let byte = nib.load(fromByteOffset: pos / 2 &+ (k % half), as: UInt8.self)
                            let q = k < half ? byte & 15 : byte >> 4
                            isum &+= Int32(q) &* Int32(xb.load(fromByteOffset: pos &+ k, as: Int8.self))
                        }
                        tail += s8[pos / 32 &+ jj] * Float(isum)
                    }
                    pos &+= n
                }
            }
        }
        return hsum16(acc0 + acc1) + tail - hsum16(SIMD16(lowHalf: minAcc, highHalf: .zero))
    }

    /// Lanes 0..<8 = sub-block j, lanes 8..<16 = sub-block j+1.
    @inline(__always) static func subIndex(_ j: Int) -> __m512i {
        let a = Int32(j)
        return unsafeBitCast(SIMD16<Int32>(lowHalf: SIMD8(repeating: a), highHalf: SIMD8(repeating: a &+ 1)), to: __m512i.self)
    }

    @inline(__always) static func partial8(_ p: UnsafePointer<Float>, _ n: Int) -> SIMD8<Float> {
        var r = SIMD8<Float>()
        for i in 0..<n { r[i] = p[i] }
        return r
    }
}
#endif
