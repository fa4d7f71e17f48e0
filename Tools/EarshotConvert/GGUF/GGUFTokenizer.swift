// GGUFTokenizer: a GGUF byte-level BPE tokenizer (`tokenizer.ggml.model` = "gpt2": tokens in GPT-2's
// byte-to-unicode alphabet, token types, merges) → the `.ear` tokenizer: tiktoken ranks (`base64(bytes) rank`
// lines, what EarshotTokenizer's QwenTokenizer reads) for the normal tokens, the special tokens' surfaces as
// metadata, the chat template as a blob.
//
// Checks: every normal token decodes from the byte alphabet, normal tokens are ids 0 ..< n with no duplicate
// bytes and all 256 single bytes present; ids n ..< V are control / user-defined specials followed only by
// unused padding entries ([PAD…]); and the merges agree with the ranks — merge i joins two tokens into a
// token of rank greater than the previous merge's — which is what makes tiktoken's rank-order merging give
// the same tokens as the GGUF's merge list. (For Qwen2 the n = 151,643 ranks are exactly `qwen.tiktoken`.)
import EarshotModels
import EarshotTokenizer
import Foundation

public struct GGUFTokenizer: Sendable {
    /// The tiktoken file bytes for ranks 0 ..< rankCount.
    public let tiktoken: Data
    public let rankCount: Int
    /// Special tokens' surfaces, ids rankCount ..< rankCount + specials.count.
    public let specials: [String]
    public let chatTemplate: String?
    /// Metadata keys (MetadataKeys.specialTokens …) to store.
    public let metadata: [(key: String, value: MetaValue)]

    /// GGUF token types (llama.cpp `llama_token_type`).
    enum TokenType: Int { case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6 }

    public init(file: GGUFFile, vocabSize: Int) throws(ConvertError) {
        let path = file.path
        let model = try file.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw .ggufBadTokenizer(path: path, reason: "tokenizer.ggml.model is \"\(model)\"; only byte-level BPE (\"gpt2\") is supported")
        }
        let tokens = try file.strings("tokenizer.ggml.tokens")
        guard tokens.count == vocabSize else {
            throw .ggufBadTokenizer(path: path, reason: "\(tokens.count) tokens for a vocabulary (token_embd rows) of \(vocabSize)")
        }
        let types: [Int] = file.metadata["tokenizer.ggml.token_type"] == nil
            ? [Int](repeating: TokenType.normal.rawValue, count: tokens.count) : try file.ints("tokenizer.ggml.token_type")
        guard types.count == tokens.count else {
            throw .ggufBadTokenizer(path: path, reason: "\(types.count) token types for \(tokens.count) tokens")
        }
        let n = types.firstIndex { $0 != TokenType.normal.rawValue } ?? tokens.count
        guard n > 0 else { throw .ggufBadTokenizer(path: path, reason: "token 0 is not a normal token") }

        // Normal tokens → bytes.
        let alphabet = WhisperByteAlphabet.unicodeToByte
        var text = ""
        text.reserveCapacity(n * 12)
        var seen = Set<[UInt8]>(minimumCapacity: n)
        var byteSeen = [Bool](repeating: false, count: 256)
        var rankOf: [String: Int] = [:]
        rankOf.reserveCapacity(n)
        for id in 0..<n {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(tokens[id].unicodeScalars.count)
            for u in tokens[id].unicodeScalars {
                guard let b = alphabet[u] else {
                    throw .ggufBadTokenizer(path: path, reason: "token \(id) \(tokens[id].debugDescription) has U+\(String(u.value, radix: 16, uppercase: true)), which is not in the byte-level alphabet")
                }
                bytes.append(b)
            }
            guard !bytes.isEmpty else { throw .ggufBadTokenizer(path: path, reason: "token \(id) is empty") }
            guard seen.insert(bytes).inserted else { throw .ggufBadTokenizer(path: path, reason: "token \(id) repeats the bytes of an earlier token") }
            if bytes.count == 1 { byteSeen[Int(bytes[0])] = true }
            rankOf[tokens[id]] = id
            text += Data(bytes).base64EncodedString()
            text += " \(id)\n"
        }
        if let missing = byteSeen.firstIndex(of: false) {
            throw .ggufBadTokenizer(path: path, reason: "byte \(missing) has no token (byte-level BPE needs all 256)")
        }
        tiktoken = Data(text.utf8)
        rankCount = n

        // Specials, then only padding.
        var specials: [String] = []
        var id = n
        while id < tokens.count, types[id] == TokenType.control.rawValue || types[id] == TokenType.userDefined.rawValue {
            specials.append(tokens[id]); id += 1
        }
        for j in id..<tokens.count where types[j] != TokenType.unused.rawValue {
            throw .ggufBadTokenizer(path: path, reason: "token \(j) \(tokens[j].debugDescription) has type \(types[j]) after the specials "
                + "(expected normal tokens, then control/user-defined specials, then unused padding)")
        }
        self.specials = specials

        // Merges must follow rank order (tiktoken merges the lowest-ranked pair first).
        if file.metadata["tokenizer.ggml.merges"] != nil {
            let merges = try file.strings("tokenizer.ggml.merges")
            var previous = -1
            for (i, merge) in merges.enumerated() {
                let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, let a = rankOf[String(parts[0])], let b = rankOf[String(parts[1])],
                      let r = rankOf[String(parts[0]) + String(parts[1])] else {
                    throw .ggufBadTokenizer(path: path, reason: "merge \(i) \(merge.debugDescription) does not join two tokens into a token")
                }
                guard r > previous, r > a, r > b else {
                    throw .ggufBadTokenizer(path: path, reason: "merge \(i) \(merge.debugDescription) makes rank \(r), not after the previous merge's \(previous): "
                        + "the merge order disagrees with the token order, so rank-based BPE would tokenize differently")
                }
                previous = r
            }
        }

        chatTemplate = file.metadata["tokenizer.chat_template"] == nil ? nil : try file.string("tokenizer.chat_template")
        typealias K = MetadataKeys
        var meta: [(key: String, value: MetaValue)] = [
            (K.specialFirstID, .int(n)),
            (K.specialTokens, .strings(specials)),
        ]
        for (key, gguf) in [(K.eosID, "tokenizer.ggml.eos_token_id"), (K.bosID, "tokenizer.ggml.bos_token_id"),
                            (K.padID, "tokenizer.ggml.padding_token_id")] where file.metadata[gguf] != nil {
            let v = try file.int(gguf)
            guard v >= 0, v < tokens.count else { throw .ggufBadTokenizer(path: path, reason: "\(gguf) = \(v) is not a token id") }
            meta.append((key, .int(v)))
        }
        if case .bool(let b)? = file.metadata["tokenizer.ggml.add_bos_token"] { meta.append((K.addBOS, .bool(b))) }
        if case .string(let pre)? = file.metadata["tokenizer.ggml.pre"] { meta.append((K.preTokenizer, .string(pre))) }
        metadata = meta
    }
}
