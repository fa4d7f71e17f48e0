// TokenizerError: every way the Qwen tokenizer refuses input (one error enum for the module).

/// Errors thrown by `EarshotTokenizer`. Each case carries the offending value.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// The tokenizer file cannot be read (path, system reason).
    case unreadableFile(path: String, reason: String)
    /// The tiktoken rank file has a malformed line (1-based line number, reason).
    case malformedRankFile(line: Int, reason: String)
    /// The rank file's ranks are not exactly 0 ..< count (a rank is missing, repeated or too large).
    case ranksNotDense(rank: Int, count: Int)
    /// The same token bytes appear twice in the rank file (1-based line number of the repeat).
    case duplicateToken(line: Int)
    /// A token id outside 0 ..< vocabularySize was given to decode (the reference raises `KeyError`).
    case invalidTokenID(Int)
    /// An `<audio>` tag (or id 155163) has no matching `</audio>` after it
    /// (the reference raises `ValueError: Unclosed image token`).
    case unclosedAudioTag(index: Int)
    /// A `</audio>` tag (or id 155164) appears before any `<audio>` it could close
    /// (`index`: UTF-8 byte offset in the text for `audioPaths`, token index for `expandAudioSpans`).
    case unmatchedAudioEnd(index: Int)
    /// An `<audio>` tag appears inside another audio path (`<audio>a<audio>b</audio>`).
    case nestedAudioTag(index: Int)
    /// The text holds `found` audio spans but `expected` span lengths / URLs were supplied.
    case audioCountMismatch(expected: Int, found: Int)
    /// An audio span length below 2 (it must cover at least `<audio>` and `</audio>`).
    case invalidAudioSpan(index: Int, tokens: Int)
    /// A closed audio span in ids being decoded, but no URL was given for it
    /// (the reference raises `TypeError` without `audio_info`, `IndexError` with too few URLs).
    case missingAudioURL(index: Int)
    /// An audio URL contains a special-token string (the reference's re-encoding raises `ValueError`).
    case specialTokenInAudioURL(String)
    /// A text model's special-token list has an unusable entry (its id, surface string and why).
    case badSpecialToken(id: Int, surface: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "cannot read tokenizer file \(path): \(reason)"
        case let .malformedRankFile(line, reason): return "tiktoken rank file, line \(line): \(reason)"
        case let .ranksNotDense(rank, count): return "tiktoken rank file: rank \(rank) is missing, repeated or not below the rank count \(count)"
        case let .duplicateToken(line): return "tiktoken rank file, line \(line): these token bytes already have a rank"
        case let .invalidTokenID(id): return "Invalid token for decoding: \(id)"
        case let .unclosedAudioTag(index): return "unclosed <audio> tag (audio #\(index + 1) has no </audio> after it)"
        case let .unmatchedAudioEnd(index): return "</audio> at position \(index) does not close any <audio>"
        case let .nestedAudioTag(index): return "<audio> inside another audio path (audio #\(index + 1))"
        case let .audioCountMismatch(expected, found): return "the text has \(found) <audio>…</audio> span(s) but \(expected) audio length(s)/URL(s) were given"
        case let .invalidAudioSpan(index, tokens): return "audio #\(index + 1): span of \(tokens) tokens (must be ≥ 2: <audio> … </audio>)"
        case let .missingAudioURL(index): return "audio span #\(index + 1) has no URL to decode it to"
        case let .specialTokenInAudioURL(url): return "audio URL \"\(url)\" contains a special-token string"
        case let .badSpecialToken(id, surface, reason): return "special token \(id) \(surface.debugDescription): \(reason)"
        }
    }
}
