// QwenAudioConfig: the hyperparameters of Qwen-Audio (LLM + audio encoder), mirroring the HF config.json,
// built from that file or from `.ear` metadata keys (`qwen.*`, `audio.*`, see the brief / Formats/).
import Foundation

/// A metadata value as the format stores it (the `.ear` reader converts its values to this).
public enum ConfigValue: Sendable, Equatable {
    case int(Int), double(Double), bool(Bool), string(String)
}

/// The QWen LLM.
public struct QwenLMConfig: Sendable, Equatable {
    public var hiddenSize: Int          // H
    public var numLayers: Int
    public var numHeads: Int
    public var headDim: Int             // kv_channels; heads·headDim must equal H
    public var intermediateSize: Int    // the HF value = 2F (w1 and w2 are F wide each)
    public var vocabSize: Int           // V (embedding and lm_head rows)
    public var rmsNormEps: Float
    public var ropeBase: Double
    public var seqLength: Int           // drives dynamic NTK and logn
    public var useDynamicNTK: Bool
    public var useLognAttn: Bool
    /// Key/value heads (grouped-query attention when < numHeads; Qwen2). numHeads % numKVHeads == 0.
    public var numKVHeads: Int
    /// The output projection is the token embedding (Qwen2 small models); no `output.weight` tensor.
    public var tiedEmbeddings: Bool

    public var ffnDim: Int { intermediateSize / 2 }
    /// Query width P = heads · headDim (rows of attn_q, columns of attn_output).
    public var projectionSize: Int { numHeads * headDim }
    /// Key (and value) width KVP = kvHeads · headDim: one KV-cache row.
    public var kvProjectionSize: Int { numKVHeads * headDim }
    /// Rows of the fused attn_qkv matrix: q, then k, then v (P + 2·KVP; 3P without GQA).
    public var qkvRows: Int { projectionSize + 2 * kvProjectionSize }

    public init(hiddenSize: Int, numLayers: Int, numHeads: Int, headDim: Int, intermediateSize: Int, vocabSize: Int,
                rmsNormEps: Float, ropeBase: Double, seqLength: Int, useDynamicNTK: Bool, useLognAttn: Bool,
                numKVHeads: Int? = nil, tiedEmbeddings: Bool = false) {
        self.hiddenSize = hiddenSize; self.numLayers = numLayers; self.numHeads = numHeads; self.headDim = headDim
        self.intermediateSize = intermediateSize; self.vocabSize = vocabSize; self.rmsNormEps = rmsNormEps
        self.ropeBase = ropeBase; self.seqLength = seqLength; self.useDynamicNTK = useDynamicNTK; self.useLognAttn = useLognAttn
        self.numKVHeads = numKVHeads ?? numHeads; self.tiedEmbeddings = tiedEmbeddings
    }

    /// Dynamic-NTK alpha for a prefill of `length` tokens: max(1, 2^ceil(log2(length/seqLength) + 1) − 1).
    public func ntkAlpha(forPrefillLength length: Int) -> Double {
        guard useDynamicNTK, length > 0 else { return 1 }
        let context = log2(Double(length) / Double(seqLength)) + 1
        return max(pow(2, ceil(context)) - 1, 1)
    }

    /// logn query factor at absolute position p: log(p+1)/log(seqLength) when p+1 > seqLength, else 1.
    public func lognFactor(position p: Int) -> Float {
        guard useLognAttn, p + 1 > seqLength else { return 1 }
        return Float(log(Double(p + 1)) / log(Double(seqLength)))
    }

    func validate() throws(ModelError) {
        for (k, v) in [("hidden_size", hiddenSize), ("num_layers", numLayers), ("num_heads", numHeads),
                       ("head_dim", headDim), ("intermediate_size", intermediateSize), ("vocab_size", vocabSize),
                       ("seq_length", seqLength)] where v <= 0 {
            throw .badConfig(key: k, reason: "must be positive, got \(v)")
        }
        guard numKVHeads > 0, numHeads % numKVHeads == 0 else {
            throw .badConfig(key: "num_kv_heads", reason: "\(numKVHeads) must be positive and divide num_heads \(numHeads)")
        }
        guard headDim % 2 == 0 else { throw .badConfig(key: "head_dim", reason: "must be even for RoPE, got \(headDim)") }
    }
}

/// The Whisper-style audio encoder (Qwen-Audio's, or plain Whisper's with `avgPool`/`projection`/`bosEos` off).
public struct AudioEncoderConfig: Sendable, Equatable {
    public var nMels: Int
    public var nCtx: Int                // positional table rows (max frames after conv2)
    public var nState: Int              // S
    public var nHead: Int
    public var nLayer: Int
    public var outputDim: Int           // D (proj output); = nState when there is no projection
    public var avgPool: Bool            // AvgPool1d(2) before ln_post
    public var projection: Bool         // `proj` Linear after ln_post
    public var bosEos: Bool             // learned bos/eos vectors around the span
    public var layerNormEps: Float
    public var audioStartId: Int        // `<audio>`; `</audio>` is audioStartId + 1 (Qwen2-Audio: `<|audio_bos|>`)
    /// Qwen2-Audio: each output vector replaces one `<|AUDIO|>` token of this id (the prompt repeats it N
    /// times); every audio is encoded against its own 30 s padded mel, so conv1 reads the padding frame after
    /// the crop. nil: Qwen-Audio's spans `<audio>`…`</audio>` inclusive, audios encoded as one batch.
    public var audioTokenId: Int?

    public init(nMels: Int, nCtx: Int, nState: Int, nHead: Int, nLayer: Int, outputDim: Int, avgPool: Bool = true,
                projection: Bool = true, bosEos: Bool = true, layerNormEps: Float = 1e-5, audioStartId: Int = 155_163,
                audioTokenId: Int? = nil) {
        self.nMels = nMels; self.nCtx = nCtx; self.nState = nState; self.nHead = nHead; self.nLayer = nLayer
        self.outputDim = outputDim; self.avgPool = avgPool; self.projection = projection; self.bosEos = bosEos
        self.layerNormEps = layerNormEps; self.audioStartId = audioStartId; self.audioTokenId = audioTokenId
    }

    /// Plain Whisper encoder (no pool, no projection, no bos/eos), e.g. tiny: nState 384, 6 heads, 4 layers.
    public static func whisper(nMels: Int = 80, nCtx: Int = 1500, nState: Int, nHead: Int, nLayer: Int) -> AudioEncoderConfig {
        AudioEncoderConfig(nMels: nMels, nCtx: nCtx, nState: nState, nHead: nHead, nLayer: nLayer, outputDim: nState,
                           avgPool: false, projection: false, bosEos: false)
    }

    /// Frames after the stride-2 conv for `melLength` valid mel frames: (melLength − 1)/2 + 1 (0 for 0).
    public static func encoderFrames(melLength: Int) -> Int { melLength <= 0 ? 0 : (melLength - 1) / 2 + 1 }
    /// Output vectors for `melLength` valid frames: floor(L1/2) with the pool, L1 without (bos/eos not counted).
    public func outputFrames(melLength: Int) -> Int {
        let l1 = AudioEncoderConfig.encoderFrames(melLength: melLength)
        return avgPool ? l1 / 2 : l1
    }
    /// Token span of one audio in the prompt (outputs + bos/eos).
    public func spanTokens(melLength: Int) -> Int { outputFrames(melLength: melLength) + (bosEos ? 2 : 0) }

    func validate() throws(ModelError) {
        for (k, v) in [("audio.n_mels", nMels), ("audio.n_ctx", nCtx), ("audio.n_state", nState), ("audio.n_head", nHead),
                       ("audio.n_layer", nLayer), ("audio.output_dim", outputDim)] where v <= 0 {
            throw .badConfig(key: k, reason: "must be positive, got \(v)")
        }
        guard nState % nHead == 0 else { throw .badConfig(key: "audio.n_head", reason: "n_state \(nState) not divisible by \(nHead)") }
        if audioTokenId != nil && bosEos {
            throw .badConfig(key: MetadataKeys.audioTokenID, reason: "per-vector audio tokens and learned bos/eos vectors exclude each other")
        }
        if !projection && outputDim != nState {
            throw .badConfig(key: "audio.output_dim", reason: "without a projection it must equal n_state \(nState)")
        }
    }
}

/// Qwen-Audio = audio encoder + QWen LLM.
public struct QwenAudioConfig: Sendable, Equatable {
    public var llm: QwenLMConfig
    public var audio: AudioEncoderConfig

    public init(llm: QwenLMConfig, audio: AudioEncoderConfig) throws(ModelError) {
        self.llm = llm; self.audio = audio
        try llm.validate(); try audio.validate()
        guard audio.outputDim == llm.hiddenSize else {
            throw .badConfig(key: "audio.output_dim", reason: "\(audio.outputDim) must equal qwen.hidden_size \(llm.hiddenSize)")
        }
    }

    /// From `.ear` metadata (keys `qwen.*` and `audio.*` as the converter writes them).
    public init(metadata m: [String: ConfigValue]) throws(ModelError) {
        func int(_ k: String) throws(ModelError) -> Int {
            switch m[k] {
            case .int(let v)?: return v
            case .double(let v)? where v == v.rounded(): return Int(v)
            case nil: throw .badConfig(key: k, reason: "missing")
            default: throw .badConfig(key: k, reason: "not an integer")
            }
        }
        func double(_ k: String) throws(ModelError) -> Double {
            switch m[k] {
            case .int(let v)?: return Double(v)
            case .double(let v)?: return v
            case nil: throw .badConfig(key: k, reason: "missing")
            default: throw .badConfig(key: k, reason: "not a number")
            }
        }
        func bool(_ k: String, default d: Bool) throws(ModelError) -> Bool {
            switch m[k] {
            case .bool(let v)?: return v
            case nil: return d
            default: throw .badConfig(key: k, reason: "not a boolean")
            }
        }
        var qwen2Audio = false
        if case .string(let arch)? = m[MetadataKeys.architecture] {
            qwen2Audio = arch == MetadataKeys.Architecture.qwen2Audio
            guard qwen2Audio || arch == MetadataKeys.Architecture.qwenAudio else {
                throw .badConfig(key: MetadataKeys.architecture, reason: "'\(arch)' is not qwen-audio or qwen2-audio")
            }
        }
        if qwen2Audio {
            let r = MetadataReader(m)
            let llm = try QwenLMConfig(metadata: m, qwen2: true)
            let audio = AudioEncoderConfig(
                nMels: try int("audio.n_mels"), nCtx: try int("audio.n_ctx"), nState: try int("audio.n_state"),
                nHead: try int("audio.n_head"), nLayer: try int("audio.n_layer"), outputDim: try int("audio.output_dim"),
                avgPool: true, projection: true, bosEos: false, audioStartId: try int("audio.audio_start_id"),
                audioTokenId: try r.int(MetadataKeys.audioTokenID))
            try self.init(llm: llm, audio: audio)
            return
        }
        let llm = QwenLMConfig(
            hiddenSize: try int(MetadataKeys.hiddenSize), numLayers: try int(MetadataKeys.numLayers), numHeads: try int(MetadataKeys.numHeads),
            headDim: try int(MetadataKeys.headDim), intermediateSize: try int(MetadataKeys.intermediateSize),
            vocabSize: try int(MetadataKeys.vocabSize), rmsNormEps: Float(try double(MetadataKeys.rmsNormEps)),
            ropeBase: try double(MetadataKeys.ropeBase), seqLength: try int(MetadataKeys.seqLength),
            useDynamicNTK: try bool(MetadataKeys.useDynamicNTK, default: true), useLognAttn: try bool(MetadataKeys.useLognAttn, default: true))
        let audio = AudioEncoderConfig(
            nMels: try int("audio.n_mels"), nCtx: try int("audio.n_ctx"), nState: try int("audio.n_state"),
            nHead: try int("audio.n_head"), nLayer: try int("audio.n_layer"), outputDim: try int("audio.output_dim"),
            avgPool: try bool(MetadataKeys.audioAvgPool, default: true), bosEos: try bool(MetadataKeys.audioBosEos, default: true),
            audioStartId: try int("audio.audio_start_id"))
        try self.init(llm: llm, audio: audio)
    }

    /// From a Hugging Face Qwen-Audio config.json.
    public init(hfConfigJSON data: Data) throws(ModelError) {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw .badConfig(key: "config.json", reason: "not JSON")
        }
        guard let c = object as? [String: Any] else { throw .badConfig(key: "config.json", reason: "not a JSON object") }
        guard let a = c["audio"] as? [String: Any] else { throw .badConfig(key: "audio", reason: "missing") }
        var m: [String: ConfigValue] = [:]
        func put(_ key: String, _ from: [String: Any], _ hf: String) {
            if let i = from[hf] as? Int { m[key] = .int(i) } else if let d = from[hf] as? Double { m[key] = .double(d) }
        }
        put(MetadataKeys.hiddenSize, c, "hidden_size"); put(MetadataKeys.numLayers, c, "num_hidden_layers")
        put(MetadataKeys.numHeads, c, "num_attention_heads"); put(MetadataKeys.headDim, c, "kv_channels")
        put(MetadataKeys.intermediateSize, c, "intermediate_size"); put(MetadataKeys.vocabSize, c, "vocab_size")
        put(MetadataKeys.rmsNormEps, c, "layer_norm_epsilon"); put(MetadataKeys.ropeBase, c, "rotary_emb_base")
        put(MetadataKeys.seqLength, c, "seq_length")
        if let b = c["use_dynamic_ntk"] as? Bool { m[MetadataKeys.useDynamicNTK] = .bool(b) }
        if let b = c["use_logn_attn"] as? Bool { m[MetadataKeys.useLognAttn] = .bool(b) }
        for k in ["n_mels", "n_ctx", "n_state", "n_head", "n_layer", "output_dim", "audio_start_id"] { put("audio." + k, a, k) }
        if let p = c["rotary_pct"] as? Double, p != 1 { throw .badConfig(key: "rotary_pct", reason: "only 1.0 is supported, got \(p)") }
        if let v = a["avg_pool"] as? Bool { m[MetadataKeys.audioAvgPool] = .bool(v) }
        if let v = a["add_audio_bos_eos_token"] as? Bool { m[MetadataKeys.audioBosEos] = .bool(v) }
        try self.init(metadata: m)
    }

    /// The metadata keys and values the converter writes for this config.
    public var metadata: [String: ConfigValue] {
        if let token = audio.audioTokenId {
            return [
                MetadataKeys.architecture: .string(MetadataKeys.Architecture.qwen2Audio),
                MetadataKeys.hiddenSize: .int(llm.hiddenSize), MetadataKeys.numLayers: .int(llm.numLayers),
                MetadataKeys.numHeads: .int(llm.numHeads), MetadataKeys.numKVHeads: .int(llm.numKVHeads),
                MetadataKeys.headDim: .int(llm.headDim), MetadataKeys.intermediateSize: .int(llm.intermediateSize),
                MetadataKeys.vocabSize: .int(llm.vocabSize), MetadataKeys.rmsNormEps: .double(Double(llm.rmsNormEps)),
                MetadataKeys.ropeBase: .double(llm.ropeBase), MetadataKeys.seqLength: .int(llm.seqLength),
                MetadataKeys.tiedEmbeddings: .bool(llm.tiedEmbeddings),
                "audio.n_mels": .int(audio.nMels), "audio.n_ctx": .int(audio.nCtx), "audio.n_state": .int(audio.nState),
                "audio.n_head": .int(audio.nHead), "audio.n_layer": .int(audio.nLayer), "audio.output_dim": .int(audio.outputDim),
                "audio.audio_start_id": .int(audio.audioStartId), MetadataKeys.audioTokenID: .int(token),
            ]
        }
        return [
            MetadataKeys.architecture: .string(MetadataKeys.Architecture.qwenAudio),
            MetadataKeys.hiddenSize: .int(llm.hiddenSize), MetadataKeys.numLayers: .int(llm.numLayers),
            MetadataKeys.numHeads: .int(llm.numHeads), MetadataKeys.headDim: .int(llm.headDim),
            MetadataKeys.intermediateSize: .int(llm.intermediateSize), MetadataKeys.vocabSize: .int(llm.vocabSize),
            MetadataKeys.rmsNormEps: .double(Double(llm.rmsNormEps)), MetadataKeys.ropeBase: .double(llm.ropeBase),
            MetadataKeys.seqLength: .int(llm.seqLength), MetadataKeys.useDynamicNTK: .bool(llm.useDynamicNTK),
            MetadataKeys.useLognAttn: .bool(llm.useLognAttn),
            "audio.n_mels": .int(audio.nMels), "audio.n_ctx": .int(audio.nCtx), "audio.n_state": .int(audio.nState),
            "audio.n_head": .int(audio.nHead), "audio.n_layer": .int(audio.nLayer), "audio.output_dim": .int(audio.outputDim),
            "audio.audio_start_id": .int(audio.audioStartId),
            MetadataKeys.audioAvgPool: .bool(audio.avgPool), MetadataKeys.audioBosEos: .bool(audio.bosEos),
        ]
    }
}
