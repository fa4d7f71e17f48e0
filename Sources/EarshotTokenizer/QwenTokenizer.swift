// QwenTokenizer: the Qwen(-Audio) tokenizer. Encoding = NFC → special-token split (per `SpecialMode`)
// → Qwen pre-tokenizer → tiktoken byte-pair merge; decoding = token bytes → UTF-8 with Python's
// errors="replace". Audio tags: AudioTags.swift; streaming: StreamingDecoder.swift.
import Foundation

/// The Qwen tokenizer: 151,643 BPE ranks + 3522 specials (n_vocab 155,165). Immutable and thread-safe.
///
///     let tokenizer = try QwenTokenizer(contentsOf: URL(fileURLWithPath: "qwen.tiktoken"))  // or QwenTokenizer(ear:)
///     let prompt = "<audio>a.flac</audio><|startoftranscript|><|en|><|transcribe|><|en|><|notimestamps|><|wo_itn|>"
///     let paths = try tokenizer.audioPaths(in: prompt)                        // ["a.flac"]
///     let ids = try tokenizer.encode(prompt, audioSpanTokens: [148])          // 154 ids, audio expanded
///     var stream = tokenizer.streamingDecoder()                               // for generated ids
///     let piece = try stream.append(9707)                                     // "Hello"
///     let text = try tokenizer.decode([9707, 1879])                           // "Hello world"
public struct QwenTokenizer: Sendable {
    public let ranks: TiktokenRanks
    public let specials: QwenSpecialTokens

    /// Parses the bytes of a `qwen.tiktoken` file (also the `tokenizer.tiktoken` blob of a `.ear` file).
    public init(tiktoken bytes: [UInt8]) throws(TokenizerError) {
        let ranks = bytes.withUnsafeBytes { raw in Result { () throws(TokenizerError) in try TiktokenRanks(tiktoken: raw) } }
        try self.init(ranks: ranks.get())
    }

    /// Parses the bytes of a `qwen.tiktoken` file.
    public init(tiktoken data: Data) throws(TokenizerError) {
        let ranks = data.withUnsafeBytes { raw in Result { () throws(TokenizerError) in try TiktokenRanks(tiktoken: raw) } }
        try self.init(ranks: ranks.get())
    }

    /// Reads and parses a `qwen.tiktoken` file (a regular file of at most 64 MB; a FIFO, a device or a
    /// directory is refused at once, naming what it is).
    public init(contentsOf url: URL) throws(TokenizerError) {
        let bytes = try TokenizerFileReader.read(url.path)
        if bytes.isEmpty { throw TokenizerError.unreadableFile(path: url.path, reason: "the file is empty") }
        try self.init(tiktoken: bytes)
    }

    /// Wraps parsed ranks; the specials are numbered from `ranks.count`.
    public init(ranks: TiktokenRanks) throws(TokenizerError) {
        try self.init(checking: ranks, specials: QwenSpecialTokens(firstID: ranks.count))
    }

    init(checking ranks: TiktokenRanks, specials: QwenSpecialTokens) throws(TokenizerError) {
        for byte in 0 ... 255 where ranks.rank(of: [UInt8(byte)]) == nil {
            throw TokenizerError.malformedRankFile(line: 0, reason: "single byte \(byte) has no rank (byte-level BPE needs all 256)")
        }
        self.ranks = ranks
        self.specials = specials
        _ = ScalarClass.basicPlane.count  // build the pre-tokenizer's class table now (~20 ms), not in the first encode
    }

    /// Wraps parsed ranks with a text model's own specials (numbered from `ranks.count`; no audio specials),
    /// e.g. Qwen2's 22 from its GGUF (`tokenizer.special_tokens` in the `.ear` metadata).
    public init(ranks: TiktokenRanks, textSpecials: [String]) throws(TokenizerError) {
        try self.init(checking: ranks, specials: QwenSpecialTokens(firstID: ranks.count, textSurfaces: textSpecials))
    }

    /// Parses tiktoken bytes (a `.ear` `tokenizer.tiktoken` blob) with a text model's own specials.
    public init(tiktoken bytes: [UInt8], textSpecials: [String]) throws(TokenizerError) {
        let ranks = bytes.withUnsafeBytes { raw in Result { () throws(TokenizerError) in try TiktokenRanks(tiktoken: raw) } }
        try self.init(ranks: ranks.get(), textSpecials: textSpecials)
    }

    /// Ranks + specials (155,165 for Qwen-Audio).
    public var vocabularySize: Int { ranks.count + specials.count }

    /// Id of a special token by its surface string (`"<|en|>"`, `"<|2.33|>"`, `"<audio>"`), or nil.
    public func specialID(_ surface: String) -> Int? { specials.id(of: surface) }

    /// Whether `id` is a special token (≥ the rank count).
    public func isSpecial(_ id: Int) -> Bool { id >= ranks.count }

    // MARK: Encoding

    /// Token ids of `text` (NFC first; no BOS/EOS). Special-token strings become specials as `special`
    /// allows; `<audio>PATH</audio>` stays `<audio>`, the path's tokens, `</audio>` (see
    /// `encode(_:special:audioSpanTokens:)` for the expanded form the model takes).
    public func encode(_ text: String, special: SpecialMode = .all) -> [Int] {
        var bytes = NFC.utf8(text)
        let n = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 8))  // rank lookups read whole 8-byte words
        var ids: [Int] = []
        ids.reserveCapacity(bytes.count / 3 + 4)
        ranks.withLookup { lookup in
            ScalarClass.basicPlane.withUnsafeBufferPointer { classes in
                bytes.withUnsafeBufferPointer { padded in
                    let text = UnsafeBufferPointer(rebasing: padded[0 ..< n])
                    var bpe = BytePairEncoder(ranks: lookup)
                    var segmentStart = 0
                    while true {
                        let next = special == .none ? nil : nextSpecial(in: text, from: segmentStart, mode: special)
                        let segmentEnd = next?.position ?? n
                        if segmentStart < segmentEnd {
                            let splitter = QwenPreTokenizer(text: text.baseAddress!, end: segmentEnd,
                                                            classes: classes.baseAddress!)
                            var i = segmentStart
                            while i < segmentEnd {
                                let j = splitter.pieceEnd(from: i)
                                bpe.encode(text.baseAddress! + i, j - i, into: &ids)
                                i = j
                            }
                        }
                        guard let found = next else { break }
                        ids.append(found.id)
                        segmentStart = found.position + found.length
                    }
                }
            }
        }
        return ids
    }

    /// The leftmost special allowed in `mode` at or after byte `from` (tiktoken's special split:
    /// no surface string is a prefix of another, so at most one special matches at a position).
    func nextSpecial(in text: UnsafeBufferPointer<UInt8>, from: Int, mode: SpecialMode)
        -> (position: Int, id: Int, length: Int)? {
        var i = from
        let n = text.count
        while i < n {
            let b = text[i]
            if b == 60 || b == 91, let m = specials.match(text, at: i, end: n), specials.isAllowed(m.id, in: mode) {
                return (i, m.id, m.length)
            }
            i += 1
        }
        return nil
    }

    // MARK: Decoding

    /// The bytes of one id (a special's bytes are its UTF-8 surface string).
    public func bytes(of id: Int) throws(TokenizerError) -> [UInt8] {
        if id >= 0 && id < ranks.count { return Array(ranks.bytes(ofRank: id)) }
        if let s = specials.surface(of: id) { return Array(s.utf8) }
        throw TokenizerError.invalidTokenID(id)
    }

    /// Appends the bytes of `ids` to `out`; throws `invalidTokenID` for an id outside the vocabulary.
    func appendBytes<C: Collection>(of ids: C, to out: inout [UInt8]) throws(TokenizerError) where C.Element == Int {
        let count = ranks.count
        let failure = ranks.arena.withUnsafeBufferPointer { arena -> TokenizerError? in
            for id in ids {
                if id >= 0 && id < count {
                    let start = Int(ranks.starts[id])
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: arena[start ..< start + Int(ranks.lengths[id])]))
                } else if id >= count && id - count < specials.count {
                    out.append(contentsOf: specials.surfaceBytes[id - count])
                } else {
                    return TokenizerError.invalidTokenID(id)
                }
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Text of `ids` as the reference decodes it: audio spans `155163 … 155164` become `<audio>URL</audio>`
    /// with the i-th URL of `audioURLs` (an unclosed span or a span without a URL throws, as the reference
    /// does); with `skipSpecial` every id ≥ 151643 is then dropped; the bytes of all ids are decoded as one
    /// UTF-8 string, one U+FFFD per maximal invalid subsequence. Ids outside the vocabulary throw.
    public func decode(_ ids: [Int], skipSpecial: Bool = false, audioURLs: [String]? = nil) throws(TokenizerError) -> String {
        // Same order of checks as the reference: audio spans first, then unknown ids.
        let items = try audioSpanItems(in: ids, urls: audioURLs)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for item in items {
            switch item {
            case let .tokens(slice):
                if skipSpecial {
                    try appendBytes(of: slice.lazy.filter { $0 < self.ranks.count }, to: &bytes)
                } else {
                    try appendBytes(of: slice, to: &bytes)
                }
            case let .audio(url):
                if !skipSpecial { bytes.append(contentsOf: specials.surfaceBytes[specials.count - 2]) }
                bytes.append(contentsOf: url.utf8)
                if !skipSpecial { bytes.append(contentsOf: specials.surfaceBytes[specials.count - 1]) }
            }
        }
        return UTF8Repair.decode(bytes)
    }
}
