// HFByteLevelTokenizer: a Hugging Face byte-level BPE tokenizer in its Hub files (Qwen2Tokenizer:
// vocab.json {token: id}, merges.txt, tokenizer_config.json's `added_tokens_decoder`, the chat template from
// chat_template.json or tokenizer_config.json) → the `.ear` tokenizer: tiktoken ranks for ids 0 ..< n, the added
// tokens' surfaces as the specials from n on (metadata), the chat template as a blob.
//
// Checks: vocab.json's ids are exactly 0 ..< n (no gaps, no repeats) and pass ByteLevelVocabulary's checks with
// merges.txt; the added tokens are ids n, n+1, … with no gap (how the runtime numbers specials) and fit the
// embedding rows; every file is a bounded regular file.
import EarshotModels
import Foundation

public struct HFByteLevelTokenizer: Sendable {
    public let tiktoken: Data
    public let rankCount: Int
    /// Added tokens' surfaces, ids rankCount ..< rankCount + specials.count.
    public let specials: [String]
    public let chatTemplate: String?

    public init(directory: URL, vocabSize: Int) throws(ConvertError) {
        let vocabURL = directory.appendingPathComponent("vocab.json")
        let mergesURL = directory.appendingPathComponent("merges.txt")
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        func json(_ url: URL, what: String) throws(ConvertError) -> [String: Any] {
            let data = try readWholeFile(url, what: what, limit: InputLimits.tokenizer)
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw .invalidTokenizer(path: url.path, reason: "not a JSON object")
            }
            return object
        }
        let vocab = try json(vocabURL, what: "tokenizer vocabulary (vocab.json)")
        var tokens = [String?](repeating: nil, count: vocab.count)
        for (token, value) in vocab {
            guard let id = exactInt(value), id >= 0, id < vocab.count else {
                throw .invalidTokenizer(path: vocabURL.path, reason: "\(token.debugDescription) has id \(value), not one of 0 ..< \(vocab.count)")
            }
            guard tokens[id] == nil else { throw .invalidTokenizer(path: vocabURL.path, reason: "id \(id) is given to two tokens") }
            tokens[id] = token
        }
        let normal = tokens.map { $0! }   // vocab.count distinct ids in 0 ..< count: every slot is filled
        let mergesText = String(decoding: try readWholeFile(mergesURL, what: "BPE merges (merges.txt)", limit: InputLimits.tokenizer), as: UTF8.self)
        let merges = mergesText.split(separator: "\n", omittingEmptySubsequences: true)
            .map(String.init).filter { !$0.hasPrefix("#version") }
        do { tiktoken = try ByteLevelVocabulary.tiktoken(tokens: normal, merges: merges) } catch {
            throw .invalidTokenizer(path: vocabURL.path + " + merges.txt", reason: error.reason)
        }
        rankCount = normal.count

        let config = try json(configURL, what: "tokenizer_config.json")
        var added: [Int: String] = [:]
        for (key, value) in config["added_tokens_decoder"] as? [String: Any] ?? [:] {
            guard let id = Int(key), let entry = value as? [String: Any], let content = entry["content"] as? String, !content.isEmpty else {
                throw .invalidTokenizer(path: configURL.path, reason: "added_tokens_decoder[\(key)] is not {\"content\": …} with an integer id")
            }
            added[id] = content
        }
        var specials: [String] = []
        for id in added.keys.sorted() {
            guard id == rankCount + specials.count else {
                throw .invalidTokenizer(path: configURL.path, reason: "added token \(id) \(added[id]!.debugDescription) does not follow the "
                    + "\(rankCount) vocabulary ids and \(specials.count) earlier added tokens without a gap")
            }
            specials.append(added[id]!)
        }
        guard rankCount + specials.count <= vocabSize else {
            throw .invalidTokenizer(path: configURL.path, reason: "\(rankCount) tokens + \(specials.count) added tokens exceed the \(vocabSize) embedding rows")
        }
        self.specials = specials
        var template = config["chat_template"] as? String
        let templateURL = directory.appendingPathComponent("chat_template.json")
        var st = stat()
        if lstat(templateURL.path, &st) == 0 {
            guard let t = try json(templateURL, what: "chat_template.json")["chat_template"] as? String else {
                throw .invalidTokenizer(path: templateURL.path, reason: "no \"chat_template\" string")
            }
            template = t
        }
        chatTemplate = template
    }

    /// The metadata keys the runtime reads for a text-model tokenizer.
    public var metadata: [(key: String, value: MetaValue)] {
        [(MetadataKeys.specialFirstID, .int(rankCount)), (MetadataKeys.specialTokens, .strings(specials))]
    }

    /// Id of an added token by its surface.
    public func id(of surface: String) -> Int? { specials.firstIndex(of: surface).map { rankCount + $0 } }
}
