// EarRuntimeTests: the model read from a `.ear` file (EarWeights, zero-copy) and the whole raw path
// (QwenAudioRuntime: tokenizer + audio front-end + model) against the goldens.
import Foundation
import Testing
import EarshotKernels
import EarshotModels
import EarshotTestSupport
@testable import Earshot

enum TinyEarFile {
    /// A tiny f32 `.ear` written once per test run into a temporary directory.
    static let f32Path: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-model-tests-\(getpid())")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("tiny.f32.ear").path
        try! TinyModelFiles.writeEar(to: path, matrixType: .f32)
        return path
    }()
}

@Suite(.serialized) struct EarRuntimeTests {
    /// Same tensors, same kernels: the `.ear` model gives bit-identical logits to the in-memory one.
    @Test func earWeightsMatchInMemoryModel() throws {
        let runtime = try QwenAudioRuntime(path: TinyEarFile.f32Path)
        #expect(runtime.config == Golden.config)
        let golden = try GoldenFile("qwen-audio-tiny/goldens/asr.safetensors")
        let ids = golden.ints("input_ids")
        let mels = Golden.mels(for: ["audio/jfk.wav"])
        let a = try runtime.model.prefill(ids: ids, mels: mels, cache: runtime.model.makeCache(capacity: ids.count, precision: .f32))
        let b = try Golden.f32Model.prefill(ids: ids, mels: mels, cache: Golden.f32Model.makeCache(capacity: ids.count, precision: .f32))
        #expect(a == b)
    }

    /// Raw prompt → ids (tokenizer + audio length from our decoder) → greedy ids, all equal to the goldens.
    /// Our log-mel differs from the official one by ≤ ~1e-4 (other FFT), so logits get a looser 2e-3 bound.
    @Test func rawPromptReproducesAsrGolden() throws {
        let runtime = try QwenAudioRuntime(path: TinyEarFile.f32Path)
        let golden = try GoldenFile("qwen-audio-tiny/goldens/asr.safetensors")
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
    }

    @Test func missingFileIsATypedError() {
        #expect(throws: RuntimeError.self) { try QwenAudioRuntime(path: "/nonexistent/model.ear") }
    }
}
