// UploadedAudio: audio that arrives in a request body (a multipart file or base64 `input_audio`), decoded
// to 16 kHz mono samples. The bytes go to a private temporary file (mode 0600 in a 0700 directory, removed
// at once) only because the decoder reads files; no request names a path, so none can make the server read
// one of its own files. The samples' name is a hash of their content, so a conversation that sends the same
// audio again finds its encoding and KV prefix in the session's caches.
import Earshot
import EarshotAudio
import EarshotFormat
import Foundation

public enum UploadedAudio {
    /// Decodes `bytes` (any format libsndfile reads: WAV, FLAC, Ogg, MP3) to 16 kHz mono, at most `maxSeconds`.
    /// - Throws: `APIError` 400 naming `param` for empty, undecodable or too long audio.
    public static func decode(_ bytes: Data, param: String, maxSeconds: Double) throws(APIError) -> AudioInput {
        guard !bytes.isEmpty else { throw .badRequest("\(param) is empty", param: param, code: "invalid_audio") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-server-\(getpid())", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch { throw APIError(.internalServerError, "cannot create a temporary directory", type: "server_error", code: "internal_error") }
        let path = dir.appendingPathComponent(UUID().uuidString).path
        guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw APIError(.internalServerError, "cannot write a temporary file", type: "server_error", code: "internal_error")
        }
        defer { unlink(path) }
        let decoded: DecodedAudio
        do {
            decoded = try AudioLoader.load(path, options: AudioLoader.Options(file: AudioFile.Options(maxDurationSeconds: maxSeconds)))
        } catch {
            let reason = error.description.replacingOccurrences(of: "'\(path)'", with: "the audio").replacingOccurrences(of: path, with: "the audio")
            throw .badRequest("\(param): cannot decode the audio: \(reason)", param: param, code: "invalid_audio")
        }
        guard !decoded.samples.isEmpty else { throw .badRequest("\(param) holds no samples", param: param, code: "invalid_audio") }
        return .samples(decoded.samples, sampleRate: AudioLoader.targetRate, channels: 1, name: "audio-\(hash(bytes))")
    }

    /// XXH64 of the bytes and their count, hex (names the audio by content).
    static func hash(_ bytes: Data) -> String {
        String(bytes.withUnsafeBytes { XXH64.hash($0) }, radix: 16) + "-\(bytes.count)"
    }

    /// Seconds of samples.
    public static func seconds(_ audio: AudioInput) -> Double {
        if case let .samples(s, rate, channels, _) = audio { return Double(s.count) / Double(rate * max(channels, 1)) }
        return 0
    }
}
