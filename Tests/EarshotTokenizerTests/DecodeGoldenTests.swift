// Decoding parity with the official QWenTokenizer.decode: every line of decode.jsonl (text, or the error
// the reference raises), covering split/invalid UTF-8, specials, skip_special_tokens and audio spans.
import EarshotTokenizer
import Foundation
import Testing

@Suite struct DecodeGoldenTests {
    let tokenizer = TokenizerFixtures.tokenizer
    let lines = TokenizerFixtures.decodeLines

    @Test func fixtureHasAllLines() {
        #expect(lines.count == 182)
    }

    @Test func everyLineDecodesLikeTheOfficialTokenizer() {
        var failures = 0
        for line in lines {
            let ids = line.ids
            let result = Result { try tokenizer.decode(ids, skipSpecial: line.skip_special_tokens, audioURLs: line.audio_urls) }
            if let expected = line.text {
                if (try? result.get()) != expected {
                    failures += 1
                    Issue.record("\(line.category) \(ids.prefix(12)): got \(result), expected \(expected.debugDescription)")
                }
            } else {
                let error = line.error!
                let matches: Bool
                switch result {
                case .success: matches = false
                case let .failure(thrown as TokenizerError):
                    switch thrown {
                    case .unclosedAudioTag: matches = error.hasPrefix("ValueError: Unclosed image token")
                    case .missingAudioURL: matches = error.hasPrefix("TypeError")
                    case let .invalidTokenID(id): matches = error == "KeyError: 'Invalid token for decoding: \(id)'"
                    default: matches = false
                    }
                case .failure: matches = false
                }
                if !matches {
                    failures += 1
                    Issue.record("\(line.category) \(ids.prefix(12)): got \(result), expected error \(error)")
                }
            }
        }
        #expect(failures == 0)
    }

    /// The streaming decoder, fed one id at a time, yields the same text as `decode` on every golden line
    /// without audio spans, and never releases an incomplete character.
    @Test func streamingMatchesWholeDecode() throws {
        var checked = 0
        for line in lines {
            guard let expected = line.text, line.audio_urls == nil else { continue }
            let ids = line.ids
            guard !ids.contains(QwenTokenID.audioStart) else { continue }
            var stream = tokenizer.streamingDecoder(skipSpecial: line.skip_special_tokens)
            var text = ""
            for id in ids { text += try stream.append(id) }
            text += stream.finish()
            #expect(text == expected, "\(ids.prefix(12))")
            checked += 1
        }
        #expect(checked > 150)
    }
}
