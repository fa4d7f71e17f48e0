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
