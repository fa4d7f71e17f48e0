// Qwen2AudioChatPrompt: the Qwen2-Audio-7B-Instruct chat template (its chat_template.json, Docs/qwen2-audio.md
// §5) rendered over structured messages, with the audio spans expanded as Qwen2AudioProcessor expands them:
//
//   <|im_start|>system\n{system}<|im_end|>\n
//   <|im_start|>user\nAudio 1: <|audio_bos|><|AUDIO|>×N<|audio_eos|>\n{text}<|im_end|>\n
//   <|im_start|>assistant\n{reply}<|im_end|>\n  …  <|im_start|>assistant\n
//
// `Audio k` counts across the whole rendered conversation. Text between specials is tokenized as one piece,
// exactly where the official tokenizer's added-token split puts the boundaries; user text and the system
// prompt with every special disallowed (a user cannot type `<|im_end|>` into the prompt), replies in their
// content's mode. The history window is Qwen-Audio-Chat's rule (system + kept turns < window, newest first).

/// The three ids of a Qwen2-Audio span.
public struct Qwen2AudioSpanIDs: Sendable, Equatable {
    public var begin: Int, fill: Int, end: Int
    public init(begin: Int, fill: Int, end: Int) { self.begin = begin; self.fill = fill; self.end = end }
}

extension QwenTokenizer {
    /// The Qwen2-Audio Instruct prompt for `query` after `history`, ending in `<|im_start|>assistant\n`.
    /// Each audio's `spanTokens` counts its begin and end ids (N + 2).
    public func qwen2AudioChatPrompt(query: ChatContent, history: [(query: ChatContent, response: ChatContent)],
                                     system: String, maxWindowTokens: Int, span: Qwen2AudioSpanIDs) -> ChatPrompt {
        let s = specials
        func render(_ turns: ArraySlice<(query: ChatContent, response: ChatContent)>) -> (system: Int, ids: [Int], text: String) {
            var builder = Builder(tokenizer: self, span: span)
            builder.special(s.imStartID, "<|im_start|>")
            builder.text("system\n" + system, mode: .none)
            builder.special(s.imEndID, "<|im_end|>")
            builder.text("\n", mode: .none)
            let systemCount = builder.count
            for t in turns {
                builder.message("user", t.query)
                builder.message("assistant", t.response)
            }
            builder.message("user", query)
            builder.special(s.imStartID, "<|im_start|>")
            builder.text("assistant\n", mode: .none)
            let (ids, text) = builder.finish()
            return (systemCount, ids, text)
        }
        // The newest turns that fit: each candidate rendered whole (numbering depends on what is kept).
        var kept = history.count
        var best = render(history[...])
        let queryOnly = kept > 0 ? render(history.suffix(0)) : best
        while kept > 0 {
            let historyTokens = best.ids.count - queryOnly.ids.count
            if best.system + historyTokens < maxWindowTokens { break }
            kept -= 1
            best = render(history.suffix(kept))
        }
        let names = history.suffix(kept).flatMap { $0.query.audios.map(\.name) + $0.response.audios.map(\.name) } + query.audios.map(\.name)
        return ChatPrompt(ids: best.ids, text: best.text, audioPaths: names, keptHistoryTurns: kept)
    }

    /// Accumulates text between specials and tokenizes each run once, in its mode.
    private struct Builder {
        let tokenizer: QwenTokenizer
        let span: Qwen2AudioSpanIDs
        var ids: [Int] = []
        var text = ""
        var pending = ""
        var pendingMode: SpecialMode = .none
        var audioNumber = 0

        init(tokenizer: QwenTokenizer, span: Qwen2AudioSpanIDs) { self.tokenizer = tokenizer; self.span = span }

        var count: Int { flushedCount + (pending.isEmpty ? 0 : tokenizer.encode(pending, special: pendingMode).count) }
        private var flushedCount: Int { ids.count }

        mutating func text(_ t: String, mode: SpecialMode) {
            if mode != pendingMode && !pending.isEmpty { flush() }
            pendingMode = mode
            pending += t
            text += t
        }

        mutating func special(_ id: Int, _ surface: String) {
            flush()
            ids.append(id)
            text += surface
        }

        mutating func message(_ role: String, _ content: ChatContent) {
            special(tokenizer.specials.imStartID, "<|im_start|>")
            self.text(role + "\n", mode: .none)
            for a in content.audios {
                audioNumber += 1
                self.text("Audio \(audioNumber): ", mode: .none)
                flush()
                ids.append(span.begin)
                ids += repeatElement(span.fill, count: max(a.spanTokens - 2, 0))
                ids.append(span.end)
                text += "<|audio_bos|><|AUDIO|><|audio_eos|>"
                self.text("\n", mode: .none)
            }
            self.text(content.text, mode: content.textMode)
            special(tokenizer.specials.imEndID, "<|im_end|>")
            self.text("\n", mode: .none)
        }

        mutating func flush() {
            guard !pending.isEmpty else { return }
            ids += tokenizer.encode(pending, special: pendingMode)
            pending = ""
        }

        mutating func finish() -> ([Int], String) {
            flush()
            return (ids, text)
        }
    }
}
