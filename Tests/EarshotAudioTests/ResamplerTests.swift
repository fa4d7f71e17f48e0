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

    /// The swr-compatible filter has unit DC gain in every phase (as libswresample normalises them).
    @Test func ffmpegFilterHasUnitDCGain() throws {
        for rate in [48000, 44100, 22050] {
            let r = try Resampler(from: rate, to: 16000, quality: .ffmpeg)
            let y = r.resample([Float](repeating: 0.25, count: rate / 2))
            for v in y[(y.count / 4)..<(3 * y.count / 4)] { #expect(abs(v - 0.25) < 1e-6) }
        }
    }

    /// Converting a range with just its input span gives exactly the same samples as converting the
    /// whole signal (what `AudioWindowReader` relies on).
    @Test(arguments: [48000, 44100, 44056, 8000, 16000])
    func rangesMatchTheWholeSignal(_ rate: Int) throws {
        let r = try Resampler(from: rate, to: 16000)
        let x = LaneFFTTests.signal(rate / 2, seed: 5)[0]
        let whole = r.resample(x)
        #expect(whole.count == r.outputCount(forInput: x.count))
        for range in [0..<100, 1234..<3000, (whole.count - 50)..<whole.count] {
            let need = r.inputRange(forOutput: range).clamped(to: 0..<x.count)
            let part = r.resample(Array(x[need]), inputStart: need.lowerBound, outputRange: range)
            #expect(part == Array(whole[range]), "\(rate) Hz, range \(range)")
        }
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
}
