// The lane-parallel FFTs against a naive O(n²) DFT in Double.
@testable import EarshotAudio
import Foundation
import Testing

@Suite struct LaneFFTTests {
    /// Deterministic pseudo-random lanes in [-1, 1).
    static func signal(_ n: Int, seed: UInt64) -> [[Float]] {
        var state = seed
        return (0..<8).map { _ in
            (0..<n).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int64(bitPattern: state >> 11) % 1_000_000) / 1_000_000
            }
        }
    }

    /// Every size built from radices 2, 3, 4, 5 (200 is the one the mel uses). Tolerance: float32 FFT
    /// error grows like ε·log n·Σ|x|; 2e-6·Σ|x| is several times the observed error.
    @Test(arguments: [2, 3, 4, 5, 8, 12, 30, 45, 60, 100, 200, 400])
    func complexMatchesNaiveDFT(_ n: Int) throws {
        let fft = try #require(LaneComplexFFT(size: n))
        let re = Self.signal(n, seed: UInt64(n)), im = Self.signal(n, seed: UInt64(n) + 99)
        let bufRe = UnsafeMutablePointer<Lanes>.allocate(capacity: n), bufIm = UnsafeMutablePointer<Lanes>.allocate(capacity: n)
        let scratch = UnsafeMutablePointer<Lanes>.allocate(capacity: 2 * n)
        defer { bufRe.deallocate(); bufIm.deallocate(); scratch.deallocate() }
        for i in 0..<n {
            bufRe[i] = Lanes((0..<8).map { re[$0][i] })
            bufIm[i] = Lanes((0..<8).map { im[$0][i] })
        }
        fft.forward(bufRe, bufIm, scratch: scratch, scratch + n)
        for lane in 0..<8 {
            let scale = (0..<n).reduce(0.0) { $0 + Double(abs(re[lane][$1]) + abs(im[lane][$1])) }
            for k in 0..<n {
                var sr = 0.0, si = 0.0
                for j in 0..<n {
                    let a = -2 * Double.pi * Double(j * k % n) / Double(n)
                    sr += Double(re[lane][j]) * cos(a) - Double(im[lane][j]) * sin(a)
                    si += Double(re[lane][j]) * sin(a) + Double(im[lane][j]) * cos(a)
                }
                #expect(abs(Double(bufRe[k][lane]) - sr) <= 2e-6 * scale, "n \(n) k \(k) lane \(lane)")
                #expect(abs(Double(bufIm[k][lane]) - si) <= 2e-6 * scale, "n \(n) k \(k) lane \(lane)")
            }
        }
    }

    @Test func rejectsOtherPrimeFactors() {
        #expect(LaneComplexFFT(size: 7) == nil)
        #expect(LaneComplexFFT(size: 2 * 11) == nil)
        #expect(LaneRealPowerFFT(length: 401) == nil)
    }

    /// The real 400-point power spectrum used by the log-mel: |X[k]|², k = 0 … 200. Compared as
    /// amplitudes |X| with the same 2e-6·Σ|x| bound.
    @Test(arguments: [400, 40, 24])
    func realPowerMatchesNaiveDFT(_ n: Int) throws {
        let fft = try #require(LaneRealPowerFFT(length: n))
        let x = Self.signal(n, seed: 7 &* UInt64(n))
        let half = n / 2
        let re = UnsafeMutablePointer<Lanes>.allocate(capacity: half), im = UnsafeMutablePointer<Lanes>.allocate(capacity: half)
        let scratch = UnsafeMutablePointer<Lanes>.allocate(capacity: 2 * half), power = UnsafeMutablePointer<Lanes>.allocate(capacity: half + 1)
        defer { re.deallocate(); im.deallocate(); scratch.deallocate(); power.deallocate() }
        for m in 0..<half {
            re[m] = Lanes((0..<8).map { x[$0][2 * m] })
            im[m] = Lanes((0..<8).map { x[$0][2 * m + 1] })
        }
        fft.power(re: re, im: im, scratch: scratch, power: power)
        for lane in 0..<8 {
            let scale = x[lane].reduce(0.0) { $0 + Double(abs($1)) }
            for k in 0...half {
                var sr = 0.0, si = 0.0
                for j in 0..<n {
                    let a = -2 * Double.pi * Double(j * k % n) / Double(n)
                    sr += Double(x[lane][j]) * cos(a)
                    si += Double(x[lane][j]) * sin(a)
                }
                let amplitude = Double(power[k][lane]).squareRoot()
                #expect(abs(amplitude - (sr * sr + si * si).squareRoot()) <= 2e-6 * scale, "n \(n) k \(k) lane \(lane)")
            }
        }
    }
}
