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

    public init(index: Int, startSample: Int, samples: [Float]) {
        self.index = index
        self.startSample = startSample
        self.samples = samples
    }
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

/// Streams a file as 16 kHz windows: decodes the file forward once, keeping only the source frames the
/// next window needs (its span plus the resampler's taps), so a long recording never sits in memory
/// whole. Never seeks (MP3 decoders are not bit-exact across a seek), so the samples equal those of
/// `AudioLoader.load` for the same range, bit for bit (same `MonoConversion`, same edge handling).
public final class AudioWindowReader {
    public let file: AudioFile
    public let length: Int
    public let hop: Int
    let options: AudioLoader.Options
    let conversion: MonoConversion
    private var nextIndex = 0
    /// Decoded source frames `bufferStart ..< bufferStart + buffer[c].count`, per channel read.
    private var buffer: [[Float]]
    private var bufferStart = 0
    private var reachedEnd = false

    public init(path: String, length: Int = AudioWindow.defaultLength, hop: Int? = nil,
                options: AudioLoader.Options = .init()) throws(AudioError) {
        file = try AudioFile(path: path, options: options.file)
        self.length = max(1, length)
        self.hop = max(1, hop ?? length)
        self.options = options
        conversion = try MonoConversion(file: file, options: options)
        buffer = [[Float]](repeating: [], count: conversion.channels)
    }

    /// The next window, or nil after the last one.
    public func next() throws(AudioError) -> AudioWindow? {
        let start = nextIndex * hop
        let wanted = start..<(start + length)
        let need = conversion.inputRange(forOutput: wanted)
        // Decode forward until the buffer covers `need` (or the file ends).
        let bufferEnd = bufferStart + buffer[0].count
        if !reachedEnd && bufferEnd < need.upperBound {
            let more = try conversion.read(file, from: bufferEnd, count: need.upperBound - bufferEnd)
            if more[0].count < need.upperBound - bufferEnd { reachedEnd = true }
            for c in buffer.indices { buffer[c] += more[c] }
        }
        // Forget what no later window needs.
        let keepFrom = max(0, need.lowerBound)
        if keepFrom > bufferStart {
            let drop = min(keepFrom - bufferStart, buffer[0].count)
            for c in buffer.indices { buffer[c].removeFirst(drop) }
            bufferStart += drop
        }
        let total: Int? = reachedEnd ? bufferStart + buffer[0].count : nil
        var end = wanted.upperBound
        if let total { end = min(end, conversion.outputCount(forInput: total)) }
        if end <= start { return nil }
        let samples = conversion.convert(buffer, inputStart: bufferStart, outputRange: start..<end, signalLength: total)
        defer { nextIndex += 1 }
        return AudioWindow(index: nextIndex, startSample: start, samples: samples)
    }
}
