// QwenTextLibraryTests: the text-only Qwen LLM family through the library — the tiny random Qwen2 GGUFs
// (Tests/Fixtures/qwen2-tiny, goldens from transformers' Qwen2ForCausalLM) converted in the test (f32) to `.ear`
// files, opened with `EarshotModel`, run through `Session.generate` (the one generation loop) and `Chat`.
//
// Tolerance, f32 weights and f32 KV cache: 1e-4 on last-position logits (|logit| ≲ 10), as Qwen2TinyTests
// (f32 on both sides, different accumulation orders and RoPE tables); the goldens' greedy steps all have a
// top-2 margin ≥ 0.03, so the 16 greedy ids must match exactly.
import Foundation
import Testing
import EarshotConvert
import EarshotKernels
import EarshotModels
import EarshotTestSupport
import EarshotTokenizer
@testable import Earshot

@Suite struct QwenTextLibraryTests {
    /// Converts a tiny GGUF (f32) into `dir` and opens it.
    static func open(_ variant: String, in dir: TemporaryDirectory, kv: KVCache.Precision = .f32) throws -> EarshotModel {
        let path = dir.path("\(variant).ear")
        let source = try GGUFQwenSource(path: Fixtures.url("qwen2-tiny/\(variant).gguf").path)
        _ = try Converter.convert(source, options: ConvertOptions(recipe: .uniform(.f32, name: "f32")), to: try EarFileSink(path: path))
        return try EarshotModel(path: path, options: ModelOptions(threads: 1, kvPrecision: kv))
    }

    static func greedy(_ n: Int, stopIds: Set<Int> = []) -> GenerationOptions {
        GenerationOptions(sampling: SamplingParameters(greedy: true), maxTokens: n, stopIds: stopIds)
    }

    @Test func infoSaysItChatsAndTakesNoAudio() throws {
        let dir = try TemporaryDirectory("qwen-text")
        let model = try Self.open("tied", in: dir)
        let info = model.info
        #expect(info.family == .qwenText && info.architecture == "qwen2" && info.quantization == "f32")
        #expect(info.chats && info.tasks == [.chat] && !info.takesAudio)
        #expect(info.languages.isEmpty && info.sampleRate == 0 && info.contextLength == 512)
        #expect(!info.supports(.transcribe) && !info.supports(.caption))
        #expect(model.stopIds == [274, 276])                            // eos = <|endoftext|>, and <|im_end|>
        #expect(model.defaultSystem == "You are a helpful assistant.")  // the tiny template has no default
        #expect(ModelFamily(architecture: "qwen2") == .qwenText && ModelFamily(architecture: "qwen") == .qwenText)
    }

    /// `Session.generate` on id prompts: last-position logits (probe) and 16 greedy ids equal the goldens.
    @Test(arguments: ["tied", "untied"])
    func greedyEqualsTransformers(_ variant: String) throws {
        let dir = try TemporaryDirectory("qwen-text")
        let model = try Self.open(variant, in: dir)
        let golden = try Qwen2Golden.load(variant)
        let session = model.makeSession()
        for g in golden.cases {
            var logits: [Float] = []
            let r = try session.generate(PreparedPrompt(ids: g.prompt), options: Self.greedy(16),
                                         probe: { name, _, v in if name == "llm.last_logits" { logits = Array(v) } })
            let d = maxAbsDiff(logits, g.logits)
            #expect(logits.count == 320 && d < 1e-4, "\(variant) \(g.name): max |d| \(d)")
            #expect(r.ids == g.greedy, "\(variant) \(g.name)")
            #expect(r.stopReason == .maxTokens && r.stats.promptTokens == g.prompt.count)
        }
        // The same session again, with the prefix cache in play (the probe is off): same ids.
        let g = golden.cases[2]
        _ = try session.generate(PreparedPrompt(ids: g.prompt), options: Self.greedy(1))
        let again = try session.generate(PreparedPrompt(ids: g.prompt), options: Self.greedy(16))
        #expect(again.ids == g.greedy && again.stats.reusedPromptTokens == g.prompt.count - 1)
    }

    /// Padding ids (embedding rows 277 …< 320 have no token) stream as no text instead of failing the decode.
    @Test func paddingIdsStreamAsNoText() throws {
        let dir = try TemporaryDirectory("qwen-text")
        let model = try Self.open("tied", in: dir)
        let g = try Qwen2Golden.load("tied").cases[0]
        #expect(g.greedy.contains(319))
        var pieces: [Int: String] = [:]
        let r = try model.makeSession().generate(PreparedPrompt(ids: g.prompt), options: Self.greedy(16),
                                                 onToken: { (e: TokenEvent) -> Bool in pieces[e.index] = e.text; return true })
        let tok = model.llm!.tokenizer
        #expect(pieces[g.greedy.firstIndex(of: 319)!] == "")
        #expect(r.text == (try tok.decode(r.ids.filter { $0 < tok.vocabularySize })))
    }

    /// Chat prompt ids = the ChatML text (system, history, query, assistant header) tokenized whole with
    /// specials, as transformers' apply_chat_template + tokenizer make them; the model's own special ids.
    @Test func chatPromptIsChatML() throws {
        let dir = try TemporaryDirectory("qwen-text")
        let model = try Self.open("tied", in: dir)
        let chat = try model.makeChat()
        let tok = model.llm!.tokenizer
        #expect(tok.specials.imStartID == 275 && tok.specials.imEndID == 276 && tok.specials.endOfTextID == 274)
        func chatML(_ messages: [(String, String)]) -> String {
            messages.map { "<|im_start|>\($0.0)\n\($0.1)<|im_end|>\n" }.joined() + "<|im_start|>assistant\n"
        }
        let (p1, kept1, _) = try chat.prompt(text: "def fib(n) if in er", audios: [])
        let sys = "You are a helpful assistant."
        #expect(p1.ids == tok.encode(chatML([("system", sys), ("user", "def fib(n) if in er")]), special: .all))
        #expect(kept1 == 0 && p1.ids.first == 275 && p1.audios.isEmpty)

        let reply = try chat.send("def fib(n) if in er", options: Self.greedy(6, stopIds: []))
        #expect(reply.promptIds == p1.ids)
        #expect(chat.history.count == 1 && chat.history[0].response == reply.response)
        let (p2, kept2, _) = try chat.prompt(text: "return the", audios: [])
        #expect(kept2 == 1)
        let expected = tok.encode(chatML([("system", sys), ("user", "def fib(n) if in er")]), special: .all)
            .dropLast(tok.encode("<|im_start|>assistant\n", special: .all).count)
            + tok.encode("<|im_start|>assistant\n", special: .all) + tok.encode(reply.response, special: .none)
            + tok.encode("<|im_end|>\n" + chatML([("user", "return the")]), special: .all)
        #expect(p2.ids == Array(expected))
        // User text that looks like a special stays text.
        let (p3, _, _) = try chat.prompt(text: "<|im_end|>", audios: [])
        #expect(p3.ids.filter { $0 == 276 }.count == p2.ids.filter { $0 == 276 }.count)
    }

    /// A chat turn stops on the model's <|im_end|>/<|endoftext|> (not Qwen-Audio's ids), keeps the reply
    /// before it, and the second turn reuses the first turn's KV cache; a saved chat (GQA rows: 2 KV heads
    /// of 16) loads into a fresh session and continues identically.
    @Test func chatTurnsStopReuseAndSave() throws {
        let dir = try TemporaryDirectory("qwen-text")
        let model = try Self.open("untied", in: dir)
        let chat = try model.makeChat(system: "You write code.")
        #expect(chat.stopIds == [274, 275, 276] && chat.defaultOptions.stopIds == [274, 275, 276])
        let greedy = Self.greedy(24)
        let r1 = try chat.send("def fib(n)", options: greedy)
        if case .stopToken(let id) = r1.generation.stopReason { #expect([274, 275, 276].contains(id)) }
        let tok = model.llm!.tokenizer
        let end = r1.generation.ids.firstIndex { [274, 275, 276].contains($0) } ?? r1.generation.ids.count
        #expect(r1.response == (try tok.decode(r1.generation.ids[..<end].filter { $0 < 277 })).trimmingCharacters(in: .whitespacesAndNewlines))
        let r2 = try chat.send("return the", options: greedy)
        #expect(r2.generation.stats.reusedPromptTokens > r1.promptIds.count / 2)

        let file = dir.path("chat.session")
        try chat.save(to: file)
        let other = try model.makeChat()
        try other.load(from: file)
        #expect(other.system == "You write code." && other.history.count == 2)
        let a = try chat.send("if in er", options: greedy)
        let b = try other.send("if in er", options: greedy)
        #expect(a.generation.ids == b.generation.ids && a.promptIds == b.promptIds)
        #expect(b.generation.stats.reusedPromptTokens == a.generation.stats.reusedPromptTokens)
    }

    /// Audio on a text model is refused with `.unsupported(family: .qwenText, …)` naming why.
    @Test func audioIsRefused() throws {
        let dir = try TemporaryDirectory("qwen-text")
        let model = try Self.open("tied", in: dir)
        let session = model.makeSession()
        let clip = AudioInput.samples([Float](repeating: 0, count: 16_000))
        func expectUnsupported(_ label: String, _ body: () throws -> Void) {
            do {
                try body()
                Issue.record("\(label): not refused")
            } catch let error as EarshotError {
                guard case .unsupported(let family, let what) = error else { Issue.record("\(label): \(error)"); return }
                #expect(family == .qwenText, "\(label)")
                #expect(error.description.contains("text-only"), "\(label): \(error.description)")
                _ = what
            } catch { Issue.record("\(label): \(error)") }
        }
        expectUnsupported("raw prompt with audio") { _ = try session.prompt(raw: "hi", audios: [clip]) }
        expectUnsupported("task prompt") { _ = try session.prompt(task: .caption(style: .plain), audio: clip) }
        expectUnsupported("transcribe") { _ = try session.transcribe(clip) }
        expectUnsupported("chat audio") { _ = try model.makeChat().send("what is this?", audios: [clip]) }
        expectUnsupported("prepared audio") {
            let p = PreparedPrompt(ids: [1, 2], audios: [PreparedAudio(key: "k", spanTokens: 4, mel: nil, span: nil)])
            _ = try session.generate(p, options: Self.greedy(1))
        }
        // `<audio>` in a raw prompt is plain text on a text model: nothing is read.
        let p = try session.prompt(rawReadingAudioTags: "<audio>/no/such.wav</audio>hi")
        #expect(p.audios.isEmpty && p.ids == model.llm!.tokenizer.encode("<audio>/no/such.wav</audio>hi", special: .none))
    }

    /// Forwards to an `.ear` file, with the metadata changed by `edit` (for files the converter never writes).
    final class EditingSink: ModelSink {
        let inner: EarFileSink
        let edit: ([(key: String, value: MetaValue)]) -> [(key: String, value: MetaValue)]
        init(_ inner: EarFileSink, edit: @escaping ([(key: String, value: MetaValue)]) -> [(key: String, value: MetaValue)]) {
            self.inner = inner; self.edit = edit
        }
        var outputDescription: String { inner.outputDescription }
        func addTensor(name: String, type: WeightType, shape: [Int], byteCount: Int,
                       produce: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
            try inner.addTensor(name: name, type: type, shape: shape, byteCount: byteCount, produce: produce)
        }
        func addBlob(name: String, bytes: Data) throws { try inner.addBlob(name: name, bytes: bytes) }
        func finish(metadata: [(key: String, value: MetaValue)]) throws -> Int { try inner.finish(metadata: edit(metadata)) }
        func abort() { inner.abort() }
    }

    /// Tokenizer metadata the engine refuses, each with a typed error naming the problem: a special that is not
    /// `<…>`, specials numbered from the wrong id, and no list at all (Qwen's 208 general specials are taken,
    /// which do not fit this tiny model's 320 embedding rows).
    @Test func refusesUnusableTokenizerMetadata() throws {
        let dir = try TemporaryDirectory("qwen-text")
        func write(_ name: String, _ edit: @escaping ([(key: String, value: MetaValue)]) -> [(key: String, value: MetaValue)]) throws -> String {
            let path = dir.path(name)
            let source = try GGUFQwenSource(path: Fixtures.url("qwen2-tiny/tied.gguf").path)
            _ = try Converter.convert(source, options: ConvertOptions(recipe: .uniform(.f32, name: "f32")),
                                      to: EditingSink(try EarFileSink(path: path), edit: edit))
            return path
        }
        func replacing(_ key: String, _ value: MetaValue?) -> ([(key: String, value: MetaValue)]) -> [(key: String, value: MetaValue)] {
            { meta in meta.compactMap { $0.key == key ? value.map { v in (key: key, value: v) } : $0 } }
        }
        let badSurface = try write("a.ear", replacing(MetadataKeys.specialTokens, .strings(["<|endoftext|>", "im_start", "<|im_end|>"])))
        let badFirst = try write("b.ear", replacing(MetadataKeys.specialFirstID, .int(275)))
        let noList = try write("c.ear", replacing(MetadataKeys.specialTokens, nil))
        #expect { _ = try EarshotModel(path: badSurface) } throws: { e in
            guard case .tokenizer(.badSpecialToken(let id, "im_start", _))? = e as? EarshotError else { return false }
            return id == 275
        }
        #expect { _ = try EarshotModel(path: badFirst) } throws: { e in
            guard case .modelContents(_, .badConfig(let key, _))? = e as? EarshotError else { return false }
            return key == MetadataKeys.specialFirstID
        }
        #expect { _ = try EarshotModel(path: noList) } throws: { e in
            guard case .modelContents(_, .badConfig(let key, let reason))? = e as? EarshotError else { return false }
            return key == MetadataKeys.vocabSize && reason.contains("482 ids")   // 274 ranks + 208 specials
        }
    }

    /// The default system prompt comes from the GGUF chat template when it writes one (Qwen2.5's).
    @Test func defaultSystemFromTemplate() {
        let qwen25 = #"""
            {%- if tools %}{{- '<|im_start|>system\n' }}{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}{%- endif %}
            {%- else %}{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}{%- else %}{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}{%- endif %}{%- endif %}
            """#
        #expect(QwenTextEngine.defaultSystem(inTemplate: qwen25) == "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        #expect(QwenTextEngine.defaultSystem(inTemplate: "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}") == nil)
    }
}
