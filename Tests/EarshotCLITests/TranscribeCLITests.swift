// `earshot transcribe` / `translate` as a user runs them, on both model families (the tiny random Whisper and
// the tiny Qwen-Audio model): one JSON schema, times clamped to the audio, tiny inputs that never hang, every
// flag honoured or refused with the reason, several inputs, standard input, -o/--output-dir, and outputs that
// never replace something that is not a regular file. (The random Whisper's text is noise: what is checked is
// the pipeline, not the words; real-weight transcripts are checked by the opt-in WhisperEndToEndTests.)
import Foundation
import Testing
import EarshotTestSupport

@Suite(.serialized) struct TranscribeCLITests {
    static func whisper(_ args: [String], input: Data? = nil, in dir: URL? = nil) throws -> CLIResult {
        try CLIRunner.run(args + ["--model", try TinyWhisperEar.path()], input: input,
                          currentDirectory: dir ?? Fixtures.directory, timeout: 300)
    }
    static func qwen(_ args: [String], input: Data? = nil) throws -> CLIResult {
        try CLIRunner.run(args + ["--model", try TinyEarModel.path()], input: input, currentDirectory: Fixtures.directory, timeout: 300)
    }
    static func json(_ r: CLIResult) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    }
    /// A 16 kHz mono WAV of `count` samples of a 440 Hz tone.
    static func tone(_ dir: TemporaryDirectory, _ name: String, samples count: Int) throws -> String {
        let path = dir.path(name)
        try writeTestWAV((0..<count).map { 0.3 * sin(Float($0) * 2 * .pi * 440 / 16000) }, to: path)
        return path
    }

    @Test func oneJSONSchemaForBothFamilies() throws {
        let keys = ["model", "task", "audio", "duration", "language", "text", "segments", "windows"]
        let w = try Self.whisper(["transcribe", "--format", "json", "--quiet", "--temperature", "0", "--max-tokens", "8", "audio/jfk.wav"])
        #expect(w.exitCode == 0, "\(w)")
        let q = try Self.qwen(["transcribe", "--format", "json", "--quiet", "--greedy", "--max-tokens", "4", "audio/jfk.wav"])
        #expect(q.exitCode == 0, "\(q)")
        for (family, r) in [("whisper", w), ("qwen", q)] {
            let o = Self.json(r)
            #expect(o.map { Array($0.keys).sorted() } == keys.sorted(), "\(family): \(r.stdout)")
            // Keys in schema order, times to the millisecond.
            let order = keys.compactMap { r.stdout.range(of: "\"\($0)\":")?.lowerBound }
            #expect(order == order.sorted(), "\(family) key order")
            #expect((o?["duration"] as? NSNumber)?.doubleValue == 11, "\(family)")
            for s in (o?["segments"] as? [[String: Any]]) ?? [] {
                let a = (s["start"] as? NSNumber)?.doubleValue ?? -1, b = (s["end"] as? NSNumber)?.doubleValue ?? -1
                #expect(a >= 0 && b >= a && b <= 11, "\(family): \(s)")
            }
            #expect(((o?["windows"] as? [[String: Any]]) ?? []).isEmpty == false, "\(family)")
        }
        #expect(Self.json(w)?["language"] as? String == "en")
    }

    @Test func tinyInputsNeverHangAndTimesStayInTheAudio() throws {
        let dir = try TemporaryDirectory("earshot-tiny-audio")
        for count in [1, 100, 159, 160, 800] {           // 62 µs … 50 ms
            let path = try Self.tone(dir, "t\(count).wav", samples: count)
            let r = try Self.whisper(["transcribe", "--format", "json", "--quiet", "--temperature", "0", path])
            #expect(r.exitCode == 0, "\(count) samples: \(r)")
            let o = Self.json(r)
            let duration = Double(count) / 16000
            #expect(abs(((o?["duration"] as? NSNumber)?.doubleValue ?? -1) - duration) < 0.001, "\(count)")
            for s in (o?["segments"] as? [[String: Any]]) ?? [] {
                let b = (s["end"] as? NSNumber)?.doubleValue ?? -1
                #expect(b <= duration + 0.0005, "\(count) samples: a segment ends at \(b) s")
            }
            let q = try Self.qwen(["transcribe", "--format", "srt", "--quiet", "--greedy", "--max-tokens", "2", path])
            #expect(q.exitCode == 0, "qwen \(count) samples: \(q)")
        }
    }

    @Test func flagsAreHonouredOrRefusedWithTheReason() throws {
        let refusals: [([String], String)] = [
            (["transcribe", "--top-k", "5", "audio/jfk.wav"], "--top-k"),
            (["transcribe", "--stop", "x", "audio/jfk.wav"], "--stop"),
            (["transcribe", "--itn", "audio/jfk.wav"], "--itn"),
            (["transcribe", "--lang", "es", "audio/jfk.wav"], "English-only"),
            (["transcribe", "--max-tokens", "300", "audio/jfk.wav"], "224"),
            (["translate", "--to", "en", "audio/jfk.wav"], "English-only"),
            (["caption", "audio/jfk.wav"], "Whisper"),
            (["chat", "--turn", "hi"], "cannot chat"),
        ]
        for (args, needle) in refusals {
            let r = try Self.whisper(args)
            #expect(r.exitCode != 0 && r.stderr.contains(needle), "\(args): \(r)")
            #expect(r.stderrLines.count == 1, "\(args): one clear line: \(r.stderr)")
        }
        let qwenRefusals: [([String], String)] = [
            (["transcribe", "--beam-size", "3", "audio/jfk.wav"], "--beam-size"),
            (["transcribe", "--initial-prompt", "x", "audio/jfk.wav"], "--initial-prompt"),
            (["transcribe", "--lang", "pt", "audio/jfk.wav"], "--lang"),
            (["transcribe", "--temperature", "0,0.5", "audio/jfk.wav"], "--temperature"),
        ]
        for (args, needle) in qwenRefusals {
            let r = try Self.qwen(args)
            #expect(r.exitCode != 0 && r.stderr.contains(needle), "\(args): \(r)")
        }
        // Honoured: --print-prompt-ids (Whisper: the start sequence), --truncate, --threads, --verbose.
        let ids = try Self.whisper(["transcribe", "--print-prompt-ids", "audio/jfk.wav"])
        #expect(ids.stdout == "[50257]\n", "\(ids)")          // <|startoftranscript|> of tiny.en
        let noTs = try Self.whisper(["transcribe", "--print-prompt-ids", "--no-timestamps", "audio/jfk.wav"])
        #expect(noTs.stdout == "[50257,50362]\n", "\(noTs)")
        let v = try Self.whisper(["transcribe", "--verbose", "--threads", "1", "--temperature", "0", "--max-tokens", "4", "--truncate", "audio/music-31s.wav"])
        #expect(v.exitCode == 0 && v.stderr.contains("window 0 at 0.00 s") && v.stderr.contains("earshot: decode"), "\(v)")
        #expect(!v.stderr.contains("window 1 at"), "--truncate keeps the first 30 s: \(v.stderr)")
    }

    @Test func severalInputsStandardInputAndOutputFiles() throws {
        let dir = try TemporaryDirectory("earshot-outputs")
        let common = ["transcribe", "--temperature", "0", "--max-tokens", "4", "--quiet"]
        try Data().write(to: URL(fileURLWithPath: dir.path("file")))
        let r = try Self.whisper(common + ["--output-dir", dir.path("file"), "audio/jfk.wav"])
        #expect(r.exitCode != 0 && r.stderr.contains("not a directory"), "\(r)")
        let ok = try Self.whisper(common + ["--output-dir", dir.path("out"), "--format", "all", "audio/jfk.wav", "audio/1272-128104-0000.flac"])
        #expect(ok.exitCode == 0, "\(ok)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: dir.path("out")).sorted()) ?? []
        #expect(written == ["1272-128104-0000.json", "1272-128104-0000.srt", "1272-128104-0000.tsv", "1272-128104-0000.txt",
                            "1272-128104-0000.vtt", "jfk.json", "jfk.srt", "jfk.tsv", "jfk.txt", "jfk.vtt"], "\(written)")
        let vtt = try String(contentsOfFile: dir.path("out/jfk.vtt"), encoding: .utf8)
        #expect(vtt.hasPrefix("WEBVTT\n"))
        // '-' reads standard input.
        let wav = try Data(contentsOf: Fixtures.url("audio/jfk.wav"))
        let piped = try Self.whisper(common + ["--format", "json", "-"], input: wav)
        #expect(piped.exitCode == 0 && Self.json(piped)?["audio"] as? String == "stdin", "\(piped)")
        // -o FILE: one input only; written atomically.
        let one = try Self.whisper(common + ["--format", "srt", "-o", dir.path("a.srt"), "audio/jfk.wav"])
        #expect(one.exitCode == 0 && FileManager.default.fileExists(atPath: dir.path("a.srt")), "\(one)")
        let two = try Self.whisper(common + ["-o", dir.path("b.txt"), "audio/jfk.wav", "audio/jfk.mp3"])
        #expect(two.exitCode != 0 && two.stderr.contains("--output-dir"), "\(two)")
    }

    @Test func outputsNeverReplaceWhatIsNotARegularFile() throws {
        let dir = try TemporaryDirectory("earshot-clobber")
        guard mkfifo(dir.path("fifo"), 0o644) == 0 else { return }
        try FileManager.default.createDirectory(atPath: dir.path("subdir"), withIntermediateDirectories: false)
        for target in ["fifo", "subdir"] {
            let r = try Self.whisper(["transcribe", "--temperature", "0", "--max-tokens", "2", "--quiet", "-o", dir.path(target), "audio/jfk.wav"])
            #expect(r.exitCode != 0 && r.stderr.contains("not a regular file"), "\(target): \(r)")
        }
        var st = stat()
        #expect(stat(dir.path("fifo"), &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO, "the FIFO is still a FIFO")
        #expect(dir.contents() == ["fifo", "subdir"], "no temporary file left: \(dir.contents())")
    }
}

/// Writes 16 kHz mono float samples as a 16-bit PCM WAV.
func writeTestWAV(_ samples: [Float], to path: String) throws {
    var d = Data()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    let bytes = UInt32(2 * samples.count)
    d.append(contentsOf: Array("RIFF".utf8)); u32(36 + bytes); d.append(contentsOf: Array("WAVE".utf8))
    d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(1); u32(16000); u32(32000); u16(2); u16(16)
    d.append(contentsOf: Array("data".utf8)); u32(bytes)
    for s in samples { withUnsafeBytes(of: Int16(max(-32768, min(32767, (s * 32768).rounded()))).littleEndian) { d.append(contentsOf: $0) } }
    try d.write(to: URL(fileURLWithPath: path))
}
