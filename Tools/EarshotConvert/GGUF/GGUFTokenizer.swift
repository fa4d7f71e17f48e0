// GGUFTokenizer: a GGUF byte-level BPE tokenizer (`tokenizer.ggml.model` = "gpt2": tokens in GPT-2's
// byte-to-unicode alphabet, token types, merges) → the `.ear` tokenizer: tiktoken ranks (`base64(bytes) rank`
// lines, what EarshotTokenizer's QwenTokenizer reads) for the normal tokens, the special tokens' surfaces as
// metadata, the chat template as a blob.
//
// Checks: the normal tokens (ids 0 ..< n) and merges as ByteLevelVocabulary checks them; ids n ..< V are
// control / user-defined specials followed only by unused padding entries ([PAD…]). (For Qwen2 the n = 151,643 ranks are exactly `qwen.tiktoken`.)
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

        let merges = file.metadata["tokenizer.ggml.merges"] == nil ? nil : try file.strings("tokenizer.ggml.merges")
        do { tiktoken = try ByteLevelVocabulary.tiktoken(tokens: Array(tokens[0..<n]), merges: merges) } catch {
            throw .ggufBadTokenizer(path: path, reason: error.reason)
        }
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
