// WhisperTokenizerTests: encode/decode parity with Hugging Face `tokenizers` on the tiny.en tokenizer.json
// (goldens from Tools/whisper/make_goldens.py), special and timestamp tokens. Exact: tokenization is discrete.
import EarshotTestSupport
import EarshotTokenizer
import Foundation
import Testing

private struct Golden: Decodable {
    struct Pair: Decodable { let text: String; let ids: [Int]; let decoded: String }
    struct Decode: Decodable { let ids: [Int]; let skip_special: String; let with_special: String }
    let encode: [Pair]
    let decode: [Decode]
}

@Suite struct WhisperTokenizerTests {
    static let tokenizer: WhisperTokenizer = {
        try! WhisperTokenizer(tokenizerJSON: Fixtures.url("whisper/tokenizer.json"), vocabularySize: 51864)
    }()
    private static let golden: Golden = {
        try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: Fixtures.url("whisper/tokenizer-golden.json")))
    }()

    @Test func encodeMatchesHuggingFaceTokenizers() {
        for p in Self.golden.encode {
            #expect(Self.tokenizer.encode(p.text) == p.ids, "\(p.text.debugDescription)")
        }
    }

    @Test func decodeMatchesHuggingFaceTokenizers() {
        for p in Self.golden.encode {
            #expect(Self.tokenizer.decode(p.ids) == p.decoded, "\(p.text.debugDescription)")
        }
        for d in Self.golden.decode {
            #expect(Self.tokenizer.decode(d.ids, skipSpecial: true) == d.skip_special)
        }
    }

    @Test func preTokenizerPiecesConcatenateBack() {
        for p in Self.golden.encode { #expect(WhisperPreTokenizer.split(p.text).joined() == p.text) }
        #expect(WhisperPreTokenizer.split("it's  a\ttest 42!") == ["it", "'s", " ", " a", "\t", "test", " 42", "!"])
    }

    @Test func specialTokensOfEnglishOnlyModel() {
        let s = Self.tokenizer.specials
        #expect(s.endOfText == 50256 && s.startOfTranscript == 50257 && s.translate == 50357 && s.transcribe == 50358)
        #expect(s.startOfLM == 50359 && s.startOfPrevious == 50360 && s.noSpeech == 50361 && s.noTimestamps == 50362)
        #expect(s.timestampBegin == 50363 && s.languages["en"] == 50258 && s.languages.count == 99)
        #expect(Self.tokenizer.prompt(timestamps: false, multilingual: false) == [50257, 50362])
        #expect(Self.tokenizer.prompt(timestamps: true, multilingual: true) == [50257, 50258, 50358])
        #expect(Self.tokenizer.decode([50363, 51863], skipSpecial: false) == "<|0.00|><|30.00|>")
    }

    @Test func timestampsSplitText() {
        let t = Self.tokenizer
        let ids = [50257, 50363] + t.encode(" And so") + [50413, 50413] + t.encode(" my fellow") + [50463, 50256]
        #expect(t.decodeWithTimestamps(ids) == [WhisperTimedText(start: 0, end: 1.0, text: " And so"),
                                                 WhisperTimedText(start: 1.0, end: 2.0, text: " my fellow")])
        #expect(t.decodeWithTimestamps([50363] + t.encode(" open"), offset: 30, finalTime: 41) ==
                [WhisperTimedText(start: 30, end: 41, text: " open")])
    }

    @Test func malformedFilesAreTypedErrors() throws {
        #expect(throws: WhisperTokenizerError.badTokenizerJSON(detail: "not a JSON object")) {
            try WhisperTokenizer(tokenizerJSON: Data("[1]".utf8), vocabularySize: 10)
        }
        let noSpecials = #"{"model": {"vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "added_tokens": []}"#
        #expect(throws: WhisperTokenizerError.missingSpecialToken("<|notimestamps|>")) {
            try WhisperTokenizer(tokenizerJSON: Data(noSpecials.utf8), vocabularySize: 3)
        }
        // Truncated, bad escapes, non-integer ids, trailing data, unknown merge symbols: typed errors, no crash.
        let specials = (["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
                         "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"].enumerated())
            .map { #"{"id": \#($0.offset + 3), "content": "\#($0.element)", "special": true}"# }.joined(separator: ", ")
        let good = #"{"added_tokens": ["# + specials + #"], "model": {"type": "BPE", "vocab": {"a": 0, "\u0120b": 1, "ab": 2}, "merges": ["a Ġb"]}}"#
        #expect(try WhisperTokenizer(tokenizerJSON: Data(good.utf8), vocabularySize: 12).specials.noTimestamps == 11)
        for (bad, why) in [(String(good.dropLast(3)), "truncated"), (good.replacingOccurrences(of: "u0120", with: "u01"), "short escape"),
                           (good.replacingOccurrences(of: #""a": 0"#, with: #""a": 0.5"#), "fractional id"), (good + "x", "trailing data"),
                           (good.replacingOccurrences(of: "a Ġb", with: "ab"), "merge without space")] {
            #expect(throws: WhisperTokenizerError.self, "\(why)") { try WhisperTokenizer(tokenizerJSON: Data(bad.utf8), vocabularySize: 12) }
        }
        #expect(throws: WhisperTokenizerError.badMerge("a c")) {
            try WhisperTokenizer(tokenizerJSON: Data(good.replacingOccurrences(of: "a Ġb", with: "a c").utf8), vocabularySize: 12)
        }
        // Deeply nested values in keys the tokenizer ignores are skipped without recursion.
        let deep = good.replacingOccurrences(of: #""type": "BPE""#, with: #""x": "# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))
        #expect(try WhisperTokenizer(tokenizerJSON: Data(deep.utf8), vocabularySize: 12).decode([1]) == " b")
    }
}
