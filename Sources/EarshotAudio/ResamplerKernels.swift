// ResamplerKernels: the inner products of `Resampler`, in libswresample's x86 arithmetic so the results
// are ffmpeg's to the bit:
// - float: 8 lanes, each a chain of fused multiply-adds over taps j, j+8, j+16, … of the zero-padded row
//   (swr's FMA3 kernel), then lanes folded as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)); between two phases
//   the 4-lane partial sums are blended with one FMA by the weight frac · (1/src) in float;
// - int16: exact integer dot product (int32, wrapping like pmaddwd/paddd), + 2^14, >> 15, saturated
//   to int16; between two phases v += (v2 − v) · frac / src in 64 bits, truncated (swr's imul/idiv).

/// 4-lane partial sums of Σ h[k]·x[k], k < stride (a multiple of 8), swr's lane order.
@inline(__always)
func partialDot(_ h: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ stride: Int) -> SIMD4<Float> {
    var acc = SIMD8<Float>()
    let rh = UnsafeRawPointer(h), rx = UnsafeRawPointer(x)
    var k = 0
    while k < stride {
        acc = acc.addingProduct(rx.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self),
                                rh.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self))
        k &+= 8
    }
    return acc.lowHalf + acc.highHalf
}

/// (b0 + b2) + (b1 + b3): the end of swr's horizontal sum.
@inline(__always)
func fold(_ b: SIMD4<Float>) -> Float { (b[0] + b[2]) + (b[1] + b[3]) }

/// One float output: phase row `h` (and the next row `h + stride` when `weight` is non-nil).
@inline(__always)
func floatOutput(_ h: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ stride: Int, weight: Float?) -> Float {
    let b = partialDot(h, x, stride)
    guard let weight else { return fold(b) }
    let b2 = partialDot(h + stride, x, stride)
    return fold(b.addingProduct(b2 - b, SIMD4(repeating: weight)))
}

/// Σ h[k]·x[k], k < stride (a multiple of 8), in wrapping int32 arithmetic.
@inline(__always)
func intDot(_ h: UnsafePointer<Int16>, _ x: UnsafePointer<Int16>, _ stride: Int) -> Int32 {
    var acc = SIMD8<Int32>()
    let rh = UnsafeRawPointer(h), rx = UnsafeRawPointer(x)
    var k = 0
    while k < stride {
        let a = SIMD8<Int32>(truncatingIfNeeded: rx.loadUnaligned(fromByteOffset: k &* 2, as: SIMD8<Int16>.self))
        let b = SIMD8<Int32>(truncatingIfNeeded: rh.loadUnaligned(fromByteOffset: k &* 2, as: SIMD8<Int16>.self))
        acc &+= a &* b
        k &+= 8
    }
    return acc.wrappedSum()
}

/// One int16 output: swr's S16P rounding and saturation; `frac`/`src` blend towards the next row.
@inline(__always)
func int16Output(_ h: UnsafePointer<Int16>, _ x: UnsafePointer<Int16>, _ stride: Int, frac: Int, src: Int) -> Int16 {
    var v = intDot(h, x, stride)
    if frac != 0 {
        let v2 = intDot(h + stride, x, stride)
        let q = Int64(v2 &- v) * Int64(frac) / Int64(src)
        v = v &+ Int32(truncatingIfNeeded: q)
    }
    let r = (v &+ 16384) >> 15
    return Int16(clamping: r)
}
