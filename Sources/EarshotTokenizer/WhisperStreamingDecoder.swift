// WhisperStreamingDecoder: incremental Whisper ids → text for streamed generation, like StreamingDecoder
// for Qwen: text is released up to the last complete UTF-8 character, special and timestamp ids are dropped
// (as `WhisperTokenizer.decode` does), and the pieces plus `finish()` equal `decode(allIDs)`.

public struct WhisperStreamingDecoder: Sendable {
    let tokenizer: WhisperTokenizer
    /// Bytes of an incomplete UTF-8 character waiting for the next ids.
    var pending: [UInt8] = []

    public init(tokenizer: WhisperTokenizer) { self.tokenizer = tokenizer }

    /// The text that `id` completes (possibly empty; always empty for special and timestamp ids).
    public mutating func append(_ id: Int) -> String {
        guard !tokenizer.isSpecial(id) else { return "" }
        let bytes = pending + tokenizer.bytes(of: id)
        var out: [UInt8] = []
        let consumed = bytes.withUnsafeBufferPointer { UTF8Repair.repair($0, final: false, into: &out) }
        pending = Array(bytes[consumed...])
        return String(decoding: out, as: UTF8.self)
    }

    /// Text still held back at the end of the stream: U+FFFD for an incomplete character, or "".
    public mutating func finish() -> String {
        defer { pending = [] }
        return pending.isEmpty ? "" : UTF8Repair.decode(pending)
    }
}

extension WhisperTokenizer {
    /// A streaming decoder for generated ids.
    public func streamingDecoder() -> WhisperStreamingDecoder { WhisperStreamingDecoder(tokenizer: self) }
}
