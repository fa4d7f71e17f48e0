// Qwen2AudioCheckpoint: a Hugging Face Qwen2-Audio checkpoint directory (Qwen/Qwen2-Audio-7B, -7B-Instruct:
// `Qwen2AudioForConditionalGeneration`, spec in Docs/qwen2-audio.md), opened and validated like a Qwen-Audio
// one, as a CheckpointSource: the Whisper-large-v3-style encoder (128 mels) and the projector under the
// `audio.*` names the AudioEncoder reads, the Qwen2 LLM under `blk.*` with q/k/v stacked into `attn_qkv`.
//
// Tensor names: the released Hub layout (`audio_tower.*`, `multi_modal_projector.linear.*`,
// `language_model.model.*`, `language_model.lm_head.weight`) or transformers 5's own save layout
// (`model.audio_tower.*`, `model.multi_modal_projector.*`, `model.language_model.*`, `lm_head.weight`).
// Config values absent from config.json take transformers' class defaults (the released text_config omits
// hidden_size, layers and heads: Qwen2Config's 4096 / 32 / 32). The tokenizer comes from vocab.json, merges.txt
// and tokenizer_config.json (HFByteLevelTokenizer).
import EarshotAudio
import EarshotFormat
import EarshotKernels
import EarshotModels
import Foundation

public final class Qwen2AudioCheckpoint: @unchecked Sendable {
    public let directory: URL
    public let config: QwenAudioConfig
    public let configBytes: Data
    /// Per canonical output tensor: where its rows come from (parts stacked for attn_qkv).
    let layout: [(canonical: String, shape: [Int], parts: [(name: String, shard: String, tensor: SafetensorsTensor)])]
    let shards: [String: SafetensorsFile]
    /// vocab.json + merges.txt + added tokens, checked to put `<|AUDIO|>`, `<|audio_bos|>`, `<|audio_eos|>`
    /// where the config says.
    public let tokenizer: HFByteLevelTokenizer

    /// Whether `directory` holds a Qwen2-Audio config.json (`model_type` "qwen2_audio").
    public static func isQwen2Audio(_ directory: URL) -> Bool {
        let url = directory.appendingPathComponent("config.json")
        guard let data = try? InputFile.read(url.path, limit: InputLimits.jsonConfig),
              let root = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else { return false }
        return root["model_type"] as? String == "qwen2_audio"
            || ((root["architectures"] as? [Any])?.contains { $0 as? String == "Qwen2AudioForConditionalGeneration" } ?? false)
    }

    public init(directory: URL) throws(ConvertError) {
        self.directory = directory
        let configURL = directory.appendingPathComponent("config.json")
        configBytes = try Checkpoint.readConfig(directory)
        config = try Self.parseConfig(configBytes, path: configURL.path)
        shards = try Checkpoint.openShards(directory)
        let names = Self.hubNames(shards)
        let located = try Checkpoint.locate(Self.expectedTensors(config, names), in: shards)
        var byName: [String: (name: String, shard: String, tensor: SafetensorsTensor)] = [:]
        for (e, shard, t) in located { byName[e.name] = (e.name, shard, t) }
        layout = Self.canonicalLayout(config, names).map { c in (c.canonical, c.shape, c.sources.map { byName[$0]! }) }
        tokenizer = try HFByteLevelTokenizer(directory: directory, vocabSize: config.llm.vocabSize)
        let audio = config.audio.audioTokenId!
        for (surface, id) in [("<|AUDIO|>", audio), ("<|audio_bos|>", audio + 1), ("<|audio_eos|>", audio + 2)] where tokenizer.id(of: surface) != id {
            throw .invalidTokenizer(path: directory.appendingPathComponent("tokenizer_config.json").path,
                reason: "\(surface) is id \(tokenizer.id(of: surface).map(String.init) ?? "absent"), but config.json's audio_token_index \(audio) puts it at \(id)")
        }
    }

    /// Name prefixes of the two layouts.
    struct HubNames {
        let audio: String, projector: String, llm: String, head: String
        static let released = HubNames(audio: "audio_tower.", projector: "multi_modal_projector.",
                                       llm: "language_model.model.", head: "language_model.lm_head.weight")
        static let transformers5 = HubNames(audio: "model.audio_tower.", projector: "model.multi_modal_projector.",
                                            llm: "model.language_model.", head: "lm_head.weight")
    }

    static func hubNames(_ shards: [String: SafetensorsFile]) -> HubNames {
        let v5 = shards.values.contains { $0.tensors["model.language_model.embed_tokens.weight"] != nil }
        return v5 ? .transformers5 : .released
    }

    // MARK: config

    /// config.json → the runtime config, with transformers' defaults for absent keys; every value checked.
    static func parseConfig(_ data: Data, path: String) throws(ConvertError) -> QwenAudioConfig {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch { throw .invalidConfig(path: path, reason: "not valid JSON") }
        guard let root = object as? [String: Any] else { throw .invalidConfig(path: path, reason: "not a JSON object") }
        let audioDict = root["audio_config"] as? [String: Any] ?? [:]
        let textDict = root["text_config"] as? [String: Any] ?? [:]
        let top = Fields(dict: root, prefix: "", path: path)
        let a = Fields(dict: audioDict, prefix: "audio_config.", path: path)
        let t = Fields(dict: textDict, prefix: "text_config.", path: path)
        func int(_ f: Fields, _ key: String, _ d: Int) throws(ConvertError) -> Int { f.dict[key] == nil || f.dict[key] is NSNull ? d : try f.int(key) }
        func double(_ f: Fields, _ key: String, _ d: Double) throws(ConvertError) -> Double { f.dict[key] == nil || f.dict[key] is NSNull ? d : try f.double(key) }

        if let act = audioDict["activation_function"] as? String, act != "gelu" {
            throw .unsupportedConfigValue(key: "audio_config.activation_function", value: act, reason: "only gelu is supported")
        }
        if try a.bool("scale_embedding", default: false) {
            throw .unsupportedConfigValue(key: "audio_config.scale_embedding", value: "true", reason: "Qwen2-Audio's encoder does not scale (and transformers never applies it)")
        }
        if try t.bool("use_sliding_window", default: false) {
            throw .unsupportedConfigValue(key: "text_config.use_sliding_window", value: "true", reason: "sliding-window attention is not supported")
        }
        if try t.bool("use_mrope", default: false) {
            throw .unsupportedConfigValue(key: "text_config.use_mrope", value: "true", reason: "multimodal RoPE is not part of Qwen2-Audio")
        }
        if let act = textDict["hidden_act"] as? String, act != "silu" {
            throw .unsupportedConfigValue(key: "text_config.hidden_act", value: act, reason: "only silu is supported")
        }
        var ropeTheta = try double(t, "rope_theta", 10_000)
        if let rope = textDict["rope_parameters"] as? [String: Any] {
            let r = Fields(dict: rope, prefix: "text_config.rope_parameters.", path: path)
            if let type = rope["rope_type"] as? String, type != "default" {
                throw .unsupportedConfigValue(key: "text_config.rope_parameters.rope_type", value: type, reason: "only default RoPE is supported")
            }
            if rope["rope_theta"] != nil { ropeTheta = try r.double("rope_theta") }
        }
        let d = try int(a, "d_model", 1280), encoderFFN = try int(a, "encoder_ffn_dim", 5120)
        let hidden = try int(t, "hidden_size", 4096), heads = try int(t, "num_attention_heads", 32)
        let vocab = try int(t, "vocab_size", try int(top, "vocab_size", 151_936))
        let audioToken = try int(top, "audio_token_index", 151_646)
        for (key, v) in [("audio_config.d_model", d), ("text_config.hidden_size", hidden), ("text_config.num_attention_heads", heads)]
            where v <= 0 || v > 1 << 24 {
            throw .unsupportedConfigValue(key: key, value: "\(v)", reason: "must be between 1 and 2^24")
        }
        guard encoderFFN == 4 * d else {
            throw .unsupportedConfigValue(key: "audio_config.encoder_ffn_dim", value: "\(encoderFFN)", reason: "must be 4 × d_model (\(4 * d))")
        }
        guard hidden % heads == 0 else {
            throw .unsupportedConfigValue(key: "text_config.num_attention_heads", value: "\(heads)", reason: "must divide hidden_size \(hidden)")
        }
        let headDim = try int(t, "head_dim", hidden / heads)
        guard audioToken >= 0, audioToken + 2 < vocab else {
            throw .unsupportedConfigValue(key: "audio_token_index", value: "\(audioToken)", reason: "<|AUDIO|>, <|audio_bos|> and <|audio_eos|> (the next two ids) must be inside the vocabulary of \(vocab)")
        }
        let eps = try double(t, "rms_norm_eps", 1e-6)
        guard eps.isFinite, eps > 0, eps < 1 else {
            throw .unsupportedConfigValue(key: "text_config.rms_norm_eps", value: "\(eps)", reason: "must be a number in (0, 1)")
        }
        guard ropeTheta.isFinite, ropeTheta > 1 else {
            throw .unsupportedConfigValue(key: "text_config.rope_theta", value: "\(ropeTheta)", reason: "must be a finite number above 1")
        }
        let llm = QwenLMConfig(
            hiddenSize: hidden, numLayers: try int(t, "num_hidden_layers", 32), numHeads: heads, headDim: headDim,
            intermediateSize: 2 * (try int(t, "intermediate_size", 22_016)), vocabSize: vocab, rmsNormEps: Float(eps),
            ropeBase: ropeTheta, seqLength: try int(t, "max_position_embeddings", 32_768), useDynamicNTK: false,
            useLognAttn: false, numKVHeads: try int(t, "num_key_value_heads", heads),
            tiedEmbeddings: try t.bool("tie_word_embeddings", default: false))
        let audio = AudioEncoderConfig(
            nMels: try int(a, "num_mel_bins", 128), nCtx: try int(a, "max_source_positions", 1500), nState: d,
            nHead: try int(a, "encoder_attention_heads", 20), nLayer: try int(a, "encoder_layers", 32), outputDim: hidden,
            avgPool: true, projection: true, bosEos: false, audioStartId: audioToken + 1, audioTokenId: audioToken)
        for (key, v) in [("text_config.num_hidden_layers", llm.numLayers), ("audio_config.encoder_layers", audio.nLayer),
                         ("audio_config.encoder_attention_heads", audio.nHead), ("text_config.num_key_value_heads", llm.numKVHeads)]
            where v <= 0 || v > CheckpointConfig.maxLayersOrHeads {
            throw .unsupportedConfigValue(key: key, value: "\(v)", reason: "must be between 1 and \(CheckpointConfig.maxLayersOrHeads)")
        }
        do { return try QwenAudioConfig(llm: llm, audio: audio) } catch {
            throw .invalidConfig(path: path, reason: error.description)
        }
    }

    // MARK: tensors

    /// Every tensor the checkpoint stores, with its shape (state-dict names of `names`' layout).
    static func expectedTensors(_ c: QwenAudioConfig, _ names: HubNames) -> [ExpectedTensor] {
        canonicalLayout(c, names).flatMap { $0.sourceShapes }.map { ExpectedTensor(name: $0.name, shape: $0.shape) }
    }

    /// Output tensors in file order: canonical name, output shape, source tensors (stacked in order).
    static func canonicalLayout(_ c: QwenAudioConfig, _ n: HubNames)
        -> [(canonical: String, shape: [Int], sources: [String], sourceShapes: [(name: String, shape: [Int])])] {
        let S = c.audio.nState, M = c.audio.nMels, C = c.audio.nCtx, D = c.audio.outputDim
        let H = c.llm.hiddenSize, P = c.llm.projectionSize, KVP = c.llm.kvProjectionSize, F = c.llm.ffnDim, V = c.llm.vocabSize
        var out: [(canonical: String, shape: [Int], sources: [String], sourceShapes: [(name: String, shape: [Int])])] = []
        func one(_ canonical: String, _ source: String, _ shape: [Int], stored: [Int]? = nil) {
            out.append((canonical, shape, [source], [(source, stored ?? shape)]))
        }
        let a = n.audio
        one("audio.conv1.weight", a + "conv1.weight", [S, 3 * M], stored: [S, M, 3])
        one("audio.conv1.bias", a + "conv1.bias", [S])
        one("audio.conv2.weight", a + "conv2.weight", [S, 3 * S], stored: [S, S, 3])
        one("audio.conv2.bias", a + "conv2.bias", [S])
        one("audio.pos_embd.weight", a + "embed_positions.weight", [C, S])
        for l in 0..<c.audio.nLayer {
            let b = a + "layers.\(l).", o = "audio.blk.\(l)."
            for (hf, canonical, shape) in [
                ("self_attn_layer_norm.weight", "attn_norm.weight", [S]), ("self_attn_layer_norm.bias", "attn_norm.bias", [S]),
                ("self_attn.q_proj.weight", "attn_q.weight", [S, S]), ("self_attn.q_proj.bias", "attn_q.bias", [S]),
                ("self_attn.k_proj.weight", "attn_k.weight", [S, S]),
                ("self_attn.v_proj.weight", "attn_v.weight", [S, S]), ("self_attn.v_proj.bias", "attn_v.bias", [S]),
                ("self_attn.out_proj.weight", "attn_output.weight", [S, S]), ("self_attn.out_proj.bias", "attn_output.bias", [S]),
                ("final_layer_norm.weight", "ffn_norm.weight", [S]), ("final_layer_norm.bias", "ffn_norm.bias", [S]),
                ("fc1.weight", "ffn_up.weight", [4 * S, S]), ("fc1.bias", "ffn_up.bias", [4 * S]),
                ("fc2.weight", "ffn_down.weight", [S, 4 * S]), ("fc2.bias", "ffn_down.bias", [S]),
            ] { one(o + canonical, b + hf, shape) }
        }
        one("audio.post_norm.weight", a + "layer_norm.weight", [S])
        one("audio.post_norm.bias", a + "layer_norm.bias", [S])
        one("audio.proj.weight", n.projector + "linear.weight", [D, S])
        one("audio.proj.bias", n.projector + "linear.bias", [D])
        one(TensorNames.tokenEmbedding, n.llm + "embed_tokens.weight", [V, H])
        for l in 0..<c.llm.numLayers {
            let b = n.llm + "layers.\(l).", o = "blk.\(l)."
            one(o + "attn_norm.weight", b + "input_layernorm.weight", [H])
            let qkv = ["q_proj", "k_proj", "v_proj"].map { b + "self_attn.\($0)" }
            out.append((o + "attn_qkv.weight", [P + 2 * KVP, H], qkv.map { $0 + ".weight" },
                        [(qkv[0] + ".weight", [P, H]), (qkv[1] + ".weight", [KVP, H]), (qkv[2] + ".weight", [KVP, H])]))
            out.append((o + "attn_qkv.bias", [P + 2 * KVP], qkv.map { $0 + ".bias" },
                        [(qkv[0] + ".bias", [P]), (qkv[1] + ".bias", [KVP]), (qkv[2] + ".bias", [KVP])]))
            one(o + "attn_output.weight", b + "self_attn.o_proj.weight", [H, P])
            one(o + "ffn_norm.weight", b + "post_attention_layernorm.weight", [H])
            one(o + "ffn_gate.weight", b + "mlp.gate_proj.weight", [F, H])
            one(o + "ffn_up.weight", b + "mlp.up_proj.weight", [F, H])
            one(o + "ffn_down.weight", b + "mlp.down_proj.weight", [H, F])
        }
        one(TensorNames.outputNorm, n.llm + "norm.weight", [H])
        if !c.llm.tiedEmbeddings { one(TensorNames.output, n.head, [V, H]) }
        return out
    }
}

extension Qwen2AudioCheckpoint: CheckpointSource {
    public func plan(recipe: QuantRecipe, overrides: [TypeOverride]) throws(ConvertError) -> [PlannedTensor] {
        layout.map { t in
            let rows: [any RowSource] = t.parts.map { p in
                SafetensorsRows(file: shards[p.shard]!, tensor: p.tensor,
                                transform: TensorNames.isConvWeight(canonical: t.canonical) ? .convToMatmul : .none)
            }
            let source: any RowSource
            if rows.count == 1 { source = rows[0] } else if t.shape.count == 1 { source = JoinedRow(rows) } else { source = StackedRows(rows) }
            var cls = TensorClass.of(canonicalName: t.canonical, rank: t.shape.count)
            if t.canonical == TensorNames.tokenEmbedding && config.llm.tiedEmbeddings { cls = .output }
            let type = recipe.type(class: cls, canonicalName: t.canonical, sourceName: t.parts[0].name,
                                   cols: t.shape.last ?? 1, overrides: overrides)
            return PlannedTensor(sourceName: t.parts.map(\.name).joined(separator: " + "), canonicalName: t.canonical,
                                 shape: t.shape, type: type, rows: source)
        }
    }

    /// The tokenizer ranks, the chat template, the 128-bin mel filters (computed: WhisperFeatureExtractor's
    /// Slaney filterbank), config.json and generation_config.json when present.
    public func blobs() throws(ConvertError) -> [(String, Data)] {
        let filters = MelFilterbank.slaney(bins: config.audio.nMels).dense
        var out: [(String, Data)] = [(MetadataKeys.tokenizerBlob, tokenizer.tiktoken)]
        if let t = tokenizer.chatTemplate { out.append((MetadataKeys.chatTemplateBlob, Data(t.utf8))) }
        out += [(MetadataKeys.melFiltersBlob, filters.withUnsafeBufferPointer { Data(buffer: $0) }),
                (MetadataKeys.sourceConfigBlob, configBytes)]
        let gen = directory.appendingPathComponent("generation_config.json")
        var st = stat()
        if lstat(gen.path, &st) == 0 {
            out.append((MetadataKeys.generationConfigBlob, try readWholeFile(gen, what: "generation_config.json", limit: InputLimits.jsonConfig)))
        }
        return out
    }

    public func metadata(options: ConvertOptions, report: ConversionReport) -> [(key: String, value: MetaValue)] {
        var m: [(key: String, value: MetaValue)] = [
            (MetadataKeys.source, .string(directory.standardizedFileURL.lastPathComponent)),
            (MetadataKeys.converter, .string("earshot-convert \(Converter.version)")),
            (MetadataKeys.quantization, .string(options.recipe.name)),
        ]
        for (k, v) in config.metadata.sorted(by: { $0.key < $1.key }) {
            switch v {
            case .int(let i): m.append((k, .int(i)))
            case .double(let d): m.append((k, .double(d)))
            case .bool(let b): m.append((k, .bool(b)))
            case .string(let s): m.append((k, .string(s)))
            }
        }
        m += tokenizer.metadata
        m.append(("convert.bits_per_weight", .double((report.bitsPerWeight * 1000).rounded() / 1000)))
        m.append(("convert.tensor_errors", .string(report.errorsJSON())))
        return m
    }

    public var kvBytesPerToken: Int { 2 * config.llm.numLayers * config.llm.kvProjectionSize * 2 }

    public var summary: String {
        let c = config
        return "Qwen2-Audio checkpoint \(directory.standardizedFileURL.lastPathComponent): encoder \(c.audio.nLayer) × \(c.audio.nState) "
            + "(\(c.audio.nMels) mels), LLM \(c.llm.numLayers) × \(c.llm.hiddenSize), \(c.llm.numHeads)/\(c.llm.numKVHeads) heads, vocab \(c.llm.vocabSize)"
    }
}
