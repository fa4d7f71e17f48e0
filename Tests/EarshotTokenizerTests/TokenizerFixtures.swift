// Shared test data: the Qwen tokenizer loaded once from Tests/Fixtures/tokenizer/qwen.tiktoken, and the
// goldens made by the official QWenTokenizer (shared/fixtures/README.md §1). Parsed with JSONDecoder:
// JSONSerialization drops a U+FEFF at the start of a string value, which one golden text has.
import EarshotTestSupport
import EarshotTokenizer
import Foundation

/// One line of encode.jsonl.
struct EncodeGolden: Decodable {
    let text: String
    let ids: [Int]
    let mode: String
    let category: String
    let nfc: String?
    let official_error_without_audio_info: String?
    let expanded_ids: [Int]?
    let audio_span_tokens: [Int]?
    let audio_urls: [String]?

    var specialMode: SpecialMode { mode == "all" ? .all : .audio }
}

/// One line of decode.jsonl.
struct DecodeGolden: Decodable {
    let ids: [Int]
    let text: String?
    let skip_special_tokens: Bool
    let category: String
    let audio_urls: [String]?
    let error: String?
}

/// One entry of prompts.json.
struct PromptGolden: Decodable {
    let name: String
    let text: String?
    let query: String?
    let history: [[String]]?
    let raw_text: String?
    let ids: [Int]
    let audio_urls: [String]?
    let audio_span_tokens: [Int]?
    let max_window_size: Int?
}

enum TokenizerFixtures {
    /// The official 151,643-rank file (sha256 b2b1b8df…).
    static let tiktokenURL = Fixtures.url("tokenizer/qwen.tiktoken")

    static let tokenizer: QwenTokenizer = {
        do { return try QwenTokenizer(contentsOf: tiktokenURL) } catch { fatalError("cannot load \(tiktokenURL.path): \(error)") }
    }()

    static func data(_ name: String) -> Data {
        let url = Fixtures.url("tokenizer/\(name)")
        guard let data = try? Data(contentsOf: url) else { fatalError("missing fixture \(url.path)") }
        return data
    }

    /// Every line of a JSONL golden file.
    static func jsonLines<T: Decodable>(_ name: String, as type: T.Type) -> [T] {
        data(name).split(separator: UInt8(ascii: "\n")).map { line in
            do { return try JSONDecoder().decode(T.self, from: Data(line)) } catch {
                fatalError("bad line in \(name): \(error)")
            }
        }
    }

    static let encodeLines = jsonLines("encode.jsonl", as: EncodeGolden.self)
    static let decodeLines = jsonLines("decode.jsonl", as: DecodeGolden.self)
    static let prompts: [PromptGolden] = {
        do { return try JSONDecoder().decode([PromptGolden].self, from: data("prompts.json")) } catch {
            fatalError("bad prompts.json: \(error)")
        }
    }()
}
