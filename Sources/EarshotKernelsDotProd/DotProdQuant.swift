// DotProdQuant: q8 and q4 rows against int8-per-32 activations with the ARMv8.2 dot-product instruction
// (SDOT, `vdotq_s32`; Raspberry Pi 5 / Cortex-A76 and later). Built with +dotprod, so only call it after
// the HWCAP_ASIMDDP check (EarshotKernels' dispatch does). Layouts: Formats/quant-blocks.md.
// Public entry points are @export(interface): a baseline client must not re-compile their bodies.

#if arch(arm64)
import _Builtin_intrinsics.arm.neon

public enum DotProd {}

extension DotProd {
    /// y[t·ldy + r] = q8 row r · token t for r in rowStart..<rowEnd, t < tokens.
    @export(interface)
    public static func q8Matmul(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rowStart: Int, rowEnd: Int,
                                _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        var rb = rowStart
        while rb < rowEnd {
            let re = min(rowEnd, rb &+ 4)
            for t in 0..<tokens {
                for r in rb..<re {
                    y[t &* ldy &+ r] = q8Dot(w + r &* rowBytes, cols, UnsafeRawPointer(xq + t &* cols), xd + t &* nb)
                }
            }
            rb = re
        }
    }

    /// y[t·ldy + r] = q4 row r · token t for r in rowStart..<rowEnd, t < tokens.
    @export(interface)
    public static func q4Matmul(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rowStart: Int, rowEnd: Int,
                                _ xq: UnsafePointer<Int8>, _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>,
                                tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        var rb = rowStart
        while rb < rowEnd {
            let re = min(rowEnd, rb &+ 4)
            for t in 0..<tokens {
                for r in rb..<re {
                    y[t &* ldy &+ r] = q4Dot(w + r &* rowBytes, cols, UnsafeRawPointer(xq + t &* cols), xd + t &* nb, xs + t &* nb)
                }
            }
            rb = re
        }
    }

    @inline(__always) static func ld(_ p: UnsafeRawPointer, _ o: Int) -> int8x16_t { p.loadUnaligned(fromByteOffset: o, as: int8x16_t.self) }

    @inline(__always) static func f32(_ v: int32x4_t) -> SIMD4<Float> {
        SIMD4<Float>(Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]))
    }

    @inline(__always) static func q8Dot(_ row: UnsafeRawPointer, _ cols: Int, _ x: UnsafeRawPointer, _ xd: UnsafePointer<Float>) -> Float {
        var acc0 = SIMD4<Float>(), acc1 = acc0
        let zero = int32x4_t()
        let nb = cols / 32
        var b = 0
        while b < nb {
            let o = 32 &* b
            var p = vdotq_s32(zero, ld(row, o), ld(x, o))
            p = vdotq_s32(p, ld(row, o &+ 16), ld(x, o &+ 16))
            let s = Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: cols &+ 2 &* b, as: UInt16.self))) * xd[b]
            if b & 1 == 0 { acc0 = acc0.addingProduct(f32(p), SIMD4(repeating: s)) } else { acc1 = acc1.addingProduct(f32(p), SIMD4(repeating: s)) }
            b &+= 1
        }
        let a = acc0 + acc1
        return (a[0] + a[1]) + (a[2] + a[3])
    }

    @inline(__always) static func q4Dot(_ row: UnsafeRawPointer, _ cols: Int, _ x: UnsafeRawPointer,
                                        _ xd: UnsafePointer<Float>, _ xs: UnsafePointer<Float>) -> Float {
        var acc = SIMD4<Float>()
        var minAcc: Float = 0
        let zero = int32x4_t()
        let mask = SIMD16<UInt8>(repeating: 15)
        @inline(__always) func lo(_ v: int8x16_t) -> int8x16_t { unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt8>.self) & mask, to: int8x16_t.self) }
        @inline(__always) func hi(_ v: int8x16_t) -> int8x16_t { unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt8>.self) &>> 4, to: int8x16_t.self) }
        for s in 0..<((cols &+ 255) / 256) {
            let h = cols / 2 &+ 16 &* s
            let d = Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: h, as: UInt16.self)))
            let dmin = Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: h &+ 2, as: UInt16.self)))
            let scBits = row.loadUnaligned(fromByteOffset: h &+ 4, as: UInt64.self)
            let mnBits = row.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16
            let count = min(256, cols &- 256 &* s)
            let nib = row + 128 &* s, xb = x + 256 &* s
            let b0 = 8 &* s
            @inline(__always) func add(_ j: Int, _ p: int32x4_t) {
                let sc = Float((scBits >> (6 &* UInt64(j))) & 63)
                acc = acc.addingProduct(f32(p), SIMD4(repeating: d * sc * xd[b0 &+ j]))
            }
            var pos = 0
            while pos < count {
                let rem = count &- pos, j = pos / 32, bo = pos / 2
                if rem >= 128 {
                    let v0 = ld(nib, bo), v1 = ld(nib, bo &+ 16), v2 = ld(nib, bo &+ 32), v3 = ld(nib, bo &+ 48)
                    add(j, vdotq_s32(vdotq_s32(zero, lo(v0), ld(xb, pos)), lo(v1), ld(xb, pos &+ 16)))
                    add(j &+ 1, vdotq_s32(vdotq_s32(zero, lo(v2), ld(xb, pos &+ 32)), lo(v3), ld(xb, pos &+ 48)))
                    add(j &+ 2, vdotq_s32(vdotq_s32(zero, hi(v0), ld(xb, pos &+ 64)), hi(v1), ld(xb, pos &+ 80)))
                    add(j &+ 3, vdotq_s32(vdotq_s32(zero, hi(v2), ld(xb, pos &+ 96)), hi(v3), ld(xb, pos &+ 112)))
                    pos &+= 128
                } else if rem >= 64 {
                    let v0 = ld(nib, bo), v1 = ld(nib, bo &+ 16)
                    add(j, vdotq_s32(vdotq_s32(zero, lo(v0), ld(xb, pos)), lo(v1), ld(xb, pos &+ 16)))
                    add(j &+ 1, vdotq_s32(vdotq_s32(zero, hi(v0), ld(xb, pos &+ 32)), hi(v1), ld(xb, pos &+ 48)))
                    pos &+= 64
                } else {
                    let v0 = ld(nib, bo)
                    add(j, vdotq_s32(vdotq_s32(zero, lo(v0), ld(xb, pos)), hi(v0), ld(xb, pos &+ 16)))
                    pos &+= 32
                }
            }
            for j in 0..<(count / 32) { minAcc += dmin * Float((mnBits >> (6 &* UInt64(j))) & 63) * xs[b0 &+ j] }
        }
        return (acc[0] + acc[1]) + (acc[2] + acc[3]) - minAcc
    }
}
#endif
