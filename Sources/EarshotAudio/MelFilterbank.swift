// MelFilterbank: the Slaney-style triangular mel filters of librosa `filters.mel` (Whisper, Qwen-Audio,
// Qwen2-Audio), computed in code for any bin count, stored sparsely (each filter is non-zero on a short
// run of FFT bins).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mel filterbank [bins × fftBins] (fftBins = nFFT/2 + 1 = 201), dense and as non-zero runs.
public struct MelFilterbank: Sendable {
    public let bins: Int
    public let fftBins: Int
    /// Dense [bins × fftBins] row-major float32, as in `mel_filters.npz` / the `.ear` blob `mel_filters`.
    public let dense: [Float]
    /// For filter b: its non-zero FFT bins are `runStart[b] ..< runStart[b] + runLength[b]`, and their
    /// weights sit in `runWeights` from `runOffset[b]`.
    let runStart: [Int], runLength: [Int], runOffset: [Int]
    let runWeights: [Float]

    /// Computes the filters the reference uses: librosa `filters.mel(sr, n_fft, n_mels, fmin 0,
    /// fmax sr/2, htk false, norm "slaney")` in float64, rounded to float32. Slaney scale: linear below
    /// 1 kHz (200/3 Hz per mel), logarithmic above (ln 6.4 / 27 per mel); triangles on the FFT bin
    /// centres k·sr/n_fft; each scaled by 2 / (f[i+2] − f[i]).
    public static func slaney(bins: Int, sampleRate: Int = 16000, nFFT: Int = 400) -> MelFilterbank {
        let fftBins = nFFT / 2 + 1
        let fmax = Double(sampleRate) / 2
        let melMax = hzToMel(fmax)
        let points = (0..<(bins + 2)).map { melToHz(melMax * Double($0) / Double(bins + 1)) }
        var dense = [Float](repeating: 0, count: bins * fftBins)
        for i in 0..<bins {
            let lowerWidth = points[i + 1] - points[i], upperWidth = points[i + 2] - points[i + 1]
            let norm = 2 / (points[i + 2] - points[i])
            for k in 0..<fftBins {
                let f = Double(k) * Double(sampleRate) / Double(nFFT)
                let lower = (f - points[i]) / lowerWidth
                let upper = (points[i + 2] - f) / upperWidth
                let w = max(0, min(lower, upper))
                dense[i * fftBins + k] = Float(w * norm)
            }
        }
        return MelFilterbank(dense: dense, bins: bins, fftBins: fftBins)
    }

    /// Wraps given filters (e.g. the `.ear` blob or `mel_filters.npz`), shape [bins × fftBins] row-major.
    public init(dense: [Float], bins: Int, fftBins: Int = 201) {
        precondition(dense.count == bins * fftBins, "filterbank shape checked by the throwing factory")
        self.bins = bins
        self.fftBins = fftBins
        self.dense = dense
        var starts: [Int] = [], lengths: [Int] = [], offsets: [Int] = [], weights: [Float] = []
        for b in 0..<bins {
            let row = dense[(b * fftBins)..<((b + 1) * fftBins)]
            let first = row.firstIndex(where: { $0 != 0 }) ?? row.startIndex
            let last = row.lastIndex(where: { $0 != 0 }) ?? (row.startIndex - 1)
            starts.append(first - b * fftBins)
            lengths.append(max(0, last - first + 1))
            offsets.append(weights.count)
            if last >= first { weights.append(contentsOf: row[first...last]) }
        }
        runStart = starts; runLength = lengths; runOffset = offsets; runWeights = weights
    }

    /// Validating version of `init(dense:bins:fftBins:)` for filters read from files.
    public static func checked(dense: [Float], bins: Int, fftBins: Int = 201) throws(AudioError) -> MelFilterbank {
        guard dense.count == bins * fftBins else {
            throw .filterShapeMismatch(expected: bins * fftBins, actual: dense.count)
        }
        return MelFilterbank(dense: dense, bins: bins, fftBins: fftBins)
    }

    /// Slaney mel scale (librosa `hz_to_mel`, htk = false).
    static func hzToMel(_ f: Double) -> Double {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return f >= minLogHz ? minLogMel + log(f / minLogHz) / logStep : f / fSp
    }

    /// Inverse of `hzToMel`.
    static func melToHz(_ m: Double) -> Double {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return m >= minLogMel ? minLogHz * exp(logStep * (m - minLogMel)) : fSp * m
    }
}
