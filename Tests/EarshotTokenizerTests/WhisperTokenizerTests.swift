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

    @Test func malformedFilesAreTypedErrors() {
        #expect(throws: WhisperTokenizerError.badTokenizerJSON(detail: "not a JSON object")) {
            try WhisperTokenizer(tokenizerJSON: Data("[1]".utf8), vocabularySize: 10)
        }
        let noSpecials = #"{"model": {"vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "added_tokens": []}"#
        #expect(throws: WhisperTokenizerError.missingSpecialToken("<|notimestamps|>")) {
            try WhisperTokenizer(tokenizerJSON: Data(noSpecials.utf8), vocabularySize: 3)
        }
    }
}
