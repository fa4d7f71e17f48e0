// Library API on the tiny model (converted by earshot-convert, f32): greedy task runs equal the reference
// goldens (ids exact; every golden step's top-1/top-2 margin is ≥ 0.0169), streaming, cancellation, stop
// strings, the chat response rule, the KV-prefix cache, save → load → continue, sharing a model between threads.
import Foundation
import Testing
@testable import Earshot
import EarshotTestSupport
import EarshotModels
import EarshotTokenizer

enum LibGoldens {
    nonisolated(unsafe) static let manifest: [String: Any] = {
        let data = try! Data(contentsOf: Fixtures.url("qwen-audio-tiny/goldens/manifest.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()
    static func run(_ name: String) -> [String: Any] { (manifest["runs"] as! [String: Any])[name] as! [String: Any] }
    static func ints(_ v: Any?) -> [Int] { (v as! [Any]).map { ($0 as! NSNumber).intValue } }
    nonisolated(unsafe) static let chatTurns = run("chat")["turns"] as! [[String: Any]]

    static let model: EarshotModel = try! EarshotModel(path: try! TinyEarModel.path())
    static let jfk = Fixtures.url("audio/jfk.wav").path
    static let flac = Fixtures.url("audio/1272-128104-0000.flac").path

    static func greedy(_ maxTokens: Int) -> GenerationOptions {
        GenerationOptions(sampling: .greedy, maxTokens: maxTokens, stopIds: [151_643])
    }
}

@Suite struct SessionTests {
    let model = LibGoldens.model

    @Test func greedyTasksEqualTheGoldens() throws {
        let session = model.makeSession()
        let asr = try session.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(20))
        #expect(asr.ids == LibGoldens.ints(LibGoldens.run("asr")["greedy_ids"]))
        #expect(asr.text == LibGoldens.run("asr")["greedy_text"] as? String)
        #expect(asr.stopReason == .maxTokens)
        #expect(asr.stats.promptTokens == 283 && asr.stats.generatedTokens == 20)
        let caption = try session.run(.caption(style: .clotho), audio: .file(LibGoldens.flac), options: LibGoldens.greedy(12))
        #expect(caption.ids == LibGoldens.ints(LibGoldens.run("caption")["greedy_ids"]))
        #expect(caption.text == LibGoldens.run("caption")["greedy_text"] as? String)
    }

    @Test func thePrefixCacheTellsAudiosApart() throws {
        // Placeholder ids are the same for every audio: only the same audio may be reused from the KV cache.
        let s = model.makeSession()
        _ = try s.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(3))
        let other = try s.run(.caption(style: .clotho), audio: .file(LibGoldens.flac), options: LibGoldens.greedy(12))
        #expect(other.stats.reusedPromptTokens == 0)
        #expect(other.ids == LibGoldens.ints(LibGoldens.run("caption")["greedy_ids"]))
        // The same audio with another task reuses its whole span (and its encoding).
        let again = try s.run(.transcribe(language: .en), audio: .file(LibGoldens.flac), options: LibGoldens.greedy(2))
        #expect(again.stats.reusedPromptTokens == 148 && again.stats.cachedAudios == 1)   // the span (148); the task tags differ
        let fresh = try model.makeSession().run(.transcribe(language: .en), audio: .file(LibGoldens.flac), options: LibGoldens.greedy(2))
        #expect(again.ids == fresh.ids)
    }

    @Test func theKVCacheGrowsKeepingThePrefix() throws {
        // A text-only golden first (cache of 256 rows), then a 600-token prompt that shares its prefix:
        // the cache is replaced by a bigger one with the prefix rows copied; same tokens as a fresh session.
        let golden = LibGoldens.run("text_only")
        let text = golden["prompt"] as! String
        let s = model.makeSession()
        let first = try s.generate(try s.prompt(raw: text, audios: []), options: LibGoldens.greedy(20))
        #expect(first.ids == LibGoldens.ints(golden["greedy_ids"]))
        let long = text + String(repeating: " and then the model kept on speaking", count: 80)
        let grown = try s.generate(try s.prompt(raw: long, audios: []), options: LibGoldens.greedy(5))
        #expect(grown.stats.reusedPromptTokens == 14 && grown.stats.promptTokens > 256)
        let fresh = model.makeSession()
        let expected = try fresh.generate(try fresh.prompt(raw: long, audios: []), options: LibGoldens.greedy(5))
        #expect(grown.ids == expected.ids)
    }

    @Test func defaultsComeFromTheGenerationConfig() {
        #expect(model.defaults.topP == 0.8 && model.defaults.topK == 0 && model.defaults.chatFormat == "raw")
        #expect(model.chatDefaults.topP == 0.5 && model.chatDefaults.maxWindowSize == 6144)
        let s = model.makeSession()
        #expect(s.defaultOptions(for: .caption(style: .clotho)).maxTokens == 30)
        #expect(s.defaultOptions(for: .transcribe(language: .en)).sampling.topP == 0.8)
    }

    @Test func streamingGivesTheSameTokens() async throws {
        let session = model.makeSession()
        var ids: [Int] = []
        var text = ""
        for try await t in session.stream(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(20)) {
            ids.append(t.id)
            text += t.text
        }
        #expect(ids == LibGoldens.ints(LibGoldens.run("asr")["greedy_ids"]))
        #expect(text == LibGoldens.run("asr")["greedy_text"] as? String)
    }

    @Test func callbackAndFlagCancel() throws {
        let session = model.makeSession()
        let three = try session.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(20)) { $0.index < 2 }
        #expect(three.ids == Array(LibGoldens.ints(LibGoldens.run("asr")["greedy_ids"]).prefix(3)))
        #expect(three.stopReason == .cancelled)
        let flag = CancellationFlag()
        flag.cancel()
        let none = try session.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(20), cancel: flag)
        #expect(none.ids.isEmpty && none.stopReason == .cancelled)
    }

    /// A prefill asked to stop does so between layers, leaving the KV cache as it was: the same prefill
    /// then gives what a fresh cache gives (how a server timeout cuts a long prompt short).
    @Test func aPrefillStopsBetweenLayers() throws {
        let engine = try #require(model.llm)
        let x = try engine.lm.embed(Array(100..<140))
        let cache = engine.makeCache(capacity: 64, precision: .f32)
        var asked = 0
        #expect(throws: ModelError.stopped) {
            _ = try engine.lm.forward(x, cache: cache, shouldStop: { asked += 1; return asked == 2 })
        }
        #expect(asked == 2 && cache.length == 0)
        let resumed = try engine.lm.forward(x, cache: cache)
        let fresh = try engine.lm.forward(x, cache: engine.makeCache(capacity: 64, precision: .f32))
        #expect(resumed == fresh && cache.length == 40)
    }

    @Test func stopStringsCutTheText() throws {
        let session = model.makeSession()
        var options = LibGoldens.greedy(20)
        options.stopStrings = ["happy"]
        let r = try session.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: options)
        #expect(r.stopReason == .stopString("happy"))
        #expect(r.text == "airport쯧 Также ")
        #expect(r.ids == Array(LibGoldens.ints(LibGoldens.run("asr")["greedy_ids"]).prefix(4)))
        // The streamed pieces add up to the text and never show the stop string, even split across tokens.
        options.stopStrings = ["thinkerfe"]
        var streamed = ""
        let split = try session.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: options) {
            streamed += $0.text
            #expect(!streamed.contains("thinker"))
            return true
        }
        #expect(split.text == "airport쯧 Также happy " && streamed == split.text)
        // Without a stop string hit, everything is flushed by the last token.
        options.stopStrings = ["never appears"]
        streamed = ""
        let full = try session.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: options) { streamed += $0.text; return true }
        #expect(full.stopReason == .maxTokens && streamed == full.text && full.text == LibGoldens.run("asr")["greedy_text"] as? String)
    }

    @Test func stopIdsEndGeneration() throws {
        let session = model.makeSession()
        let golden = LibGoldens.ints(LibGoldens.run("asr")["greedy_ids"])
        var options = LibGoldens.greedy(20)
        options.stopIds = [golden[5]]
        let r = try session.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: options)
        #expect(r.ids == Array(golden.prefix(6)) && r.stopReason == .stopToken(golden[5]))
    }

    @Test func hugeMaxTokensAreCappedByTheContext() throws {
        // --max-tokens 4611686018427387904 used to overflow the KV cache size; the cache is sized from the
        // model's context, whatever is asked.
        let s = model.makeSession()
        let golden = LibGoldens.ints(LibGoldens.run("asr")["greedy_ids"])
        var options = LibGoldens.greedy(1 << 62)
        options.stopIds = [golden[3]]
        let r = try s.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: options)
        #expect(r.ids == Array(golden.prefix(4)))
        #expect(s.cache!.capacity <= model.info.contextLength, "KV cache of \(s.cache!.capacity) positions")
        // A prompt longer than the context is refused with both numbers.
        let long = String(repeating: "hello ", count: model.info.contextLength + 10)
        do {
            _ = try s.generate(try s.prompt(raw: long, audios: []), options: LibGoldens.greedy(1))
            Issue.record("a prompt longer than the context was accepted")
        } catch {
            #expect(error.description.contains("\(model.info.contextLength - 1)"), "\(error)")
        }
    }

    @Test func aModelIsSharedBetweenThreads() async throws {
        let golden = LibGoldens.ints(LibGoldens.run("asr")["greedy_ids"])
        let m = model
        try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try m.makeSession().run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(20)).ids
                }
            }
            for try await ids in group { #expect(ids == golden) }
        }
    }

    @Test func missingAudioAndModelAreTypedErrors() throws {
        #expect(throws: EarshotError.self) {
            try model.makeSession().run(.notes, audio: .file("/nonexistent.wav"), options: LibGoldens.greedy(2))
        }
        do {
            _ = try EarshotModel(path: "/nonexistent.ear")
            Issue.record("loaded a missing model")
        } catch { #expect(error.description.contains("/nonexistent.ear")) }
    }
}

@Suite struct ChatTests {
    let model = LibGoldens.model

    @Test func twoGoldenTurnsWithThePrefixCache() throws {
        let chat = try model.makeChat()
        var options = chat.defaultOptions
        options.sampling = .greedy
        options.maxTokens = 16
        let turn1 = try chat.send("What does the speaker say?", audios: [LibGoldens.jfk], options: options)
        let turn2 = try chat.send("Summarise it in three words.", options: options)
        for (k, reply) in [turn1, turn2].enumerated() {
            #expect(reply.generation.ids == LibGoldens.ints(LibGoldens.chatTurns[k]["greedy_ids"]), "turn \(k)")
            #expect(reply.promptIds.count == LibGoldens.ints(LibGoldens.chatTurns[k]["input_ids"]).count)
            #expect(reply.response == LibGoldens.chatTurns[k]["response"] as? String, "turn \(k)")
        }
        // Turn 2: 340 prompt ids, of which turn 1's prompt (307) and the matching part of its answer were cached.
        #expect(turn2.generation.stats.reusedPromptTokens >= 307)
        #expect(turn2.generation.stats.cachedAudios == 1 && turn2.generation.stats.encodedAudios == 0)   // history audio: not re-encoded
        #expect(chat.history.count == 2)
    }

    @Test func saveLoadContinueEqualsUninterrupted() throws {
        let dir = try TemporaryDirectory("earshot-session")
        var options = try model.makeChat().defaultOptions
        options.sampling = .greedy
        options.maxTokens = 16
        let a = try model.makeChat()
        _ = try a.send("What does the speaker say?", audios: [LibGoldens.jfk], options: options)
        try a.save(to: dir.path("a.chat"))
        let uninterrupted = try a.send("Summarise it in three words.", options: options)

        let b = try model.makeChat(system: "something else")
        try b.load(from: dir.path("a.chat"))
        #expect(b.system == Chat.defaultSystem && b.history.count == 1)
        let resumed = try b.send("Summarise it in three words.", options: options)
        #expect(resumed.generation.ids == uninterrupted.generation.ids)
        #expect(resumed.generation.stats.reusedPromptTokens == uninterrupted.generation.stats.reusedPromptTokens)
        #expect(resumed.response == uninterrupted.response)
    }

    @Test func aSavedChatContinuesWithoutItsAudioFiles() throws {
        // The KV cache holds the audio's span: a saved chat loads and continues after the file is gone.
        let dir = try TemporaryDirectory("earshot-session-moved")
        let audio = dir.path("speech.wav")
        try FileManager.default.copyItem(atPath: LibGoldens.jfk, toPath: audio)
        var options = try model.makeChat().defaultOptions
        options.sampling = .greedy
        options.maxTokens = 16
        let a = try model.makeChat()
        _ = try a.send("What does the speaker say?", audios: [audio], options: options)
        try a.save(to: dir.path("a.chat"))
        let uninterrupted = try a.send("Summarise it in three words.", options: options)
        try FileManager.default.removeItem(atPath: audio)
        let b = try model.makeChat()
        try b.load(from: dir.path("a.chat"))
        #expect(b.history.first?.audios.map(\.name) == [audio])
        let resumed = try b.send("Summarise it in three words.", options: options)
        #expect(resumed.generation.ids == uninterrupted.generation.ids)
        #expect(resumed.generation.stats.encodedAudios == 0)
    }

    @Test func damagedSessionFilesAreRefused() throws {
        let dir = try TemporaryDirectory("earshot-session-bad")
        let chat = try model.makeChat()
        var options = chat.defaultOptions
        options.sampling = .greedy
        options.maxTokens = 2
        _ = try chat.send("hi", options: options)
        try chat.save(to: dir.path("ok.chat"))
        let good = try Data(contentsOf: URL(fileURLWithPath: dir.path("ok.chat")))
        let cases: [(String, Data)] = [
            ("magic", Data("NOTASESSIONFILE!!!!!!!!".utf8)),
            ("truncated", good.prefix(good.count / 2)),
            ("version", { var d = good; d[8] = 9; return d }()),
            ("size", { var d = good; d[12] ^= 0x55; return d }()),
            ("empty", Data()),
        ]
        for (name, bytes) in cases {
            try bytes.write(to: URL(fileURLWithPath: dir.path(name)))
            #expect(throws: EarshotError.self, "\(name)") { try model.makeChat().load(from: dir.path(name)) }
        }
        #expect(throws: EarshotError.self) { try model.makeChat().load(from: dir.path("missing")) }
    }

    @Test func sessionFilesAreChecksummedAndEveryFieldChecked() throws {
        let dir = try TemporaryDirectory("earshot-session-hostile")
        let chat = try model.makeChat()
        var options = chat.defaultOptions
        options.sampling = .greedy
        options.maxTokens = 2
        _ = try chat.send("hi", options: options)
        try chat.save(to: dir.path("ok.chat"))
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path("ok.chat"))))
        // Every one of 30 random bit flips is refused (the checksum or the frame catches it), never loaded.
        var state: UInt64 = 99
        for k in 0..<30 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var bad = good
            let bit = Int(state >> 20) % (bad.count * 8)
            bad[bit / 8] ^= UInt8(1 << (bit % 8))
            try Data(bad).write(to: URL(fileURLWithPath: dir.path("flip\(k)")))
            #expect(throws: EarshotError.self, "flip \(k) at bit \(bit)") { try model.makeChat().load(from: dir.path("flip\(k)")) }
        }
        // A payload-size field of 64 GiB is refused before anything is allocated.
        var huge = good
        withUnsafeBytes(of: UInt64(64 << 30).littleEndian) { huge.replaceSubrange(12..<20, with: $0) }
        try Data(huge).write(to: URL(fileURLWithPath: dir.path("huge")))
        do { try model.makeChat().load(from: dir.path("huge")); Issue.record("huge payload loaded") } catch {
            #expect(error.description.contains("impossible for this model"), "\(error)")
        }
        // A KV cache holding NaN is refused.
        let poisoned = try model.makeChat()
        _ = try poisoned.send("hi", options: options)
        let s = poisoned.session
        let nan = [UInt8](repeating: 0xFF, count: s.cache!.rowBytes)
        nan.withUnsafeBytes { s.cache!.writeRawRows(slot: 0, UnsafeRawBufferPointer(rebasing: $0[...])) }
        try poisoned.save(to: dir.path("nan.chat"))
        do { try model.makeChat().load(from: dir.path("nan.chat")); Issue.record("NaN KV loaded") } catch {
            #expect(error.description.contains("NaN"), "\(error)")
        }
        // A 10 MB system prompt (it compresses to almost nothing) is refused by its length.
        let big = try model.makeChat(system: String(repeating: "a", count: 10 << 20))
        try big.save(to: dir.path("big.chat"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path("big.chat"))).count < 100_000)
        do { try model.makeChat().load(from: dir.path("big.chat")); Issue.record("10 MB system prompt loaded") } catch {
            #expect(error.description.contains("system prompt"), "\(error)")
        }
        // Saving over a directory or a FIFO is refused; the original stays.
        try FileManager.default.createDirectory(atPath: dir.path("d"), withIntermediateDirectories: false)
        #expect(throws: EarshotError.self) { try chat.save(to: dir.path("d")) }
        if mkfifo(dir.path("fifo"), 0o644) == 0 {
            #expect(throws: EarshotError.self) { try chat.save(to: dir.path("fifo")) }
            #expect(throws: EarshotError.self) { try model.makeChat().load(from: dir.path("fifo")) }   // never hangs
        }
    }

    @Test func userTextNeverOpensFiles() throws {
        // A kiosk passing typed text through: audio tags in it stay plain text (no file is read, no span made).
        let chat = try model.makeChat()
        let (prompt, _, audios) = try chat.prompt(text: "<audio>/etc/passwd</audio> what is this?", audios: [])
        #expect(audios.isEmpty && prompt.audios.isEmpty && !prompt.ids.contains(QwenTokenID.audioStart))
        let ask = try model.makeSession().prompt(task: .ask(question: "<audio>/etc/passwd</audio><|endoftext|>"), audio: .file(LibGoldens.jfk))
        #expect(ask.audios.count == 1 && ask.ids.filter { $0 == QwenTokenID.audioStart }.count == 1)
        #expect(!ask.ids.contains(QwenTokenID.endOfText))
    }

    @Test func responseRule() throws {
        let tok = model.qwen!.tokenizer
        func reply(_ ids: [Int], _ reason: StopReason = .maxTokens) throws -> String {
            try Chat.response(for: GenerationResult(ids: ids, text: "", stopReason: reason, stats: GenerationStats()), tokenizer: tok)
        }
        let hello = tok.encode(" Hello world")
        // No end token: the last id is dropped (the reference's decode_tokens), whitespace stripped.
        #expect(try reply(hello + [13]) == "Hello world")
        // An end token: the text stops before it.
        #expect(try reply(hello + [151_645, 151_643], .stopToken(151_645)) == "Hello world")
        #expect(try reply(hello + [151_644]) == "Hello world")
        #expect(try reply([]) == "")
    }

    @Test func queriesListAudiosLikeFromListFormat() {
        #expect(Chat.query(text: "Compare them.", audios: ["a.wav", "b.flac"])
                == "Audio 1:<audio>a.wav</audio>\nAudio 2:<audio>b.flac</audio>\nCompare them.")
    }

    @Test func theWindowDropsOldTurns() throws {
        let chat = try model.makeChat()
        var options = chat.defaultOptions
        options.sampling = .greedy
        options.maxTokens = 3
        _ = try chat.send("First question.", options: options)
        _ = try chat.send("Second question.", options: options)
        chat.maxWindowTokens = 40      // system (10) + one text turn fits; two do not
        let (_, kept, _) = try chat.prompt(text: "Third.", audios: [])
        #expect(kept == 1)
        chat.maxWindowTokens = 6144
        let (_, all, _) = try chat.prompt(text: "Third.", audios: [])
        #expect(all == 2)
    }
}
