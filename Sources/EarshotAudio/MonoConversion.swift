// MonoConversion: decoded frames → 16 kHz mono, in the order and arithmetic of the reference's
// `ffmpeg -ac 1 -ar 16000 -f s16le` (libswresample, default options), so Earshot's samples equal ffmpeg's:
//
// - 8/16-bit sources (`SampleEncoding.int16`) are resampled in swr's int16 arithmetic, the rest in float;
// - stereo is resampled channel by channel, then mixed: int16 as (16384·(L + R) + 16384) >> 15 (rounds
//   halves up), float as L/2 + R/2; at 16 kHz the mix alone;
// - float results are rounded to int16 (lrintf); a 24/32-bit mono file already at 16 kHz is instead cut
//   to 16 bits by swr's s32 → s16 shift (rounds down).
//
// Measured bit-exact against ffmpeg 5.1 for mono 8–48 kHz (16- and 24-bit) and stereo 8/16/44.1 kHz
// (`Tests/EarshotAudioTests/RateGoldenTests.swift`). Not reproduced: more than two channels (ffmpeg mixes
// with surround levels; here the channels are averaged) and options other than the defaults (no int16
// rounding, or the `.standard` filter), which average the channels and stay in float.

/// How one file becomes 16 kHz mono samples.
struct MonoConversion: Sendable {
    /// True: per-channel swr path in `arithmetic`; false: average to mono, float resampling.
    let followsReference: Bool
    let arithmetic: Resampler.Arithmetic
    /// Channels the conversion reads (1 when it reads the averaged mono signal).
    let channels: Int
    /// nil when the file is already at 16 kHz.
    let resampler: Resampler?
    let quantize: Bool
    /// s32 mono at 16 kHz: swr's plain >> 16 instead of rounding.
    let truncates: Bool

    init(file: AudioFile, options: AudioLoader.Options) throws(AudioError) {
        let swr: Bool
        if case .swrCompatible = options.resampling { swr = true } else { swr = false }
        followsReference = swr && options.quantizeToInt16 && file.channels <= 2
        arithmetic = followsReference && file.sampleEncoding == .int16 ? .int16 : .float
        channels = followsReference ? file.channels : 1
        resampler = file.sampleRate == AudioLoader.targetRate ? nil
            : try Resampler(from: file.sampleRate, to: AudioLoader.targetRate, quality: options.resampling)
        quantize = options.quantizeToInt16
        truncates = followsReference && resampler == nil && channels == 1 && file.sampleEncoding == .int32
    }

    /// Reads frames [start, start + count) the way `convert` wants them: [channels][frames].
    func read(_ file: AudioFile, from start: Int, count: Int?) throws(AudioError) -> [[Float]] {
        channels == 1 ? [try file.readMono(from: start, count: count)] : try file.readChannels(from: start, count: count)
    }

    func outputCount(forInput n: Int) -> Int { resampler?.outputCount(forInput: n) ?? n }

    func inputRange(forOutput range: Range<Int>) -> Range<Int> { resampler?.inputRange(forOutput: range) ?? range }

    /// 16 kHz mono samples `outputRange` from `source` ([channels][frames], whose first frame is frame
    /// `inputStart` of the file; `signalLength` = the file's frame count when `source` reaches its end).
    func convert(_ source: [[Float]], inputStart: Int, outputRange: Range<Int>, signalLength: Int?) -> [Float] {
        let perChannel = source.map { x -> [Float] in
            guard let resampler else {
                return outputRange.map { i in
                    let k = i - inputStart
                    return k >= 0 && k < x.count ? x[k] : 0
                }
            }
            return resampler.resample(x, inputStart: inputStart, outputRange: outputRange, signalLength: signalLength,
                                      arithmetic: arithmetic)
        }
        var mono = perChannel.count == 2 ? mix(perChannel[0], perChannel[1]) : perChannel[0]
        guard quantize, arithmetic == .float else { return mono }
        if truncates {
            for i in mono.indices { mono[i] = (mono[i] * 32768).rounded(.down) * (1 / 32768) }
        } else {
            Resampler.quantizeToInt16(&mono)
        }
        return mono
    }

    /// swr's stereo → mono rematrix (matrix ½, ½) in the conversion's arithmetic.
    private func mix(_ l: [Float], _ r: [Float]) -> [Float] {
        switch arithmetic {
        case .float:
            return zip(l, r).map { $0 * 0.5 + $1 * 0.5 }
        case .int16:
            return zip(l, r).map { a, b in
                let sum = Int32((a * 32768).rounded()) + Int32((b * 32768).rounded())
                return Float((16384 * sum + 16384) >> 15) * (1 / 32768)
            }
        }
    }
}
