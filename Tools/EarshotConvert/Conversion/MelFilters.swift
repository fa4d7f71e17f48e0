// MelFilters: the 80 × 201 Slaney mel filterbank Qwen-Audio uses, computed like librosa
// (`filters.mel(sr=16000, n_fft=400, n_mels=80)`: Slaney scale, fmin 0, fmax sr/2, Slaney area norm).
//
// Used when a checkpoint has no `mel_filters.npz`. librosa works in float64 and stores float32:
// the triangle is rounded to float32, then multiplied (in float64) by the norm and rounded again.

public enum MelFilters {
    /// Row-major [nMels × (nFFT/2 + 1)] float32.
    public static func slaney(sampleRate: Int = 16000, nFFT: Int = 400, nMels: Int = 80) -> [Float] {
        let bins = nFFT / 2 + 1
        let fmax = Double(sampleRate) / 2
        let fftFreqs = (0..<bins).map { Double($0) * (fmax / Double(bins - 1)) }
        let melMax = hzToMel(fmax), melMin = hzToMel(0)
        // np.linspace: i · step + start, the last point set to stop exactly.
        let step = (melMax - melMin) / Double(nMels + 1)
        var mels = (0..<(nMels + 2)).map { Double($0) * step + melMin }
        mels[nMels + 1] = melMax
        let melF = mels.map(melToHz)
        var w = [Float](repeating: 0, count: nMels * bins)
        for i in 0..<nMels {
            let fdiffLo = melF[i + 1] - melF[i], fdiffHi = melF[i + 2] - melF[i + 1]
            let enorm = 2.0 / (melF[i + 2] - melF[i])
            for k in 0..<bins {
                let lower = -(melF[i] - fftFreqs[k]) / fdiffLo
                let upper = (melF[i + 2] - fftFreqs[k]) / fdiffHi
                let tri = Float(max(0, min(lower, upper)))
                w[i * bins + k] = Float(Double(tri) * enorm)
            }
        }
        return w
    }

    static let fSp = 200.0 / 3, minLogHz = 1000.0
    static let logStep = _log(6.4) / 27

    static func hzToMel(_ f: Double) -> Double {
        let minLogMel = minLogHz / fSp
        return f >= minLogHz ? minLogMel + _log(f / minLogHz) / logStep : f / fSp
    }

    static func melToHz(_ m: Double) -> Double {
        let minLogMel = minLogHz / fSp
        return m >= minLogMel ? minLogHz * _exp(logStep * (m - minLogMel)) : fSp * m
    }
}

#if canImport(Glibc)
import Glibc
private func _log(_ x: Double) -> Double { Glibc.log(x) }
private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Darwin
private func _log(_ x: Double) -> Double { Darwin.log(x) }
private func _exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
