// SampleStream: the front end's one way in — 16 kHz mono samples in consecutive blocks, from a file
// (decoded, down-mixed, resampled and rounded to int16 as it is read, like the reference's ffmpeg path;
// never whole in memory) or from samples already in memory at any rate and channel count.

public final class SampleStream {
    /// Where the samples come from (for messages).
    public let name: String
    /// Length of the source, seconds, when known before reading (files: the declared frame count).
    public let declaredSeconds: Double?
    /// Samples delivered so far (16 kHz).
    public private(set) var position = 0

    private let reader: AudioWindowReader?
    private var memory: [Float]
    private var memoryOffset = 0
    private let blockSize: Int

    /// Streams a file (any format `AudioFile` reads) in blocks of `blockSize` 16 kHz samples.
    public init(path: String, blockSize: Int = 160_000, options: AudioLoader.Options = .init()) throws(AudioError) {
        name = path
        self.blockSize = max(1, blockSize)
        let r = try AudioWindowReader(path: path, length: self.blockSize, options: options)
        reader = r
        memory = []
        declaredSeconds = r.file.declaredFrames > 0 ? r.file.duration : nil
    }

    /// Streams samples held in memory: `samples` interleaved over `channels`, at `sampleRate` Hz (down-mixed
    /// to mono by averaging, resampled to 16 kHz when needed; not rounded to int16).
    public init(samples: [Float], sampleRate: Int, channels: Int = 1, name: String = "samples",
                blockSize: Int = 160_000) throws(AudioError) {
        self.name = name
        self.blockSize = max(1, blockSize)
        guard channels >= 1, channels <= 64 else { throw .unsupportedFormat(path: name, detail: "\(channels) channels") }
        guard samples.count % channels == 0 else {
            throw .unsupportedFormat(path: name, detail: "\(samples.count) samples are not whole frames of \(channels) channels")
        }
        var mono = samples
        if channels > 1 {
            let frames = samples.count / channels
            mono = [Float](repeating: 0, count: frames)
            let scale = 1 / Float(channels)
            for f in 0..<frames {
                var s: Float = 0
                for c in 0..<channels { s += samples[f * channels + c] }
                mono[f] = s * scale
            }
        }
        for v in mono where !v.isFinite { throw .unsupportedFormat(path: name, detail: "the samples hold NaN or infinite values") }
        if sampleRate != AudioLoader.targetRate {
            mono = try Resampler(from: sampleRate, to: AudioLoader.targetRate, quality: AudioLoader.Options().resampling).resample(mono)
        }
        memory = mono
        reader = nil
        declaredSeconds = Double(mono.count) / Double(AudioLoader.targetRate)
    }

    /// The next block (at most `blockSize` samples); empty once the source is exhausted.
    public func read() throws(AudioError) -> [Float] {
        if let reader {
            guard let w = try reader.next() else { return [] }
            position += w.samples.count
            return w.samples
        }
        let end = min(memory.count, memoryOffset + blockSize)
        defer { memoryOffset = end }
        let block = Array(memory[memoryOffset..<end])
        position += block.count
        return block
    }

    /// Reads everything left (for short inputs).
    public func readAll() throws(AudioError) -> [Float] {
        var out: [Float] = []
        while true {
            let b = try read()
            if b.isEmpty { return out }
            out += b
        }
    }
}
