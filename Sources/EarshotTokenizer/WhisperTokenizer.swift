// WhisperTokenizer: OpenAI Whisper's GPT-2 byte-level BPE, loaded from the model's Hugging Face
// `tokenizer.json` (vocab + merges + added special tokens), with Whisper's special and timestamp tokens.
//
// Encode: GPT-2 pre-tokenizer (WhisperPreTokenizer) → bytes → GPT-2 byte→unicode alphabet → BPE merges by rank
// → ids. Decode: ids → token strings → bytes → UTF-8 (invalid sequences become U+FFFD, as `tokenizers` does).
// Timestamp tokens are the ids after `<|notimestamps|>`: `<|0.00|>`, `<|0.02|>`, … up to the vocabulary size.
import Foundation

/// Errors loading or using a Whisper tokenizer.
public enum WhisperTokenizerError: Error, Equatable, CustomStringConvertible {
    /// `tokenizer.json` is not JSON of the expected form; `detail` says what is off.
    case badTokenizerJSON(detail: String)
    /// A required special token is missing from the file.
    case missingSpecialToken(String)
    /// A merge refers to a symbol that is not in the vocabulary.
    case badMerge(String)

    public var description: String {
        switch self {
        case .badTokenizerJSON(let d): return "Whisper tokenizer.json: \(d)"
        case .missingSpecialToken(let t): return "Whisper tokenizer.json has no special token \(t)"
        case .badMerge(let m): return "Whisper tokenizer.json: merge \"\(m)\" uses a symbol missing from the vocabulary"
        }
    }
}

/// Ids of Whisper's special tokens.
public struct WhisperSpecialTokens: Sendable, Equatable {
    public let endOfText: Int            // <|endoftext|>
    public let startOfTranscript: Int    // <|startoftranscript|>
    public let translate: Int            // <|translate|>
    public let transcribe: Int           // <|transcribe|>
    public let startOfLM: Int            // <|startoflm|>
    public let startOfPrevious: Int      // <|startofprev|>
    public let noSpeech: Int             // <|nocaptions|> (called <|nospeech|> in newer vocabularies)
    public let noTimestamps: Int         // <|notimestamps|>
    /// `<|0.00|>`; timestamp i (i·0.02 s) is `timestampBegin + i`.
    public let timestampBegin: Int
    /// Language code ("en", "zh", …) → id of `<|code|>`.
    public let languages: [String: Int]
}

/// One decoded piece of a transcript with timestamps.
public struct WhisperTimedText: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var text: String

    public init(start: Double, end: Double, text: String) {
        self.start = start
        self.end = end
        self.text = text
    }
}

public final class WhisperTokenizer: @unchecked Sendable {
    public let specials: WhisperSpecialTokens
    /// Number of ids the model predicts over (text tokens, specials and timestamps).
    public let vocabularySize: Int

    private let tokenToId: [String: Int]
    private var idToBytes: [[UInt8]]
    private let specialIdToText: [Int: String]
    private let mergeRanks: [Pair: Int]
    private var cache: [String: [Int]] = [:]
    private let lock = NSLock()

    private struct Pair: Hashable { let a: String, b: String }

    /// Loads from the bytes of a Hugging Face `tokenizer.json`. `vocabularySize` is the model's output size
    /// (e.g. 51864 for tiny.en); ids from `<|notimestamps|>`+1 up to it are timestamp tokens.
    public init(tokenizerJSON: Data, vocabularySize: Int) throws(WhisperTokenizerError) {
        guard let root = (try? JSONSerialization.jsonObject(with: tokenizerJSON)) as? [String: Any] else {
            throw .badTokenizerJSON(detail: "not a JSON object")
        }
        guard let model = root["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Int] else {
            throw .badTokenizerJSON(detail: "model.vocab missing")
        }
        guard let merges = model["merges"] as? [Any] else { throw .badTokenizerJSON(detail: "model.merges missing") }
        let added = root["added_tokens"] as? [[String: Any]] ?? []

        var toId = vocab
        var specialText: [Int: String] = [:]
        for t in added {
            guard let id = t["id"] as? Int, let content = t["content"] as? String else {
                throw .badTokenizerJSON(detail: "added_tokens entry without id/content")
            }
            toId[content] = id
            specialText[id] = content
        }
        func special(_ s: String) throws(WhisperTokenizerError) -> Int {
            guard let id = toId[s] else { throw .missingSpecialToken(s) }
            return id
        }
        let noTimestamps = try special("<|notimestamps|>")
        let translate = try special("<|translate|>")
        let sot = try special("<|startoftranscript|>")
        var languages: [String: Int] = [:]
        for (id, text) in specialText where id > sot && id < translate && text.hasPrefix("<|") && text.hasSuffix("|>") {
            languages[String(text.dropFirst(2).dropLast(2))] = id
        }
        let noSpeech = toId["<|nospeech|>"] ?? toId["<|nocaptions|>"]
        guard let noSpeech else { throw .missingSpecialToken("<|nocaptions|>") }
        specials = WhisperSpecialTokens(
            endOfText: try special("<|endoftext|>"), startOfTranscript: sot, translate: translate,
            transcribe: try special("<|transcribe|>"), startOfLM: try special("<|startoflm|>"),
            startOfPrevious: try special("<|startofprev|>"), noSpeech: noSpeech, noTimestamps: noTimestamps,
            timestampBegin: noTimestamps + 1, languages: languages)
        let size = max(vocabularySize, (toId.values.max() ?? -1) + 1)
        self.vocabularySize = size

        // Timestamps: <|0.00|> … as special text.
        for id in (noTimestamps + 1)..<size where specialText[id] == nil {
            let text = "<|" + String(format: "%.2f", Double(id - noTimestamps - 1) * 0.02) + "|>"
            specialText[id] = text
            toId[text] = id
        }
        specialIdToText = specialText
        tokenToId = toId

        let unicodeToByte = WhisperByteAlphabet.unicodeToByte
        var bytes = [[UInt8]](repeating: [], count: size)
        for (token, id) in vocab where id >= 0 && id < size {
            bytes[id] = token.unicodeScalars.map { unicodeToByte[$0] ?? UInt8(ascii: "?") }
        }
        for (id, text) in specialText where id < size { bytes[id] = Array(text.utf8) }
        idToBytes = bytes

        var ranks: [Pair: Int] = [:]
        for (rank, m) in merges.enumerated() {
            let a: String, b: String
            if let s = m as? String {
                let parts = s.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw .badMerge(s) }
                a = String(parts[0]); b = String(parts[1])
            } else if let p = m as? [String], p.count == 2 {
                a = p[0]; b = p[1]
            } else {
                throw .badTokenizerJSON(detail: "merge #\(rank) is neither \"a b\" nor [a, b]")
            }
            guard vocab[a] != nil, vocab[b] != nil else { throw .badMerge(a + " " + b) }
            if ranks[Pair(a: a, b: b)] == nil { ranks[Pair(a: a, b: b)] = rank }
        }
        mergeRanks = ranks
    }

    /// Loads `tokenizer.json` from disk.
    public convenience init(tokenizerJSON url: URL, vocabularySize: Int) throws(WhisperTokenizerError) {
        guard let data = try? Data(contentsOf: url) else { throw .badTokenizerJSON(detail: "cannot read \(url.path)") }
        try self.init(tokenizerJSON: data, vocabularySize: vocabularySize)
    }

    // MARK: Encoding

    /// Text → ids, no special tokens added; special-token text in the input is encoded as plain text.
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        for piece in WhisperPreTokenizer.split(text) { ids += bpe(piece) }
        return ids
    }

    /// The prompt that starts a transcription: `<|startoftranscript|>` [language, task] [`<|notimestamps|>`].
    /// English-only models take no language/task tokens.
    public func prompt(language: String? = "en", task: WhisperTask = .transcribe, timestamps: Bool,
                       multilingual: Bool) -> [Int] {
        var p = [specials.startOfTranscript]
        if multilingual {
            if let language, let id = specials.languages[language] { p.append(id) }
            p.append(task == .translate ? specials.translate : specials.transcribe)
        }
        if !timestamps { p.append(specials.noTimestamps) }
        return p
    }

    private func bpe(_ piece: String) -> [Int] {
        lock.lock()
        if let hit = cache[piece] { lock.unlock(); return hit }
        lock.unlock()
        let alphabet = WhisperByteAlphabet.byteToUnicode
        var symbols = piece.utf8.map { String(alphabet[Int($0)]) }
        while symbols.count > 1 {
            var best = Int.max, at = -1
            for i in 0..<(symbols.count - 1) {
                if let r = mergeRanks[Pair(a: symbols[i], b: symbols[i + 1])], r < best { best = r; at = i }
            }
            if at < 0 { break }
            let a = symbols[at], b = symbols[at + 1]
            var merged: [String] = []
            merged.reserveCapacity(symbols.count)
            var i = 0
            while i < symbols.count {
                if i < symbols.count - 1, symbols[i] == a, symbols[i + 1] == b {
                    merged.append(a + b); i += 2
                } else {
                    merged.append(symbols[i]); i += 1
                }
            }
            symbols = merged
        }
        // Every single byte symbol is in the GPT-2 vocabulary, so lookups cannot fail for merged symbols
        // either (merges only produce vocabulary entries); fall back to bytes defensively.
        var ids: [Int] = []
        for s in symbols {
            if let id = tokenToId[s] { ids.append(id) } else {
                for scalar in s.unicodeScalars { if let id = tokenToId[String(scalar)] { ids.append(id) } }
            }
        }
        lock.lock(); cache[piece] = ids; lock.unlock()
        return ids
    }

    // MARK: Decoding

    public func isSpecial(_ id: Int) -> Bool { id >= specials.endOfText }
    public func isTimestamp(_ id: Int) -> Bool { id >= specials.timestampBegin && id < vocabularySize }

    /// Seconds of a timestamp token.
    public func seconds(ofTimestamp id: Int) -> Double { Double(id - specials.timestampBegin) * 0.02 }

    /// Raw bytes of one token (its text for specials); empty for ids outside the vocabulary.
    public func bytes(of id: Int) -> [UInt8] { id >= 0 && id < idToBytes.count ? idToBytes[id] : [] }

    /// Ids → text. With `skipSpecial` (default) special and timestamp tokens are dropped.
    public func decode(_ ids: [Int], skipSpecial: Bool = true) -> String {
        var buffer: [UInt8] = []
        for id in ids where !(skipSpecial && isSpecial(id)) { buffer += bytes(of: id) }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Splits decoded text at timestamp tokens: each `<|t0|> text <|t1|>` pair becomes one piece; text with no
    /// closing timestamp ends at `finalTime`. Other special tokens are dropped.
    public func decodeWithTimestamps(_ ids: [Int], offset: Double = 0, finalTime: Double? = nil) -> [WhisperTimedText] {
        var pieces: [WhisperTimedText] = []
        var start: Double? = nil
        var text: [Int] = []
        for id in ids {
            if isTimestamp(id) {
                let t = offset + seconds(ofTimestamp: id)
                if let s = start, !text.isEmpty {
                    pieces.append(WhisperTimedText(start: s, end: t, text: decode(text)))
                    text = []
                    start = nil
                } else {
                    start = t
                }
            } else if !isSpecial(id) {
                text.append(id)
            }
        }
        if !text.isEmpty {
            pieces.append(WhisperTimedText(start: start ?? offset, end: finalTime ?? start ?? offset, text: decode(text)))
        }
        return pieces
    }
}

/// Whisper's task token.
public enum WhisperTask: Sendable { case transcribe, translate }
