// AudioTokenCounts: how many mel frames, encoder frames and LLM audio positions a clip of n samples
// gets (spec §1.7 for Qwen-Audio, §9 for Qwen2-Audio).

/// Length bookkeeping for one clip. Names follow the spec: L, mel_len, L1, N, span.
public struct AudioTokenCounts: Equatable, Sendable {
    /// Samples at 16 kHz before padding/trimming (the decoded count).
    public let samples: Int
    /// Valid mel frames: floor(L / 160) for Qwen-Audio, ceil(L / 160) for Qwen2-Audio (L = min(samples, 480000)).
    public let melLength: Int
    /// Encoder frames after the stride-2 conv: L1 = (mel_len − 1) // 2 + 1.
    public let encoderFrames: Int
    /// Audio embeddings after the 2× average pool: N = (L1 − 2) // 2 + 1.
    public let audioTokens: Int
    /// Positions the clip takes in the token sequence: N + 2 (begin/end-of-audio slots).
    public var span: Int { audioTokens + 2 }

    /// Qwen-Audio (`audio.py`): mel_len = L // 160. 16 000 samples → 100, 50, 25, span 27.
    public static func qwenAudio(samples: Int) -> AudioTokenCounts {
        let l = min(max(samples, 0), LogMelSpectrogram.chunkSamples)
        return AudioTokenCounts(samples: samples, melLength: l / LogMelSpectrogram.hop)
    }

    /// Qwen2-Audio (`WhisperFeatureExtractor` attention mask): mel_len = ceil(L / 160).
    public static func qwen2Audio(samples: Int) -> AudioTokenCounts {
        let l = min(max(samples, 0), LogMelSpectrogram.chunkSamples)
        return AudioTokenCounts(samples: samples, melLength: (l + LogMelSpectrogram.hop - 1) / LogMelSpectrogram.hop)
    }

    init(samples: Int, melLength: Int) {
        self.samples = samples
        self.melLength = melLength
        encoderFrames = floorDiv(melLength - 1, 2) + 1
        audioTokens = floorDiv(encoderFrames - 2, 2) + 1
    }
}

/// Python's `//` (rounds toward −∞), so that mel_len 0 gives L1 0 and N 0 as in the reference.
@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
