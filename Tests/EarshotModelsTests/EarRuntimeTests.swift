// EarRuntimeTests: the model read from a `.ear` file (EarWeights, zero-copy) and the whole raw path
// (QwenAudioRuntime: tokenizer + audio front-end + model) against the goldens.
import Foundation
import Testing
import EarshotKernels
import EarshotModels
import EarshotTestSupport
@testable import Earshot

enum TinyEarFile {
    /// Writes a tiny f32 `.ear` (≈160 MB: two 155,947 × 128 vocab tables) into a fresh temporary directory,
    /// runs `body` with its path, and removes it.
    static func with(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-model-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tiny.f32.ear").path
        try TinyModelFiles.writeEar(to: path, matrixType: .f32)
        try body(path)
    }
}

@Suite(.serialized) struct EarRuntimeTests {
    /// Same tensors, same kernels: the `.ear` model gives bit-identical logits to the in-memory one.
    /// Then the raw path: prompt → ids (tokenizer + audio length from our decoder) → greedy ids, all equal to
    /// the goldens. Our log-mel differs from the official one by ≤ ~1e-4 (other FFT): logits bound 2e-3.
    @Test func earModelAndRawPromptMatchGoldens() throws { try TinyEarFile.with { path in
        let model = try EarshotModel(path: path, options: ModelOptions(kvPrecision: .f32))
        let engine = model.qwen!
        #expect(engine.config == Golden.config)
        #expect(model.info.family == .qwenAudio && model.info.supports(.caption) && model.info.chats)
        let golden = try GoldenFile("qwen-audio-tiny/goldens/asr.safetensors")
        let ids = golden.ints("input_ids")
        let mels = Golden.mels(for: ["audio/jfk.wav"])
        let a = try engine.model.prefill(ids: ids, mels: mels, cache: engine.model.makeCache(capacity: ids.count, precision: .f32))
        let b = try Golden.f32Model.prefill(ids: ids, mels: mels, cache: Golden.f32Model.makeCache(capacity: ids.count, precision: .f32))
        #expect(a == b)

        // The raw path through the library's one generation loop: prompt → ids (tokenizer + audio length from
        // our decoder) → greedy ids, all equal to the goldens; the prefill's logits through the probe hook.
        let audio = Fixtures.url("audio/jfk.wav").path
        let session = model.makeSession()
        let prompt = try session.prompt(rawReadingAudioTags: "<audio>\(audio)</audio><|startoftranscript|><|en|><|transcribe|><|en|><|notimestamps|><|wo_itn|>")
        #expect(prompt.ids == golden.ints("input_ids"))
        let want = golden.ints("greedy_ids")
        var logits: [Float] = []
        let r = try session.generate(prompt, options: GenerationOptions(sampling: .greedy, maxTokens: want.count, stopIds: []),
                                     probe: { name, _, values in if name == "llm.last_logits" { logits = Array(values) } })
        let d = maxAbsDiff(logits, golden.floats("logits_last"))
        #expect(d <= 2e-3, "logits max |Δ| with our mel: \(d)")
        #expect(r.ids == want)
        print("raw path (our mel): asr logits max|Δ| \(d)")
    } }

    @Test func missingFileIsATypedError() {
        #expect(throws: EarshotError.self) { try EarshotModel(path: "/nonexistent/model.ear") }
    }
}
