// Resampler: polyphase sample-rate conversion (any rate → 16 kHz) that reproduces ffmpeg's default
// libswresample output bit for bit (`Quality.ffmpeg`, the filter, timing, edges and both arithmetics the
// Qwen-Audio reference's `ffmpeg … -ar 16000` call used), or a sharper alias-free Kaiser design
// (`Quality.standard`).
//
// Timing (swr's): rates reduce to (src, dst) = (out, in · phases) / gcd; output n sits at
// pos = floor(n · dst / src) in units of 1/phases input samples, reads phase row p = pos mod phases over
// inputs q − center … q − center + taps − 1 (q = pos div phases), and, when the phase count is not exact,
// blends with row p + 1 by frac = n · dst mod src (over src).
//
// Edges (swr's): before the signal, x[−k] = x[k]; after it, R = (min(left, taps) + 1) / 2 samples
// mirrored (x[N + j] = x[N − 1 − j]), where `left` counts the inputs from the window start of the first
// output that did not fit inside the signal; outputs stop when their window would pass N + R. Signals
// shorter than taps + 1 samples are mirrored as a whole (x, then its (N + 1) / 2 last samples reversed)
// and give nothing at all when even that is shorter than taps + 1, as ffmpeg does.
//
// Quality (`.standard`, measured in `ResamplerTests`): flat passband up to 90 % of the lower Nyquist
// frequency (ripple < 0.01 dB), stopband from the lower Nyquist frequency on, ≥ 80 dB down. `.ffmpeg`
// has a soft transition instead (≈ 7.76–9 kHz for 48 → 16 kHz, some aliasing into 7–8 kHz): that is
// what the reference heard.
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
        /// libswresample's filter (`build_filter`): sinc cut at `cutoff` × out/in (capped at the input
        /// Nyquist frequency), `filterSize` taps per output-rate sample, Kaiser β, phases normalised by
        /// phase 0's DC gain. With the defaults (`.ffmpeg`) output equals ffmpeg's bit for bit.
        case swrCompatible(cutoff: Double, filterSize: Int, beta: Double)

        /// 7.2 kHz passband, ≥ 80 dB from 8 kHz on (no aliasing): `init`'s default.
        public static let standard = Quality.bandEdges(passband: 0.90, stopband: 1.0, attenuationDB: 90)
        /// ffmpeg's defaults (cutoff 0.97, filter_size 32, β 9), the resampler the reference used (`AudioLoader`'s default).
        public static let ffmpeg = Quality.swrCompatible(cutoff: 0.97, filterSize: 32, beta: 9)
    }

    /// Arithmetic of the conversion, as libswresample picks it from the decoded sample format.
    public enum Arithmetic: Sendable, Equatable {
        /// Float coefficients and sums (swr's FLTP path, for float, 24- and 32-bit sources).
        case float
        /// 15-bit integer coefficients, exact int32 sums, output rounded to int16 (swr's S16P path, for
        /// 8- and 16-bit sources). Input samples are int16 / 32768; `.swrCompatible` designs only.
        case int16
    }

    public let inputRate: Int
    public let outputRate: Int
    public let quality: Quality
    /// Taps per phase and the tap that sits on input sample q at phase 0.
    public var taps: Int { bank.taps }
    public var center: Int { bank.center }
    /// Phases in the bank (out / gcd, or 1024 with interpolation).
    public var phases: Int { bank.phases }
    /// True when the phase count is not exact and outputs blend two phases.
    public var interpolates: Bool { dstIncr % srcIncr != 0 }

    let bank: ResamplerBank
    /// pos(n) = floor(n · dstIncr / srcIncr) in 1/phases input samples.
    let srcIncr: Int, dstIncr: Int
    let inverseSrc: Float

    /// Most phases a bank holds (swr's 1 << phase_shift, phase_shift 10).
    static let maxPhases = 1024
    /// Longest signal the timing arithmetic takes (2^40 samples, 12 days at 1 MHz); longer counts are cut.
    static let maxSignal = 1 << 40

    public init(from inputRate: Int, to outputRate: Int = 16000, quality: Quality = .standard) throws(AudioError) {
        guard inputRate > 0, inputRate <= 1_000_000 else { throw .invalidSampleRate(inputRate) }
        guard outputRate > 0, outputRate <= 1_000_000 else { throw .invalidSampleRate(outputRate) }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.quality = quality
        let phases = ResamplerBank.phases(inputRate: inputRate, outputRate: outputRate, maxPhases: Resampler.maxPhases)
        /// Refuses banks whose (phases + 1) × stride coefficients pass the cap.
        func checkSize(_ taps: Int?) throws(AudioError) -> Int {
            guard let taps, taps <= ResamplerBank.maxCoefficients / (phases + 1) - 8 else {
                throw .invalidResamplerDesign("\(inputRate) → \(outputRate) Hz needs a filter bank of more than \(ResamplerBank.maxCoefficients) coefficients")
            }
            return taps
        }
        switch quality {
        case .bandEdges(let passband, let stopband, let a):
            guard passband > 0, passband < stopband, stopband <= 2, a >= 10, a <= 200 else {
                throw .invalidResamplerDesign("band edges \(passband)–\(stopband) of the lower Nyquist frequency, \(a) dB (need 0 < passband < stopband ≤ 2, 10–200 dB)")
            }
            let half = ResamplerBank.kaiserHalfWidth(inputRate: inputRate, outputRate: outputRate, passband: passband,
                                                     stopband: stopband, attenuationDB: a)
            _ = try checkSize(half < Double(ResamplerBank.maxCoefficients) ? 2 * Int(half.rounded(.up)) + 1 : nil)
            bank = .kaiser(inputRate: inputRate, outputRate: outputRate, passband: passband, stopband: stopband,
                           attenuationDB: a, maxPhases: Resampler.maxPhases)
        case .swrCompatible(let cutoff, let filterSize, let beta):
            guard cutoff > 0, cutoff <= 1, filterSize >= 1, filterSize <= 1024, beta >= 0, beta <= 100 else {
                throw .invalidResamplerDesign("cutoff \(cutoff), filter size \(filterSize), β \(beta) (need 0 < cutoff ≤ 1, 1–1024 taps, 0 ≤ β ≤ 100)")
            }
            let taps = try checkSize(ResamplerBank.swrTaps(inputRate: inputRate, outputRate: outputRate, cutoff: cutoff,
                                                           filterSize: filterSize))
            bank = .swr(inputRate: inputRate, outputRate: outputRate, cutoff: cutoff, taps: taps, beta: beta,
                        maxPhases: Resampler.maxPhases)
        }
        let g = gcd(outputRate, inputRate * bank.phases)
        srcIncr = outputRate / g
        dstIncr = inputRate * bank.phases / g
        inverseSrc = 1 / Float(srcIncr)
    }

    // MARK: - Timing

    /// First input sample output n reads (its window start, may be negative), its phase and blend.
    @inline(__always)
    func position(_ n: Int) -> (start: Int, phase: Int, frac: Int) {
        // n · dstIncr in 128 bits: it passes 2^63 for hours of audio at MHz rates.
        let t = n.multipliedFullWidth(by: dstIncr)
        let (pos, frac) = srcIncr.dividingFullWidth((t.high, t.low))
        let q = pos / bank.phases
        return (q - bank.center, pos - q * bank.phases, frac)
    }

    /// Outputs whose window start s satisfies s + taps ≤ limit, i.e. pos < (limit − taps + center + 1) · phases.
    func outputsFitting(_ limit: Int) -> Int {
        let k = (limit - bank.taps + bank.center + 1) * bank.phases
        guard k > 0 else { return 0 }
        // ceil(k · srcIncr / dstIncr), the product in 128 bits.
        let p = k.multipliedFullWidth(by: srcIncr)
        let (q, r) = dstIncr.dividingFullWidth((p.high, p.low))
        return r == 0 ? q : q + 1
    }

    /// How the signal of `n` samples continues past its end, and how many outputs it gives.
    func ending(_ n: Int) -> (reflected: Int, outputs: Int) {
        guard n > 0 else { return (0, 0) }
        let n = min(n, Resampler.maxSignal)
        let reflected: Int
        if n < bank.taps + 1 {
            reflected = (n + 1) / 2
            if n + reflected < bank.taps + 1 { return (reflected, 0) }
        } else {
            let left = n - position(outputsFitting(n)).start
            reflected = (min(left, bank.taps) + 1) / 2
        }
        return (reflected, outputsFitting(n + reflected))
    }

    /// Output samples produced for `inputCount` input samples (≈ inputCount · out / in; swr's rule at the end).
    public func outputCount(forInput inputCount: Int) -> Int {
        if inputRate == outputRate { return max(0, inputCount) }
        return ending(inputCount).outputs
    }

    /// Input samples output range `range` reads (before clipping to the signal): supply them, clipped
    /// to the signal, to `resample(_:inputStart:outputRange:signalLength:)`.
    public func inputRange(forOutput range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return 0..<0 }
        if inputRate == outputRate { return range }
        let first = position(range.lowerBound).start, last = position(range.upperBound - 1).start
        // The end mirror reads back at most (taps + 1) / 2 samples from the last window's end.
        let mirrorLow = last + bank.taps - 2 * ((bank.taps + 1) / 2)
        return min(first, mirrorLow)..<(last + bank.taps)
    }

    // MARK: - Conversion

    /// Resamples a whole signal: [n] → [outputCount(forInput: n)]. With `.int16`, `input` holds int16 / 32768
    /// values and so does the result.
    public func resample(_ input: [Float], arithmetic: Arithmetic = .float) -> [Float] {
        if inputRate == outputRate { return input }
        return resample(input, inputStart: 0, outputRange: 0..<outputCount(forInput: input.count),
                        signalLength: input.count, arithmetic: arithmetic)
    }

    /// Computes output samples `outputRange` from `input`, whose first element is input sample
    /// `inputStart` of the whole signal. `signalLength` is the whole signal's length when `input` reaches
    /// its end (the end is mirrored as swr does), nil when the signal goes on past `input`. Giving
    /// `inputRange(forOutput:)` clipped to the signal reproduces `resample(whole)[outputRange]` exactly,
    /// which is how long files are converted one window at a time. Samples the call needs but `input`
    /// lacks count as zero.
    public func resample(_ input: [Float], inputStart: Int, outputRange: Range<Int>, signalLength: Int? = nil,
                         arithmetic: Arithmetic = .float) -> [Float] {
        guard !outputRange.isEmpty else { return [] }
        if inputRate == outputRate {
            return outputRange.map { i in
                let j = i - inputStart
                return j >= 0 && j < input.count ? input[j] : 0
            }
        }
        let span = windowSpan(outputRange)
        let reflected = signalLength.map { ending($0).reflected } ?? 0
        if arithmetic == .int16 && !bank.int16.isEmpty {
            let x = input.withUnsafeBufferPointer { b in
                extend(b, inputStart: inputStart, span: span, signalLength: signalLength, reflected: reflected) {
                    Int16(clamping: Int(($0 * 32768).rounded(.toNearestOrEven)))
                }
            }
            return runInt16(x, origin: span.lowerBound, outputRange: outputRange)
        }
        let x = input.withUnsafeBufferPointer { b in
            extend(b, inputStart: inputStart, span: span, signalLength: signalLength, reflected: reflected) { $0 }
        }
        var out = runFloat(x, origin: span.lowerBound, outputRange: outputRange)
        if arithmetic == .int16 { Resampler.quantizeToInt16(&out) }
        return out
    }

    /// Input samples the kernels touch for `range`, padded rows included: [first start, last start + stride).
    func windowSpan(_ range: Range<Int>) -> Range<Int> {
        position(range.lowerBound).start..<(position(range.upperBound - 1).start + bank.stride)
    }

    /// The edge-extended signal over `span`, converted by `convert`: the interior copied, the mirrors
    /// before 0 and after the end (when `signalLength` is known) filled in; samples `input` lacks are 0.
    private func extend<T: Numeric>(_ input: UnsafeBufferPointer<Float>, inputStart: Int, span: Range<Int>,
                                    signalLength: Int?, reflected: Int, _ convert: (Float) -> T) -> [T] {
        var out = [T](repeating: 0, count: span.count)
        func sample(_ j: Int) -> T {
            let k = j - inputStart
            return k >= 0 && k < input.count ? convert(input[k]) : 0
        }
        /// The signal extended past its end (mirror, then zeros).
        func tail(_ j: Int) -> T {
            guard let n = signalLength, j >= n else { return sample(j) }
            return j < n + reflected ? sample(2 * n - 1 - j) : 0
        }
        func value(_ j: Int) -> T { j >= 0 ? tail(j) : tail(-j) }
        let lo = max(span.lowerBound, 0, inputStart)
        let hi = min(span.upperBound, signalLength ?? Int.max, inputStart + input.count)
        out.withUnsafeMutableBufferPointer { o in
            if lo < hi {
                for j in lo..<hi { o[j - span.lowerBound] = convert(input[j - inputStart]) }
                for j in span.lowerBound..<lo { o[j - span.lowerBound] = value(j) }
                for j in hi..<span.upperBound { o[j - span.lowerBound] = value(j) }
            } else {
                for j in span { o[j - span.lowerBound] = value(j) }
            }
        }
        return out
    }

    /// Walks output positions as swr does (whole steps and a carried remainder), avoiding a division per output.
    struct Cursor {
        var start: Int, phase: Int, frac: Int
        let stepStart: Int, stepPhase: Int, stepFrac: Int, phases: Int, src: Int

        init(_ r: Resampler, at n: Int) {
            (start, phase, frac) = r.position(n)
            let div = r.dstIncr / r.srcIncr
            stepStart = div / r.bank.phases
            stepPhase = div % r.bank.phases
            stepFrac = r.dstIncr % r.srcIncr
            phases = r.bank.phases
            src = r.srcIncr
        }

        @inline(__always) mutating func advance() {
            start &+= stepStart
            phase &+= stepPhase
            frac &+= stepFrac
            if frac >= src { frac &-= src; phase &+= 1 }
            if phase >= phases { phase &-= phases; start &+= 1 }
        }
    }

    private func runFloat(_ x: [Float], origin: Int, outputRange: Range<Int>) -> [Float] {
        var out = [Float](repeating: 0, count: outputRange.count)
        let stride = bank.stride, blend = interpolates, inverse = inverseSrc
        var c = Cursor(self, at: outputRange.lowerBound)
        x.withUnsafeBufferPointer { xb in
            bank.float.withUnsafeBufferPointer { hb in
                out.withUnsafeMutableBufferPointer { ob in
                    let xp = xb.baseAddress!, hp = hb.baseAddress!
                    for i in 0..<ob.count {
                        let w: Float? = blend && c.frac != 0 ? Float(c.frac) * inverse : nil
                        ob[i] = floatOutput(hp + c.phase * stride, xp + (c.start - origin), stride, weight: w)
                        c.advance()
                    }
                }
            }
        }
        return out
    }

    private func runInt16(_ x: [Int16], origin: Int, outputRange: Range<Int>) -> [Float] {
        var out = [Float](repeating: 0, count: outputRange.count)
        let stride = bank.stride, src = srcIncr
        var c = Cursor(self, at: outputRange.lowerBound)
        x.withUnsafeBufferPointer { xb in
            bank.int16.withUnsafeBufferPointer { hb in
                out.withUnsafeMutableBufferPointer { ob in
                    let xp = xb.baseAddress!, hp = hb.baseAddress!
                    for i in 0..<ob.count {
                        let v = int16Output(hp + c.phase * stride, xp + (c.start - origin), stride, frac: c.frac, src: src)
                        ob[i] = Float(v) * (1 / 32768)
                        c.advance()
                    }
                }
            }
        }
        return out
    }

    /// Rounds samples to 16-bit PCM and back (x → clamp(rint(x · 32768)) / 32768): what ffmpeg does when
    /// it writes float samples as s16 (`lrintf`, round half to even, saturating).
    public static func quantizeToInt16(_ samples: inout [Float]) {
        samples.withUnsafeMutableBufferPointer { b in
            for i in b.indices {
                let v = (b[i] * 32768).rounded(.toNearestOrEven)
                b[i] = min(max(v, -32768), 32767) * (1 / 32768)
            }
        }
    }
}
