// SileroVADTests: Silero VAD v6 on Earshot's kernels against onnxruntime, fed as faster-whisper 1.2.1 feeds it.
// The committed ONNX (Tests/Fixtures/vad/silero_vad_v6.onnx) is converted in-test; the goldens
// (Tools/vad/make_vad_goldens.py) hold onnxruntime's per-window probabilities for real clips and
// faster-whisper's speech timestamps on them.
//
// Tolerance: |Δp| ≤ 1e-4 per window. Both sides compute in f32 with the same weights; they differ only in
// summation order (GEMM blocking, FMA) and in the sigmoid/tanh implementations, ≈ 1e-7 relative per op,
// which the 512-wide STFT, four convs and the LSTM recurrence over hundreds of windows can amplify to
// ≈ 1e-6 (measured: see `parityOnRealClips`'s printed figure). The brief's bar is 1e-3.
import EarshotAudio
import EarshotConvert
import EarshotFormat
import EarshotModels
import EarshotTestSupport
import Earshot
import Foundation
import Testing

@Suite struct SileroVADTests {
    static let tolerance = 1e-4

    @Test func decodedClipsAreTheGoldensInput() throws {
        for clip in SileroFixtures.goldens.clips {
            let s = try SileroFixtures.samples(clip.file)
            #expect(s.count == clip.samples, "\(clip.file)")
            #expect(SileroFixtures.pcmSHA256(s) == clip.pcm_sha256, "\(clip.file): decoded samples differ from faster-whisper's decode_audio")
        }
    }

    @Test func parityOnRealClips() throws {
        let model = SileroFixtures.model
        var report: [String] = []
        for clip in SileroFixtures.goldens.clips {
            let p = model.speechProbabilities(try SileroFixtures.samples(clip.file))
            #expect(p.count == clip.probabilities.count, "\(clip.file)")
            let d = maxAbsDifference(p, clip.probabilities)
            report.append("\(clip.file) \(p.count) windows max|Δ| \(String(format: "%.2e", d.value))")
            #expect(d.value <= Self.tolerance, "\(clip.file): max |Δp| \(d.value) at window \(d.index)")
        }
        let a = SileroFixtures.goldens.assembled
        let p = model.speechProbabilities(try SileroFixtures.assembled())
        #expect(p.count == a.probabilities.count)
        let d = maxAbsDifference(p, a.probabilities)
        report.append("assembled \(p.count) windows max|Δ| \(String(format: "%.2e", d.value))")
        #expect(d.value <= Self.tolerance, "assembled: max |Δp| \(d.value) at window \(d.index)")
        print("Silero VAD parity vs onnxruntime: " + report.joined(separator: "; "))
    }

    @Test func speechTimestampsEqualFasterWhisper() throws {
        let model = SileroFixtures.model
        func spans(_ g: [VADGoldenSpan]) -> [SpeechSpan] { g.map { SpeechSpan(start: $0.start, end: $0.end) } }
        for clip in SileroFixtures.goldens.clips {
            let audio = try SileroFixtures.samples(clip.file)
            let p = model.speechProbabilities(audio)
            #expect(SpeechTimestamps.speechSpans(probabilities: p, audioSamples: audio.count) == spans(clip.timestamps_default), "\(clip.file)")
            #expect(SpeechTimestamps.speechSpans(probabilities: p, audioSamples: audio.count, options: .batched) == spans(clip.timestamps_batched), "\(clip.file)")
        }
        let a = SileroFixtures.goldens.assembled
        let audio = try SileroFixtures.assembled()
        let p = model.speechProbabilities(audio)
        #expect(SpeechTimestamps.speechSpans(probabilities: p, audioSamples: audio.count) == spans(a.timestamps_default))
        #expect(SpeechTimestamps.speechSpans(probabilities: p, audioSamples: audio.count, options: .batched) == spans(a.timestamps_batched))
        #expect(a.timestamps_default.count >= 3 && a.timestamps_batched.count > a.timestamps_default.count)   // the case is not trivial
    }

    /// Pushing a signal in pieces of any size gives the probabilities of the whole signal (state carried).
    @Test func streamingInPiecesEqualsWhole() throws {
        let model = SileroFixtures.model
        let audio = try SileroFixtures.samples("jfk.wav")
        let whole = model.speechProbabilities(audio)
        var stream = SileroVADStream(model: model)
        var pieces: [Float] = []
        var at = 0, k = 0
        let sizes = [1, 511, 512, 513, 3000, 7, 40_000, 100]
        while at < audio.count {
            let n = min(sizes[k % sizes.count], audio.count - at)
            pieces += audio[at..<(at + n)].withUnsafeBufferPointer { stream.push($0) }
            at += n; k += 1
        }
        pieces += stream.finish()
        #expect(pieces.count == whole.count)
        // Same per-window arithmetic; only the GEMM batch sizes differ.
        for (x, y) in zip(pieces, whole) { #expect(abs(x - y) <= 1e-6) }
    }

    /// faster-whisper's feeding: the final window's last 64 samples are zeroed; a length that is already a
    /// multiple of 512 gets a whole extra zero window; the first window's context is zeros.
    @Test func feedingFollowsFasterWhisper() throws {
        let model = SileroFixtures.model
        let audio = Array(try SileroFixtures.samples("jfk.wav").prefix(512 * 20 - 10))
        let p = model.speechProbabilities(audio)
        #expect(p.count == 20)
        // By hand: whole windows through `probabilities`, then the padded last one with its tail zeroed.
        var state = model.makeState()
        var byHand = try Array(audio.prefix(512 * 19)).withUnsafeBufferPointer { try model.probabilities($0, state: &state) }
        var last = Array(audio[(512 * 19)...]) + [Float](repeating: 0, count: 10)
        for j in 448..<512 { last[j] = 0 }
        byHand += try last.withUnsafeBufferPointer { try model.probabilities($0, state: &state) }
        #expect(p == byHand)
        #expect(model.speechProbabilities(Array(audio.prefix(512 * 4))).count == 5)
        #expect(model.speechProbabilities([]).count == 1)
    }

    @Test func wrongInputsAreTypedErrors() throws {
        let model = SileroFixtures.model
        var state = model.makeState()
        #expect(throws: ModelError.self) { try [Float](repeating: 0, count: 100).withUnsafeBufferPointer { try model.probabilities($0, state: &state) } }
        var bad = model.makeState()
        bad.h = [0]
        #expect(throws: ModelError.self) { try [Float](repeating: 0, count: 512).withUnsafeBufferPointer { try model.probabilities($0, state: &bad) } }
        // Shapes are checked when the model is built.
        let w = InMemoryWeights()
        for (name, shape) in SileroVADTensorNames.all(.v6) {
            let s = name == SileroVADTensorNames.lstmBias ? [4 * 128 + 1] : shape
            try w.add(name, shape: s, values: [Float](repeating: 0, count: s.reduce(1, *)))
        }
        #expect(throws: ModelError.shapeMismatch(name: SileroVADTensorNames.lstmBias, expected: [512], actual: [513])) {
            try SileroVAD(weights: w)
        }
        #expect(throws: ModelError.missingTensor(SileroVADTensorNames.stftBasis)) { try SileroVAD(weights: InMemoryWeights()) }
    }

    /// Through a real `.ear` file: convert, map it with the library's EarWeights, run.
    @Test func earFileRoundTrip() throws {
        let dir = try TemporaryDirectory("silero-ear")
        let path = dir.path("silero-vad-v6.ear")
        _ = try SileroVADConverter.convert(path: SileroFixtures.onnxPath, to: try EarFileSink(path: path))
        let weights = try EarWeights(path: path)
        let config = try SileroVADConfig(metadata: weights.configValues)
        #expect(config == .v6)
        let model = try SileroVAD(weights: weights, config: config)
        let clip = SileroFixtures.goldens.clips[0]
        let p = model.speechProbabilities(try SileroFixtures.samples(clip.file))
        #expect(maxAbsDifference(p, clip.probabilities).value <= Self.tolerance)
    }
}
