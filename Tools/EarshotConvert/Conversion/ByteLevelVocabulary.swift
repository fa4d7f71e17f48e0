// ByteLevelVocabulary: a byte-level BPE vocabulary (tokens spelled in GPT-2's byte-to-unicode alphabet, ids
// 0 ..< n, plus a merge list) → the `.ear` tokenizer's tiktoken ranks (`base64(bytes) rank` lines, what
// EarshotTokenizer's QwenTokenizer reads). Shared by the GGUF tokenizer and Hugging Face vocab.json/merges.txt.
//
// Checks: every token decodes from the byte alphabet, no two tokens have the same bytes, all 256 single
// bytes are present; and the merges agree with the ranks — merge i joins two tokens into a token of rank
// greater than the previous merge's — which is what makes tiktoken's rank-order merging give the same tokens
// as the merge list.
import Foundation
import EarshotTokenizer

enum ByteLevelVocabulary {
    /// Why a vocabulary was refused (the caller puts it in its own error with the file's path).
    struct Refusal: Error { let reason: String }

    /// The tiktoken bytes of `tokens` (token i has rank i), after checking them and `merges` ("a b" lines).
    static func tiktoken(tokens: [String], merges: [String]?) throws(Refusal) -> Data {
        let alphabet = WhisperByteAlphabet.unicodeToByte
        var text = ""
        text.reserveCapacity(tokens.count * 12)
        var seen = Set<[UInt8]>(minimumCapacity: tokens.count)
        var byteSeen = [Bool](repeating: false, count: 256)
        var rankOf: [String: Int] = [:]
        rankOf.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(token.unicodeScalars.count)
            for u in token.unicodeScalars {
                guard let b = alphabet[u] else {
                    throw Refusal(reason: "token \(id) \(token.debugDescription) has U+\(String(u.value, radix: 16, uppercase: true)), which is not in the byte-level alphabet")
                }
                bytes.append(b)
            }
            guard !bytes.isEmpty else { throw Refusal(reason: "token \(id) is empty") }
            guard seen.insert(bytes).inserted else { throw Refusal(reason: "token \(id) repeats the bytes of an earlier token") }
            if bytes.count == 1 { byteSeen[Int(bytes[0])] = true }
            rankOf[token] = id
            text += Data(bytes).base64EncodedString()
            text += " \(id)\n"
        }
        if let missing = byteSeen.firstIndex(of: false) {
            throw Refusal(reason: "byte \(missing) has no token (byte-level BPE needs all 256)")
        }
        if let merges {
            var previous = -1
            for (i, merge) in merges.enumerated() {
                let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, let a = rankOf[String(parts[0])], let b = rankOf[String(parts[1])],
                      let r = rankOf[String(parts[0]) + String(parts[1])] else {
                    throw Refusal(reason: "merge \(i) \(merge.debugDescription) does not join two tokens into a token")
                }
                guard r > previous, r > a, r > b else {
                    throw Refusal(reason: "merge \(i) \(merge.debugDescription) makes rank \(r), not after the previous merge's \(previous): "
                        + "the merge order disagrees with the token order, so rank-based BPE would tokenize differently")
                }
                previous = r
            }
        }
        return Data(text.utf8)
    }
}
