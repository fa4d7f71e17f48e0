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
        let runtime = try QwenAudioRuntime(path: path)
        #expect(runtime.config == Golden.config)
        let golden = try GoldenFile("qwen-audio-tiny/goldens/asr.safetensors")
        let ids = golden.ints("input_ids")
        let mels = Golden.mels(for: ["audio/jfk.wav"])
        let a = try runtime.model.prefill(ids: ids, mels: mels, cache: runtime.model.makeCache(capacity: ids.count, precision: .f32))
        let b = try Golden.f32Model.prefill(ids: ids, mels: mels, cache: Golden.f32Model.makeCache(capacity: ids.count, precision: .f32))
        #expect(a == b)

        let audio = Fixtures.url("audio/jfk.wav").path
        let prompt = try runtime.prepare(prompt: "<audio>\(audio)</audio><|startoftranscript|><|en|><|transcribe|><|en|><|notimestamps|><|wo_itn|>")
        #expect(prompt.ids == golden.ints("input_ids"))
        #expect(prompt.audioPaths == [audio])
        let want = golden.ints("greedy_ids")
        let cache = runtime.model.makeCache(capacity: prompt.ids.count + want.count, precision: .f32)
        let logits = try runtime.model.prefill(ids: prompt.ids, mels: prompt.mels, cache: cache)
        let d = maxAbsDiff(logits, golden.floats("logits_last"))
        #expect(d <= 2e-3, "logits max |Δ| with our mel: \(d)")
        var got = [QwenAudioModel.argmax(logits)]
        while got.count < want.count { got.append(QwenAudioModel.argmax(try runtime.model.decodeStep(id: got.last!, cache: cache))) }
        #expect(got == want)
        print("raw path (our mel): asr logits max|Δ| \(d)")
    } }

    @Test func missingFileIsATypedError() {
        #expect(throws: RuntimeError.self) { try QwenAudioRuntime(path: "/nonexistent/model.ear") }
    }
}
