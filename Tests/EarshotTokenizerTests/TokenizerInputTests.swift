// TokenizerInputTests: tokenizer files and sizes from hostile or careless inputs.
//   - only regular files are read: /dev/zero, a directory or a FIFO as the tokenizer give one sentence
//     saying what the path is (not "You don't have permission", not NSCocoaErrorDomain, never a hang);
//   - every size a file or a model's metadata gives is bounded before a table is built from it: a Whisper
//     vocabulary size of 2^40 (it used to build a timestamp table for ever) or a token id of 2^31 - 1.
import Foundation
import Testing
import EarshotTokenizer
import EarshotTestSupport

@Suite struct TokenizerInputTests {
    let dir = try! TemporaryDirectory("earshot-tokenizer")

    func qwenError(_ path: String) -> String {
        do { _ = try QwenTokenizer(contentsOf: URL(fileURLWithPath: path)); return "loaded" } catch { return error.description }
    }

    func whisperError(_ path: String) -> String {
        do { _ = try WhisperTokenizer(tokenizerJSON: URL(fileURLWithPath: path), vocabularySize: 51864); return "loaded" } catch {
            return error.description
        }
    }

    @Test func devicesDirectoriesAndFifosAreNamed() {
        let fifo = dir.path("qwen.tiktoken")
        #expect(mkfifo(fifo, 0o644) == 0)
        let cases = [("/dev/zero", "a character device"), (dir.url.path, "a directory"), (fifo, "a FIFO (named pipe)")]
        for (path, kind) in cases {
            #expect(qwenError(path) == "cannot read tokenizer file \(path): it is \(kind), not a regular file")
            #expect(whisperError(path) == "cannot read tokenizer file \(path): it is \(kind), not a regular file")
        }
        let empty = dir.path("empty.tiktoken")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(qwenError(empty) == "cannot read tokenizer file \(empty): the file is empty")
        #expect(qwenError(dir.path("none")).contains("No such file or directory"))
    }

    /// A minimal Whisper tokenizer.json with every special the loader needs.
    static func whisperJSON(extraVocab: String = "", addedID: Int = 3) -> Data {
        let specials = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
                        "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
        let added = specials.enumerated().map { "{\"id\": \($0.offset == 0 ? addedID : 3 + $0.offset), \"content\": \"\($0.element)\"}" }
        return Data("""
        {"model": {"vocab": {"a": 0, "b": 1, "ab": 2\(extraVocab)}, "merges": ["a b"]}, "added_tokens": [\(added.joined(separator: ","))]}
        """.utf8)
    }

    @Test func hugeVocabularySizeIsRefusedAtOnce() throws {
        let good = try WhisperTokenizer(tokenizerJSON: Self.whisperJSON(), vocabularySize: 12 + 1501)
        #expect(good.vocabularySize == 12 + 1501 && good.isTimestamp(12) && good.encode("ab") == [2])
        let started = Date()
        #expect(throws: WhisperTokenizerError.self) { try WhisperTokenizer(tokenizerJSON: Self.whisperJSON(), vocabularySize: 1 << 40) }
        #expect(throws: WhisperTokenizerError.self) { try WhisperTokenizer(tokenizerJSON: Self.whisperJSON(), vocabularySize: -5) }
        #expect(Date().timeIntervalSince(started) < 2)
        do { _ = try WhisperTokenizer(tokenizerJSON: Self.whisperJSON(), vocabularySize: 1 << 40) } catch {
            #expect(error.description.contains("vocabulary size 1099511627776 is larger than this tokenizer can describe"))
        }
    }

    @Test func hugeTokenIdsAreRefused() {
        // An id of 2^31 - 1 would size a 2-billion-entry table.
        #expect(throws: WhisperTokenizerError.self) {
            try WhisperTokenizer(tokenizerJSON: Self.whisperJSON(extraVocab: ", \"zz\": 2147483647"), vocabularySize: 100)
        }
        #expect(throws: WhisperTokenizerError.self) {
            try WhisperTokenizer(tokenizerJSON: Self.whisperJSON(addedID: 2_000_000_000), vocabularySize: 100)
        }
        #expect(throws: WhisperTokenizerError.self) {
            try WhisperTokenizer(tokenizerJSON: Self.whisperJSON(extraVocab: ", \"zz\": -3"), vocabularySize: 100)
        }
    }

    @Test func theRealWhisperTokenizerStillLoads() throws {
        let t = try WhisperTokenizer(tokenizerJSON: Fixtures.url("whisper/tokenizer.json"), vocabularySize: 51864)
        #expect(t.vocabularySize == 51864 && t.specials.timestampBegin + 1501 == 51864)
    }
}
