// `earshot bench write-model`: writes a random-weight `.ear` with Qwen-Audio's (or Qwen2-Audio's) exact tensor
// names, shapes, metadata and a uniform weight type, for the speed benchmarks (speed does not depend on the values).
// Rows are N(0, 0.02) values quantized once: each matrix cycles through a pool of 64 distinct quantized rows
// per row width, so writing the 4.5–8 GB file is disk-bound (the converter would quantize 8.4 B values).
// Vectors (norms = 1, biases = 0, pos_embd, bos_eos) are f32 as the converter writes them; matrices whose width
// is not a multiple of 32 (conv1: 3·80) fall back to f16.
import ArgumentParser
import EarshotFormat
import EarshotKernels
import EarshotModels
import Foundation

struct WriteModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-model",
        abstract: "Write a random Qwen-Audio-shaped .ear (full size by default) for the benchmarks.",
        discussion: """
        The file has the real model's metadata keys and tensors; without --tokenizer it has no tokenizer blob,
        so only the bench commands can run it; with --tokenizer qwen.tiktoken (Qwen-Audio) the library opens it
        too (`earshot-bench e2e`, the CLI). Example (4.7 GB, about a minute):
          swift run -c release earshot bench write-model --type q4 --output /work/scratch/bench/qwen7b.q4.ear
        The q4m recipe's types (4-bit LLM linears; 8-bit token embedding, lm_head and encoder):
          swift run -c release earshot bench write-model --type q4 --head-type q8 --audio-type q8 \
            --tokenizer Tests/Fixtures/tokenizer/qwen.tiktoken --output /work/scratch/bench/qwen7b.q4m.ear
        """)
    @Option(help: "Weight type of every matrix: q4, q8, f16 or f32.") var type: String = "q4"
    @Option(help: "Weight type of the audio encoder's matrices (default: --type).") var audioType: String?
    @Option(help: "Weight type of the token embedding and lm_head (default: --type).") var headType: String?
    @Option(help: "A qwen.tiktoken file to store as the tokenizer blob (Qwen-Audio), so the library can open the file.")
    var tokenizer: String?
    @Option(help: "Where to write the .ear.") var output: String
    @Option(help: "A Hugging Face Qwen-Audio config.json (default: the released Qwen-Audio shapes).") var config: String?
    @Option(help: "qwen-audio (Qwen-Audio-7B shapes) or qwen2-audio (Qwen2-Audio-7B shapes: 128 mels, Qwen2 LLM, vocab 156,032).")
    var architecture: String = MetadataKeys.Architecture.qwenAudio

    func run() throws {
        guard let llmType = WeightType.allCases.first(where: { $0.name == type }) else { throw ValidationError("unknown --type \(type)") }
        let audioName = audioType ?? type
        guard let encType = WeightType.allCases.first(where: { $0.name == audioName }) else { throw ValidationError("unknown --audio-type \(audioName)") }
        let headName = headType ?? type
        guard let headWeights = WeightType.allCases.first(where: { $0.name == headName }) else { throw ValidationError("unknown --head-type \(headName)") }
        let tokenizerBlob = try tokenizer.map { path -> [UInt8] in
            guard architecture == MetadataKeys.Architecture.qwenAudio else { throw ValidationError("--tokenizer takes Qwen-Audio's qwen.tiktoken") }
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        let cfg: QwenAudioConfig
        if architecture == MetadataKeys.Architecture.qwen2Audio {
            guard config == nil else { throw ValidationError("--config reads a Qwen-Audio config.json; for qwen2-audio the released shapes are used") }
            cfg = try WriteModelBench.qwen2Audio()
        } else if architecture != MetadataKeys.Architecture.qwenAudio {
            throw ValidationError("unknown --architecture \(architecture): qwen-audio or qwen2-audio")
        } else if let config {
            cfg = try QwenAudioConfig(hfConfigJSON: try Data(contentsOf: URL(fileURLWithPath: config)))
        } else {
            cfg = try WriteModelBench.qwenAudio()
        }
        var meta = EarMetadata()
        for (k, v) in cfg.metadata {
            switch v {
            case .int(let i): meta[k] = .int(Int64(i))
            case .double(let d): meta[k] = .double(d)
            case .bool(let b): meta[k] = .bool(b)
            case .string(let s): meta[k] = .string(s)
            }
        }
        meta["general.name"] = .string("random \(architecture) shapes (earshot bench write-model)")
        meta["general.quantization"] = .string(llmType == headWeights && llmType == encType ? llmType.name
            : "\(llmType.name) (\(headWeights.name) embedding/lm_head, \(encType.name) encoder)")
        let writer = try EarWriter(path: output, metadata: meta)
        let t0 = BenchClock.wall()
        var written = 0
        var pools: [String: [UInt8]] = [:]
        for spec in WriteModelBench.tensors(cfg) {
            let isMatrix = spec.shape.count == 2 && !spec.vector
            if !isMatrix {
                try writer.addTensor(name: spec.name, shape: spec.shape, f32: spec.fill(spec.shape.reduce(1, *)))
                continue
            }
            let rows = spec.shape[0], cols = spec.shape[1]
            var t = spec.name.hasPrefix("audio.") ? encType
                : spec.name == TensorNames.tokenEmbedding || spec.name == TensorNames.output ? headWeights : llmType
            if t.rowBytes(cols: cols) == nil { t = .f16 }
            let rowBytes = t.rowBytes(cols: cols)!
            let key = "\(t.name)x\(cols)"
            if pools[key] == nil { pools[key] = try WriteModelBench.rowPool(t, cols: cols, count: 64) }
            let pool = pools[key]!
            let dtype = try WriteModelBench.earType(t)
            try writer.addTensor(name: spec.name, dtype: dtype, shape: spec.shape) { sink in
                // Chunks of up to 64 rows from the pool.
                var r = 0
                try pool.withUnsafeBytes { p in
                    while r < rows {
                        let n = Swift.min(64, rows - r)
                        try sink.write(UnsafeRawBufferPointer(rebasing: p[0..<(n * rowBytes)]))
                        r += n
                    }
                }
            }
            written += rows * rowBytes
        }
        if let tokenizerBlob { try writer.addBlob(name: MetadataKeys.tokenizerBlob, bytes: tokenizerBlob) }
        try writer.finish()
        print("wrote \(output): \(BenchReport.fmt(Double(written) / 1e9)) GB of matrices (\(llmType.name) LLM, \(headWeights.name) "
            + "embedding/lm_head, \(encType.name) encoder) in \(BenchReport.fmt(BenchClock.wall() - t0)) s")
    }

    struct Spec {
        let name: String
        let shape: [Int]
        var vector = false
        var fill: (Int) -> [Float] = { [Float](repeating: 0, count: $0) }
    }

    /// Every tensor of the model in file order (canonical names, see Sources/EarshotModels/TensorNames.swift).
    static func tensors(_ c: QwenAudioConfig) -> [Spec] {
        let H = c.llm.hiddenSize, P = c.llm.projectionSize, F = c.llm.ffnDim, V = c.llm.vocabSize, QKV = c.llm.qkvRows
        let S = c.audio.nState, M = c.audio.nMels, D = c.audio.outputDim
        let ones: (Int) -> [Float] = { [Float](repeating: 1, count: $0) }
        let small: (Int) -> [Float] = { n in (0..<n).map { Float(($0 * 7919) % 2001 - 1000) * 2e-5 } }
        var out = [Spec(name: TensorNames.tokenEmbedding, shape: [V, H])]
        for l in 0..<c.llm.numLayers {
            func n(_ p: String) -> String { TensorNames.block(l, p) }
            out += [Spec(name: n("attn_norm.weight"), shape: [H], fill: ones),
                    Spec(name: n("attn_qkv.weight"), shape: [QKV, H]),
                    Spec(name: n("attn_qkv.bias"), shape: [QKV], fill: small),
                    Spec(name: n("attn_output.weight"), shape: [H, P]),
                    Spec(name: n("ffn_norm.weight"), shape: [H], fill: ones),
                    Spec(name: n("ffn_up.weight"), shape: [F, H]),
                    Spec(name: n("ffn_gate.weight"), shape: [F, H]),
                    Spec(name: n("ffn_down.weight"), shape: [H, F])]
        }
        out += [Spec(name: TensorNames.outputNorm, shape: [H], fill: ones), Spec(name: TensorNames.output, shape: [V, H])]
        func a(_ p: String) -> String { TensorNames.audio(p) }
        out += [Spec(name: a("pos_embd.weight"), shape: [c.audio.nCtx, S], vector: true, fill: small),
                Spec(name: a("conv1.weight"), shape: [S, 3 * M]), Spec(name: a("conv1.bias"), shape: [S], fill: small),
                Spec(name: a("conv2.weight"), shape: [S, 3 * S]), Spec(name: a("conv2.bias"), shape: [S], fill: small)]
        for l in 0..<c.audio.nLayer {
            func b(_ p: String) -> String { TensorNames.audioBlock(l, p) }
            out += [Spec(name: b("attn_norm.weight"), shape: [S], fill: ones), Spec(name: b("attn_norm.bias"), shape: [S], fill: small),
                    Spec(name: b("attn_q.weight"), shape: [S, S]), Spec(name: b("attn_q.bias"), shape: [S], fill: small),
                    Spec(name: b("attn_k.weight"), shape: [S, S]),
                    Spec(name: b("attn_v.weight"), shape: [S, S]), Spec(name: b("attn_v.bias"), shape: [S], fill: small),
                    Spec(name: b("attn_output.weight"), shape: [S, S]), Spec(name: b("attn_output.bias"), shape: [S], fill: small),
                    Spec(name: b("ffn_norm.weight"), shape: [S], fill: ones), Spec(name: b("ffn_norm.bias"), shape: [S], fill: small),
                    Spec(name: b("ffn_up.weight"), shape: [4 * S, S]), Spec(name: b("ffn_up.bias"), shape: [4 * S], fill: small),
                    Spec(name: b("ffn_down.weight"), shape: [S, 4 * S]), Spec(name: b("ffn_down.bias"), shape: [S], fill: small)]
        }
        out += [Spec(name: a("post_norm.weight"), shape: [S], fill: ones), Spec(name: a("post_norm.bias"), shape: [S], fill: small),
                Spec(name: a("proj.weight"), shape: [D, S]), Spec(name: a("proj.bias"), shape: [D], fill: small)]
        if c.audio.bosEos { out.append(Spec(name: a("bos_eos.weight"), shape: [2, D], vector: true, fill: small)) }
        return out
    }

    /// `count` rows of N(0, 0.02)-like values (sum of uniforms) encoded as `type`, back to back.
    static func rowPool(_ type: WeightType, cols: Int, count: Int) throws -> [UInt8] {
        let rowBytes = type.rowBytes(cols: cols)!
        var bytes = [UInt8](repeating: 0, count: rowBytes * count)
        var s: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(cols)
        func uniform() -> Float { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return Float(s >> 40) / Float(1 << 24) - 0.5 }
        var row = [Float](repeating: 0, count: cols)
        try bytes.withUnsafeMutableBytes { b in
            for r in 0..<count {
                for k in 0..<cols { row[k] = (uniform() + uniform() + uniform() + uniform()) * 0.035 }
                try row.withUnsafeBufferPointer { x throws(KernelError) in
                    try Quantizer.quantizeRow(type, x.baseAddress!, cols: cols, b.baseAddress! + r * rowBytes)
                }
            }
        }
        return bytes
    }

    static func earType(_ t: WeightType) throws -> EarDType {
        switch t {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .q8: return .q8
        case .q4: return .q4
        }
    }

    /// The released Qwen2-Audio-7B shapes (Docs/qwen2-audio.md §1): Qwen2 LLM 4096 × 32 layers, 32 heads = KV
    /// heads, FFN 11008, vocab 156,032, RMSNorm 1e-5, RoPE 10000; Whisper-large-v3-shaped encoder, 128 mels.
    static func qwen2Audio() throws -> QwenAudioConfig {
        try QwenAudioConfig(
            llm: QwenLMConfig(hiddenSize: 4096, numLayers: 32, numHeads: 32, headDim: 128, intermediateSize: 2 * 11008,
                              vocabSize: 156_032, rmsNormEps: 1e-5, ropeBase: 10000, seqLength: 8192,
                              useDynamicNTK: false, useLognAttn: false, numKVHeads: 32),
            audio: AudioEncoderConfig(nMels: 128, nCtx: 1500, nState: 1280, nHead: 20, nLayer: 32, outputDim: 4096,
                                      bosEos: false, audioStartId: 151_647, audioTokenId: 151_646))
    }

    /// The released Qwen-Audio shapes (Qwen-7B LLM + Whisper-large-v2-shaped encoder).
    static func qwenAudio() throws -> QwenAudioConfig {
        try QwenAudioConfig(
            llm: QwenLMConfig(hiddenSize: 4096, numLayers: 32, numHeads: 32, headDim: 128, intermediateSize: 22016,
                              vocabSize: 155_947, rmsNormEps: 1e-5, ropeBase: 10000, seqLength: 2048,
                              useDynamicNTK: true, useLognAttn: true),
            audio: AudioEncoderConfig(nMels: 80, nCtx: 1500, nState: 1280, nHead: 20, nLayer: 32, outputDim: 4096))
    }
}
