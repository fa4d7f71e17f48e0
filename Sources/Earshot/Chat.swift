// Chat: Qwen-Audio-Chat conversations (spec §7) — ChatML with a system prompt, `Audio k:<audio>…</audio>`
// references (several per turn), the 6144-token history window, stop on <|im_end|>/<|im_start|>/<|endoftext|>,
// and the reference's response rule. Qwen2-Audio-Instruct: its chat template (`Audio k: <|audio_bos|>…`,
// `Qwen2AudioChatPrompt`) under the same window, replies kept as transformers' chat loop keeps them. The same ChatML, without audio, on a text-only Qwen LLM (Qwen2.5-Instruct:
// its own special ids, its eos, the chat template's default system prompt). Runs on a Session, so turn 2 reuses turn 1's KV cache and audio
// encodings. User text, the system prompt and replies are tokenized without audio tags, so no text can make
// the chat open a file: audios enter only through the `audios` argument.
//
// Thread safety: every method may be called from any thread; turns run one at a time (the session's lock),
// and `history` can be read while a turn streams (it changes only when a turn ends).
import EarshotTokenizer
import Foundation

/// One audio of a chat turn, remembered so the history can be replayed without re-reading the file.
public struct ChatAudio: Sendable, Equatable {
    /// The file path (or samples name) as given.
    public let name: String
    /// The session's cache key of the audio (the KV cache rows of its span are keyed by it).
    let key: String
    /// Tokens of its span.
    public let spanTokens: Int
    /// Where to read it again when neither the audio cache nor the KV cache holds it (nil: the file `name`).
    var source: AudioInput? = nil

    /// Equal when they name the same audio content and span (where it would be re-read from is not compared).
    public static func == (a: ChatAudio, b: ChatAudio) -> Bool {
        a.name == b.name && a.key == b.key && a.spanTokens == b.spanTokens
    }
}

/// One finished exchange.
public struct ChatTurn: Sendable, Equatable {
    /// The user's text (without the audio lines).
    public let text: String
    public let audios: [ChatAudio]
    /// The answer as the reference keeps it (see `Chat.response(for:tokenizer:)`).
    public let response: String

    /// The query as the reference's text: `Audio k:<audio>NAME</audio>\n` lines, then the text.
    public var query: String { Chat.query(text: text, audios: audios.map(\.name)) }
}

/// One finished chat turn.
public struct ChatReply: Sendable {
    /// The answer as the reference returns it and keeps in the history (see `Chat.response(for:)`).
    public let response: String
    public let generation: GenerationResult
    /// History turns that fit in the window for this prompt (newest first).
    public let keptHistoryTurns: Int
    public let promptIds: [Int]
}

public final class Chat: @unchecked Sendable {   // state guarded by `lock`; turns serialised by the session
    public static let defaultSystem = "You are a helpful assistant."
    /// `<|endoftext|>`, `<|im_start|>`, `<|im_end|>` of Qwen-Audio (a text LLM's own ids: `stopIds` of the instance).
    public static let stopIds: Set<Int> = [QwenTokenID.endOfText, QwenTokenID.imStart, QwenTokenID.imEnd]
    /// Longest system prompt, in characters (a session file cannot smuggle in megabytes).
    public static let maxSystemCharacters = 100_000

    public let session: Session
    private let lock = NSLock()
    private var _system: String
    private var _history: [ChatTurn] = []
    private var _maxWindowTokens: Int

    init(session: Session, system: String = Chat.defaultSystem) {
        self.session = session
        _system = system
        _maxWindowTokens = session.model.chatDefaults.maxWindowSize
    }

    /// The system prompt of the next turns.
    public var system: String {
        get { lock.lock(); defer { lock.unlock() }; return _system }
        set { lock.lock(); _system = newValue; lock.unlock() }
    }

    /// Finished turns, oldest first.
    public var history: [ChatTurn] { lock.lock(); defer { lock.unlock() }; return _history }

    /// The history window in tokens (system + kept turns, the new query not counted).
    public var maxWindowTokens: Int {
        get { lock.lock(); defer { lock.unlock() }; return _maxWindowTokens }
        set { lock.lock(); _maxWindowTokens = max(1, newValue); lock.unlock() }
    }

    /// Forgets the history and the KV cache.
    public func reset() {
        lock.lock(); _history = []; lock.unlock()
        session.reset()
    }

    /// Replaces the history (e.g. from a session file). The KV cache is not touched.
    func setState(system: String, maxWindowTokens: Int, history: [ChatTurn]) {
        lock.lock(); defer { lock.unlock() }
        _system = system
        _maxWindowTokens = max(1, maxWindowTokens)
        _history = history
    }

    /// The query text of `from_list_format`: `Audio k:<audio>PATH</audio>\n` per audio (k from 1), then the text.
    public static func query(text: String, audios: [String]) -> String {
        audios.enumerated().map { "Audio \($0.offset + 1):<audio>\($0.element)</audio>\n" }.joined() + text
    }

    /// The ids that end a reply on this model: `<|endoftext|>`, `<|im_start|>`, `<|im_end|>` (and a text
    /// LLM's eos), with the model's own ids.
    public var stopIds: Set<Int> { session.model.llm?.chatStopIds ?? Chat.stopIds }

    /// The default options for chat: the chat generation config's sampling and max tokens, ChatML stop ids.
    public var defaultOptions: GenerationOptions {
        let d = session.model.chatDefaults
        return GenerationOptions(sampling: d.sampling(), maxTokens: d.maxNewTokens, stopIds: stopIds)
    }

    /// Builds the ChatML prompt for a new user turn after the current history.
    /// - Returns: the prompt, how many history turns it keeps, and the turn's audios.
    public func prompt(text: String, audios: [AudioInput]) throws(EarshotError) -> (PreparedPrompt, kept: Int, audios: [ChatAudio]) {
        let engine = try session.llmEngine("chat")
        if !audios.isEmpty { _ = try session.qwenEngine("take audio inputs") }
        guard audios.count <= QwenAudioEngine.maxAudiosPerPrompt else {
            throw .prompt(.tooManyAudios(count: audios.count, limit: QwenAudioEngine.maxAudiosPerPrompt))
        }
        lock.lock()
        let (history, system, window) = (_history, _system, _maxWindowTokens)
        lock.unlock()
        var prepared: [String: PreparedAudio] = [:]
        var stats = GenerationStats()
        var turnAudios: [ChatAudio] = []
        for a in audios {
            let (p, s) = try session.prepareAudio(a)
            prepared[p.key] = p
            stats.add(s)
            turnAudios.append(ChatAudio(name: a.name, key: p.key, spanTokens: p.spanTokens, source: a))
        }
        func content(_ t: ChatTurn) -> ChatContent {
            ChatContent(audios: t.audios.map { (name: $0.name, spanTokens: $0.spanTokens) }, text: t.text, textMode: .none)
        }
        let query = ChatContent(audios: turnAudios.map { (name: $0.name, spanTokens: $0.spanTokens) }, text: text, textMode: .none)
        let turns = history.map { (query: content($0), response: ChatContent(text: $0.response, textMode: .response)) }
        let chat: ChatPrompt
        if let audio = engine.audio, audio.flavor == .qwen2Audio {
            chat = engine.tokenizer.qwen2AudioChatPrompt(query: query, history: turns, system: system, maxWindowTokens: window,
                                                         span: audio.qwen2SpanIDs)
        } else {
            chat = engine.tokenizer.chatPrompt(query: query, history: turns, system: system, maxWindowTokens: window)
        }
        // The audios of the kept turns, in prompt order: their encodings come from the cache, the KV cache
        // prefix, or (when neither holds them any more) from reading the file again.
        let keptAudios = history.suffix(chat.keptHistoryTurns).flatMap(\.audios) + turnAudios
        var list: [PreparedAudio] = []
        for a in keptAudios {
            if let p = prepared[a.key] { list.append(p); continue }
            list.append(PreparedAudio(key: a.key, spanTokens: a.spanTokens, mel: nil, span: nil, source: a.source ?? .file(a.name)))
        }
        var p = PreparedPrompt(ids: chat.ids, audios: list)
        p.stats = stats
        return (p, chat.keptHistoryTurns, turnAudios)
    }

    /// Sends one user turn (`audios` become `Audio k:` references before `text`) and generates the answer,
    /// streaming tokens to `onToken`. The turn is added to the history unless generation was cancelled.
    public func send(_ text: String, audios: [AudioInput] = [], options: GenerationOptions? = nil,
                     cancel: CancellationFlag? = nil,
                     onToken: (TokenEvent) -> Bool = { _ in true }) throws(EarshotError) -> ChatReply {
        let engine = try session.llmEngine("chat")
        let (prompt, kept, turnAudios) = try prompt(text: text, audios: audios)
        var opts = options ?? defaultOptions
        opts.stopIds.formUnion(engine.chatStopIds)
        let result = try session.generate(prompt, options: opts, cancel: cancel, onToken: onToken)
        let response = engine.audio?.flavor == .qwenAudio ? try Chat.response(for: result, tokenizer: engine.tokenizer)
            : try Chat.textResponse(for: result, tokenizer: engine.tokenizer, stopIds: engine.chatStopIds)
        if result.stopReason != .cancelled {
            lock.lock()
            _history.append(ChatTurn(text: text, audios: turnAudios, response: response))
            lock.unlock()
        }
        return ChatReply(response: response, generation: result, keptHistoryTurns: kept, promptIds: prompt.ids)
    }

    /// Convenience: audio file paths.
    public func send(_ text: String, audios paths: [String], options: GenerationOptions? = nil, cancel: CancellationFlag? = nil,
                     onToken: (TokenEvent) -> Bool = { _ in true }) throws(EarshotError) -> ChatReply {
        try send(text, audios: paths.map { AudioInput.file($0) }, options: options, cancel: cancel, onToken: onToken)
    }

    /// A text LLM's reply (as transformers' and llama.cpp's chat loops keep it): the generated ids before the
    /// first stop id, all of them when none was generated; decoded (padding ids without a token give no
    /// text), stop string cut, whitespace stripped.
    static func textResponse(for result: GenerationResult, tokenizer: QwenTokenizer, stopIds: Set<Int>) throws(EarshotError) -> String {
        let ids = result.ids
        let end = ids.firstIndex { stopIds.contains($0) } ?? ids.count
        var text: String
        do { text = try tokenizer.decode(ids[..<end].filter { $0 < tokenizer.vocabularySize }) } catch { throw .tokenizer(error) }
        if case .stopString(let s) = result.stopReason, let r = text.range(of: s) { text = String(text[..<r.lowerBound]) }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The reference's response (`decode_tokens`, chatml): the generated ids before the first
    /// `<|im_start|>`/`<|im_end|>`; when there is none, all ids but the **last** (the reference's loop leaves
    /// its index on the last id); decoded, stop string cut, surrounding whitespace stripped.
    public static func response(for result: GenerationResult, tokenizer: QwenTokenizer) throws(EarshotError) -> String {
        let ids = result.ids
        let s = tokenizer.specials
        let end = ids.firstIndex { $0 == s.imStartID || $0 == s.imEndID } ?? max(ids.count - 1, 0)
        var text: String
        do { text = try tokenizer.decode(Array(ids[..<end])) } catch { throw .tokenizer(error) }
        if case .stopString(let s) = result.stopReason, let r = text.range(of: s) { text = String(text[..<r.lowerBound]) }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
