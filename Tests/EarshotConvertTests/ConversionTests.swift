// Conversion into an in-memory sink: names, transforms, types, errors, metadata, blobs, determinism.
import Foundation
import Testing
import EarshotAudio
@testable import EarshotConvert
import EarshotKernels
import EarshotTestSupport

@Suite struct ConversionTests {
    func convert(_ dir: URL, _ options: ConvertOptions) throws -> (MemorySink, ConversionReport, Checkpoint) {
        let ckpt = try Checkpoint(directory: dir)
        let sink = MemorySink()
        let report = try Converter.convert(ckpt, options: options, to: sink)
        return (sink, report, ckpt)
    }

    @Test func f32KeepsEveryValueAndTransposesConvs() throws {
        let dir = try scratchDirectory("cv-f32")
        defer { cleanup(dir) }
        try writeTinyCheckpoint(dir, sharded: true)
        let (sink, report, ckpt) = try convert(dir, ConvertOptions(recipe: try QuantRecipe(parsing: "f32")))
        #expect(sink.finished && !sink.aborted)
        #expect(sink.tensors.count == 59 && report.tensors.count == 59)
        #expect(sink.tensors.values.allSatisfy { $0.type == .f32 })
        // bf16 → f32 is exact: every error is 0.
        #expect(report.tensors.allSatisfy { $0.error.relativeRMSE == 0 && $0.error.maxAbs == 0 })
        #expect(sink.floats("blk.1.attn_qkv.weight") == sourceFloats(ckpt, "transformer.h.1.attn.c_attn.weight"))
        #expect(sink.floats("output.weight") == sourceFloats(ckpt, "lm_head.weight"))
        // conv1: [S=64, M=80, 3] → [64, 240] with W[s, k·80 + m] = conv[s, m, k].
        #expect(sink.tensors["audio.conv1.weight"]?.shape == [64, 240])
        let conv = sourceFloats(ckpt, "transformer.audio.conv1.weight"), w = sink.floats("audio.conv1.weight")
        var mismatches = 0
        for s in 0..<64 { for m in 0..<80 { for k in 0..<3 where w[s * 240 + k * 80 + m] != conv[(s * 80 + m) * 3 + k] { mismatches += 1 } } }
        #expect(mismatches == 0)
        #expect(sink.tensors["audio.conv2.weight"]?.shape == [64, 192])
    }

    @Test func recipesChooseTypesAndVectorsStayF32() throws {
        let dir = try scratchDirectory("cv-recipe")
        defer { cleanup(dir) }
        try writeTinyCheckpoint(dir)
        let (sink, report, _) = try convert(dir, ConvertOptions(recipe: .q4m, overrides: [try TypeOverride(parsing: "audio.blk.1.*=f16")]))
        func type(_ n: String) -> WeightType? { sink.tensors[n]?.type }
        #expect(type("blk.0.attn_qkv.weight") == .q4 && type("blk.1.ffn_down.weight") == .q4)
        #expect(type("token_embd.weight") == .q8 && type("output.weight") == .q8)
        #expect(type("audio.blk.0.attn_q.weight") == .q8 && type("audio.proj.weight") == .q8)
        #expect(type("audio.blk.1.ffn_up.weight") == .f16)                // override
        #expect(type("audio.blk.1.ffn_up.bias") == .f32)                  // vectors ignore overrides
        #expect(type("audio.conv1.weight") == .f16)                       // 240 columns: not a multiple of 32
        #expect(type("audio.conv2.weight") == .q8)                        // 192 columns
        for n in ["blk.0.attn_norm.weight", "blk.0.attn_qkv.bias", "output_norm.weight", "audio.pos_embd.weight",
                  "audio.bos_eos.weight", "audio.post_norm.bias", "audio.conv1.bias"] {
            #expect(type(n) == .f32, "\(n)")
        }
        // Error budgets (uniform values, so these are loose upper bounds): q8 ≈ 0.5 %, q4 ≈ 8 %, f16 ≈ 0.
        for t in report.tensors {
            let bound: Double = [.q4: 0.12, .q8: 0.012, .f16: 1e-3, .f32: 0][t.type]!
            #expect(t.error.relativeRMSE <= bound, "\(t.name) \(t.type) \(t.error.relativeRMSE)")
        }
        #expect(report.tensors.contains { $0.type == .q4 && $0.error.relativeRMSE > 0.01 })   // q4 really quantizes
        #expect(report.bitsPerWeight > 4 && report.bitsPerWeight < 16)
    }

    @Test func metadataAndBlobsFollowTheContract() throws {
        let dir = try scratchDirectory("cv-meta")
        defer { cleanup(dir) }
        try writeTinyCheckpoint(dir)
        let (sink, _, _) = try convert(dir, ConvertOptions(recipe: try QuantRecipe(parsing: "q8")))
        let meta = Dictionary(sink.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(meta["general.architecture"] == .string("qwen-audio"))
        #expect(meta["general.source"] == .string(dir.lastPathComponent))
        #expect(meta["general.quantization"] == .string("q8"))
        #expect(meta["qwen.hidden_size"] == .int(128) && meta["qwen.head_dim"] == .int(32))
        #expect(meta["qwen.intermediate_size"] == .int(256) && meta["qwen.vocab_size"] == .int(1024))
        #expect(meta["qwen.rms_norm_eps"] == .double(1e-6) && meta["qwen.rope_base"] == .double(10000))
        #expect(meta["qwen.use_dynamic_ntk"] == .bool(true) && meta["audio.audio_start_id"] == .int(Int(standInAudioStartID)))
        #expect(meta["audio.n_state"] == .int(64) && meta["audio.n_ctx"] == .int(1500))
        guard case .string(let errors) = meta["convert.tensor_errors"] else { Issue.record("no error report"); return }
        let parsed = try JSONSerialization.jsonObject(with: Data(errors.utf8)) as? [[String: Any]]
        #expect(parsed?.count == 59)
        #expect(Set(sink.blobs.keys) == ["tokenizer.tiktoken", "mel_filters", "config.json", "generation_config.json"])
        #expect(sink.blobs["generation_config.json"] == (try Data(contentsOf: dir.appendingPathComponent("generation_config.json"))))
        #expect(sink.blobs["config.json"] == (try Data(contentsOf: dir.appendingPathComponent("config.json"))))
        #expect(sink.blobs["mel_filters"]?.count == 80 * 201 * 4)
    }

    @Test func sameInputGivesSameBytes() throws {
        let dir = try scratchDirectory("cv-det")
        defer { cleanup(dir) }
        try writeTinyCheckpoint(dir)
        let (a, _, _) = try convert(dir, ConvertOptions(recipe: .q4m))
        let (b, _, _) = try convert(dir, ConvertOptions(recipe: .q4m, threads: 3))   // thread count must not matter
        #expect(a.order == b.order)
        #expect(a.order.allSatisfy { a.tensors[$0]!.bytes == b.tensors[$0]!.bytes })
        #expect(a.metadata.map(\.key) == b.metadata.map(\.key) && a.metadata.map(\.value) == b.metadata.map(\.value))
    }

    @Test func missingTokenizerIsRefusedBeforeConverting() throws {
        let dir = try scratchDirectory("cv-tok")
        defer { cleanup(dir) }
        try writeTinyCheckpoint(dir)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("qwen.tiktoken"))
        let ckpt = try Checkpoint(directory: dir)
        let sink = MemorySink()
        #expect(performing: { try Converter.convert(ckpt, options: ConvertOptions(), to: sink) }, throws: { e in
            if case .missingFile(let p, _) = e as? ConvertError { return p.hasSuffix("qwen.tiktoken") }
            return false
        })
        #expect(sink.aborted && sink.tensors.isEmpty)
    }
}

@Suite struct RecipeTests {
    @Test func parsesQuantAndOverrides() throws {
        #expect(try QuantRecipe(parsing: "Q4").llmLinear == .q4)
        #expect(try QuantRecipe(parsing: "q4m") == .default)
        #expect(throws: ConvertError.invalidQuant("q3")) { try QuantRecipe(parsing: "q3") }
        #expect(try TypeOverride(parsing: "output.weight=q8") == TypeOverride(pattern: "output.weight", type: .q8))
        #expect(throws: ConvertError.invalidOverride("audio.*", reason: "expected PATTERN=TYPE, e.g. 'audio.*=f16'")) {
            try TypeOverride(parsing: "audio.*")
        }
        #expect(performing: { try TypeOverride(parsing: "x=q5") }, throws: { e in
            if case .invalidOverride(_, let r) = e as? ConvertError { return r.contains("q5") }
            return false
        })
    }

    @Test func globMatchesLikeAShell() {
        let o = TypeOverride(pattern: "blk.*.ffn_*.weight", type: .q8)
        #expect(o.matches("blk.3.ffn_down.weight") && !o.matches("blk.3.attn_qkv.weight") && !o.matches("audio.blk.3.ffn_up.weight"))
        #expect(TypeOverride(pattern: "*", type: .f16).matches("anything"))
        #expect(!TypeOverride(pattern: "output", type: .f16).matches("output.weight"))
    }

    @Test func lastMatchingOverrideWinsAndBlockTypesNeedColsMultipleOf32() {
        let r = QuantRecipe.q4m
        let overrides = [TypeOverride(pattern: "blk.*", type: .q8), TypeOverride(pattern: "blk.0.*", type: .f16)]
        #expect(r.type(canonicalName: "blk.0.ffn_up.weight", sourceName: "transformer.h.0.mlp.w1.weight", rank: 2, cols: 4096, overrides: overrides) == .f16)
        #expect(r.type(canonicalName: "blk.1.ffn_up.weight", sourceName: "transformer.h.1.mlp.w1.weight", rank: 2, cols: 4096, overrides: overrides) == .q8)
        // Overrides may name the Hugging Face tensor too.
        #expect(r.type(canonicalName: "output.weight", sourceName: "lm_head.weight", rank: 2, cols: 4096, overrides: [TypeOverride(pattern: "lm_head.*", type: .f16)]) == .f16)
        #expect(r.type(canonicalName: "audio.conv1.weight", sourceName: "transformer.audio.conv1.weight", rank: 2, cols: 240, overrides: []) == .f16)
        #expect(QuantRecipe.uniform(.f32, name: "f32").type(canonicalName: "audio.conv1.weight", sourceName: "", rank: 2, cols: 240, overrides: []) == .f32)
    }
}

@Suite struct MelFilterTests {
    /// The npz shipped with Qwen-Audio (librosa Slaney filters, spec §1): checksums from the spec.
    @Test func readsTheShippedNpz() throws {
        let data = try Data(contentsOf: Fixtures.url("convert/mel_filters.npz"))
        let a = try NpzReader.float32Array(data, key: "mel_80", path: "mel_filters.npz")
        #expect(a.shape == [80, 201])
        #expect(abs(a.values.reduce(0, +) - 1.9990242) < 1e-5)           // spec §1: sum 1.9990242
        #expect(a.values.max() == 0.025880683)                              // spec §1: max 0.025880683
        #expect(a.values.filter { $0 != 0 }.count == 391)                   // spec §1: 391 non-zero entries
        #expect(throws: ConvertError.self) { try NpzReader.float32Array(data, key: "mel_128", path: "x") }
        var corrupt = data
        corrupt[60] ^= 0xFF
        #expect(throws: ConvertError.self) { try NpzReader.float32Array(corrupt, key: "mel_80", path: "x") }
    }

    /// Computing the filters (for checkpoints without the npz) matches the shipped matrix: spec §1 saw
    /// 1.3e-9 for the same formula in float64; 1e-8 allows for libm's log/exp.
    @Test func computedFiltersMatchTheNpz() throws {
        let data = try Data(contentsOf: Fixtures.url("convert/mel_filters.npz"))
        let stored = try NpzReader.float32Array(data, key: "mel_80", path: "mel_filters.npz").values
        let computed = MelFilterbank.slaney(bins: 80).dense
        let maxDiff = zip(stored, computed).map { abs($0 - $1) }.max()!
        #expect(maxDiff <= 1e-8)
        #expect(zip(stored, computed).allSatisfy { ($0 == 0) == ($1 == 0) })
    }
}
