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
    /// A token id of the file, or the model's vocabulary size, is impossible for this file: negative,
    /// or beyond its entries plus Whisper's 1501 timestamps (`detail` says which and the bound).
    case idOutOfRange(detail: String)
    /// The file cannot be read (`reason` is the full sentence, naming the path).
    case unreadableFile(String)

    public var description: String {
        switch self {
        case .badTokenizerJSON(let d): return "Whisper tokenizer.json: \(d)"
        case .missingSpecialToken(let t): return "Whisper tokenizer.json has no special token \(t)"
        case .badMerge(let m): return "Whisper tokenizer.json: merge \"\(m)\" uses a symbol missing from the vocabulary"
        case .idOutOfRange(let d): return "Whisper tokenizer.json: \(d)"
        case .unreadableFile(let reason): return reason
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
    /// Timestamp tokens of Whisper: <|0.00|> … <|30.00|> in steps of 0.02 s.
    public static let timestampCount = 1501

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
        let file: TokenizerFile
        do {
            file = try TokenizerFile(Array(tokenizerJSON))
        } catch {
            throw .badTokenizerJSON(detail: error.offset > 0 ? error.reason + " at byte " + String(error.offset) : error.reason)
        }
        guard let vocab = file.vocab else { throw .badTokenizerJSON(detail: "model.vocab missing") }
        guard let merges = file.merges else { throw .badTokenizerJSON(detail: "model.merges missing") }
        let added = file.added

        // Every id is bounded by what the file holds, before any table is sized from one: the entries
        // themselves plus the timestamp ids Whisper appends (1501: <|0.00|> … <|30.00|>).
        let idLimit = vocab.count + added.count + WhisperTokenizer.timestampCount
        if let (token, id) = vocab.first(where: { $0.value < 0 || $0.value >= idLimit }) {
            throw .idOutOfRange(detail: "vocab entry \"\(token)\" has id \(id), outside 0 ..< \(idLimit) (the file's entries and timestamps)")
        }
        if let bad = added.first(where: { $0.id < 0 || $0.id >= idLimit }) {
            throw .idOutOfRange(detail: "added token \"\(bad.content)\" has id \(bad.id), outside 0 ..< \(idLimit) (the file's entries and timestamps)")
        }
        var toId = vocab
        var specialText: [Int: String] = [:]
        for (id, content) in added {
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
        // The model's output size comes from the .ear metadata: it must fit the timestamps after
        // <|notimestamps|> (a hostile 2^40 would otherwise build a timestamp table for ever).
        let sizeLimit = noTimestamps + 1 + WhisperTokenizer.timestampCount
        guard vocabularySize >= 0, vocabularySize <= max(sizeLimit, idLimit) else {
            throw .idOutOfRange(detail: "the model's vocabulary size \(vocabularySize) is larger than this tokenizer can describe "
                + "(\(max(sizeLimit, idLimit)): its \(vocab.count + added.count) entries and \(WhisperTokenizer.timestampCount) timestamps)")
        }
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
        ranks.reserveCapacity(merges.count)
        for (rank, m) in merges.enumerated() {
            let (a, b) = m
            guard vocab[a] != nil, vocab[b] != nil else { throw .badMerge(a + " " + b) }
            if ranks[Pair(a: a, b: b)] == nil { ranks[Pair(a: a, b: b)] = rank }
        }
        mergeRanks = ranks
    }

    /// The parts of a `tokenizer.json` the tokenizer uses, read with JSONScanner (everything else skipped).
    private struct TokenizerFile {
        var vocab: [String: Int]?
        var merges: [(String, String)]?
        var added: [(id: Int, content: String)] = []

        init(_ bytes: [UInt8]) throws(JSONScanError) {
            var s = JSONScanner(bytes)
            guard s.peek() == UInt8(ascii: "{") else { throw JSONScanError(offset: 0, reason: "not a JSON object") }
            var vocab: [String: Int]?, merges: [(String, String)]?, added: [(id: Int, content: String)] = []
            try s.object { (s: inout JSONScanner, key: String) throws(JSONScanError) in
                switch key {
                case "model":
                    try s.object { (s: inout JSONScanner, key: String) throws(JSONScanError) in
                        switch key {
                        case "vocab":
                            var v: [String: Int] = [:]
                            v.reserveCapacity(65_536)
                            try s.object { (s: inout JSONScanner, token: String) throws(JSONScanError) in v[token] = try s.int() }
                            vocab = v
                        case "merges":
                            var m: [(String, String)] = []
                            m.reserveCapacity(65_536)
                            try s.array { (s: inout JSONScanner) throws(JSONScanError) in
                                if s.peek() == UInt8(ascii: "[") {  // newer files: ["a", "b"]
                                    var pair: [String] = []
                                    try s.array { (s: inout JSONScanner) throws(JSONScanError) in pair.append(try s.string()) }
                                    guard pair.count == 2 else { throw JSONScanError(offset: s.offset, reason: "merge #\(m.count) is not a pair") }
                                    m.append((pair[0], pair[1]))
                                } else {  // "a b"
                                    let line = try s.string()
                                    guard let space = line.firstIndex(of: " ") else {
                                        throw JSONScanError(offset: s.offset, reason: "merge \"\(line)\" is not \"a b\"")
                                    }
                                    m.append((String(line[..<space]), String(line[line.index(after: space)...])))
                                }
                            }
                            merges = m
                        default: try s.skipValue()
                        }
                    }
                case "added_tokens":
                    try s.array { (s: inout JSONScanner) throws(JSONScanError) in
                        var id: Int?, content: String?
                        try s.object { (s: inout JSONScanner, key: String) throws(JSONScanError) in
                            switch key {
                            case "id": id = try s.int()
                            case "content": content = try s.string()
                            default: try s.skipValue()
                            }
                        }
                        guard let id, let content else { throw JSONScanError(offset: s.offset, reason: "added_tokens entry without id/content") }
                        added.append((id, content))
                    }
                default: try s.skipValue()
                }
            }
            guard s.atEnd() else { throw JSONScanError(offset: s.offset, reason: "trailing data") }
            self.vocab = vocab
            self.merges = merges
            self.added = added
        }
    }

    /// Loads `tokenizer.json` from disk (a regular file of at most 64 MB; FIFOs, devices and directories
    /// are refused at once).
    public convenience init(tokenizerJSON url: URL, vocabularySize: Int) throws(WhisperTokenizerError) {
        let bytes: [UInt8]
        do { bytes = try TokenizerFileReader.read(url.path) } catch {
            throw .unreadableFile(error.description)
        }
        try self.init(tokenizerJSON: Data(bytes), vocabularySize: vocabularySize)
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
