// AudioLoader: file → 16 kHz mono Float32, the input the log-mel wants: libsndfile decode, then
// (by default) exactly what the reference's ffmpeg step makes of it (`MonoConversion`: swr's down-mix,
// resampler and int16 rounding, bit for bit).

/// Decoded, converted audio.
public struct DecodedAudio: Sendable {
    /// 16 kHz mono samples, [n], roughly in [-1, 1].
    public var samples: [Float]
    /// The file's own rate and channel count.
    public let sourceSampleRate: Int
    public let sourceChannels: Int
    /// Seconds of audio in `samples`.
    public var duration: Double { Double(samples.count) / Double(AudioLoader.targetRate) }
}

/// Loads audio files as 16 kHz mono.
public enum AudioLoader {
    public static let targetRate = 16000

    public struct Options: Sendable {
        /// Limits and strictness of the decoder.
        public var file: AudioFile.Options
        /// Produce 16-bit PCM (/ 32768), as the reference does (ffmpeg → s16le → / 32768). On by default;
        /// with `.ffmpeg` resampling it makes the samples ffmpeg's, bit for bit (mono and stereo, any rate).
        /// Off: float samples (channels averaged, float resampling), no rounding.
        public var quantizeToInt16: Bool
        /// Resampler filter design for files not at 16 kHz. Default `.ffmpeg`: the reference's resampler
        /// exactly. `.standard` (sharper 7.2–8 kHz cut, no aliasing) differs in the top mel bins (≈ 0.37).
        public var resampling: Resampler.Quality

        public init(file: AudioFile.Options = .init(), quantizeToInt16: Bool = true,
                    resampling: Resampler.Quality = .ffmpeg) {
            self.file = file
            self.quantizeToInt16 = quantizeToInt16
            self.resampling = resampling
        }
    }

    /// Decodes the whole file at `path` to 16 kHz mono.
    public static func load(_ path: String, options: Options = .init()) throws(AudioError) -> DecodedAudio {
        let file = try AudioFile(path: path, options: options.file)
        let conversion = try MonoConversion(file: file, options: options)
        let source = try conversion.read(file, from: 0, count: nil)
        let n = source[0].count
        let samples = conversion.convert(source, inputStart: 0, outputRange: 0..<conversion.outputCount(forInput: n),
                                         signalLength: n)
        return DecodedAudio(samples: samples, sourceSampleRate: file.sampleRate, sourceChannels: file.channels)
    }
}
