// The streaming decoder holds back incomplete characters and releases them once complete.
import EarshotTokenizer
import Testing

@Suite struct StreamingDecoderTests {
    let tokenizer = TokenizerFixtures.tokenizer

    /// 🫠 (U+1FAE0) is split over ids 9284, 104, 254 (decode.jsonl `utf8_split`).
    @Test func splitCharacterIsReleasedWhole() throws {
        var stream = tokenizer.streamingDecoder()
        #expect(try stream.append(9284) == "")
        #expect(stream.hasPendingBytes)
        #expect(try stream.append(104) == "")
        #expect(try stream.append(254) == "🫠")
        #expect(!stream.hasPendingBytes)
        #expect(stream.finish() == "")
    }

    @Test func truncatedCharacterAtTheEndIsOneReplacement() throws {
        var stream = tokenizer.streamingDecoder()
        #expect(try stream.append(contentsOf: tokenizer.encode("ok ")) == "ok ")
        #expect(try stream.append(9284) == "")
        #expect(stream.finish() == "\u{FFFD}")
    }

    @Test func specialInsideASplitCharacter() throws {
        var stream = tokenizer.streamingDecoder()
        var text = ""
        for id in [9284, 151859, 104, 254] { text += try stream.append(id) }
        text += stream.finish()
        #expect(text == "\u{FFFD}<|en|>\u{FFFD}\u{FFFD}")
    }

    @Test func timestampsStayTextAndSkipDropsThem() throws {
        var keep = tokenizer.streamingDecoder()
        #expect(try keep.append(152104) == "<|2.33|>")
        var skip = tokenizer.streamingDecoder(skipSpecial: true)
        #expect(try skip.append(152104) == "")
        #expect(try skip.append(155_165) == "")  // dropped before the vocabulary check, as decode does
        var plain = tokenizer.streamingDecoder()
        #expect(throws: TokenizerError.invalidTokenID(155_165)) { try plain.append(155_165) }
    }
}
