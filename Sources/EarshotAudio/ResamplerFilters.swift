// ResamplerFilters: the polyphase filter banks `Resampler` runs: libswresample's (`build_filter` /
// `resample_init` as ffmpeg 5.1 configures them by default) rebuilt value for value, and a Kaiser design
// from band edges.
//
// A bank has `phases` rows of `taps` coefficients (row p is the filter for an output that falls p/phases
// of an input sample after input sample q; it reads inputs q − center … q − center + taps − 1), each row
// padded with zeros to `stride` (a multiple of 8, as swr's `filter_alloc`), plus one extra row (phase
// `phases`: row 0 one sample later) that linear interpolation between phases reads.
//
// libswresample's design, as measured against ffmpeg 5.1 (bit-exact on 8–96 kHz and odd rates):
// - factor = min(cutoff · out / in, 1): when upsampling the cutoff is the *input* Nyquist frequency, not
//   0.97 of it (the filter only interpolates), so 8 → 16 kHz uses a full-band sinc of 32 taps;
// - taps = ceil(filterSize / factor), rounded up to even; center = (taps − 1) / 2, so phase 0 puts its
//   unit tap at index center and the window spans taps/2 samples either side of center + 1/2;
// - phases = out / gcd when that is ≤ 1024 (exact rational), else 1024 with linear interpolation;
// - h(x) = sinc(π·x·factor) · I0(β·√(1 − (2x/taps)²)), x = (i − center) − p/phases; with factor 1 the
//   sine comes from sin(π·p/phases) with alternating sign (what swr computes, to the last bit);
// - every phase is divided by the DC gain of phase 0 (not by its own), then rounded: int16 (× 32768,
//   round to nearest even through float, as `lrintf`) for the int16 path, float for the float path;
// - for an even phase count only phases 0 … phases/2 are computed; phase phases − p is phase p reversed.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Polyphase filter coefficients, [phases + 1][stride], as float and (swr design only) int16.
struct ResamplerBank: Sendable {
    let taps: Int
    let center: Int
    let phases: Int
    let stride: Int
    /// [(phases + 1) × stride] float coefficients.
    let float: [Float]
    /// [(phases + 1) × stride] int16 coefficients scaled by 2^15 (swr's S16P bank); empty for the Kaiser design.
    let int16: [Int16]

    /// Largest bank built: (phases + 1) × stride coefficients (16 M, 64 MB of float).
    static let maxCoefficients = 1 << 24

    /// Phases for a rate pair: out / gcd when that is at most `maxPhases`, else `maxPhases`.
    static func phases(inputRate: Int, outputRate: Int, maxPhases: Int) -> Int {
        let exact = outputRate / gcd(outputRate, inputRate)
        return exact <= maxPhases ? exact : maxPhases
    }

    /// swr's taps: ceil(filterSize / factor) rounded up to even (at least 1); nil when absurdly many.
    static func swrTaps(inputRate: Int, outputRate: Int, cutoff: Double, filterSize: Int) -> Int? {
        let factor = min(Double(outputRate) * cutoff / Double(inputRate), 1)
        let taps = (Double(filterSize) / factor).rounded(.up)
        guard taps.isFinite, taps <= Double(maxCoefficients) else { return nil }
        let t = max(Int(taps), 1)
        return t > 1 ? (t + 1) & ~1 : t
    }

    /// The Kaiser design's half width in input samples (taps = 2·ceil(halfWidth) + 1).
    static func kaiserHalfWidth(inputRate: Int, outputRate: Int, passband: Double, stopband: Double,
                                attenuationDB a: Double) -> Double {
        let nyquistLow = Double(min(inputRate, outputRate)) / 2
        let transitionHz = max((stopband - passband) * nyquistLow, 1e-6 * nyquistLow)
        let lengthSeconds = (a - 7.95) / (2.285 * 2 * Double.pi * transitionHz)
        return max(1, lengthSeconds / 2 * Double(inputRate))
    }

    /// libswresample's default bank for `inputRate` → `outputRate` (`taps` from `swrTaps`).
    static func swr(inputRate: Int, outputRate: Int, cutoff: Double, taps: Int, beta: Double,
                    maxPhases: Int) -> ResamplerBank {
        let factor = min(Double(outputRate) * cutoff / Double(inputRate), 1)
        let phases = phases(inputRate: inputRate, outputRate: outputRate, maxPhases: maxPhases)
        let center = (taps - 1) / 2
        let stride = (taps + 7) & ~7
        var float = [Float](repeating: 0, count: (phases + 1) * stride)
        var int16 = [Int16](repeating: 0, count: (phases + 1) * stride)
        let computed = phases % 2 == 1 ? phases : phases / 2 + 1
        var row = [Double](repeating: 0, count: taps)
        var norm = 0.0
        for p in 0..<computed {
            var s = factor == 1 ? sin(Double.pi * Double(p) / Double(phases)) * (center & 1 == 1 ? 1 : -1) : 0
            for i in 0..<taps {
                let x = Double.pi * (Double(i - center) - Double(p) / Double(phases)) * factor
                var y: Double
                if x == 0 { y = 1 } else if factor == 1 { y = s / x } else { y = sin(x) / x }
                let w = 2 * x / (factor * Double(taps) * Double.pi)
                y *= besselI0(beta * max(1 - w * w, 0).squareRoot())
                row[i] = y
                s = -s
                if p == 0 { norm += y }
            }
            for i in 0..<taps {
                float[p * stride + i] = Float(row[i] * 1 / norm)
                let scaled = Float(row[i] * 32768 / norm).rounded(.toNearestOrEven)
                int16[p * stride + i] = Int16(min(max(scaled, -32768), 32767))
            }
            if phases % 2 == 0 {
                // In place, in swr's order (phase phases/2 mirrors onto itself).
                for i in 0..<taps {
                    float[(phases - p) * stride + taps - 1 - i] = float[p * stride + i]
                    int16[(phases - p) * stride + taps - 1 - i] = int16[p * stride + i]
                }
            }
        }
        appendShiftedRow(&float, phases: phases, stride: stride)
        appendShiftedRow(&int16, phases: phases, stride: stride)
        return ResamplerBank(taps: taps, center: center, phases: phases, stride: stride, float: float, int16: int16)
    }

    /// Kaiser-windowed sinc from band edges (fractions of the lower Nyquist frequency) and a designed
    /// stopband attenuation: h(τ) = fc·sinc(fc·τ)·kaiser(τ / H), τ in input samples, not normalised.
    static func kaiser(inputRate: Int, outputRate: Int, passband: Double, stopband: Double, attenuationDB a: Double,
                       maxPhases: Int) -> ResamplerBank {
        let nyquistLow = Double(min(inputRate, outputRate)) / 2
        let fc = (passband + stopband) / 2 * nyquistLow / (Double(inputRate) / 2)
        let beta = kaiserBeta(attenuationDB: a)
        let halfWidth = kaiserHalfWidth(inputRate: inputRate, outputRate: outputRate, passband: passband,
                                        stopband: stopband, attenuationDB: a)
        let reach = Int(halfWidth.rounded(.up))
        let taps = 2 * reach + 1
        let phases = phases(inputRate: inputRate, outputRate: outputRate, maxPhases: maxPhases)
        let stride = (taps + 7) & ~7
        var float = [Float](repeating: 0, count: (phases + 1) * stride)
        let i0Beta = besselI0(beta)
        for p in 0..<phases {
            let frac = Double(p) / Double(phases)
            for k in 0..<taps {
                let tau = frac - Double(k - reach)
                let r = tau / halfWidth
                guard abs(r) < 1 else { continue }
                let window = besselI0(beta * (1 - r * r).squareRoot()) / i0Beta
                float[p * stride + k] = Float(fc * sinc(fc * tau) * window)
            }
        }
        appendShiftedRow(&float, phases: phases, stride: stride)
        return ResamplerBank(taps: taps, center: reach, phases: phases, stride: stride, float: float, int16: [])
    }

    /// Fills row `phases` with row 0 delayed by one tap (swr's two copies: the row's last padded element,
    /// then its first stride − 1), the filter for an output one whole input sample later.
    private static func appendShiftedRow<T>(_ t: inout [T], phases: Int, stride: Int) {
        let last = phases * stride
        t[last] = t[stride - 1]
        for i in 1..<stride { t[last + i] = t[i - 1] }
    }
}

/// Kaiser's empirical β for a stopband attenuation in dB.
func kaiserBeta(attenuationDB a: Double) -> Double {
    if a > 50 { return 0.1102 * (a - 8.7) }
    if a >= 21 {
        let d: Double = a - 21
        return 0.5842 * pow(d, 0.4) + 0.07886 * d
    }
    return 0
}

func gcd(_ a: Int, _ b: Int) -> Int {
    var a = a, b = b
    while b != 0 { (a, b) = (b, a % b) }
    return a
}

func sinc(_ x: Double) -> Double {
    if abs(x) < 1e-12 { return 1 }
    let px = Double.pi * x
    return sin(px) / px
}

/// Modified Bessel function of the first kind, order 0 (power series summed until it stops changing).
func besselI0(_ x: Double) -> Double {
    var sum = 1.0, term = 1.0
    let q = x * x / 4
    var k = 1.0
    while true {
        term *= q / (k * k)
        let next = sum + term
        if next == sum { return sum }
        sum = next
        k += 1
    }
}
