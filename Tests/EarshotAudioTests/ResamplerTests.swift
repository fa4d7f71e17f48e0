// Resampler quality measured with pure tones: passband gain, and everything that is not the wanted
// tone (aliases, images, filter error) relative to the input amplitude.
@testable import EarshotAudio
import Foundation
import Testing

@Suite struct ResamplerTests {
    /// amplitude·sin(2π·f·n/rate) for n < count.
    static func tone(_ f: Double, rate: Int, seconds: Double = 0.5, amplitude: Double = 0.5) -> [Float] {
        (0..<Int(seconds * Double(rate))).map { Float(amplitude * sin(2 * Double.pi * f * Double($0) / Double(rate))) }
    }

    /// Least-squares fit of a·sin + b·cos at `f` over the interior (away from the zero-padded ends);
    /// returns the fitted amplitude and the RMS of what is left.
    static func fit(_ y: [Float], f: Double, rate: Int) -> (amplitude: Double, residualRMS: Double) {
        let lo = y.count / 5, hi = y.count - y.count / 5
        var ss = 0.0, cc = 0.0, sc = 0.0, ys = 0.0, yc = 0.0
        for n in lo..<hi {
            let w = 2 * Double.pi * f * Double(n) / Double(rate), s = sin(w), c = cos(w), v = Double(y[n])
            ss += s * s; cc += c * c; sc += s * c; ys += v * s; yc += v * c
        }
        let det = ss * cc - sc * sc
        let a = det.magnitude < 1e-9 ? 0 : (ys * cc - yc * sc) / det
        let b = det.magnitude < 1e-9 ? 0 : (yc * ss - ys * sc) / det
        var r = 0.0
        for n in lo..<hi {
            let w = 2 * Double.pi * f * Double(n) / Double(rate)
            let e = Double(y[n]) - a * sin(w) - b * cos(w)
            r += e * e
        }
        return ((a * a + b * b).squareRoot(), (r / Double(hi - lo)).squareRoot())
    }

    static func dB(_ x: Double) -> Double { 20 * log10(max(x, 1e-20)) }

    /// Passband to 7.2 kHz: gain within ±0.01 dB, and the residual (aliasing + error) ≤ −80 dB
    /// of the tone's RMS. 48 k (L/M = 1/3), 44.1 k (160/441 exact phases), 44 056 (interpolated
    /// phases), 22.05 k.
    @Test(arguments: [48000, 44100, 44056, 22050])
    func passbandIsFlatAndClean(_ rate: Int) throws {
        let r = try Resampler(from: rate, to: 16000)
        var worstGain = 0.0, worstResidual = -300.0
        defer { print("[resampler] \(rate) → 16000 passband: worst gain error \(worstGain) dB, worst residual \(worstResidual) dB") }
        for f in [100.0, 1000, 3000, 5500, 7200] {
            let y = r.resample(Self.tone(f, rate: rate))
            let (amp, residual) = Self.fit(y, f: f, rate: 16000)
            worstGain = max(worstGain, abs(Self.dB(amp / 0.5)))
            worstResidual = max(worstResidual, Self.dB(residual / (0.5 / 2.squareRoot())))
            #expect(abs(Self.dB(amp / 0.5)) < 0.01, "\(rate) Hz, tone \(f): gain \(Self.dB(amp / 0.5)) dB")
            #expect(Self.dB(residual / (0.5 / 2.squareRoot())) < -80, "\(rate) Hz, tone \(f): residual \(Self.dB(residual / 0.3535)) dB")
        }
    }

    /// Stopband from 8 kHz: tones at and above the output Nyquist frequency leave ≤ −80 dB (RMS of the
    /// whole interior output against the tone's RMS).
    @Test(arguments: [48000, 44100, 44056])
    func stopbandIsBelowMinus80dB(_ rate: Int) throws {
        let r = try Resampler(from: rate, to: 16000)
        var worst = -300.0
        defer { print("[resampler] \(rate) → 16000 stopband (≥ 8 kHz): worst \(worst) dB") }
        for f in [8000.0, 8100, 9000, 12000, 15999, 20000] {
            let y = r.resample(Self.tone(f, rate: rate))
            let inner = y[(y.count / 5)..<(y.count - y.count / 5)]
            let rms = (inner.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(inner.count)).squareRoot()
            worst = max(worst, Self.dB(rms / (0.5 / 2.squareRoot())))
            #expect(Self.dB(rms / (0.5 / 2.squareRoot())) < -80, "\(rate) Hz, tone \(f): \(Self.dB(rms / 0.3535)) dB")
        }
    }

    /// Upsampling 8 kHz → 16 kHz: passband to 3.6 kHz, images above 4 kHz ≤ −80 dB.
    @Test func upsamplingSuppressesImages() throws {
        let r = try Resampler(from: 8000, to: 16000)
        for f in [200.0, 1000, 3600] {
            let y = r.resample(Self.tone(f, rate: 8000))
            #expect(y.count == 2 * 4000)
            let (amp, residual) = Self.fit(y, f: f, rate: 16000)
            #expect(abs(Self.dB(amp / 0.5)) < 0.01)
            #expect(Self.dB(residual / 0.3535) < -80, "tone \(f): residual \(Self.dB(residual / 0.3535)) dB")
        }
    }

    /// libswresample divides every phase by phase 0's DC gain (not by its own): a constant comes out
    /// exactly from phase 0 and within the phases' gain spread elsewhere (measured ≤ 1.1e-5, at 8 kHz).
    @Test(arguments: [48000, 44100, 22050, 8000])
    func ffmpegFilterDCGain(_ rate: Int) throws {
        let r = try Resampler(from: rate, to: 16000, quality: .ffmpeg)
        let y = r.resample([Float](repeating: 0.25, count: rate / 2))
        var worst: Float = 0
        for v in y[(y.count / 4)..<(3 * y.count / 4)] { worst = max(worst, abs(v - 0.25) / 0.25) }
        print("[resampler] \(rate) → 16000 .ffmpeg: DC gain error ≤ \(worst)")
        #expect(worst <= 1e-4)
        #expect(abs(y[y.count / 2 - (y.count / 2) % (16000 / gcd(16000, rate))] - 0.25) <= 1e-7, "phase 0")
    }

    /// Converting a range with just its input span (and the signal length when that span reaches the
    /// end) gives exactly the same samples as converting the whole signal (what `AudioWindowReader`
    /// relies on), for both designs and both arithmetics.
    @Test(arguments: [48000, 44100, 44056, 8000, 16000])
    func rangesMatchTheWholeSignal(_ rate: Int) throws {
        for quality in [Resampler.Quality.standard, .ffmpeg] {
            let r = try Resampler(from: rate, to: 16000, quality: quality)
            let x = LaneFFTTests.signal(rate / 2, seed: 5)[0].map { ($0 * 8000).rounded() / 32768 }
            for arithmetic in [Resampler.Arithmetic.float, .int16] {
                let whole = r.resample(x, arithmetic: arithmetic)
                #expect(whole.count == r.outputCount(forInput: x.count))
                for range in [0..<100, 1234..<3000, (whole.count - 50)..<whole.count, (whole.count - 1)..<whole.count] {
                    let need = r.inputRange(forOutput: range).clamped(to: 0..<x.count)
                    let part = r.resample(Array(x[need]), inputStart: need.lowerBound, outputRange: range,
                                          signalLength: need.upperBound == x.count ? x.count : nil, arithmetic: arithmetic)
                    #expect(part == Array(whole[range]), "\(rate) Hz, \(quality), \(arithmetic), range \(range)")
                }
            }
        }
    }

    /// The int16 arithmetic is swr's S16P path: int16-valued, and close to the float path rounded (its
    /// coefficients carry 15 bits; measured ≤ 2 LSB on this signal, bound 3).
    @Test(arguments: [48000, 44100, 22050, 8000])
    func int16ArithmeticIsCloseToFloat(_ rate: Int) throws {
        let r = try Resampler(from: rate, to: 16000, quality: .ffmpeg)
        let x = LaneFFTTests.signal(rate / 4, seed: 9)[0].map { ($0 * 8000).rounded() / 32768 }
        let i16 = r.resample(x, arithmetic: .int16)
        var f = r.resample(x)
        Resampler.quantizeToInt16(&f)
        #expect(i16.count == f.count)
        var worst: Float = 0
        for (a, b) in zip(i16, f) {
            #expect((a * 32768).rounded() == a * 32768)
            worst = max(worst, abs(a - b) * 32768)
        }
        print("[resampler] \(rate) → 16000 int16 vs float path: max |Δ| \(worst) LSB")
        #expect(worst <= 3)
    }

    @Test func int16QuantizationMatchesFfmpeg() {
        var x: [Float] = [0, 1, -1, 2, 0.5 / 32768, 1.5 / 32768, -1.5 / 32768, 0.3, 1e-6]
        Resampler.quantizeToInt16(&x)
        // lrintf rounds half to even; +1.0 saturates at 32767.
        let codes: [Float] = [0, 32767, -32768, 32767, 0, 2, -2, 9830, 0]
        #expect(x == codes.map { $0 / 32768 })
    }

    @Test func rejectsBadRates() {
        #expect(throws: AudioError.invalidSampleRate(0)) { try Resampler(from: 0) }
        #expect(throws: AudioError.invalidSampleRate(-8000)) { try Resampler(from: 16000, to: -8000) }
    }

    /// Designs out of range, and rate pairs whose filter bank would be huge, are refused with a reason.
    @Test func rejectsBadDesigns() {
        let bad: [(Int, Int, Resampler.Quality)] = [
            (48000, 16000, .swrCompatible(cutoff: 0, filterSize: 32, beta: 9)),
            (48000, 16000, .swrCompatible(cutoff: 0.97, filterSize: 0, beta: 9)),
            (48000, 16000, .swrCompatible(cutoff: .nan, filterSize: 32, beta: 9)),
            (48000, 16000, .bandEdges(passband: 0.9, stopband: 0.5, attenuationDB: 90)),
            (1_000_000, 1, .ffmpeg),           // 32 M taps
            (48000, 16000, .bandEdges(passband: 0.9, stopband: 0.9000001, attenuationDB: 200)),  // 4·10^7 taps
        ]
        for (from, to, quality) in bad {
            #expect(throws: AudioError.self, "\(from) → \(to), \(quality)") { try Resampler(from: from, to: to, quality: quality) }
        }
        #expect(throws: Never.self) { try Resampler(from: 8000, to: 16000, quality: .ffmpeg) }
    }
}
