// NNMath: exp and erf without libm (kernel modules import only the standard library).
//   Reference.exp / Reference.erf : Double, accurate to ~1e-15 (series + continued fraction); for reference kernels.
//   Kernels.expf / Kernels.erff   : Float, branch-free polynomial/rational forms for hot loops
//                                  (expf ≤ 2 ulp on [−87, 88]; erff abs error ≲ 2e-7, see NNMathTests).

extension Reference {
    /// e^x in Double: x = n·ln2 + r, Taylor series of e^r (|r| ≤ ln2/2), scaled by 2^n exactly.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.78 { return .infinity }
        if x < -745.2 { return 0 }
        let ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10
        let n = (x / (ln2Hi + ln2Lo)).rounded()
        let r = (x - n * ln2Hi) - n * ln2Lo
        var term = 1.0, sum = 1.0
        for k in 1...24 {
            term *= r / Double(k)
            sum += term
        }
        return Double(sign: .plus, exponent: Int(n), significand: sum)
    }

    /// erf(x) in Double: Maclaurin series for |x| < 2.5, else 1 − erfc(|x|) with erfc from its continued fraction.
    public static func erf(_ x: Double) -> Double {
        let ax = x.magnitude
        if ax < 2.5 {
            let x2 = x * x
            var term = x, sum = 0.0
            var n = 0
            while true {
                let contribution = term / Double(2 * n + 1)
                sum += contribution
                if contribution.magnitude < 1e-18 * sum.magnitude || n > 200 { break }
                n += 1
                term *= -x2 / Double(n)
            }
            return sum * 1.1283791670955125738961589   // 2/√π
        }
        if ax > 6.5 { return x > 0 ? 1 : -1 }          // erfc(6.5) < 4e-20
        // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
        var t = ax
        for k in stride(from: 300, through: 1, by: -1) { t = ax + (Double(k) / 2) / t }
        let erfc = exp(-ax * ax) * 0.5641895835477562869480795 / t   // 1/√π
        return x > 0 ? 1 - erfc : erfc - 1
    }
}

extension Kernels {
    /// e^x in Float (Cephes expf polynomial, exponent assembled in the bits). Inputs are clamped to [−87.33, 88.37].
    @inline(__always) public static func expf(_ xIn: Float) -> Float {
        let x0 = Swift.min(Swift.max(xIn, -87.336_54), 88.376_26)
        let n = (x0 * 1.442_695_040_888_963_4 + 0.5).rounded(.down)
        var r = x0 - n * 0.693_359_375
        r = r - n * -2.121_944_400_546_905_827_68e-4
        let z = r * r
        var p: Float = 1.987_569_150_0e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let y = p * z + r + 1
        let scale = Float(bitPattern: UInt32(truncatingIfNeeded: Int32(n) &+ 127) &<< 23)
        return y * scale
    }

    /// erf(x) in Float: odd/even rational approximation on [−4, 4] (erf is ±1 in Float beyond).
    @inline(__always) public static func erff(_ xIn: Float) -> Float {
        let x = Swift.min(Swift.max(xIn, -4), 4)
        let x2 = x * x
        var p: Float = -2.726_142_258_013_06e-10
        p = p * x2 + 2.770_681_424_959_02e-08
        p = p * x2 + -2.101_024_020_825_08e-06
        p = p * x2 + -5.692_506_394_623_46e-05
        p = p * x2 + -7.349_906_303_268_55e-04
        p = p * x2 + -2.954_599_808_540_25e-03
        p = p * x2 + -1.609_603_332_624_15e-02
        var q: Float = -1.456_607_184_649_96e-05
        q = q * x2 + -2.133_740_552_789_05e-04
        q = q * x2 + -1.682_826_974_382_03e-03
        q = q * x2 + -7.373_329_167_204_68e-03
        q = q * x2 + -1.426_473_905_141_89e-02
        return x * p / q
    }
}
