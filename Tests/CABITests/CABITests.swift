// CABITests: the C API (Sources/CEarshot/include/earshot.h) called from Swift through the header's own
// declarations (the test links the same objects as libEarshotC.so); the real C program Tests/CABI/smoke.c
// compiled with the system cc against the header and the built library (plain and under AddressSanitizer)
// and compared with the library's results and the tiny model's goldens; the exported symbols (`nm -D`)
// against the header; two sessions on two threads; the Python binding's pytest suite.
import CEarshot
import Earshot
import EarshotTestSupport
import Foundation
import Testing

enum CABI {
    static let jfk = Fixtures.url("audio/jfk.wav").path
    static let root = CLIRunner.packageRoot
    static let header = root.appendingPathComponent("Sources/CEarshot/include/earshot.h").path

    nonisolated(unsafe) static let manifest: [String: Any] = {
        let data = try! Data(contentsOf: Fixtures.url("qwen-audio-tiny/goldens/manifest.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()
    static func chatResponses() -> [String] {
        let runs = manifest["runs"] as! [String: Any]
        return ((runs["chat"] as! [String: Any])["turns"] as! [[String: Any]]).map { $0["response"] as! String }
    }

    /// Whisper in one greedy pass at temperature 0 (what `greedy` asks of the C API): the tiny random model's
    /// noise would otherwise run every fallback temperature (40 CPU-seconds instead of 0.4 for jfk.wav).
    static var greedyWhisper: TranscriptionOptions {
        var o = TranscriptionOptions()
        o.beamSize = 1; o.bestOf = 1; o.temperatures = [0]
        return o
    }

    /// The built shared library.
    static func library() throws -> URL { try CLIRunner.executable("libEarshotC.so") }

    /// A directory holding `libearshot.so` → the built library, as an install would name it.
    static func libraryDirectory() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory("earshot-lib")
        try FileManager.default.createSymbolicLink(atPath: dir.path("libearshot.so"), withDestinationPath: try library().path)
        return dir
    }

    /// Opens a model through the C API.
    static func open(_ path: String) throws -> OpaquePointer {
        var m: OpaquePointer?
        let s = earshot_model_open(path, nil, &m)
        guard s == EARSHOT_OK, let m else { throw CABIError.status(s, String(cString: earshot_last_error())) }
        return m
    }

    /// `key=value` lines (values with `\n` and `\\` escaped) as a dictionary.
    static func values(_ out: String) -> [String: String] {
        var d: [String: String] = [:]
        for line in out.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            var v = "", escaped = false
            for c in line[line.index(after: eq)...] {
                if escaped { v.append(c == "n" ? "\n" : c); escaped = false } else if c == "\\" { escaped = true } else { v.append(c) }
            }
            d[String(line[..<eq])] = v
        }
        return d
    }
}

enum CABIError: Error { case status(earshot_status, String) }

@Suite(.serialized) struct CABITests {
    @Test func versionStatusNamesAndErrorsBeforeAnyModel() throws {
        #expect(earshot_api_version() == 1000)
        #expect(String(cString: earshot_version()) == "1.0.0")
        #expect(String(cString: earshot_status_string(EARSHOT_ERR_UNSUPPORTED)) == "unsupported")
        var m: OpaquePointer? = OpaquePointer(bitPattern: 8)
        #expect(earshot_model_open("/nonexistent.ear", nil, &m) == EARSHOT_ERR_MODEL)
        #expect(m == nil)
        #expect(String(cString: earshot_last_error()).contains("/nonexistent.ear"))
        #expect(earshot_model_open(nil, nil, &m) == EARSHOT_ERR_INVALID_ARGUMENT)
        #expect(String(cString: earshot_last_error()) == "earshot_model_open: path is NULL")
        // Not valid UTF-8.
        let bad: [CChar] = [CChar(bitPattern: 0xFF), CChar(bitPattern: 0xFE), 0]
        #expect(earshot_model_open(bad, nil, &m) == EARSHOT_ERR_INVALID_ARGUMENT)
        #expect(earshot_model_get_info(OpaquePointer(bitPattern: 0x10), nil) == EARSHOT_ERR_INVALID_ARGUMENT)
        var info = earshot_model_info()
        #expect(earshot_model_get_info(OpaquePointer(bitPattern: 0x10), &info) == EARSHOT_ERR_INVALID_HANDLE)
    }

    @Test func theErrorMessageBelongsToTheThread() throws {
        #expect(earshot_model_open("/first.ear", nil, nil) == EARSHOT_ERR_INVALID_ARGUMENT)
        let mine = String(cString: earshot_last_error())
        let other = Thread { _ = earshot_model_open("/other.ear", nil, nil); _ = earshot_session_free(OpaquePointer(bitPattern: 0x20)) }
        other.start()
        while !other.isFinished { usleep(1000) }
        #expect(String(cString: earshot_last_error()) == mine)
        // An overlong message is cut at a character boundary, never mid-sequence.
        let long = "/" + String(repeating: "é", count: 5000) + ".ear"
        var m: OpaquePointer?
        #expect(earshot_model_open(long, nil, &m) == EARSHOT_ERR_MODEL)
        let message = String(cString: earshot_last_error())
        #expect(message.utf8.count < 4096 && message.utf8.count > 4000)
        #expect(String(validatingCString: earshot_last_error()) != nil)
    }

    @Test func handlesOfTheWrongKindAreRefused() throws {
        let m = try CABI.open(try TinyWhisperEar.path())
        var s: OpaquePointer?
        #expect(earshot_session_create(m, &s) == EARSHOT_OK)
        // A model handle is not a session, a session is not a model or a result.
        #expect(earshot_session_free(m) == EARSHOT_ERR_INVALID_HANDLE)
        #expect(earshot_model_close(s) == EARSHOT_ERR_INVALID_HANDLE)
        #expect(earshot_result_free(s) == EARSHOT_ERR_INVALID_HANDLE)
        #expect(earshot_result_text(s) == nil)
        #expect(earshot_result_segment_count(s) == 0)
        #expect(earshot_session_free(s) == EARSHOT_OK)
        #expect(earshot_model_close(m) == EARSHOT_OK)
    }

    @Test func transcriptionFromAFileAndFromSamplesEqualsTheLibrary() throws {
        let path = try TinyWhisperEar.path()
        let expected = try EarshotModel(path: path).makeSession().transcribe(.file(CABI.jfk), options: CABI.greedyWhisper)
        let m = try CABI.open(path)
        defer { _ = earshot_model_close(m) }
        var info = earshot_model_info()
        #expect(earshot_model_get_info(m, &info) == EARSHOT_OK)
        #expect(info.family == EARSHOT_FAMILY_WHISPER && String(cString: info.languages) == "en")
        #expect(info.tasks == 1 << EARSHOT_TASK_TRANSCRIBE.rawValue)
        var s: OpaquePointer?
        #expect(earshot_session_create(m, &s) == EARSHOT_OK)
        defer { _ = earshot_session_free(s) }

        var r: OpaquePointer?
        var audio = earshot_audio()
        var greedy = earshot_task_options()
        greedy.greedy = 1
        let status = CABI.jfk.withCString { p in
            audio.path = p
            return earshot_session_run(s, &audio, &greedy, nil, nil, &r)
        }
        #expect(status == EARSHOT_OK)
        #expect(String(cString: earshot_result_text(r)) == expected.text)
        #expect(earshot_result_segment_count(r) == expected.segments.count)
        for (i, seg) in expected.segments.enumerated() {
            var out = earshot_segment()
            #expect(earshot_result_segment(r, i, &out) == EARSHOT_OK)
            #expect(out.start == seg.start && out.end == seg.end && String(cString: out.text) == seg.text)
        }
        _ = earshot_result_free(r)

        // The same audio as samples in memory: the text the library gives for those samples.
        let mono = try readMono16k(CABI.jfk)
        let fromSamples = try EarshotModel(path: path).makeSession().transcribe(.samples(mono, sampleRate: 16_000), options: CABI.greedyWhisper)
        var pcm = earshot_audio()
        let st = mono.withUnsafeBufferPointer { b in
            pcm.samples = b.baseAddress
            pcm.sample_count = b.count
            pcm.sample_rate = 16_000
            pcm.channels = 1
            return earshot_session_run(s, &pcm, &greedy, nil, nil, &r)
        }
        #expect(st == EARSHOT_OK)
        #expect(String(cString: earshot_result_text(r)) == fromSamples.text)
        _ = earshot_result_free(r)
    }

    @Test func qwen2AudioRunsThroughTheCABI() throws {
        let path = try TinyQwen2AudioEar.path()
        let m = try CABI.open(path)
        defer { _ = earshot_model_close(m) }
        var info = earshot_model_info()
        #expect(earshot_model_get_info(m, &info) == EARSHOT_OK)
        #expect(info.family == EARSHOT_FAMILY_QWEN2_AUDIO && String(cString: info.family_name) == "qwen2-audio")
        #expect(info.tasks & (1 << EARSHOT_TASK_CAPTION.rawValue) != 0 && info.tasks & (1 << EARSHOT_TASK_NOTES.rawValue) == 0)
        var s: OpaquePointer?
        #expect(earshot_session_create(m, &s) == EARSHOT_OK)
        defer { _ = earshot_session_free(s) }
        // Caption with no variant: Qwen2-Audio's one caption prompt, as the library runs it.
        let session = try EarshotModel(path: path).makeSession()
        var expectedOptions = session.defaultOptions(for: .caption(style: .plain))
        expectedOptions.maxTokens = 6
        let expected = try session.run(.caption(style: .plain), audio: .file(CABI.jfk), options: expectedOptions)
        var r: OpaquePointer?
        var audio = earshot_audio()
        var options = earshot_task_options()
        options.task = EARSHOT_TASK_CAPTION
        options.max_tokens = 6
        let status = CABI.jfk.withCString { p in
            audio.path = p
            return earshot_session_run(s, &audio, &options, nil, nil, &r)
        }
        #expect(status == EARSHOT_OK, "\(String(cString: earshot_last_error()))")
        #expect(String(cString: earshot_result_text(r)) == expected.text.trimmingCharacters(in: .whitespacesAndNewlines))
        _ = earshot_result_free(r)
        // A task it has no prompt for is refused with a reason.
        options.task = EARSHOT_TASK_NOTES
        let refused = CABI.jfk.withCString { p in
            audio.path = p
            return earshot_session_run(s, &audio, &options, nil, nil, &r)
        }
        #expect(refused == EARSHOT_ERR_UNSUPPORTED && String(cString: earshot_last_error()).contains("notes"))
    }

    @Test func twoSessionsOnTwoThreadsGiveTheSingleThreadResults() throws {
        // Two sessions of one model, each driven by its own thread at the same time, give what one session gives.
        let m = try CABI.open(try TinyEarModel.path())
        defer { _ = earshot_model_close(m) }
        @Sendable func asr(_ bits: UInt) -> (earshot_status, String) {
            let s = OpaquePointer(bitPattern: bits)
            var options = earshot_task_options()
            options.max_tokens = 8
            var r: OpaquePointer?
            var audio = earshot_audio()
            let status = CABI.jfk.withCString { p in audio.path = p; return earshot_session_run(s, &audio, &options, nil, nil, &r) }
            defer { _ = earshot_result_free(r) }
            return (status, r == nil ? "" : String(cString: earshot_result_text(r)))
        }
        var single: OpaquePointer?
        #expect(earshot_session_create(m, &single) == EARSHOT_OK)
        let expected = asr(UInt(bitPattern: single))
        _ = earshot_session_free(single)
        #expect(expected.0 == EARSHOT_OK && !expected.1.isEmpty)

        final class Box: @unchecked Sendable { var results: [(earshot_status, String)] = []; let lock = NSLock() }
        let box = Box()
        let handles = (0..<2).map { _ -> UInt in
            var s: OpaquePointer?; _ = earshot_session_create(m, &s); return UInt(bitPattern: s)
        }
        let threads = handles.map { h in
            Thread {
                for _ in 0..<2 {
                    let r = asr(h)
                    box.lock.lock(); box.results.append(r); box.lock.unlock()
                }
            }
        }
        threads.forEach { $0.start() }
        while threads.contains(where: { !$0.isFinished }) { usleep(5000) }
        handles.forEach { _ = earshot_session_free(OpaquePointer(bitPattern: $0)) }
        #expect(box.results.count == 4)
        for r in box.results { #expect(r.0 == expected.0 && r.1 == expected.1) }
    }

    @Test func freeingASessionWhileItRunsOnAnotherThreadIsSafe() throws {
        let m = try CABI.open(try TinyEarModel.path())
        defer { _ = earshot_model_close(m) }
        var s: OpaquePointer?
        #expect(earshot_session_create(m, &s) == EARSHOT_OK)
        let bits = UInt(bitPattern: s)
        final class Box: @unchecked Sendable { var status = EARSHOT_ERR_INTERNAL; var text = "" }
        let box = Box()
        let worker = Thread {
            var options = earshot_task_options()
            options.max_tokens = 12
            var audio = earshot_audio()
            var r: OpaquePointer?
            // Each token takes 20 ms, so the free below lands while the job runs.
            let slow: earshot_token_callback = { _, _, _ in usleep(20_000); return 0 }
            box.status = CABI.jfk.withCString { p in
                audio.path = p
                return earshot_session_run(OpaquePointer(bitPattern: bits), &audio, &options, slow, nil, &r)
            }
            if let r { box.text = String(cString: earshot_result_text(r)); _ = earshot_result_free(r) }
        }
        worker.start()
        usleep(300_000)
        #expect(earshot_session_free(s) == EARSHOT_OK)
        #expect(earshot_session_reset(s) == EARSHOT_ERR_INVALID_HANDLE)
        while !worker.isFinished { usleep(5000) }
        #expect(box.status == EARSHOT_OK && !box.text.isEmpty)
    }

    @Test func theExportedSymbolsAreExactlyTheHeadersFunctions() throws {
        let header = try String(contentsOfFile: CABI.header, encoding: .utf8)
        let declared = Set(header.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix(" "), !line.hasPrefix("#"), !line.hasPrefix("typedef"), !line.hasPrefix("/*"),
                  let paren = line.firstIndex(of: "(") else { return nil }
            let name = line[..<paren].split(whereSeparator: { $0 == " " || $0 == "*" }).last.map(String.init)
            return name?.hasPrefix("earshot_") == true ? name : nil
        })
        #expect(declared.count == 21)
        let nm = try CLIRunner.run(program: URL(fileURLWithPath: "/usr/bin/nm"), ["-D", "--defined-only", try CABI.library().path])
        #expect(nm.exitCode == 0)
        let exported = Set(nm.stdout.split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[2].hasPrefix("earshot") else { return nil }
            return String(parts[2])
        })
        #expect(exported == declared, "exported but not declared: \(exported.subtracting(declared)); declared but not exported: \(declared.subtracting(exported))")
        #expect(header.contains("#define EARSHOT_API_VERSION_MAJOR 1") && header.contains("#define EARSHOT_API_VERSION_MINOR 0"))
    }

    /// Compiles smoke.c against the header and `-learshot`, runs it and checks its figures.
    func runSmoke(sanitize: Bool) throws {
        let lib = try CABI.libraryDirectory()
        let exe = lib.path("smoke")
        var args = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-D_POSIX_C_SOURCE=200809L", "-g",
                    "-I", CABI.root.appendingPathComponent("Sources/CEarshot/include").path,
                    CABI.root.appendingPathComponent("Tests/CABI/smoke.c").path, "-o", exe,
                    "-L", lib.url.path, "-learshot", "-Wl,-rpath," + lib.url.path, "-lpthread"]
        if sanitize { args.insert(contentsOf: ["-fsanitize=address", "-fno-omit-frame-pointer"], at: 0) }
        let cc = try CLIRunner.run(program: URL(fileURLWithPath: "/usr/bin/cc"), args)
        #expect(cc.exitCode == 0, "\(cc)")
        guard cc.exitCode == 0 else { return }
        // LeakSanitizer on (suppressions in Tests/CABI/lsan.supp: none today); any leak fails the run.
        let supp = CABI.root.appendingPathComponent("Tests/CABI/lsan.supp").path
        let run = try CLIRunner.run(program: URL(fileURLWithPath: exe), [try TinyWhisperEar.path(), try TinyEarModel.path(), CABI.jfk],
                                    environment: ["ASAN_OPTIONS": "detect_leaks=1", "LSAN_OPTIONS": "suppressions=\(supp):print_suppressions=0"],
                                    timeout: 300)
        #expect(run.exitCode == 0, "\(run)")
        #expect(!run.stderr.contains("Sanitizer"), "\(run.stderr)")
        let v = CABI.values(run.stdout)
        #expect(v["failures"] == "0")
        let whisper = try EarshotModel(path: try TinyWhisperEar.path()).makeSession().transcribe(.file(CABI.jfk), options: CABI.greedyWhisper)
        #expect(v["whisper.text"] == whisper.text)
        #expect(v["whisper.pcm_text"] == whisper.text)
        #expect(v["whisper.segments"] == "\(whisper.segments.count)")
        #expect(v["whisper.srt"] == TranscriptFormat.srt.render(whisper))
        #expect(v["whisper.caption_error"]?.contains("Whisper") == true)
        let responses = CABI.chatResponses()
        #expect(v["qwen.turn1"] == responses[0])
        #expect(v["qwen.turn2"] == responses[1])
        var o = TranscriptionOptions()
        o.maxNewTokens = 20
        let asr = try EarshotModel(path: try TinyEarModel.path()).makeSession().transcribe(.file(CABI.jfk), options: o)
        #expect(v["qwen.asr"] == asr.text)
        #expect(v["qwen.asr_again"] == asr.text)
        #expect(Int(v["qwen.cancelled_after"] ?? "") ?? 999 < 200)
    }

    @Test func theCProgramRuns() throws { try runSmoke(sanitize: false) }

    @Test func theCProgramRunsCleanUnderAddressSanitizer() throws { try runSmoke(sanitize: true) }

    @Test func theExampleBuildsAgainstTheInstallWithPkgConfigAndRuns() throws {
        // Tools/install.sh into a prefix, Examples/c/example.c compiled with `pkg-config --cflags --libs earshot`.
        let prefix = try TemporaryDirectory("earshot-prefix")
        let install = try CLIRunner.run(program: CABI.root.appendingPathComponent("Tools/install.sh"),
                                        ["--prefix", prefix.url.path, "--bin-path", try CABI.library().deletingLastPathComponent().path])
        #expect(install.exitCode == 0, "\(install)")
        for f in ["include/earshot.h", "lib/libearshot.so", "lib/pkgconfig/earshot.pc", "bin/earshot"] {
            #expect(FileManager.default.fileExists(atPath: prefix.path(f)), "\(f) not installed")
        }
        let env = ["PKG_CONFIG_PATH": prefix.path("lib/pkgconfig")]
        let flags = try CLIRunner.run(program: URL(fileURLWithPath: "/usr/bin/pkg-config"), ["--cflags", "--libs", "earshot"], environment: env)
        #expect(flags.exitCode == 0, "\(flags)")
        let exe = prefix.path("earshot-example")
        let cc = try CLIRunner.run(program: URL(fileURLWithPath: "/usr/bin/cc"),
                                   ["-std=c99", "-Wall", "-Wextra", "-Werror", CABI.root.appendingPathComponent("Examples/c/example.c").path,
                                    "-o", exe] + flags.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        #expect(cc.exitCode == 0, "\(cc)")
        guard cc.exitCode == 0 else { return }
        // The C example in Docs/c-api.md compiles against the installed header and library too.
        let docs = try String(contentsOf: CABI.root.appendingPathComponent("Docs/c-api.md"), encoding: .utf8)
        let block = try #require(docs.components(separatedBy: "```c\n").dropFirst().first?.components(separatedBy: "```").first)
        let docC = prefix.path("docs-example.c")
        try block.write(toFile: docC, atomically: true, encoding: .utf8)
        let docCC = try CLIRunner.run(program: URL(fileURLWithPath: "/usr/bin/cc"),
                                      ["-std=c99", "-Wall", "-Werror", docC, "-o", prefix.path("docs-example")]
                                        + flags.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        #expect(docCC.exitCode == 0, "\(docCC)")
        // A two-turn chat on the tiny Qwen-Audio model: the goldens' answers (greedy, 16 tokens).
        let chat = try CLIRunner.run(program: URL(fileURLWithPath: exe),
                                     ["chat", try TinyEarModel.path(), CABI.jfk, "What does the speaker say?", "Summarise it in three words."])
        #expect(chat.exitCode == 0, "\(chat)")
        let r = CABI.chatResponses()
        #expect(chat.stdout == r[0] + "\n" + r[1] + "\n")
        // Transcription of jfk.wav: the tiny Qwen-Audio model's text equals the library's, and the real default
        // model (Whisper tiny.en, when Tools/get-default-model.sh has cached it) says the sentence.
        let qwen = try CLIRunner.run(program: URL(fileURLWithPath: exe), ["transcribe", try TinyEarModel.path(), CABI.jfk])
        let expected = try EarshotModel(path: try TinyEarModel.path()).makeSession().transcribe(.file(CABI.jfk))
        #expect(qwen.exitCode == 0 && qwen.stdout == expected.text + "\n", "\(qwen)")
        let cache = ProcessInfo.processInfo.environment["EARSHOT_CACHE"] ?? (NSHomeDirectory() + "/.cache/earshot")
        let real = cache + "/whisper-tiny.en.q8.ear"
        if FileManager.default.fileExists(atPath: real) {
            let t = try CLIRunner.run(program: URL(fileURLWithPath: exe), ["transcribe", real, CABI.jfk])
            #expect(t.stdout == "And so, my fellow Americans ask not what your country can do for you ask what you can do for your country.\n", "\(t)")
        }
    }

    @Test func thePythonBindingsTestsPass() throws {
        let lib = try CABI.library()
        let run = try CLIRunner.run(program: URL(fileURLWithPath: "/usr/bin/env"),
                                    ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", CABI.root.appendingPathComponent("Bindings/python/tests").path],
                                    environment: ["EARSHOT_LIBRARY": lib.path,
                                                  "EARSHOT_TEST_WHISPER": try TinyWhisperEar.path(),
                                                  "EARSHOT_TEST_QWEN": try TinyEarModel.path(),
                                                  "EARSHOT_TEST_AUDIO": CABI.jfk,
                                                  "PYTHONPATH": CABI.root.appendingPathComponent("Bindings/python").path],
                                    timeout: 300)
        #expect(run.exitCode == 0, "\(run)")
        #expect(run.stdout.contains("passed") && !run.stdout.contains("skipped"), "\(run)")
    }
}

/// jfk.wav (16-bit mono 16 kHz) as floats, read by the library's own front end.
func readMono16k(_ path: String) throws -> [Float] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    // The fixture is a canonical 44-byte-header PCM WAV; the data chunk follows "data" + size.
    guard let range = data.range(of: Data("data".utf8)) else { throw CABIError.status(EARSHOT_ERR_AUDIO, "no data chunk") }
    let start = range.upperBound + 4
    let count = (data.count - start) / 2
    return data.withUnsafeBytes { raw in
        (0..<count).map { Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * $0, as: Int16.self))) / 32768 }
    }
}
