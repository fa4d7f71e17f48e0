// Encoding parity with the official QWenTokenizer: every line of encode.jsonl (434 texts × modes), exact ids.
import EarshotTokenizer
import Foundation
import Testing

@Suite struct EncodeGoldenTests {
    let tokenizer = TokenizerFixtures.tokenizer
    let lines = TokenizerFixtures.encodeLines

    @Test func fixtureHasAllLines() {
        #expect(lines.count == 434)
    }

    /// `ids`: NFC, then tiktoken with the mode's allowed specials (before audio expansion). Exact match.
    @Test func everyTextEncodesToTheOfficialIDs() {
        var failures = 0
        for line in lines {
            let got = tokenizer.encode(line.text, special: line.specialMode)
            if got != line.ids {
                failures += 1
                Issue.record("\(line.category) \(line.mode) \(line.text.debugDescription.prefix(120)): got \(got.prefix(20)), expected \(line.ids.prefix(20))")
            }
        }
        #expect(failures == 0)
    }

    /// `expanded_ids`: the official `encode(text, audio_info=process_audio(text))`, given the same spans.
    @Test func audioTagsExpandLikeTheOfficialTokenizer() throws {
        var checked = 0
        for line in lines {
            guard let expanded = line.expanded_ids, let spans = line.audio_span_tokens else { continue }
            #expect(try tokenizer.audioPaths(in: line.text, special: line.specialMode) == line.audio_urls)
            #expect(try tokenizer.encode(line.text, special: line.specialMode, audioSpanTokens: spans) == expanded)
            checked += 1
        }
        #expect(checked == 7)
    }

    /// Texts the official tokenizer refuses as unclosed are refused with a typed error too.
    @Test func unclosedAudioTagIsATypedError() {
        var checked = 0
        for line in lines where line.official_error_without_audio_info?.contains("Unclosed") == true {
            let text = line.text
            #expect(throws: TokenizerError.unclosedAudioTag(index: 0)) { try tokenizer.audioPaths(in: text) }
            #expect(throws: TokenizerError.unclosedAudioTag(index: 0)) {
                try tokenizer.encode(text, special: .all, audioSpanTokens: [10])
            }
            checked += 1
        }
        #expect(checked >= 1)
    }

    @Test func malformedAudioTagsAreTypedErrors() throws {
        #expect(throws: TokenizerError.nestedAudioTag(index: 0)) {
            try tokenizer.audioPaths(in: "<audio>a.wav<audio>b.wav</audio>")
        }
        #expect(throws: TokenizerError.nestedAudioTag(index: 0)) {
            try tokenizer.encode("<audio>a.wav<audio>b.wav</audio>", audioSpanTokens: [5])
        }
        #expect(throws: TokenizerError.unmatchedAudioEnd(index: 0)) {
            try tokenizer.audioPaths(in: "</audio><audio>x.wav</audio>")
        }
        #expect(throws: TokenizerError.unmatchedAudioEnd(index: 0)) {
            try tokenizer.encode("</audio><audio>x.wav</audio>", audioSpanTokens: [5])
        }
        #expect(throws: TokenizerError.audioCountMismatch(expected: 2, found: 1)) {
            try tokenizer.encode("<audio>x.wav</audio>", audioSpanTokens: [5, 6])
        }
        #expect(throws: TokenizerError.audioCountMismatch(expected: 0, found: 1)) {
            try tokenizer.encode("<audio>x.wav</audio>", audioSpanTokens: [])
        }
        #expect(throws: TokenizerError.invalidAudioSpan(index: 0, tokens: 1)) {
            try tokenizer.encode("<audio>x.wav</audio>", audioSpanTokens: [1])
        }
        // In `none` mode the tags are plain text: nothing to expand.
        #expect(try tokenizer.audioPaths(in: "<audio>x.wav</audio>", special: .none) == [])
        #expect(try tokenizer.encode("<audio>x.wav</audio>", special: .none, audioSpanTokens: [])
            == tokenizer.encode("<audio>x.wav</audio>", special: .none))
    }

    /// Handy ids of the spec (§5), measured with tiktoken on this vocabulary.
    /// Lines whose text NFC changes: the `nfc` field is what was encoded; encoding it directly agrees.
    @Test func nfcFieldEncodesTheSame() {
        var checked = 0
        for line in lines {
            guard let nfc = line.nfc else { continue }
            #expect(tokenizer.encode(nfc, special: line.specialMode) == line.ids)
            #expect(Array(nfc.unicodeScalars) != Array(line.text.unicodeScalars))
            checked += 1
        }
        #expect(checked == 24)
    }

    @Test func specExamples() {
        #expect(tokenizer.encode("Hello world") == [9707, 1879])
        #expect(tokenizer.encode("Audio 1:") == [14755, 220, 16, 25])
        #expect(tokenizer.encode("<|startoftranscription|>") == [27, 91, 2468, 1055, 1458, 1453, 91, 29])
        #expect(tokenizer.encode("<|im_start|>", special: .audio) != [QwenTokenID.imStart])
        #expect(tokenizer.encode("<|im_start|>", special: .all) == [QwenTokenID.imStart])
        #expect(tokenizer.encode("<|en|>", special: .none) != [151859])
    }
}
