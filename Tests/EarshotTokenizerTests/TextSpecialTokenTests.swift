// TextSpecialTokenTests: a text model's own special tokens (Qwen2's 22, as a GGUF lists them after the
// 151,643 qwen.tiktoken ranks) — ids, the special-token split in each mode, no audio specials at all
// (`<audio>` and Qwen-Audio's task tags are plain text), decoding, and refusal of unusable lists.
import EarshotTokenizer
import Testing

@Suite struct TextSpecialTokenTests {
    static let qwen2Specials = [
        "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
        "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
        "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
        "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
    ]
    static let tokenizer = try! QwenTokenizer(ranks: TokenizerFixtures.tokenizer.ranks, textSpecials: qwen2Specials)
    var tok: QwenTokenizer { Self.tokenizer }

    @Test func idsAndNoAudio() {
        let s = tok.specials
        #expect(tok.vocabularySize == 151_665 && s.count == 22 && !s.hasAudio)
        #expect(s.endOfTextID == 151_643 && s.imStartID == 151_644 && s.imEndID == 151_645)
        #expect(tok.specialID("<tool_call>") == 151_657 && tok.specialID("</tool_call>") == 151_658)
        #expect(tok.specialID("<|file_sep|>") == 151_664 && tok.specialID("<audio>") == nil && tok.specialID("<|en|>") == nil)
        #expect(s.audioStartID == -1 && s.audioEndID == -1 && s.audioPlaceholderID == -1)
    }

    @Test func specialSplitByMode() throws {
        let text = "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|><tool_call>x</tool_call>"
        let all = tok.encode(text, special: .all)
        #expect(all.filter { $0 >= 151_643 } == [151_659, 151_661, 151_660, 151_657, 151_658])
        #expect(try tok.decode(all) == text)
        for mode in [SpecialMode.none, .audio, .response] {
            let ids = tok.encode(text, special: mode)
            #expect(ids.allSatisfy { $0 < 151_643 }, "\(mode)")
            #expect(try tok.decode(ids) == text)
        }
        // Qwen-Audio's specials are ordinary text here, even with every special allowed.
        let audio = "<audio>a.wav</audio><|startoftranscript|><|en|>"
        #expect(tok.encode(audio, special: .all) == tok.encode(audio, special: .none))
        #expect(try tok.audioPaths(in: audio, special: .none).isEmpty)
        // A special surface followed by a near miss: only the exact surface is special.
        #expect(tok.encode("<|im_start|><|im_startx|>", special: .all).first == 151_644)
        #expect(tok.encode("<|im_start|><|im_startx|>", special: .all).filter { $0 >= 151_643 }.count == 1)
    }

    @Test func streamingAndChatIds() throws {
        var stream = tok.streamingDecoder()
        #expect(try stream.append(151_645) == "<|im_end|>")
        let chat = tok.chatPrompt(query: ChatContent(text: "hi"), history: [], system: "S", maxWindowTokens: 6144)
        #expect(chat.ids == tok.encode("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", special: .all))
        #expect(chat.ids.filter { $0 >= 151_643 } == [151_644, 151_645, 151_644, 151_645, 151_644])
    }

    @Test(arguments: [
        (["<|a|>", "plain"], 151_644),          // not <…>
        (["<|a|>", "<a>b>"], 151_644),          // a second '>'
        (["<|a|>", "<|b|>", "<|a|>"], 151_645), // repeated
        (["<"], 151_643),                       // too short
    ])
    func refusesUnusableLists(_ list: [String], badID: Int) {
        #expect(throws: TokenizerError.self) { _ = try QwenSpecialTokens(firstID: 151_643, textSurfaces: list) }
        do { _ = try QwenSpecialTokens(firstID: 151_643, textSurfaces: list) } catch {
            guard case .badSpecialToken(let id, _, _) = error else { Issue.record("\(error)"); return }
            #expect(id == badID)
        }
    }
}
