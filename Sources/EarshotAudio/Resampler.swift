// Resampler: band-limited Kaiser-windowed-sinc polyphase sample-rate conversion (any rate → 16 kHz).
//
// Quality (`Quality.standard`, measured in `ResamplerTests`): flat passband up to 90 % of the
// lower Nyquist frequency (7.2 kHz when the output is 16 kHz; ripple < 0.01 dB), stopband from the lower
// Nyquist frequency (8 kHz) on, attenuated ≥ 80 dB (designed for 90 dB, measured ≤ −92 dB), so nothing aliases into
// the band. Zero phase: output sample n sits exactly at input time n · inRate / outRate.
//
// `Quality.ffmpeg` instead rebuilds libswresample's default filter (cutoff 0.97, 32 taps per output
// sample, Kaiser β 9, unit-gain phases): what the reference's ffmpeg did, so 48 kHz files give the
// reference's log-mel within 0.007 (vs 0.37 in the top bin with `.standard`). `AudioLoader` uses it.
//
// How: rates reduce to L / M (L = out / gcd, M = in / gcd). Output n reads input around
// t = n·M/L = q + p/L; phase p has its own tap vector h_p[k] = h(p/L − (k − D)), k = 0 … 2D, where
// h(τ) = fc·sinc(fc·τ)·kaiser(τ / H) in input-sample units (fc = cutoff / (inRate / 2)). With more than
// `maxExactPhases` phases (odd rates like 44 056 Hz) the table holds that many phases and the output
// interpolates linearly between the two nearest ones (error ≈ −110 dB).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sample-rate converter for one (input rate → output rate) pair. Immutable and `Sendable`: build it once
/// per input rate and use it from any thread.
public struct Resampler: Sendable {
    /// Filter design.
    public enum Quality: Sendable, Equatable {
        /// Kaiser design from band edges given as fractions of the lower Nyquist frequency, with a
        /// designed stopband attenuation in dB (sets β and the length).
        case bandEdges(passband: Double, stopband: Double, attenuationDB: Double)
        /// The filter of ffmpeg's libswresample (`build_filter`): sinc cut at `cutoff` × the lower
        /// Nyquist frequency, `filterSize` taps per output sample (scaled to the input rate), Kaiser β,
        /// every phase normalised to unit DC gain. Reproduces the reference's resampling closely, at the
        /// price of a soft transition (≈ 6.4–9 kHz for 48 → 16 kHz: some aliasing into 7–8 kHz).
        case swrCompatible(cutoff: Double, filterSize: Int, beta: Double)

        /// 7.2 kHz passband, ≥ 80 dB from 8 kHz on (no aliasing): the default.
        public static let standard = Quality.bandEdges(passband: 0.90, stopband: 1.0, attenuationDB: 90)
        /// ffmpeg's defaults (cutoff 0.97, filter_size 32, β 9), the resampler the reference used.
        public static let ffmpeg = Quality.swrCompatible(cutoff: 0.97, filterSize: 32, beta: 9)
    }

    public let inputRate: Int
    public let outputRate: Int
    public let quality: Quality
    /// Output/input rate ratio in lowest terms: L / M.
    public let up: Int, down: Int
    /// Taps reach `reach` input samples to each side of the centre sample q: 2·reach + 1 taps per phase.
    public let reach: Int
    /// Phases stored in `table` (L, or `maxExactPhases` when interpolating).
    let phases: Int
    /// [phases + 1][taps] coefficients (the extra last row is phase `phases`, i.e. phase 0 shifted by one
    /// sample, used by interpolation).
    let table: [Float]
    var taps: Int { 2 * reach + 1 }
    var interpolates: Bool { phases != up }

    static let maxExactPhases = 1024

    public init(from inputRate: Int, to outputRate: Int = 16000, quality: Quality = .standard) throws(AudioError) {
        guard inputRate > 0, inputRate <= 1_000_000 else { throw .invalidSampleRate(inputRate) }
        guard outputRate > 0, outputRate <= 1_000_000 else { throw .invalidSampleRate(outputRate) }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.quality = quality
        let g = gcd(inputRate, outputRate)
        up = outputRate / g
        down = inputRate / g

        // Kernel h(τ) = fc·sinc(fc·τ)·kaiser(τ / H), τ in input samples, fc = cutoff / input Nyquist.
        let nyquistLow = Double(min(inputRate, outputRate)) / 2
        let beta: Double, halfWidth: Double, fc: Double, normalize: Bool
        switch quality {
        case .bandEdges(let passband, let stopband, let a):
            let passHz = passband * nyquistLow, stopHz = stopband * nyquistLow
            let transitionHz = max(stopHz - passHz, 1e-6 * nyquistLow)
            beta = kaiserBeta(attenuationDB: a)
            let lengthSeconds = (a - 7.95) / (2.285 * 2 * Double.pi * transitionHz)
            halfWidth = max(1, lengthSeconds / 2 * Double(inputRate))
            fc = (passHz + stopHz) / 2 / (Double(inputRate) / 2)
            normalize = false
        case .swrCompatible(let cutoff, let filterSize, let b):
            let factor = min(cutoff * nyquistLow / (Double(inputRate) / 2), 1)
            beta = b
            halfWidth = max(1, (Double(filterSize) / factor).rounded(.up)) / 2
            fc = factor
            normalize = true
        }
        reach = Int(halfWidth.rounded(.up))
        phases = up <= Resampler.maxExactPhases ? up : Resampler.maxExactPhases

        let tapCount = 2 * reach + 1
        var t = [Float](repeating: 0, count: (phases + 1) * tapCount)
        let i0Beta = besselI0(beta)
        for p in 0...phases {
            let frac = Double(p) / Double(phases)
            var row = [Double](repeating: 0, count: tapCount)
            for k in 0..<tapCount {
                let tau = frac - Double(k - reach)          // t − j in input samples
                let r = tau / halfWidth
                guard abs(r) < 1 else { continue }
                let window = besselI0(beta * (1 - r * r).squareRoot()) / i0Beta
                row[k] = fc * sinc(fc * tau) * window
            }
            let gain = normalize ? 1 / row.reduce(0, +) : 1
            for k in 0..<tapCount { t[p * tapCount + k] = Float(row[k] * gain) }
        }
        table = t
    }

    /// Output samples produced for `inputCount` input samples: ceil(inputCount · L / M).
    public func outputCount(forInput inputCount: Int) -> Int {
        (inputCount * up + down - 1) / down
    }

    /// Input samples output range `range` reads (before clipping to the signal): the caller must supply
    /// them (or know they are outside the signal) for `resample(_:inputStart:outputRange:)`.
    public func inputRange(forOutput range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return 0..<0 }
        let first = range.lowerBound * down / up - reach
        let last = (range.upperBound - 1) * down / up + reach + 1
        return first..<(last + 1)
    }

    /// Resamples a whole signal. Shape: [n] → [ceil(n·L/M)]. Samples outside the signal count as zero.
    public func resample(_ input: [Float]) -> [Float] {
        if up == down { return input }
        return resample(input, inputStart: 0, outputRange: 0..<outputCount(forInput: input.count))
    }

    /// Computes output samples `outputRange` from `input`, whose first element is input sample
    /// `inputStart` of the whole signal; input samples not in `input` count as zero. Giving
    /// `inputRange(forOutput:)` clipped to the signal reproduces `resample(whole)[outputRange]` exactly,
    /// which is how long files are converted one window at a time.
    public func resample(_ input: [Float], inputStart: Int, outputRange: Range<Int>) -> [Float] {
        guard !outputRange.isEmpty else { return [] }
        if up == down {
            return (outputRange).map { i in
                let j = i - inputStart
                return j >= 0 && j < input.count ? input[j] : 0
            }
        }
        // Copy the needed input span with zero margins so the inner loop never bounds-checks.
        let need = inputRange(forOutput: outputRange)
        var padded = [Float](repeating: 0, count: need.count + 8)
        let lo = max(need.lowerBound, inputStart), hi = min(need.upperBound, inputStart + input.count)
        if lo < hi {
            for j in lo..<hi { padded[j - need.lowerBound] = input[j - inputStart] }
        }
        var out = [Float](repeating: 0, count: outputRange.count)
        let tapCount = taps
        padded.withUnsafeBufferPointer { xb in
            table.withUnsafeBufferPointer { tb in
                out.withUnsafeMutableBufferPointer { ob in
                    let x = xb.baseAddress!, h = tb.baseAddress!, o = ob.baseAddress!
                    for (i, n) in outputRange.enumerated() {
                        let pos = n * down                      // input time × L
                        let q = pos / up, p = pos - q * up      // t = q + p / L
                        let start = x + (q - reach - need.lowerBound)
                        if !interpolates {
                            o[i] = dot(h + p * tapCount, start, tapCount)
                        } else {
                            let scaled = Double(p) * Double(phases) / Double(up)
                            let p0 = Int(scaled), a = Float(scaled - Double(p0))
                            let y0 = dot(h + p0 * tapCount, start, tapCount)
                            let y1 = dot(h + (p0 + 1) * tapCount, start, tapCount)
                            o[i] = y0 + a * (y1 - y0)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Rounds samples to 16-bit PCM and back (x → clamp(rint(x · 32768)) / 32768), the step the reference
    /// takes when ffmpeg writes s16le. Use it to reproduce the reference's input exactly.
    public static func quantizeToInt16(_ samples: inout [Float]) {
        samples.withUnsafeMutableBufferPointer { b in
            for i in b.indices {
                let v = (b[i] * 32768).rounded(.toNearestOrEven)
                b[i] = min(max(v, -32768), 32767) * (1 / 32768)
            }
        }
    }
}

/// Σ a[k]·b[k], 16 lanes at a time with two accumulators.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
    var k = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while k &+ 16 <= n {
        s0 = s0.addingProduct(ra.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self),
                              rb.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self))
        s1 = s1.addingProduct(ra.loadUnaligned(fromByteOffset: (k &+ 8) &* 4, as: SIMD8<Float>.self),
                              rb.loadUnaligned(fromByteOffset: (k &+ 8) &* 4, as: SIMD8<Float>.self))
        k &+= 16
    }
    let s = s0 + s1
    let h4 = s.lowHalf + s.highHalf
    let h2 = h4.lowHalf + h4.highHalf
    var total = h2[0] + h2[1]
    while k < n {
        total += a[k] * b[k]
        k &+= 1
    }
    return total
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

/// Modified Bessel function of the first kind, order 0 (power series; converges for any β used here).
func besselI0(_ x: Double) -> Double {
    var sum = 1.0, term = 1.0
    let q = x * x / 4
    var k = 1.0
    while term > 1e-17 * sum {
        term *= q / (k * k)
        sum += term
        k += 1
    }
    return sum
}
