// FastLog: log10 on 8 lanes for the log-mel (≈1e-7 relative error on positive normal inputs, no libm
// call per value): x = 2^e·m with m in [√½, √2), ln m = 2·atanh((m−1)/(m+1)) as an odd series.

@inline(__always)
func log10Lanes(_ x: Lanes) -> Lanes {
    let bits = unsafeBitCast(x, to: SIMD8<Int32>.self)
    var e = (bits &>> 23) &- 127
    let mantissa = (bits & 0x007F_FFFF) | 0x3F80_0000
    var m = unsafeBitCast(mantissa, to: Lanes.self)                  // [1, 2)
    let big = m .> Lanes(repeating: 1.41421356)
    m.replace(with: m * 0.5, where: big)
    e.replace(with: e &+ 1, where: big)
    let t = (m - 1) / (m + 1), t2 = t * t
    var poly = Lanes(repeating: 1 / 9)
    poly = poly * t2 + 1 / 7
    poly = poly * t2 + 1 / 5
    poly = poly * t2 + 1 / 3
    poly = poly * t2 + 1
    let lnM = 2 * t * poly
    let ln2 = Lanes(repeating: 0.693147180559945), invLn10 = Lanes(repeating: 0.434294481903252)
    return (floatLanes(e) * ln2 + lnM) * invLn10
}

/// Per-lane Int32 → Float (folds to one vcvtdq2ps / scvtf; the stdlib initialiser is out of line).
@inline(__always)
func floatLanes(_ v: SIMD8<Int32>) -> Lanes {
    var r = Lanes()
    for i in 0..<8 { r[i] = Float(v[i]) }
    return r
}
