// Whole prompts from the official code (prompts.json): base-model ASR with audio expansion and
// Qwen-Audio-Chat `make_context` (single turn, second turn with history audio, window truncation).
import EarshotTokenizer
import Foundation
import Testing

@Suite struct PromptGoldenTests {
    let tokenizer = TokenizerFixtures.tokenizer
    let prompts = TokenizerFixtures.prompts

    /// Span length of each audio path, as the official `process_audio` measured it.
    func spans(_ prompt: PromptGolden) -> [String: Int] {
        let urls = prompt.audio_urls ?? []
        let counts = prompt.audio_span_tokens ?? []
        return Dictionary(zip(urls, counts), uniquingKeysWith: { a, _ in a })
    }

    @Test func baseModelASRPrompts() throws {
        var checked = 0
        for prompt in prompts where prompt.name == "base_asr" {
            let text = prompt.text!
            let expected = prompt.ids
            let paths = try tokenizer.audioPaths(in: text)
            #expect(paths == prompt.audio_urls)
            let got = try tokenizer.encode(text, special: .all, audioSpanTokens: paths.map { spans(prompt)[$0]! })
            #expect(got == expected)
            checked += 1
        }
        #expect(checked == 2)
    }

    @Test func chatPrompts() throws {
        var checked = 0
        for prompt in prompts where prompt.name.hasPrefix("chat_") {
            let history = (prompt.history ?? []).map { (query: $0[0], response: Optional($0[1])) }
            let spanOf = spans(prompt)
            let built = try tokenizer.chatPrompt(
                query: prompt.query!, history: history,
                maxWindowTokens: prompt.max_window_size ?? 6144,
                audioSpanTokens: { path in spanOf[path]! })
            #expect(built.ids == prompt.ids, "\(prompt.name)")
            #expect(built.text == prompt.raw_text)
            #expect(built.audioPaths == prompt.audio_urls ?? [])
            checked += 1
        }
        #expect(checked == 5)
    }

    /// Spec §6/§7 sizes: the 5.855 s flac gives a 154-id ASR prompt and a 178-id chat prompt.
    @Test func specPromptLengths() throws {
        let asr = try tokenizer.encode(
            "<audio>audio/1272-128104-0000.flac</audio><|startoftranscript|><|en|><|transcribe|><|en|><|notimestamps|><|wo_itn|>",
            audioSpanTokens: [148])
        #expect(asr.count == 154)
        let chat = try tokenizer.chatPrompt(
            query: "Audio 1:<audio>audio/1272-128104-0000.flac</audio>\nwhat does the person say?",
            audioSpanTokens: { _ in 148 })
        #expect(chat.ids.count == 178)
    }
}
