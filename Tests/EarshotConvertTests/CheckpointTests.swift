// Checkpoint directory validation: config architecture, shard index, tensor set and shapes.
import Foundation
import Testing
@testable import EarshotConvert
import EarshotTestSupport

@Suite struct CheckpointTests {
    @Test func opensSingleFileAndShardedCheckpoints() throws {
        let single = try scratchDirectory("ck-single")
        let sharded = try scratchDirectory("ck-sharded")
        defer { cleanup(single); cleanup(sharded) }
        try writeTinyCheckpoint(single)
        let shards = try writeTinyCheckpoint(sharded, sharded: true)
        #expect(shards.count > 3)
        #expect(shards.last == "model-\(String(format: "%05d", shards.count))-of-\(String(format: "%05d", shards.count)).safetensors")
        let a = try Checkpoint(directory: single), b = try Checkpoint(directory: sharded)
        #expect(a.tensors.count == 59 && b.tensors.count == 59)   // the tiny checkpoint's 59 tensors
        #expect(b.tensors.first { $0.expected.name == "lm_head.weight" }?.shard == shards.last)
        #expect(a.config.hiddenSize == 128 && a.config.nState == 64 && a.config.rmsNormEps == 1e-6)
        #expect(sourceFloats(a, "transformer.audio.conv1.weight") == sourceFloats(b, "transformer.audio.conv1.weight"))
    }

    @Test func refusesOtherArchitecturesNamingThem() throws {
        let qwen2 = tinyConfigJSON(architectures: "\"Qwen2AudioForConditionalGeneration\"", modelType: "qwen2_audio")
        #expect(throws: ConvertError.unsupportedArchitecture(found: "architectures [\"Qwen2AudioForConditionalGeneration\"], model_type \"qwen2_audio\"")) {
            try CheckpointConfig.parse(qwen2, path: "config.json")
        }
        let textOnly = tinyConfigJSON(audio: false)
        #expect(performing: { try CheckpointConfig.parse(textOnly, path: "config.json") }, throws: { e in
            guard case .unsupportedArchitecture(let found) = e as? ConvertError else { return false }
            return found.contains("text-only") && (e as! ConvertError).description.contains("QWenLMHeadModel")
        })
        #expect(throws: ConvertError.invalidConfig(path: "c.json", reason: "not valid JSON")) {
            try CheckpointConfig.parse(Data("{".utf8), path: "c.json")
        }
    }

    @Test func wrongArchitectureDirectoryIsRefused() throws {
        let dir = try scratchDirectory("ck-arch")
        defer { cleanup(dir) }
        try writeTinyCheckpoint(dir)
        try tinyConfigJSON(architectures: "\"LlamaForCausalLM\"", audio: false, modelType: "llama")
            .write(to: dir.appendingPathComponent("config.json"))
        #expect(performing: { try Checkpoint(directory: dir) }, throws: { e in
            guard case .unsupportedArchitecture(let found) = e as? ConvertError else { return false }
            return found.contains("LlamaForCausalLM") && found.contains("llama")
        })
    }

    @Test func refusesIndexNamingMissingShard() throws {
        let dir = try scratchDirectory("ck-missing-shard")
        defer { cleanup(dir) }
        let shards = try writeTinyCheckpoint(dir, sharded: true)
        try FileManager.default.removeItem(at: dir.appendingPathComponent(shards.last!))
        #expect(throws: ConvertError.indexNamesMissingShard(shard: shards.last!, tensorCount: 1, exampleTensor: "lm_head.weight")) {
            try Checkpoint(directory: dir)
        }
    }

    @Test func refusesIndexAndShardDisagreeing() throws {
        let dir = try scratchDirectory("ck-index")
        defer { cleanup(dir) }
        let shards = try writeTinyCheckpoint(dir, sharded: true)
        let indexURL = dir.appendingPathComponent(Checkpoint.indexFileName)
        let text = try String(contentsOf: indexURL, encoding: .utf8)
        // Point lm_head at the first shard, which does not hold it.
        try text.replacingOccurrences(of: "\"lm_head.weight\": \"\(shards.last!)\"", with: "\"lm_head.weight\": \"\(shards[0])\"")
            .write(to: indexURL, atomically: true, encoding: .utf8)
        #expect(throws: ConvertError.tensorNotInShard(tensor: "lm_head.weight", shard: shards[0])) { try Checkpoint(directory: dir) }
    }

    @Test func refusesTruncatedShard() throws {
        let dir = try scratchDirectory("ck-trunc")
        defer { cleanup(dir) }
        let shards = try writeTinyCheckpoint(dir, sharded: true)
        let url = dir.appendingPathComponent(shards[1])
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        let h = try FileHandle(forWritingTo: url)
        try h.truncate(atOffset: UInt64(size - 1000))
        try h.close()
        #expect(performing: { try Checkpoint(directory: dir) }, throws: { e in
            guard case .shardSizeMismatch(let p, let expected, let actual) = e as? ConvertError else { return false }
            return p == url.path && expected - actual == 1000 && (e as! ConvertError).description.contains("truncated")
        })
    }

    @Test func refusesUnknownDTypeInAShard() throws {
        let dir = try scratchDirectory("ck-dtype")
        defer { cleanup(dir) }
        try writeTinyCheckpoint(dir, vocab: 64)
        // Same-length edit of the header: the first tensor (sorted: lm_head.weight) becomes "I6_4".
        let url = dir.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: url)
        let range = try #require(bytes.range(of: Data("\"BF16\"".utf8)))
        bytes.replaceSubrange(range, with: Data("\"I6_4\"".utf8))
        try bytes.write(to: url)
        #expect(throws: ConvertError.unsupportedDType(path: url.path, tensor: "lm_head.weight", dtype: "I6_4")) {
            try Checkpoint(directory: dir)
        }
        #expect(ConvertError.unsupportedDType(path: "m", tensor: "t", dtype: "I6_4").description
            == "tensor t in m has dtype I6_4; only BF16, F16 and F32 are supported")
    }

    @Test func refusesMissingExtraAndMisshapenTensors() throws {
        let dir = try scratchDirectory("ck-set")
        defer { cleanup(dir) }
        let config = tinyConfigJSON(vocab: 64)
        let parsed = try CheckpointConfig.parse(config, path: "config.json")
        let all = CheckpointLayout.expectedTensors(parsed).map { (name: $0.name, shape: $0.shape) }
        func attempt(_ tensors: [(name: String, shape: [Int])]) throws -> ConvertError? {
            try? FileManager.default.removeItem(at: dir)
            try SyntheticCheckpoint.write(directory: dir, configJSON: config, tensors: tensors)
            do { _ = try Checkpoint(directory: dir); return nil } catch { return error }
        }
        let missing = all.filter { !$0.name.hasPrefix("transformer.h.1.mlp") }
        #expect(try attempt(missing) == .missingTensors(["transformer.h.1.mlp.w1.weight", "transformer.h.1.mlp.w2.weight",
                                                         "transformer.h.1.mlp.c_proj.weight"]))
        #expect(try attempt(all + [("transformer.rotary_emb.inv_freq", [16])]) == .unexpectedTensors(["transformer.rotary_emb.inv_freq"]))
        let misshapen = all.map { $0.name == "transformer.audio.conv2.weight" ? ($0.name, [64, 64, 5]) : $0 }
        #expect(try attempt(misshapen) == .shapeMismatch(tensor: "transformer.audio.conv2.weight", expected: [64, 64, 3], found: [64, 64, 5]))
        #expect(try attempt(all) == nil)
    }

    @Test func refusesMissingDirectoryAndWeights() throws {
        #expect(throws: ConvertError.checkpointNotFound(path: "/nonexistent/ckpt")) {
            try Checkpoint(directory: URL(fileURLWithPath: "/nonexistent/ckpt"))
        }
        let dir = try scratchDirectory("ck-empty")
        defer { cleanup(dir) }
        try tinyConfigJSON().write(to: dir.appendingPathComponent("config.json"))
        #expect(performing: { try Checkpoint(directory: dir) }, throws: { e in
            if case .missingFile(_, let what) = e as? ConvertError { return what.contains("model.safetensors") }
            return false
        })
    }
}
