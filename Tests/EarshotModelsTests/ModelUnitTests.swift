// ModelUnitTests: tensor-name mapping, conv transform, configs, and the model's typed errors.
import Foundation
import Testing
import EarshotKernels
import EarshotModels
import EarshotTestSupport

@Suite struct TensorNamesTests {
    @Test func everyTinyTensorMapsBothWays() throws {
        var seen = Set<String>()
        for t in TinyCheckpoint.fixture.tensors {
            let c = try #require(TensorNames.canonical(hf: t.spec.name), "\(t.spec.name)")
            #expect(TensorNames.hf(canonical: c) == t.spec.name)
            #expect(seen.insert(c).inserted, "duplicate canonical name \(c)")
        }
        #expect(TensorNames.canonical(hf: "transformer.h.0.mlp.w2.weight") == "blk.0.ffn_gate.weight")
        #expect(TensorNames.canonical(hf: "transformer.h.0.mlp.w1.weight") == "blk.0.ffn_up.weight")
        #expect(TensorNames.canonical(hf: "transformer.audio.blocks.31.attn.key.weight") == "audio.blk.31.attn_k.weight")
        #expect(TensorNames.canonical(hf: "transformer.h.3.attn.rotary_emb.inv_freq") == nil)
        #expect(TensorNames.canonical(hf: "transformer.h.x.ln_1.weight") == nil)
        #expect(TensorNames.staysF32(canonical: "blk.0.attn_qkv.bias") && TensorNames.staysF32(canonical: "audio.pos_embd.weight"))
        #expect(!TensorNames.staysF32(canonical: "blk.0.attn_qkv.weight") && !TensorNames.staysF32(canonical: "token_embd.weight"))
    }

    @Test func convTransformIsTapMajor() {
        // conv[s, m, k] = 100s + 10m + k for S = 2, M = 3 → W[s, k·M + m].
        var conv: [Int] = []
        for s in 0..<2 { for m in 0..<3 { for k in 0..<3 { conv.append(100 * s + 10 * m + k) } } }
        let w = TensorNames.convWeightToMatrix(conv, outChannels: 2, inChannels: 3)
        #expect(Array(w[0..<9]) == [0, 10, 20, 1, 11, 21, 2, 12, 22])
        #expect(w[9 + 3 * 2 + 1] == 100 + 10 * 1 + 2)
        #expect(TensorNames.convertedShape(canonical: "audio.conv1.weight", hfShape: [1280, 80, 3]) == [1280, 240])
    }
}

@Suite struct ConfigTests {
    @Test func hfConfigAndMetadataAgree() throws {
        let c = Golden.config
        #expect(c.llm.hiddenSize == 128 && c.llm.numHeads == 4 && c.llm.headDim == 32 && c.llm.ffnDim == 128)
        #expect(c.llm.vocabSize == 155_947 && c.llm.rmsNormEps == 1e-6 && c.llm.seqLength == 2048)
        #expect(c.audio.nState == 64 && c.audio.nHead == 4 && c.audio.outputDim == 128 && c.audio.avgPool && c.audio.bosEos)
        #expect(try QwenAudioConfig(metadata: c.metadata) == c)
        var bad = c.metadata
        bad["qwen.num_heads"] = nil
        #expect(throws: ModelError.badConfig(key: "qwen.num_heads", reason: "missing")) { try QwenAudioConfig(metadata: bad) }
        bad = c.metadata
        bad["general.architecture"] = .string("llama")
        #expect(throws: ModelError.self) { try QwenAudioConfig(metadata: bad) }
    }

    @Test func ntkAlphaAndLogn() {
        let llm = Golden.config.llm
        // README: 2333 ids → alpha 3, 4233 → alpha 7; ≤ 2048 → 1.
        #expect(llm.ntkAlpha(forPrefillLength: 14) == 1 && llm.ntkAlpha(forPrefillLength: 2048) == 1)
        #expect(llm.ntkAlpha(forPrefillLength: 2049) == 3 && llm.ntkAlpha(forPrefillLength: 2333) == 3)
        #expect(llm.ntkAlpha(forPrefillLength: 4096) == 3 && llm.ntkAlpha(forPrefillLength: 4233) == 7)
        #expect(llm.lognFactor(position: 2047) == 1)
        #expect(abs(Double(llm.lognFactor(position: 2332)) - 1.0170882356349271) < 1e-6)   // manifest value
        #expect(abs(Double(llm.lognFactor(position: 4232)) - 1.0952240703016745) < 1e-6)
    }

    @Test func spanCountsMatchSpec() {
        let a = Golden.config.audio
        // spec §1: 585 → 148, 1100 → 277, 3000 → 752; Whisper mode: no pool, no bos/eos.
        #expect(a.spanTokens(melLength: 585) == 148 && a.spanTokens(melLength: 1100) == 277 && a.spanTokens(melLength: 3000) == 752)
        #expect(AudioEncoderConfig.whisper(nState: 384, nHead: 6, nLayer: 4).spanTokens(melLength: 3000) == 1500)
    }
}

@Suite struct ModelErrorTests {
    @Test func missingAndMisshapenTensorsAreNamed() throws {
        let empty = InMemoryWeights()
        #expect(throws: ModelError.missingTensor("token_embd.weight")) { try QwenLM(config: Golden.config.llm, weights: empty) }
        let w = InMemoryWeights()
        try w.add("token_embd.weight", shape: [10, 128], values: [Float](repeating: 0, count: 1280))
        #expect(throws: ModelError.shapeMismatch(name: "token_embd.weight", expected: [155_947, 128], actual: [10, 128])) {
            try QwenLM(config: Golden.config.llm, weights: w)
        }
    }

    @Test func badPromptsThrow() throws {
        let model = Golden.f32Model
        let start = Golden.config.audio.audioStartId
        // An unclosed <audio>, an audio with no mel, a span that does not fit the encoder, an id out of range.
        #expect(throws: ModelError.self) { try model.prefill(ids: [1, start, 5], cache: model.makeCache(capacity: 8)) }
        #expect(throws: ModelError.self) { try model.prefill(ids: [start, 151_851, start + 1], cache: model.makeCache(capacity: 8)) }
        let mel = Golden.mels(for: ["audio/jfk.wav"])
        #expect(throws: ModelError.self) { try model.prefill(ids: [start, 151_851, start + 1], mels: mel, cache: model.makeCache(capacity: 8)) }
        #expect(throws: ModelError.self) { try model.prefill(ids: [155_947], cache: model.makeCache(capacity: 8)) }
        #expect(throws: ModelError.contextFull(needed: 3, capacity: 2)) { try model.prefill(ids: [1, 2, 3], cache: model.makeCache(capacity: 2)) }
    }

    /// Whisper mode of the encoder (no pool/proj/bos/eos) on the tiny weights: ln_post of the last block output.
    @Test func whisperModeEncoderOutputsLnPostOfBlocks() throws {
        let cfg = Golden.config.audio
        let whisper = AudioEncoderConfig(nMels: cfg.nMels, nCtx: cfg.nCtx, nState: cfg.nState, nHead: cfg.nHead,
                                         nLayer: cfg.nLayer, outputDim: cfg.nState, avgPool: false, projection: false, bosEos: false)
        let enc = try AudioEncoder(config: whisper, weights: TinyModelFiles.weights(matrixType: .f32))
        let golden = try GoldenFile("qwen-audio-tiny/goldens/caption.safetensors")
        let out = try enc.encode(Golden.mels(for: ["audio/1272-128104-0000.flac"]))[0]
        let blocks = golden.floats("audio.blocks.1.out")
        let S = cfg.nState, L = blocks.count / S
        let tiny = TinyCheckpoint.fixture
        let w = tiny["transformer.audio.ln_post.weight"]!.bits.map { Float(bitPattern: UInt32($0) << 16) }
        let b = tiny["transformer.audio.ln_post.bias"]!.bits.map { Float(bitPattern: UInt32($0) << 16) }
        var want = [Float](repeating: 0, count: blocks.count)
        Reference.layerNorm(blocks, weight: w, bias: b, eps: 1e-5, rows: L, dim: S, &want)
        #expect(out.count == L * S)
        #expect(maxAbsDiff(out, want) <= 1e-4)
    }
}
