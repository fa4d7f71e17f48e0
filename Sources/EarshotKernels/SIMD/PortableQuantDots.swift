// PortableQuantDots: q8 and q4 row · int8-activation dots with portable SIMD (no dot-product instruction):
// Int16 products of even/odd bytes (`QuantizedActivations.pairs`), pair-summed into Int32, scaled in f32.

enum PortableQuant {
    /// Σ_k w[k]·x[k] for one q8 row against one token's activations (pairs + scales of that token).
    @inline(__always) static func dotQ8(_ row: UnsafeRawPointer, cols: Int, _ pairs: UnsafePointer<Int16>,
                                        _ xd: UnsafePointer<Float>) -> Float {
        let xp = UnsafeRawPointer(pairs)
        var acc0 = SIMD8<Float>(), acc1 = acc0
        let nb = cols / 32
        @inline(__always) func block(_ b: Int) -> SIMD8<Int32> {
            let v = row.loadUnaligned(fromByteOffset: 32 &* b, as: SIMD16<Int16>.self)
            let we = (v &<< 8) &>> 8, wo = v &>> 8
            let xe = xp.loadUnaligned(fromByteOffset: 64 &* b, as: SIMD16<Int16>.self)
            let xo = xp.loadUnaligned(fromByteOffset: 64 &* b &+ 32, as: SIMD16<Int16>.self)
            return pairSum(we &* xe &+ wo &* xo)
        }
        var b = 0
        while b &+ 2 <= nb {
            let s0 = loadF16(row, cols &+ 2 &* b) * xd[b], s1 = loadF16(row, cols &+ 2 &* b &+ 2) * xd[b &+ 1]
            acc0 = acc0.addingProduct(f32(block(b)), SIMD8(repeating: s0))
            acc1 = acc1.addingProduct(f32(block(b &+ 1)), SIMD8(repeating: s1))
            b &+= 2
        }
        if b < nb { acc0 = acc0.addingProduct(f32(block(b)), SIMD8(repeating: loadF16(row, cols &+ 2 &* b) * xd[b])) }
        return hsum(acc0 + acc1)
    }

    /// Int32 partial sums of one q4 sub-block: `even`/`odd` hold the codes of weights 2i / 2i+1 (0…15).
    @inline(__always) static func sub(_ even: SIMD16<Int16>, _ odd: SIMD16<Int16>, _ xp: UnsafeRawPointer) -> SIMD8<Int32> {
        pairSum(even &* xp.loadUnaligned(as: SIMD16<Int16>.self) &+ odd &* xp.loadUnaligned(fromByteOffset: 32, as: SIMD16<Int16>.self))
    }

    /// Σ_k w[k]·x[k] for one q4 row against one token (pairs, scales, sums of that token).
    @inline(__always) static func dotQ4(_ row: UnsafeRawPointer, cols: Int, _ pairs: UnsafePointer<Int16>,
                                        _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>) -> Float {
        let xp = UnsafeRawPointer(pairs)
        var acc = SIMD8<Float>()
        var minAcc: Float = 0
        let lowMask = SIMD16<UInt16>(repeating: 0x0F0F), byteMask = SIMD16<UInt16>(repeating: 0x00FF)
        @inline(__always) func split(_ v: SIMD16<UInt16>) -> (SIMD16<Int16>, SIMD16<Int16>) {
            (unsafeBitCast(v & byteMask, to: SIMD16<Int16>.self), unsafeBitCast(v &>> 8, to: SIMD16<Int16>.self))
        }
        for s in 0..<Q4Block.superBlocks(cols: cols) {
            let h = Q4Block.headerOffset(cols: cols, superBlock: s)
            let d = loadF16(row, h), dmin = loadF16(row, h &+ 2)
            let sc = Q4Block.unpack6(row, h &+ 4), mn = Q4Block.unpack6(row, h &+ 10)
            let count = Swift.min(256, cols &- 256 &* s)
            let nib = row + 128 &* s
            let b0 = 8 &* s  // first activation block of this super-block
            @inline(__always) func add(_ j: Int, _ e: SIMD16<Int16>, _ o: SIMD16<Int16>) {
                let p = sub(e, o, xp + 64 &* (b0 &+ j))
                acc = acc.addingProduct(f32(p), SIMD8(repeating: d * Float(sc[j]) * xd[b0 &+ j]))
            }
            var pos = 0
            while pos < count {
                let rem = count &- pos, j0 = pos / 32, byte = pos / 2
                if rem >= 128 {
                    let v0 = nib.loadUnaligned(fromByteOffset: byte, as: SIMD16<UInt16>.self)
                    let v1 = nib.loadUnaligned(fromByteOffset: byte &+ 32, as: SIMD16<UInt16>.self)
                    let (e0, o0) = split(v0 & lowMask), (e1, o1) = split(v1 & lowMask)
                    let (e2, o2) = split((v0 &>> 4) & lowMask), (e3, o3) = split((v1 &>> 4) & lowMask)
                    add(j0, e0, o0); add(j0 &+ 1, e1, o1); add(j0 &+ 2, e2, o2); add(j0 &+ 3, e3, o3)
                    pos &+= 128
                } else if rem >= 64 {
                    let v = nib.loadUnaligned(fromByteOffset: byte, as: SIMD16<UInt16>.self)
                    let (e0, o0) = split(v & lowMask), (e1, o1) = split((v &>> 4) & lowMask)
                    add(j0, e0, o0); add(j0 &+ 1, e1, o1)
                    pos &+= 64
                } else {
                    let v = nib.loadUnaligned(fromByteOffset: byte, as: SIMD8<UInt16>.self)
                    let lo = v & SIMD8(repeating: 0x0F0F), hi = (v &>> 4) & SIMD8(repeating: 0x0F0F)
                    let (e, o) = split(SIMD16(lowHalf: lo, highHalf: hi))
                    add(j0, e, o)
                    pos &+= 32
                }
            }
            for j in 0..<(count / 32) { minAcc += dmin * Float(mn[j]) * xs[b0 &+ j] }
        }
        return hsum(acc) - minAcc
    }
}
