// StreamingDecoder: incremental ids → text for streaming generation. Text is released only up to the
// last complete UTF-8 character; invalid bytes become U+FFFD exactly where `decode` would put them, so the
// concatenated pieces plus `finish()` equal `decode(allIDs, skipSpecial:)` (for ids without audio spans).

/// Feeds generated ids one at a time and returns the text they complete. Audio tag ids decode to their
/// surface strings (generated text never holds an audio span).
public struct StreamingDecoder: Sendable {
    let tokenizer: QwenTokenizer
    /// Drop every special id (≥ 151643), as `decode(_:skipSpecial: true)`.
    public let skipSpecial: Bool
    /// Bytes of an incomplete UTF-8 character waiting for the next ids (at most 3).
    var pending: [UInt8] = []

    public init(tokenizer: QwenTokenizer, skipSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// The text that `id` completes (possibly empty). Throws `invalidTokenID` for an id outside the
    /// vocabulary (unless `skipSpecial` drops it first, as `decode` does).
    public mutating func append(_ id: Int) throws(TokenizerError) -> String {
        try append(contentsOf: [id])
    }

    /// The text that `ids` complete (possibly empty).
    public mutating func append(contentsOf ids: [Int]) throws(TokenizerError) -> String {
        var bytes = pending
        if skipSpecial {
            // Like `decode`: the skip filter (id < 151643) runs before the vocabulary check.
            let rankCount = tokenizer.ranks.count
            try tokenizer.appendBytes(of: ids.lazy.filter { $0 < rankCount }, to: &bytes)
        } else {
            try tokenizer.appendBytes(of: ids, to: &bytes)
        }
        var out: [UInt8] = []
        let consumed = bytes.withUnsafeBufferPointer { UTF8Repair.repair($0, final: false, into: &out) }
        pending = Array(bytes[consumed...])
        return String(decoding: out, as: UTF8.self)
    }

    /// Text still held back at the end of the stream: one U+FFFD for an incomplete character, or "".
    public mutating func finish() -> String {
        defer { pending = [] }
        return pending.isEmpty ? "" : UTF8Repair.decode(pending)
    }

    /// Whether bytes of an incomplete character are waiting.
    public var hasPendingBytes: Bool { !pending.isEmpty }
}

extension QwenTokenizer {
    /// A streaming decoder for generated ids.
    public func streamingDecoder(skipSpecial: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecial: skipSpecial)
    }
}
