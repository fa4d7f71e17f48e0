// GoldenModelTests: the Swift model on the regenerated tiny checkpoint vs the official Qwen-Audio code
// (float32, CPU). Tolerances (fixtures README §4): encoder spans ≤ 1e-4 abs (|v| ≤ 2.5; an independent float64
// reimplementation matched to 7.9e-7, so 1e-4 leaves room for float32 accumulation order); last-position
// logits ≤ 1e-3 abs (|logit| ≤ 11; the reference itself moves 2.9e-6 between thread counts); greedy ids exact
// (smallest top-1/top-2 margin of any golden step is 0.0169 ≫ 1e-3).
import Foundation
import Testing
import EarshotKernels
import EarshotModels
import EarshotTestSupport

@Suite(.serialized) struct GoldenModelTests {
    struct Case: CustomStringConvertible, Sendable {
        let run: String, prefix: String
        var description: String { prefix.isEmpty ? run : "\(run).\(prefix.dropLast())" }
    }

    static let cases: [Case] = [
        Case(run: "text_only", prefix: ""), Case(run: "asr", prefix: ""), Case(run: "caption", prefix: ""),
        Case(run: "chat", prefix: "turn0."), Case(run: "chat", prefix: "turn1."),
        Case(run: "long_alpha3", prefix: ""), Case(run: "long_alpha7", prefix: ""),
    ]

    static func audioURLs(_ c: Case) -> [String] {
        let run = Golden.run(c.run)
        if c.prefix.isEmpty { return run["audio_urls"] as! [String] }
        let turn = Int(c.prefix.dropFirst(4).dropLast())!
        return (run["turns"] as! [[String: Any]])[turn]["audio_urls"] as! [String]
    }

    @Test(arguments: cases)
    func f32WeightsMatchGoldens(_ c: Case) throws {
        let golden = try GoldenFile("qwen-audio-tiny/goldens/\(Golden.run(c.run)["file"] as! String)")
        let ids = golden.ints(c.prefix + "input_ids")
        let wantIds = golden.ints(c.prefix + "greedy_ids")
        let model = Golden.f32Model
        let cache = model.makeCache(capacity: ids.count + wantIds.count, precision: .f32)
        var spans: [String: [Float]] = [:]
        let logits = try model.prefill(ids: ids, mels: Golden.mels(for: Self.audioURLs(c)), cache: cache) { name, _, v in
            if name.hasPrefix("audio.span.") { spans[name] = Array(v) }
        }
        // NTK alpha chosen from the prefill length, as the manifest records it.
        if let alpha = Golden.run(c.run)["ntk_alpha"] as? Int { #expect(cache.ntkAlpha == Double(alpha)) }
        let logitDiff = maxAbsDiff(logits, golden.floats(c.prefix + "logits_last"))
        #expect(logitDiff <= 1e-3, "\(c): logits_last max |Δ| = \(logitDiff)")
        for name in golden.entries.keys where name.hasPrefix("audio.span.") {
            let d = maxAbsDiff(try #require(spans[name]), golden.floats(name))
            #expect(d <= 1e-4, "\(c): \(name) max |Δ| = \(d)")
        }
        // Greedy: the first token from the prefill logits, then KV-cached decode steps (alpha reused).
        var got = [QwenAudioModel.argmax(logits)]
        while got.count < wantIds.count { got.append(QwenAudioModel.argmax(try model.decodeStep(id: got.last!, cache: cache))) }
        #expect(got == wantIds, "\(c): greedy ids")
        print("golden \(c): logits max|Δ| \(logitDiff), spans \(spans.count), alpha \(cache.ntkAlpha)")
    }

    /// The full activation trace of the asr and caption runs, stage by stage (≤ 1e-4 abs everywhere: values
    /// are O(1), float32 accumulation differs only in order).
    @Test(arguments: ["asr", "caption"])
    func activationTraceMatches(_ run: String) throws {
        let golden = try GoldenFile("qwen-audio-tiny/goldens/\(run).safetensors")
        let ids = golden.ints("input_ids")
        let model = Golden.f32Model
        let cache = model.makeCache(capacity: ids.count, precision: .f32)
        var got: [String: ([Int], [Float])] = [:]
        _ = try model.prefill(ids: ids, mels: Golden.mels(for: Golden.run(run)["audio_urls"] as! [String]), cache: cache) {
            name, shape, v in got[name.replacingOccurrences(of: "audio.0.", with: "audio.")] = (shape, Array(v))
        }
        for name in golden.entries.keys.sorted() where name.hasPrefix("audio.") || name.hasPrefix("llm.") {
            let (shape, mine) = try #require(got[name], "no probe output for \(name)")
            var want = golden.floats(name)
            // Conv and pool goldens are channel-major [C, frames]; ours are [frames, C].
            if ["audio.conv1_out", "audio.conv2_out", "audio.pooled"].contains(name) {
                want = transpose(want, rows: shape[1], cols: shape[0])
            }
            #expect(golden.shape(name).reduce(1, *) == mine.count, "\(run) \(name) size")
            let d = maxAbsDiff(mine, want)
            #expect(d <= 1e-4, "\(run) \(name): max |Δ| = \(d)")
        }
    }

    /// bf16 weights hold exactly the checkpoint's values, so only accumulation order can differ: same greedy ids,
    /// logits within the f32 tolerance.
    @Test func bf16WeightsSameIds() throws {
        let golden = try GoldenFile("qwen-audio-tiny/goldens/asr.safetensors")
        let ids = golden.ints("input_ids"), want = golden.ints("greedy_ids")
        let cache = Golden.bf16Model.makeCache(capacity: ids.count + want.count, precision: .f32)
        let got = try Golden.bf16Model.greedy(ids: ids, mels: Golden.mels(for: ["audio/jfk.wav"]), maxTokens: want.count, cache: cache)
        #expect(got == want)
    }

    /// Default f16 KV cache: same greedy ids on the asr run; logits move by the f16 rounding of k and v
    /// (relative 2^-11 ≈ 4.9e-4), measured and bounded at 1e-2.
    @Test func f16CacheSameIds() throws {
        let golden = try GoldenFile("qwen-audio-tiny/goldens/asr.safetensors")
        let ids = golden.ints("input_ids"), want = golden.ints("greedy_ids")
        let model = Golden.f32Model
        let cache = model.makeCache(capacity: ids.count + want.count)
        let logits = try model.prefill(ids: ids, mels: Golden.mels(for: ["audio/jfk.wav"]), cache: cache)
        let d = maxAbsDiff(logits, golden.floats("logits_last"))
        #expect(d <= 1e-2, "f16 cache logits max |Δ| = \(d)")
        var got = [QwenAudioModel.argmax(logits)]
        while got.count < want.count { got.append(QwenAudioModel.argmax(try model.decodeStep(id: got.last!, cache: cache))) }
        #expect(got == want)
        print("f16 KV cache: asr logits max|Δ| \(d)")
    }

    /// Per-audio encoding (not the reference's batch) reproduces the diagnostic golden made the same way.
    @Test func perAudioEncodingMatchesSeparateGolden() throws {
        let sep = try GoldenFile("qwen-audio-tiny/goldens/long_alpha3.audio_encoded_separately.safetensors")
        let batched = try GoldenFile("qwen-audio-tiny/goldens/long_alpha3.safetensors")
        let urls = Golden.run("long_alpha3")["audio_urls"] as! [String]
        let spans = try Golden.f32Model.encoder.encode(Golden.mels(for: urls), batched: false)
        for j in 0..<3 {
            let d = maxAbsDiff(spans[j], sep.floats("audio.span.\(j)"))
            #expect(d <= 1e-4, "separate span \(j): \(d)")
            let vsBatched = maxAbsDiff(spans[j], batched.floats("audio.span.\(j)"))
            print("per-audio vs batched encode, span \(j): max |Δ| \(vsBatched)")
        }
    }
}
