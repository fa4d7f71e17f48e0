// LaneFFT: FFTs that transform 8 independent signals at once, one per SIMD8 lane (8 STFT frames), so
// every butterfly is plain vector arithmetic with no shuffles. Complex FFT of any size whose factors are
// 2, 3, 4 and 5 (Stockham auto-sort, natural order in and out); real FFT of even size N through one
// complex FFT of N/2 (n = 400 → 200 = 4·2·5·5).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

typealias Lanes = SIMD8<Float>

/// Forward complex DFT X[k] = Σ x[n]·e^(−2πi·kn/size) on 8 lanes, split real/imaginary arrays.
struct LaneComplexFFT: Sendable {
    let size: Int
    /// Radices in the order the stages apply them.
    let radices: [Int]
    /// Per stage s: twiddles w^(p·u) = e^(−2πi·p·u/n_s) for p < n_s/r, u = 1 … r−1, as (cos, sin)
    /// pairs, flattened; the stage starts at `twiddleOffset[s]`.
    let twiddles: [Float]
    let twiddleOffset: [Int]

    /// nil when `size` has a prime factor other than 2, 3, 5.
    init?(size: Int) {
        var n = size, r: [Int] = []
        while n % 4 == 0 { r.append(4); n /= 4 }
        while n % 2 == 0 { r.append(2); n /= 2 }
        while n % 3 == 0 { r.append(3); n /= 3 }
        while n % 5 == 0 { r.append(5); n /= 5 }
        guard n == 1, size > 1 else { return nil }
        self.size = size
        radices = r
        var tw: [Float] = [], offsets: [Int] = []
        var cur = size
        for radix in r {
            offsets.append(tw.count)
            let m = cur / radix
            for p in 0..<m {
                for u in 1..<radix {
                    let angle = -2 * Double.pi * Double(p * u) / Double(cur)
                    tw.append(Float(cos(angle)))
                    tw.append(Float(sin(angle)))
                }
            }
            cur = m
        }
        twiddles = tw
        twiddleOffset = offsets
    }

    /// Transforms (re, im) in place, using (sre, sim) as scratch; all four hold `size` lane vectors.
    func forward(_ re: UnsafeMutablePointer<Lanes>, _ im: UnsafeMutablePointer<Lanes>,
                 scratch sre: UnsafeMutablePointer<Lanes>, _ sim: UnsafeMutablePointer<Lanes>) {
        var xr = re, xi = im, yr = sre, yi = sim
        var n = size, s = 1
        twiddles.withUnsafeBufferPointer { twb in
            for (stage, r) in radices.enumerated() {
                let m = n / r
                let tw = twb.baseAddress! + twiddleOffset[stage]
                switch r {
                case 4: LaneComplexFFT.radix4(xr, xi, yr, yi, m: m, s: s, tw: tw)
                case 2: LaneComplexFFT.radix2(xr, xi, yr, yi, m: m, s: s, tw: tw)
                case 3: LaneComplexFFT.radix3(xr, xi, yr, yi, m: m, s: s, tw: tw)
                default: LaneComplexFFT.radix5(xr, xi, yr, yi, m: m, s: s, tw: tw)
                }
                swap(&xr, &yr); swap(&xi, &yi)
                n = m; s &*= r
            }
        }
        if xr != re {
            re.update(from: xr, count: size)
            im.update(from: xi, count: size)
        }
    }

    // Stockham DIF stage: inputs x[q + s·(p + j·m)], outputs y[q + s·(r·p + u)] = (Σ_j a_j ω_r^(ju))·w^(pu).

    @inline(__always)
    static func radix2(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                       _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                       m: Int, s: Int, tw: UnsafePointer<Float>) {
        for p in 0..<m {
            let wr = Lanes(repeating: tw[p &* 2]), wi = Lanes(repeating: tw[p &* 2 &+ 1])
            for q in 0..<s {
                let i0 = q &+ s &* p, i1 = i0 &+ s &* m
                let o0 = q &+ s &* (2 &* p)
                let ar = xr[i0], ai = xi[i0], br = xr[i1], bi = xi[i1]
                yr[o0] = ar + br; yi[o0] = ai + bi
                let dr = ar - br, di = ai - bi
                yr[o0 &+ s] = dr * wr - di * wi
                yi[o0 &+ s] = dr * wi + di * wr
            }
        }
    }

    @inline(__always)
    static func radix3(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                       _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                       m: Int, s: Int, tw: UnsafePointer<Float>) {
        let c = Lanes(repeating: -0.5), sn = Lanes(repeating: Float(sin(2 * Double.pi / 3)))
        for p in 0..<m {
            let t = tw + p &* 4
            let w1r = Lanes(repeating: t[0]), w1i = Lanes(repeating: t[1])
            let w2r = Lanes(repeating: t[2]), w2i = Lanes(repeating: t[3])
            for q in 0..<s {
                let i0 = q &+ s &* p, i1 = i0 &+ s &* m, i2 = i1 &+ s &* m
                let o0 = q &+ s &* (3 &* p)
                let a0r = xr[i0], a0i = xi[i0]
                let t1r = xr[i1] + xr[i2], t1i = xi[i1] + xi[i2]
                let t2r = xr[i1] - xr[i2], t2i = xi[i1] - xi[i2]
                yr[o0] = a0r + t1r; yi[o0] = a0i + t1i
                let mr = a0r + c * t1r, mi = a0i + c * t1i
                // b1 = m − i·sn·t2, b2 = m + i·sn·t2
                let b1r = mr + sn * t2i, b1i = mi - sn * t2r
                let b2r = mr - sn * t2i, b2i = mi + sn * t2r
                yr[o0 &+ s] = b1r * w1r - b1i * w1i; yi[o0 &+ s] = b1r * w1i + b1i * w1r
                yr[o0 &+ 2 &* s] = b2r * w2r - b2i * w2i; yi[o0 &+ 2 &* s] = b2r * w2i + b2i * w2r
            }
        }
    }

    @inline(__always)
    static func radix4(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                       _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                       m: Int, s: Int, tw: UnsafePointer<Float>) {
        for p in 0..<m {
            let t = tw + p &* 6
            let w1r = Lanes(repeating: t[0]), w1i = Lanes(repeating: t[1])
            let w2r = Lanes(repeating: t[2]), w2i = Lanes(repeating: t[3])
            let w3r = Lanes(repeating: t[4]), w3i = Lanes(repeating: t[5])
            for q in 0..<s {
                let i0 = q &+ s &* p, sm = s &* m
                let i1 = i0 &+ sm, i2 = i1 &+ sm, i3 = i2 &+ sm
                let o0 = q &+ s &* (4 &* p)
                let t0r = xr[i0] + xr[i2], t0i = xi[i0] + xi[i2]
                let t1r = xr[i0] - xr[i2], t1i = xi[i0] - xi[i2]
                let t2r = xr[i1] + xr[i3], t2i = xi[i1] + xi[i3]
                let t3r = xr[i1] - xr[i3], t3i = xi[i1] - xi[i3]
                yr[o0] = t0r + t2r; yi[o0] = t0i + t2i
                let b1r = t1r + t3i, b1i = t1i - t3r      // t1 − i·t3
                let b2r = t0r - t2r, b2i = t0i - t2i
                let b3r = t1r - t3i, b3i = t1i + t3r      // t1 + i·t3
                yr[o0 &+ s] = b1r * w1r - b1i * w1i; yi[o0 &+ s] = b1r * w1i + b1i * w1r
                yr[o0 &+ 2 &* s] = b2r * w2r - b2i * w2i; yi[o0 &+ 2 &* s] = b2r * w2i + b2i * w2r
                yr[o0 &+ 3 &* s] = b3r * w3r - b3i * w3i; yi[o0 &+ 3 &* s] = b3r * w3i + b3i * w3r
            }
        }
    }

    @inline(__always)
    static func radix5(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                       _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                       m: Int, s: Int, tw: UnsafePointer<Float>) {
        let c1 = Lanes(repeating: Float(cos(2 * Double.pi / 5))), c2 = Lanes(repeating: Float(cos(4 * Double.pi / 5)))
        let s1 = Lanes(repeating: Float(sin(2 * Double.pi / 5))), s2 = Lanes(repeating: Float(sin(4 * Double.pi / 5)))
        for p in 0..<m {
            let t = tw + p &* 8
            let w1r = Lanes(repeating: t[0]), w1i = Lanes(repeating: t[1])
            let w2r = Lanes(repeating: t[2]), w2i = Lanes(repeating: t[3])
            let w3r = Lanes(repeating: t[4]), w3i = Lanes(repeating: t[5])
            let w4r = Lanes(repeating: t[6]), w4i = Lanes(repeating: t[7])
            for q in 0..<s {
                let i0 = q &+ s &* p, sm = s &* m
                let i1 = i0 &+ sm, i2 = i1 &+ sm, i3 = i2 &+ sm, i4 = i3 &+ sm
                let o0 = q &+ s &* (5 &* p)
                let a0r = xr[i0], a0i = xi[i0]
                let t1r = xr[i1] + xr[i4], t1i = xi[i1] + xi[i4]
                let t2r = xr[i2] + xr[i3], t2i = xi[i2] + xi[i3]
                let t3r = xr[i1] - xr[i4], t3i = xi[i1] - xi[i4]
                let t4r = xr[i2] - xr[i3], t4i = xi[i2] - xi[i3]
                yr[o0] = a0r + t1r + t2r; yi[o0] = a0i + t1i + t2i
                let m1r = a0r + c1 * t1r + c2 * t2r, m1i = a0i + c1 * t1i + c2 * t2i
                let m2r = a0r + c2 * t1r + c1 * t2r, m2i = a0i + c2 * t1i + c1 * t2i
                let n1r = s1 * t3r + s2 * t4r, n1i = s1 * t3i + s2 * t4i
                let n2r = s2 * t3r - s1 * t4r, n2i = s2 * t3i - s1 * t4i
                // b1 = m1 − i·n1, b4 = m1 + i·n1, b2 = m2 − i·n2, b3 = m2 + i·n2
                let b1r = m1r + n1i, b1i = m1i - n1r
                let b4r = m1r - n1i, b4i = m1i + n1r
                let b2r = m2r + n2i, b2i = m2i - n2r
                let b3r = m2r - n2i, b3i = m2i + n2r
                yr[o0 &+ s] = b1r * w1r - b1i * w1i; yi[o0 &+ s] = b1r * w1i + b1i * w1r
                yr[o0 &+ 2 &* s] = b2r * w2r - b2i * w2i; yi[o0 &+ 2 &* s] = b2r * w2i + b2i * w2r
                yr[o0 &+ 3 &* s] = b3r * w3r - b3i * w3i; yi[o0 &+ 3 &* s] = b3r * w3i + b3i * w3r
                yr[o0 &+ 4 &* s] = b4r * w4r - b4i * w4i; yi[o0 &+ 4 &* s] = b4r * w4i + b4i * w4r
            }
        }
    }
}

/// Power spectrum |X[k]|², k = 0 … N/2, of 8 real signals of even length N at once, through one complex
/// FFT of N/2 points: z[m] = x[2m] + i·x[2m+1], Z = FFT(z), then
/// X[k] = E[k] + e^(−2πik/N)·O[k] with E = (Z[k] + conj Z[N/2−k]) / 2, O = (Z[k] − conj Z[N/2−k]) / 2i.
struct LaneRealPowerFFT: Sendable {
    let length: Int
    let half: LaneComplexFFT
    /// cos and −sin of 2πk/N for k < N/2.
    let postCos: [Float], postSin: [Float]

    init?(length: Int) {
        guard length % 2 == 0, let c = LaneComplexFFT(size: length / 2) else { return nil }
        self.length = length
        half = c
        postCos = (0..<(length / 2)).map { Float(cos(2 * Double.pi * Double($0) / Double(length))) }
        postSin = (0..<(length / 2)).map { Float(-sin(2 * Double.pi * Double($0) / Double(length))) }
    }

    /// `re[m]`, `im[m]` hold x[2m], x[2m+1] for m < N/2 on entry (destroyed); `power` receives N/2 + 1
    /// lane vectors. `scratch` holds 2 × N/2 lane vectors.
    func power(re: UnsafeMutablePointer<Lanes>, im: UnsafeMutablePointer<Lanes>,
               scratch: UnsafeMutablePointer<Lanes>, power: UnsafeMutablePointer<Lanes>) {
        let m = length / 2
        half.forward(re, im, scratch: scratch, scratch + m)
        let z0r = re[0], z0i = im[0]
        power[0] = (z0r + z0i) * (z0r + z0i)
        power[m] = (z0r - z0i) * (z0r - z0i)
        let half = Lanes(repeating: 0.5)
        postCos.withUnsafeBufferPointer { cb in
            postSin.withUnsafeBufferPointer { sb in
                for k in 1..<m {
                    let ar = re[k], ai = im[k], br = re[m &- k], bi = im[m &- k]
                    let er = (ar + br) * half, ei = (ai - bi) * half
                    // O = (Z[k] − conj Z[m−k]) / 2i = (d.im / 2, −d.re / 2) with d = Z[k] − conj Z[m−k]
                    let or_ = (ai + bi) * half, oi = (br - ar) * half
                    let wr = Lanes(repeating: cb[k]), wi = Lanes(repeating: sb[k])
                    let xr = er + or_ * wr - oi * wi
                    let xi = ei + or_ * wi + oi * wr
                    power[k] = xr * xr + xi * xi
                }
            }
        }
    }
}
