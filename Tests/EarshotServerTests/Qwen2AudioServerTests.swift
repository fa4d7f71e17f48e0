// Qwen2-Audio over HTTP on the tiny Qwen2-Audio checkpoint (converted by earshot-convert): a two-turn chat
// with audio equals the library's Chat (same replies, same prompt lengths, the history found in the slot's
// KV cache), transcription and the caption task equal the library, and a task it has no prompt for is a 400.
import Earshot
import EarshotAudio
import EarshotServer
import EarshotTestSupport
import Foundation
import Testing

@Suite(.serialized) struct Qwen2AudioServerTests {
    static let model: EarshotModel = try! EarshotModel(path: try! TinyQwen2AudioEar.path(), options: ModelOptions(threads: 1))
    static let q1 = "What does the speaker say?", q2 = "Say it again."

    @Test func chatEqualsTheLibraryAndReusesTheHistory() async throws {
        let samples = try AudioLoader.load(TestModels.jfk.path).samples
        let chat = try Self.model.makeChat()
        var options = chat.defaultOptions
        options.maxTokens = 8
        let t1 = try chat.send(Self.q1, audios: [.samples(samples, name: "jfk")], options: options, cancel: nil)
        let t2 = try chat.send(Self.q2, audios: [AudioInput](), options: options, cancel: nil)
        try await withServer(Self.model) { server, client in
            #expect(server.endpoints.contains("/v1/chat/completions") && server.endpoints.contains("/v1/audio/tasks"))
            let request = { (messages: [[String: Any]]) -> [String: Any] in ["model": "tiny", "messages": messages, "max_tokens": 8, "temperature": 0] }
            let first = [userMessage(Self.q1)]
            let r1 = try await client.post("/v1/chat/completions", json: request(first))
            #expect(r1.status == .ok, "\(r1.text)")
            #expect(r1.replyContent == t1.response)
            #expect(r1.usage?["prompt_tokens"] as? Int == t1.promptIds.count)
            let second = first + [["role": "assistant", "content": t1.response], ["role": "user", "content": Self.q2]]
            let r2 = try await client.post("/v1/chat/completions", json: request(second))
            #expect(r2.status == .ok, "\(r2.text)")
            #expect(r2.replyContent == t2.response)
            #expect(r2.usage?["prompt_tokens"] as? Int == t2.promptIds.count)
            #expect(r2.cachedTokens == t2.generation.stats.reusedPromptTokens && (r2.cachedTokens ?? 0) > t1.promptIds.count)
        }
    }

    @Test func transcriptionAndTasksEqualTheLibrary() async throws {
        let samples = try AudioLoader.load(TestModels.jfk.path).samples
        var options = TranscriptionOptions()
        options.maxNewTokens = 8
        let transcript = try Self.model.makeSession().transcribe(AudioInput.samples(samples, name: "jfk"), options: options, cancel: nil)
        let session = Self.model.makeSession()
        var captionOptions = session.defaultOptions(for: .caption(style: .plain))
        captionOptions.maxTokens = 6
        let caption = try session.run(.caption(style: .plain), audio: AudioInput.samples(samples, name: "jfk"), options: captionOptions, cancel: nil)
        try await withServer(Self.model) { _, client in
            var f = UploadForm.quick()
            f.field("language", "en")
            let r = try await client.post("/v1/audio/transcriptions", form: f)
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.object?["text"] as? String == transcript.text)
            var c = UploadForm(); c.file(TestModels.jfkBytes); c.field("task", "caption"); c.field("max_tokens", "6")
            let rc = try await client.post("/v1/audio/tasks", form: c)
            #expect(rc.status == .ok, "\(rc.text)")
            #expect(rc.object?["text"] as? String == caption.text.trimmingCharacters(in: .whitespacesAndNewlines))
            var n = UploadForm(); n.file(TestModels.jfkBytes); n.field("task", "notes")
            let refused = try await client.post("/v1/audio/tasks", form: n)
            #expect(refused.status == .badRequest && refused.errorCode == "unsupported", "\(refused.text)")
        }
    }
}
