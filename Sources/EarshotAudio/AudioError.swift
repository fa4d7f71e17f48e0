// AudioError: every way the audio front-end can refuse its input, each naming the offending file or value.

/// Errors thrown by `EarshotAudio`. Every case carries the path (or the offending value) so a caller
/// can print `error.description` as is.
public enum AudioError: Error, Equatable, CustomStringConvertible, Sendable {
    /// No file (or no directory entry) exists at `path`.
    case notFound(path: String)
    /// The file exists but cannot be read (permissions, a directory, a device, an I/O error).
    case unreadable(path: String, reason: String)
    /// The file is not audio in a format libsndfile decodes (text, an image, an unknown container or codec).
    case unsupportedFormat(path: String, detail: String)
    /// The container is recognised but its header or its coded data are damaged.
    case corrupt(path: String, detail: String)
    /// The header promises `expectedFrames` frames but decoding stopped after `decodedFrames`.
    case truncated(path: String, expectedFrames: Int, decodedFrames: Int)
    /// The file holds no samples at all (zero bytes, or a valid header with no data).
    case empty(path: String)
    /// The decoder cannot tell how long the stream is (libsndfile gives no frame count: typically an Ogg
    /// file cut before its last page).
    case lengthUnknown(path: String, format: String)
    /// The file is longer than the configured limit (`AudioFile.Options.maxDurationSeconds`).
    case tooLong(path: String, seconds: Double, limitSeconds: Double)
    /// A sample rate the resampler cannot use (not positive, or beyond 1 MHz).
    case invalidSampleRate(Int)
    /// A resampler design this front-end refuses: a parameter out of range, or a filter bank (taps ×
    /// phases) too large for the rate pair.
    case invalidResamplerDesign(String)
    /// A number of mel bins this front-end has no filterbank for (80 and 128 are supported).
    case unsupportedMelBins(Int)
    /// A filterbank passed in has the wrong number of values (`bins × 201` expected).
    case filterShapeMismatch(expected: Int, actual: Int)
    /// Window-planner options that do not fit together (`PauseAlignedWindowOptions`); names the field.
    case invalidWindowOptions(String)
    /// A read or window request outside the file (start frame beyond the end, negative count).
    case rangeOutOfBounds(path: String, start: Int, count: Int, frames: Int)

    public var description: String {
        switch self {
        case .notFound(let path):
            return "\(path): no such file"
        case .unreadable(let path, let reason):
            return "\(path): cannot read the file (\(reason))"
        case .unsupportedFormat(let path, let detail):
            return "\(path): not an audio format this build can decode (WAV, FLAC, Ogg Vorbis/Opus, MP3): \(detail)"
        case .corrupt(let path, let detail):
            return "\(path): the audio file is damaged: \(detail)"
        case .truncated(let path, let expected, let decoded):
            return "\(path): the audio file is truncated: its header promises \(expected) frames but only \(decoded) could be decoded"
        case .empty(let path):
            return "\(path): the audio file contains no samples"
        case .lengthUnknown(let path, let format):
            return "\(path): the length of this \(format) stream cannot be determined: the file is probably truncated or damaged"
        case .tooLong(let path, let seconds, let limit):
            return "\(path): the audio is \(formatSeconds(seconds)) long, more than the limit of \(formatSeconds(limit))"
        case .invalidSampleRate(let rate):
            return "invalid sample rate \(rate) Hz (expected 1 Hz … 1 MHz)"
        case .invalidResamplerDesign(let reason):
            return "invalid resampler design: \(reason)"
        case .unsupportedMelBins(let bins):
            return "unsupported number of mel bins \(bins) (supported: 80 for Qwen-Audio, 128 for Qwen2-Audio)"
        case .filterShapeMismatch(let expected, let actual):
            return "mel filterbank has \(actual) values, expected \(expected) (bins × 201)"
        case .invalidWindowOptions(let reason):
            return "invalid window options: \(reason)"
        case .rangeOutOfBounds(let path, let start, let count, let frames):
            return "\(path): cannot read \(count) frames from frame \(start): the file has \(frames) frames"
        }
    }
}

/// "1 h 02 min 03 s"-style durations for error messages.
func formatSeconds(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "\(seconds) s" }
    if seconds >= 3.6e9 { return "more than a million hours" }   // never an Int overflow on a garbage count
    if seconds < 0 { return "\(seconds) s" }
    let total = Int(seconds.rounded())
    if total < 60 { return "\(Double(Int(seconds * 10)) / 10) s" }
    let h = total / 3600, m = (total % 3600) / 60, s = total % 60
    return h > 0 ? "\(h) h \(m) min \(s) s" : "\(m) min \(s) s"
}
