// ChatPrompt: the Qwen-Audio-Chat ChatML prompt exactly as the reference's `make_context` builds it
// (piece by piece, audio specials only, history window counted after audio expansion).

/// A ChatML prompt ready for prefill.
public struct ChatPrompt: Sendable, Equatable {
    /// Prompt ids with every audio span expanded.
    public var ids: [Int]
    /// The prompt as text (`raw_text` of the reference).
    public var text: String
    /// Audio paths of the kept turns and the query, in the order of their `<audio>` ids.
    public var audioPaths: [String]
    /// How many history turns (newest first) fit in the window.
    public var keptHistoryTurns: Int
}

extension QwenTokenizer {
    /// Builds the ChatML prompt of `make_context(tokenizer, query, history, system, max_window_size)`:
    /// `<|im_start|>system\n{system}<|im_end|>`, then the newest history turns that fit
    /// (system + kept turns < `maxWindowTokens`; the final query is not counted), then
    /// `\n<|im_start|>user\n{query}<|im_end|>\n<|im_start|>assistant\n`. Role and content are encoded
    /// separately with audio specials only. `audioSpanTokens(path)` gives each audio's span length
    /// (encoder tokens + 2); it is asked once per `<audio>` occurrence, in text order per message.
    public func chatPrompt(query: String, history: [(query: String, response: String?)] = [],
                           system: String = "You are a helpful assistant.", maxWindowTokens: Int = 6144,
                           audioSpanTokens: (String) throws -> Int) throws -> ChatPrompt {
        let imStart = [specials.imStartID], imEnd = [specials.imEndID]
        let newline = encode("\n")

        func message(_ role: String, _ content: String) throws -> (text: String, ids: [Int]) {
            let spans = try audioPaths(in: content, special: .audio).map(audioSpanTokens)
            let ids = try encode(role, special: .audio, audioSpanTokens: [])
                + newline + encode(content, special: .audio, audioSpanTokens: spans)
            return ("\(role)\n\(content)", ids)
        }

        let system = try message("system", system)
        let systemIDs = imStart + system.ids + imEnd
        var contextIDs: [Int] = []
        var rawText = ""
        var kept = 0
        for turn in history.reversed() {
            let query = try message("user", turn.query)
            let next: [Int]
            let chat: String
            if let response = turn.response {
                let answer = try message("assistant", response)
                next = newline + imStart + query.ids + imEnd + newline + imStart + answer.ids + imEnd
                chat = "\n<|im_start|>\(query.text)<|im_end|>\n<|im_start|>\(answer.text)<|im_end|>"
            } else {
                next = newline + imStart + query.ids + imEnd + newline
                chat = "\n<|im_start|>\(query.text)<|im_end|>\n"
            }
            guard systemIDs.count + next.count + contextIDs.count < maxWindowTokens else { break }
            contextIDs = next + contextIDs
            rawText = chat + rawText
            kept += 1
        }
        let user = try message("user", query)
        let ids = systemIDs + contextIDs + newline + imStart + user.ids + imEnd + newline + imStart
            + encode("assistant") + newline
        rawText = "<|im_start|>\(system.text)<|im_end|>" + rawText
            + "\n<|im_start|>user\n\(query)<|im_end|>\n<|im_start|>assistant\n"
        return ChatPrompt(ids: ids, text: rawText, audioPaths: try audioPaths(in: rawText, special: .audio),
                          keptHistoryTurns: kept)
    }
}

/// One user or assistant message of a chat, with its parts kept apart so that only audio references become
/// audio tags: `audios` (each with its span length) become `Audio k:<audio>…</audio>\n` lines, and `text` is
/// tokenized in `textMode` (`.none` for user text, `.response` for a model's reply).
public struct ChatContent: Sendable, Equatable {
    public var audios: [(name: String, spanTokens: Int)]
    public var text: String
    public var textMode: SpecialMode

    public init(audios: [(name: String, spanTokens: Int)] = [], text: String, textMode: SpecialMode = .none) {
        self.audios = audios; self.text = text; self.textMode = textMode
    }

    public static func == (a: ChatContent, b: ChatContent) -> Bool {
        a.text == b.text && a.textMode == b.textMode && a.audios.map(\.name) == b.audios.map(\.name)
            && a.audios.map(\.spanTokens) == b.audios.map(\.spanTokens)
    }

    /// The message as the reference's text (`Audio 1:<audio>NAME</audio>\n` lines, then the text).
    public var referenceText: String {
        audios.enumerated().map { "Audio \($0.offset + 1):<audio>\($0.element.name)</audio>\n" }.joined() + text
    }
}

extension QwenTokenizer {
    /// The ids of one message's content: the audio lines with their spans expanded (names never tokenized,
    /// never opened), then the text in its mode. For ordinary text this equals the reference's encoding of
    /// `referenceText` with audio specials (the split falls where the pre-tokenizer splits anyway).
    public func encode(_ content: ChatContent) -> [Int] {
        var ids: [Int] = []
        for (k, a) in content.audios.enumerated() {
            ids += encode("Audio \(k + 1):", special: .none)
            ids.append(specials.audioStartID)
            ids += repeatElement(specials.audioPlaceholderID, count: max(a.spanTokens - 2, 0))
            ids.append(specials.audioEndID)
            ids += encode("\n", special: .none)
        }
        return ids + encode(content.text, special: content.textMode)
    }

    /// The ChatML prompt of `make_context` over structured messages: `<|im_start|>system\n{system}<|im_end|>`,
    /// the newest history turns that fit (system + kept turns < `maxWindowTokens`), then the query and
    /// `<|im_start|>assistant\n`. The system prompt is tokenized as plain text. `audioPaths` lists the audio
    /// names of the kept turns and the query in prompt order.
    public func chatPrompt(query: ChatContent, history: [(query: ChatContent, response: ChatContent)],
                           system: String, maxWindowTokens: Int) -> ChatPrompt {
        let imStart = [specials.imStartID], imEnd = [specials.imEndID]
        let newline = encode("\n")
        func message(_ role: String, _ content: ChatContent) -> [Int] {
            encode(role, special: .none) + newline + encode(content)
        }
        let systemIDs = imStart + message("system", ChatContent(text: system)) + imEnd
        var contextIDs: [Int] = []
        var rawText = ""
        var names: [String] = []
        var kept = 0
        for turn in history.reversed() {
            let next = newline + imStart + message("user", turn.query) + imEnd + newline + imStart
                + message("assistant", turn.response) + imEnd
            guard systemIDs.count + next.count + contextIDs.count < maxWindowTokens else { break }
            contextIDs = next + contextIDs
            rawText = "\n<|im_start|>user\n\(turn.query.referenceText)<|im_end|>\n<|im_start|>assistant\n\(turn.response.referenceText)<|im_end|>" + rawText
            names = turn.query.audios.map(\.name) + turn.response.audios.map(\.name) + names
            kept += 1
        }
        let ids = systemIDs + contextIDs + newline + imStart + message("user", query) + imEnd + newline + imStart
            + encode("assistant") + newline
        rawText = "<|im_start|>system\n\(system)<|im_end|>" + rawText
            + "\n<|im_start|>user\n\(query.referenceText)<|im_end|>\n<|im_start|>assistant\n"
        return ChatPrompt(ids: ids, text: rawText, audioPaths: names + query.audios.map(\.name), keptHistoryTurns: kept)
    }
}
