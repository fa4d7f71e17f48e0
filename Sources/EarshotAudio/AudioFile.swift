// AudioFile: decodes WAV, FLAC, Ogg Vorbis/Opus and MP3 through libsndfile into mono Float32 frames at
// the file's own sample rate, whole or one window at a time, with typed errors for every bad input.
import CSndFile
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open audio file. Frames are decoded on demand, so reading a 30 s window of a two-hour file decodes
/// only that window (plus what the codec needs to seek). Multi-channel audio is averaged to mono, the way
/// ffmpeg's `-ac 1` down-mix does for stereo ((L + R) / 2).
///
/// Not thread-safe: one reader per thread.
public final class AudioFile {
    /// Limits and strictness for opening files.
    public struct Options: Sendable {
        /// Files whose header declares more than this many seconds are refused with `.tooLong`.
        public var maxDurationSeconds: Double
        /// When false (default) a file that decodes fewer frames than its header declares throws
        /// `.truncated`; when true the decodable part is returned.
        public var allowTruncated: Bool

        public init(maxDurationSeconds: Double = 4 * 3600, allowTruncated: Bool = false) {
            self.maxDurationSeconds = maxDurationSeconds
            self.allowTruncated = allowTruncated
        }
    }

    /// The path as given.
    public let path: String
    /// Sample rate of the file in Hz.
    public let sampleRate: Int
    /// Channels in the file (mixed to one on reading).
    public let channels: Int
    /// Frames the header declares (for MP3 without an exact Xing/LAME header this is libsndfile's
    /// estimate; the decoded count may differ slightly).
    public let declaredFrames: Int
    /// Short container/codec name, e.g. "WAV PCM16", "FLAC", "MP3".
    public let formatName: String
    /// The sample format ffmpeg's decoder produces for this file, which decides libswresample's arithmetic.
    public let sampleEncoding: SampleEncoding
    public let options: Options

    /// Declared duration in seconds.
    public var duration: Double { Double(declaredFrames) / Double(sampleRate) }

    private let handle: OpaquePointer
    /// Next frame `sf_readf_float` returns.
    private var position: Int = 0
    /// Frames the decoder may fall short of `declaredFrames` without being called truncated (MP3
    /// lengths are estimates when the stream has no exact header).
    private let shortfallTolerance: Int

    /// Opens `path` and validates its header. Throws `AudioError` naming the file for every failure.
    public init(path: String, options: Options = Options()) throws(AudioError) {
        self.path = path
        self.options = options
        try AudioFile.checkFileSystemEntry(path)

        var info = SF_INFO()
        guard let h = sf_open(path, Int32(SFM_READ), &info) else {
            let code = sf_error(nil)
            let message = String(cString: sf_strerror(nil))
            switch Int(code) {
            case SF_ERR_SYSTEM:
                throw .unreadable(path: path, reason: message)
            case SF_ERR_MALFORMED_FILE:
                throw .corrupt(path: path, detail: message)
            case SF_ERR_UNRECOGNISED_FORMAT, SF_ERR_UNSUPPORTED_ENCODING:
                throw .unsupportedFormat(path: path, detail: message)
            default:
                // libsndfile's internal codes. The file exists and is a readable regular file (checked
                // above), so "does not exist / not a regular file" (seen for random bytes named .mp3)
                // means no decoder accepted it; everything else is a damaged header.
                if message.contains("does not exist") || message.contains("not recognised") {
                    throw .unsupportedFormat(path: path, detail: "no decoder recognises the data")
                }
                throw .corrupt(path: path, detail: message)
            }
        }
        handle = h
        // From here on `deinit` closes the handle, including when `init` throws below.
        sampleRate = Int(info.samplerate)
        channels = Int(info.channels)
        // libsndfile reports SF_COUNT_MAX (or a negative count) when it cannot find the length, e.g. an
        // Ogg stream cut before its last page: that is "unknown", never 2^63 frames.
        let lengthKnown = info.frames >= 0 && info.frames < sf_count_t.max
        declaredFrames = lengthKnown ? Int(info.frames) : 0
        formatName = AudioFile.describeFormat(info.format)
        sampleEncoding = SampleEncoding(sndfileFormat: info.format)
        let isMPEG = (Int(info.format) & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG
        shortfallTolerance = isMPEG ? max(4608, declaredFrames / 50) : 0

        guard sampleRate > 0, sampleRate <= 1_000_000, channels > 0, channels <= 1024 else {
            throw .corrupt(path: path, detail: "header declares \(channels) channels at \(sampleRate) Hz")
        }
        guard lengthKnown else { throw .lengthUnknown(path: path, format: formatName) }
        guard declaredFrames > 0 else { throw .empty(path: path) }
        let seconds = Double(declaredFrames) / Double(sampleRate)
        guard seconds <= options.maxDurationSeconds else {
            throw .tooLong(path: path, seconds: seconds, limitSeconds: options.maxDurationSeconds)
        }
        if !options.allowTruncated, let expected = AudioFile.truncatedDataChunk(handle: h, frames: declaredFrames) {
            throw .truncated(path: path, expectedFrames: expected, decodedFrames: declaredFrames)
        }
    }

    deinit { sf_close(handle) }

    /// Reads up to `count` frames starting at frame `start` (default: to the end), mixed to mono.
    /// Shape: [frames] Float32 in [-1, 1] (integer PCM is scaled by 1/32768 for 16-bit, exactly).
    /// A request reaching past the end returns what exists; a decoder that stops before the declared
    /// end throws `.truncated` (unless `options.allowTruncated`) or `.corrupt` when nothing decodes.
    public func readMono(from start: Int = 0, count: Int? = nil) throws(AudioError) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(min(count ?? Int.max, max(0, declaredFrames - start) + 1))
        try decode(from: start, count: count) { block, frames in
            if channels == 1 {
                out.append(contentsOf: block[0..<frames])
                return
            }
            let scale = 1 / Float(channels)
            for f in 0..<frames {
                var sum: Float = 0
                for c in 0..<channels { sum += block[f &* channels &+ c] }
                out.append(sum * scale)
            }
        }
        return out
    }

    /// Reads up to `count` frames starting at frame `start`, one array per channel ([channels][frames],
    /// same scaling and errors as `readMono`).
    public func readChannels(from start: Int = 0, count: Int? = nil) throws(AudioError) -> [[Float]] {
        var out = [[Float]](repeating: [], count: channels)
        let expected = min(count ?? Int.max, max(0, declaredFrames - start) + 1)
        for c in 0..<channels { out[c].reserveCapacity(expected) }
        let channels = channels
        try decode(from: start, count: count) { block, frames in
            for c in 0..<channels {
                let old = out[c].count
                out[c].append(contentsOf: repeatElement(0, count: frames))
                out[c].withUnsafeMutableBufferPointer { o in
                    for f in 0..<frames { o[old &+ f] = block[f &* channels &+ c] }
                }
            }
        }
        return out
    }

    /// Decodes frames [start, start + count) in blocks, handing each interleaved block and its frame count
    /// to `consume`; checks for non-finite samples and truncation.
    private func decode(from start: Int, count: Int?,
                        _ consume: (UnsafeBufferPointer<Float>, Int) -> Void) throws(AudioError) {
        // Reading on from the current position is always allowed (MP3 lengths are estimates); a jump
        // must land inside the declared length.
        guard start >= 0, (count ?? 0) >= 0, start == position || start <= declaredFrames + shortfallTolerance else {
            throw .rangeOutOfBounds(path: path, start: start, count: count ?? -1, frames: declaredFrames)
        }
        try seek(to: start)
        let wanted = count ?? Int.max
        let blockFrames = 16384
        var interleaved = [Float](repeating: 0, count: blockFrames * channels)
        var done = 0
        while done < wanted {
            let ask = min(blockFrames, wanted - done)
            let got = interleaved.withUnsafeMutableBufferPointer { buf in
                Int(sf_readf_float(handle, buf.baseAddress, sf_count_t(ask)))
            }
            if got <= 0 { break }
            // Float formats can carry NaN/Inf, which would poison the whole log-mel (its global max).
            if let bad = interleaved.withUnsafeBufferPointer({ b in (0..<(got * channels)).first { !b[$0].isFinite } }) {
                throw .corrupt(path: path, detail: "non-finite sample at frame \(position + bad / channels)")
            }
            position += got
            done += got
            interleaved.withUnsafeBufferPointer { consume($0, got) }
        }
        // Did the decoder stop before the header's promise?
        if done < wanted && position < declaredFrames - shortfallTolerance {
            if position == 0 || (done == 0 && start == 0) {
                throw .corrupt(path: path, detail: "no frame could be decoded (\(decoderError()))")
            }
            if !options.allowTruncated {
                throw .truncated(path: path, expectedFrames: declaredFrames, decodedFrames: position)
            }
        }
        if start == 0 && count == nil && done == 0 { throw .empty(path: path) }
    }

    /// Moves the decoder to frame `frame`.
    private func seek(to frame: Int) throws(AudioError) {
        if frame == position { return }
        let r = sf_seek(handle, sf_count_t(frame), SEEK_SET)
        if r < 0 || Int(r) != frame {
            // Some decoders cannot seek (or seek inexactly); rewind and decode forward instead.
            guard sf_seek(handle, 0, SEEK_SET) == 0 else {
                throw .corrupt(path: path, detail: "cannot seek to frame \(frame)")
            }
            position = 0
            var scratch = [Float](repeating: 0, count: 4096 * channels)
            while position < frame {
                let ask = min(4096, frame - position)
                let got = scratch.withUnsafeMutableBufferPointer { Int(sf_readf_float(handle, $0.baseAddress, sf_count_t(ask))) }
                if got <= 0 { throw .rangeOutOfBounds(path: path, start: frame, count: 0, frames: position) }
                position += got
            }
            return
        }
        position = frame
    }

    private func decoderError() -> String {
        let text = logText(handle, capacity: 4096)
        if let line = text.split(separator: "\n").first(where: { $0.contains("ERROR") || $0.contains("rror") }) {
            return String(line).trimmingSpaces()
        }
        return String(cString: sf_strerror(handle))
    }

    /// Rejects directories, devices, unreadable and missing paths before libsndfile sees them (its own
    /// messages for these are vague), and zero-byte files as empty.
    private static func checkFileSystemEntry(_ path: String) throws(AudioError) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw .notFound(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(e)))
        }
        let type = st.st_mode & S_IFMT
        if type == S_IFDIR { throw .unreadable(path: path, reason: "it is a directory") }
        if type != S_IFREG { throw .unreadable(path: path, reason: "not a regular file") }
        guard access(path, R_OK) == 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if st.st_size == 0 { throw .empty(path: path) }
    }

    /// libsndfile opens a WAV/AIFF whose data chunk runs past the end of the file and silently shortens
    /// it; its log says `data : 352000 (should be 99922)`. Returns the frame count the header promised.
    private static func truncatedDataChunk(handle: OpaquePointer, frames: Int) -> Int? {
        for line in logText(handle, capacity: 8192).split(separator: "\n") where line.hasPrefix("data") || line.hasPrefix("SSND") {
            guard let open = line.firstIndex(of: "("), line[open...].hasPrefix("(should be") else { continue }
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard numbers.count >= 2, numbers[1] > 0, numbers[0] > numbers[1] else { continue }
            // Placeholder sizes of streamed WAVs (0xFFFFFFFF, 0x7FFFFFFF) are not truncation.
            if numbers[0] >= 0x7FFF_FFFF { continue }
            return Int((Double(frames) * Double(numbers[0]) / Double(numbers[1])).rounded())
        }
        return nil
    }

    private static func describeFormat(_ format: Int32) -> String {
        let major = Int(format) & SF_FORMAT_TYPEMASK
        let sub = Int(format) & SF_FORMAT_SUBMASK
        let container: String
        switch major {
        case SF_FORMAT_WAV, SF_FORMAT_WAVEX, SF_FORMAT_RF64: container = "WAV"
        case SF_FORMAT_FLAC: return "FLAC"
        case SF_FORMAT_OGG: container = "Ogg"
        case SF_FORMAT_MPEG: return "MP3"
        case SF_FORMAT_AIFF: container = "AIFF"
        default: container = "format 0x" + String(major, radix: 16)
        }
        let codec: String
        switch sub {
        case SF_FORMAT_PCM_16: codec = "PCM16"
        case SF_FORMAT_PCM_24: codec = "PCM24"
        case SF_FORMAT_PCM_32: codec = "PCM32"
        case SF_FORMAT_PCM_U8, SF_FORMAT_PCM_S8: codec = "PCM8"
        case SF_FORMAT_FLOAT: codec = "float"
        case SF_FORMAT_DOUBLE: codec = "double"
        case SF_FORMAT_VORBIS: codec = "Vorbis"
        case SF_FORMAT_OPUS: codec = "Opus"
        case SF_FORMAT_ULAW: codec = "µ-law"
        case SF_FORMAT_ALAW: codec = "A-law"
        default: codec = "codec 0x" + String(sub, radix: 16)
        }
        return container + " " + codec
    }
}

/// The sample format ffmpeg decodes a file to, which is what libswresample's choice of arithmetic
/// follows: 8/16-bit sources (and G.711, ADPCM, GSM, whose decoders give s16) resample in int16, the rest
/// in float. 24/32-bit PCM is s32 in ffmpeg: resampled in float, but cut to 16 bits by a plain shift
/// (rounding down) when neither rate nor channels change.
public enum SampleEncoding: Sendable, Equatable {
    case int16, int32, float

    init(sndfileFormat format: Int32) {
        switch Int(format) & SF_FORMAT_SUBMASK {
        case SF_FORMAT_PCM_S8, SF_FORMAT_PCM_U8, SF_FORMAT_PCM_16, SF_FORMAT_ULAW, SF_FORMAT_ALAW,
             SF_FORMAT_IMA_ADPCM, SF_FORMAT_MS_ADPCM, SF_FORMAT_GSM610, SF_FORMAT_G721_32, SF_FORMAT_G723_24,
             SF_FORMAT_G723_40, SF_FORMAT_DWVW_12, SF_FORMAT_DWVW_16, SF_FORMAT_ALAC_16:
            self = .int16
        case SF_FORMAT_PCM_24, SF_FORMAT_PCM_32, SF_FORMAT_DWVW_24, SF_FORMAT_ALAC_20, SF_FORMAT_ALAC_24,
             SF_FORMAT_ALAC_32:
            self = .int32
        default:
            self = .float
        }
    }
}

/// libsndfile's per-file log (header parse notes and decoder errors).
private func logText(_ handle: OpaquePointer, capacity: Int) -> String {
    var log = [UInt8](repeating: 0, count: capacity)
    _ = sf_command(handle, Int32(SFC_GET_LOG_INFO), &log, Int32(capacity - 1))
    let end = log.firstIndex(of: 0) ?? log.count
    return String(decoding: log[..<end], as: UTF8.self)
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
