// SIMDHelpers: per-lane conversions and reductions that lower to single instructions
// (stdlib conversions and .sum() fall off cliffs in hot loops: see notes/swift-simd.md).

@inline(__always) func f32(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(v[i]) }
    return r
}

@inline(__always) func f32(_ v: SIMD16<UInt16>, half _: Void) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(Float16(bitPattern: v[i])) }
    return r
}

@inline(__always) func f32(_ v: SIMD16<UInt16>, bfloat _: Void) -> SIMD16<Float> {
    var r = SIMD16<UInt32>()
    for i in 0..<16 { r[i] = UInt32(v[i]) }
    return unsafeBitCast(r &<< 16, to: SIMD16<Float>.self)
}

/// Horizontal sum as a half-split tree.
@inline(__always) func hsum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf, b = a.lowHalf + a.highHalf, c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

@inline(__always) func hsum(_ v: SIMD8<Float>) -> Float {
    let b = v.lowHalf + v.highHalf, c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// Pair-sums 16 Int16 products into 8 Int32 lanes (lane i = p[2i] + p[2i+1]) through a bit-cast view.
@inline(__always) func pairSum(_ p: SIMD16<Int16>) -> SIMD8<Int32> {
    let p32 = unsafeBitCast(p, to: SIMD8<Int32>.self)
    return ((p32 &<< 16) &>> 16) &+ (p32 &>> 16)
}
