// AudioWindows: long audio as consecutive 30 s windows with their time offsets, from samples in memory
// or streamed from a file one window at a time (the reference silently keeps only the first 30 s).

/// One window of 16 kHz mono audio.
public struct AudioWindow: Sendable {
    /// 0-based position in the sequence.
    public let index: Int
    /// First sample of the window in the whole 16 kHz signal.
    public let startSample: Int
    /// The window's samples (≤ `length`; only the last window is shorter).
    public let samples: [Float]
    /// Offset of the window in the audio, seconds.
    public var startSeconds: Double { Double(startSample) / Double(AudioLoader.targetRate) }
    /// Length of the window's audio, seconds.
    public var durationSeconds: Double { Double(samples.count) / Double(AudioLoader.targetRate) }

    /// 30 s at 16 kHz, the encoder's context.
    public static let defaultLength = LogMelSpectrogram.chunkSamples

    /// Splits `samples` into windows of `length` samples starting every `hop` samples (default: no
    /// overlap). An empty signal gives no window. Each window's `samples` feed `LogMelSpectrogram.compute`
    /// and `AudioTokenCounts` as a clip of their own.
    public static func windows(of samples: [Float], length: Int = defaultLength, hop: Int? = nil) -> [AudioWindow] {
        let step = max(1, hop ?? length)
        var result: [AudioWindow] = []
        var start = 0
        while start < samples.count {
            let end = min(start + length, samples.count)
            result.append(AudioWindow(index: result.count, startSample: start, samples: Array(samples[start..<end])))
            if end == samples.count { break }
            start += step
        }
        return result
    }
}

/// Streams a file as 16 kHz windows: decodes only the source frames each window needs (plus the
/// resampler's reach), so a long recording never sits in memory whole. The samples equal those of
/// `AudioLoader.load` for the same range, bit for bit.
public final class AudioWindowReader {
    public let file: AudioFile
    public let length: Int
    public let hop: Int
    let options: AudioLoader.Options
    let resampler: Resampler
    private var nextIndex = 0
    /// Total 16 kHz samples, known once the decoder has reached the end.
    private var knownTotal: Int?

    public init(path: String, length: Int = AudioWindow.defaultLength, hop: Int? = nil,
                options: AudioLoader.Options = .init()) throws(AudioError) {
        file = try AudioFile(path: path, options: options.file)
        self.length = max(1, length)
        self.hop = max(1, hop ?? length)
        self.options = options
        resampler = try Resampler(from: file.sampleRate, to: AudioLoader.targetRate, quality: options.resampling)
    }

    /// The next window, or nil after the last one.
    public func next() throws(AudioError) -> AudioWindow? {
        let start = nextIndex * hop
        if let total = knownTotal, start >= total { return nil }
        let wanted = start..<(start + length)
        let need = resampler.inputRange(forOutput: wanted)
        let readStart = max(0, need.lowerBound)
        let source = try file.readMono(from: min(readStart, file.declaredFrames), count: need.upperBound - readStart)
        if source.count < need.upperBound - readStart {
            knownTotal = resampler.outputCount(forInput: readStart + source.count)
        }
        let end = min(wanted.upperBound, knownTotal ?? Int.max)
        if end <= start { return nil }
        var samples = resampler.resample(source, inputStart: readStart, outputRange: start..<end)
        if options.quantizeToInt16 { Resampler.quantizeToInt16(&samples) }
        defer { nextIndex += 1 }
        return AudioWindow(index: nextIndex, startSample: start, samples: samples)
    }
}
