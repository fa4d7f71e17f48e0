// Every bad input gives its own typed error naming the file. Bad files are made in a temporary
// directory from the good fixtures (cut, damaged, emptied) or from scratch (text, random bytes).
import EarshotAudio
import EarshotTestSupport
import Foundation
import Testing

@Suite struct AudioFileErrorTests {
    /// Removed when the suite value goes away (one per test).
    let dir = try! TemporaryDirectory("earshot-audio")

    /// Writes `bytes` to `name` in the test's temp directory; returns its path.
    func make(_ name: String, _ bytes: Data) -> String {
        let path = dir.path(name)
        #expect(FileManager.default.createFile(atPath: path, contents: bytes), "could not write the test file \(path)")
        return path
    }

    static func fixture(_ name: String) -> Data {
        try! Data(contentsOf: URL(fileURLWithPath: AudioFixtures.path(name)))
    }

    /// Runs `AudioLoader.load` and returns the AudioError it throws (nil when it succeeds).
    static func loadError(_ path: String, _ options: AudioLoader.Options = .init()) -> AudioError? {
        do { _ = try AudioLoader.load(path, options: options); return nil } catch { return error }
    }

    /// A 44-byte canonical WAV header for 16-bit mono 16 kHz PCM with `dataBytes` in its data chunk.
    static func wavHeader(dataBytes: UInt32) -> Data {
        var d = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8)); u32(36 + dataBytes); d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(1); u32(16000); u32(32000); u16(2); u16(16)
        d.append(contentsOf: Array("data".utf8)); u32(dataBytes)
        return d
    }

    @Test func missingFile() {
        let path = dir.path("nothing-here.wav")
        let error = Self.loadError(path)
        #expect(error == .notFound(path: path))
        #expect(error?.description.contains("nothing-here.wav") == true)
    }

    @Test func directoryIsUnreadable() {
        let path = dir.url.path
        guard case .unreadable(let p, _)? = Self.loadError(path) else { Issue.record("expected .unreadable"); return }
        #expect(p == path)
    }

    @Test func zeroByteFileIsEmpty() {
        let path = make("empty.wav", Data())
        #expect(Self.loadError(path) == .empty(path: path))
    }

    @Test func headerWithoutSamplesIsEmpty() {
        let path = make("no-samples.wav", Self.wavHeader(dataBytes: 0))
        #expect(Self.loadError(path) == .empty(path: path))
    }

    @Test func textIsNotAudio() {
        let path = make("notes.wav", Data("this is not audio, just some text\n".utf8))
        guard case .unsupportedFormat(let p, _)? = Self.loadError(path) else { Issue.record("expected .unsupportedFormat"); return }
        #expect(p == path)
        #expect(Self.loadError(path)!.description.contains("notes.wav"))
    }

    @Test func randomBytesAreNotAudio() {
        var state: UInt64 = 42
        let bytes = Data((0..<50_000).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        })
        let path = make("noise.mp3", bytes)
        let error = Self.loadError(path)
        guard case .unsupportedFormat? = error else { Issue.record("expected .unsupportedFormat, got \(String(describing: error))"); return }
    }

    /// A WAV cut inside its 'fmt ' chunk: the header itself is damaged.
    @Test func damagedHeaderIsCorrupt() {
        let path = make("cut-header.wav", Self.fixture("jfk.wav").prefix(20))
        guard case .corrupt(let p, _)? = Self.loadError(path) else { Issue.record("expected .corrupt, got \(String(describing: Self.loadError(path)))"); return }
        #expect(p == path)
    }

    /// A FLAC whose frames are overwritten with garbage: the header parses, no frame decodes.
    @Test func damagedFlacFramesAreCorrupt() {
        var bytes = Self.fixture("1272-128104-0000.flac")
        for i in stride(from: 8000, to: bytes.count, by: 97) { bytes[i] ^= 0x5A }
        let path = make("damaged.flac", bytes)
        guard case .corrupt(let p, _)? = Self.loadError(path) else { Issue.record("expected .corrupt, got \(String(describing: Self.loadError(path)))"); return }
        #expect(p == path)
    }

    /// Files cut short: the header promises more frames than the data holds.
    @Test(arguments: [("jfk.wav", 100_000, 176_000), ("1272-128104-0000.flac", 60_000, 93_680), ("jfk.mp3", 30_000, 176_000)])
    func truncatedFiles(_ name: String, _ keepBytes: Int, _ declared: Int) {
        let path = make("cut-" + name, Self.fixture(name).prefix(keepBytes))
        guard case .truncated(let p, let expected, let decoded)? = Self.loadError(path) else {
            Issue.record("expected .truncated, got \(String(describing: Self.loadError(path)))"); return
        }
        #expect(p == path && expected == declared && decoded > 0 && decoded < declared)
        // Opting in returns what could be decoded.
        let partial = try? AudioLoader.load(path, options: .init(file: .init(allowTruncated: true)))
        #expect((partial?.samples.count ?? 0) > 0)
        #expect((partial?.samples.count ?? .max) < declared)
    }

    @Test func tooLongForTheLimit() {
        let path = AudioFixtures.path("jfk.wav")
        let error = Self.loadError(path, .init(file: .init(maxDurationSeconds: 5)))
        #expect(error == .tooLong(path: path, seconds: 11, limitSeconds: 5))
        #expect(error?.description.contains("jfk.wav") == true)
    }

    @Test func readingPastTheEndIsOutOfBounds() throws {
        let file = try AudioFile(path: AudioFixtures.path("jfk.wav"))
        #expect(file.sampleRate == 16000 && file.channels == 1 && file.declaredFrames == 176_000 && file.formatName == "WAV PCM16")
        #expect(throws: AudioError.rangeOutOfBounds(path: file.path, start: 200_000, count: 10, frames: 176_000)) {
            try file.readMono(from: 200_000, count: 10)
        }
        #expect(try file.readMono(from: 175_990, count: 100).count == 10)
    }

    /// Stereo is averaged to mono: glass-breaking is 48 kHz stereo.
    @Test func stereoIsAveraged() throws {
        let file = try AudioFile(path: AudioFixtures.path("glass-breaking-151256.mp3"))
        #expect(file.channels == 2 && file.sampleRate == 48000 && file.formatName == "MP3")
        let mono = try file.readMono(from: 0, count: 48000)
        #expect(mono.count == 48000)
        #expect(mono.contains { $0 != 0 })
    }

    /// An Ogg stream cut before its last page has no length (libsndfile says SF_COUNT_MAX frames): it is
    /// "length unknown", not "53375995583 h 39 min 1 s long".
    @Test func truncatedOggHasAnUnknownLengthNotAnAbsurdOne() throws {
        let whole = Self.fixture("tone-3s.opus")
        #expect(try AudioLoader.load(AudioFixtures.path("tone-3s.opus")).samples.count > 40_000)
        let path = make("cut.opus", whole.prefix(whole.count * 2 / 3))
        let error = Self.loadError(path)
        #expect(error == .lengthUnknown(path: path, format: "Ogg Opus"))
        #expect(error?.description == "\(path): the length of this Ogg Opus stream cannot be determined: the file is probably truncated or damaged")
        #expect(error?.description.contains(" h ") == false)
    }

    @Test func garbageDurationsAreFormattedWithoutOverflow() {
        // Int(9.2e18.rounded()) would trap: the message must stay sane for any declared length.
        #expect(AudioError.tooLong(path: "a", seconds: 9.3e18, limitSeconds: 14400).description
                == "a: the audio is more than a million hours long, more than the limit of 4 h 0 min 0 s")
        #expect(AudioError.tooLong(path: "a", seconds: 86_400 * 3, limitSeconds: 14400).description.contains("72 h 0 min 0 s"))
    }

    @Test func fifoIsRefusedAtOnce() {
        let path = dir.path("pipe.wav")
        #expect(mkfifo(path, 0o644) == 0)
        #expect(Self.loadError(path) == .unreadable(path: path, reason: "not a regular file"))
    }
}
