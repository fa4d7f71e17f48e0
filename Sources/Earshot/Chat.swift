// Chat: Qwen-Audio-Chat conversations (spec §7) — ChatML with a system prompt, `Audio k:<audio>PATH</audio>`
// references (several per turn), the 6144-token history window, stop on <|im_end|>/<|im_start|>/<|endoftext|>,
// and the reference's response rule. Runs on a Session, so turn 2 reuses turn 1's KV cache and audio encodings.
import EarshotTokenizer
import Foundation

/// One finished chat turn.
public struct ChatReply: Sendable {
    /// The answer as the reference returns it and keeps in the history (see `Chat.response(for:)`).
    public let response: String
    public let generation: GenerationResult
    /// History turns that fit in the window for this prompt (newest first).
    public let keptHistoryTurns: Int
    public let promptIds: [Int]
}

public final class Chat: @unchecked Sendable {   // guarded by the session's use; one turn at a time
    public static let defaultSystem = "You are a helpful assistant."
    /// `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`.
    public static let stopIds: Set<Int> = [QwenTokenID.endOfText, QwenTokenID.imStart, QwenTokenID.imEnd]

    public let session: Session
    public var system: String
    /// (query as sent, including its `Audio k:` lines; response as kept).
    public internal(set) var history: [(query: String, response: String)] = []
    /// The history window in tokens (system + kept turns, the new query not counted).
    public var maxWindowTokens: Int

    public init(session: Session, system: String = Chat.defaultSystem) {
        self.session = session
        self.system = system
        maxWindowTokens = session.model.chatDefaults.maxWindowSize
    }

    /// Forgets the history and the KV cache.
    public func reset() {
        history = []
        session.reset()
    }

    /// Restores a history (e.g. from a session file). The KV cache is not touched.
    public func setHistory(_ turns: [(query: String, response: String)]) { history = turns }

    /// The query text of `from_list_format`: `Audio k:<audio>PATH</audio>\n` per audio (k from 1), then the text.
    public static func query(text: String, audios: [String]) -> String {
        audios.enumerated().map { "Audio \($0.offset + 1):<audio>\($0.element)</audio>\n" }.joined() + text
    }

    /// The default options for chat: the chat generation config's sampling and max tokens, ChatML stop ids.
    public var defaultOptions: GenerationOptions {
        let d = session.model.chatDefaults
        return GenerationOptions(sampling: d.sampling(), maxTokens: d.maxNewTokens, stopIds: Chat.stopIds)
    }

    /// Builds the ChatML prompt for `query` after the current history (audio paths relative to the working directory).
    public func prompt(for query: String, stats: inout GenerationStats) throws(EarshotError) -> (PreparedPrompt, kept: Int) {
        var lengths: [String: PreparedAudio] = [:]
        var failure: EarshotError?
        let tokenizer = session.model.tokenizer
        let chat: ChatPrompt
        do {
            chat = try tokenizer.chatPrompt(
                query: query, history: history.map { (query: $0.query, response: Optional($0.response)) },
                system: system, maxWindowTokens: maxWindowTokens,
                audioSpanTokens: { path in
                    if let a = lengths[path] { return a.spanTokens }
                    do {
                        let a = try self.session.prepareAudio(.file(path), stats: &stats)
                        lengths[path] = a
                        return a.spanTokens
                    } catch { failure = error as? EarshotError; throw error }
                })
        } catch {
            if let failure { throw failure }
            throw .prompt("\(error)")
        }
        let audios = chat.audioPaths.map { lengths[$0]! }
        return (PreparedPrompt(ids: chat.ids, audios: audios), chat.keptHistoryTurns)
    }

    /// Sends one user turn (`audios` become `Audio k:` references before `text`) and generates the answer,
    /// streaming tokens to `onToken`. The turn is added to the history unless generation was cancelled.
    public func send(_ text: String, audios: [String] = [], options: GenerationOptions? = nil,
                     cancel: CancellationFlag? = nil,
                     onToken: (TokenEvent) -> Bool = { _ in true }) throws(EarshotError) -> ChatReply {
        let query = Chat.query(text: text, audios: audios)
        var stats = GenerationStats()
        let (prompt, kept) = try prompt(for: query, stats: &stats)
        var opts = options ?? defaultOptions
        opts.stopIds.formUnion(Chat.stopIds)
        let result = try session.generate(prompt, options: opts, stats: &stats, cancel: cancel, onToken: onToken)
        let response = try Chat.response(for: result, tokenizer: session.model.tokenizer)
        if result.stopReason != .cancelled { history.append((query: query, response: response)) }
        return ChatReply(response: response, generation: result, keptHistoryTurns: kept, promptIds: prompt.ids)
    }

    /// Streams one turn's tokens; the turn joins the history when the stream finishes.
    public func stream(_ text: String, audios: [String] = [], options: GenerationOptions? = nil)
        -> AsyncThrowingStream<TokenEvent, any Error> {
        Session.makeStream { flag, yield in
            _ = try self.send(text, audios: audios, options: options, cancel: flag) { yield($0); return true }
        }
    }

    /// The reference's response (`decode_tokens`, chatml): the generated ids before the first
    /// `<|im_start|>`/`<|im_end|>`; when there is none, all ids but the **last** (the reference's loop leaves
    /// its index on the last id); decoded, stop string cut, surrounding whitespace stripped.
    public static func response(for result: GenerationResult, tokenizer: QwenTokenizer) throws(EarshotError) -> String {
        let ids = result.ids
        let end = ids.firstIndex { $0 == QwenTokenID.imStart || $0 == QwenTokenID.imEnd } ?? max(ids.count - 1, 0)
        var text: String
        do { text = try tokenizer.decode(Array(ids[..<end])) } catch { throw .model("cannot decode the response: \(error)") }
        if case .stopString(let s) = result.stopReason, let r = text.range(of: s) { text = String(text[..<r.lowerBound]) }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
