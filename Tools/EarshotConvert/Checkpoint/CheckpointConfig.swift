// CheckpointConfig: the fields of a Qwen-Audio `config.json` the converter needs, with the architecture check.
import Foundation

/// The hyperparameters of a Hugging Face Qwen-Audio checkpoint (`QWenLMHeadModel` + `audio` sub-config).
public struct CheckpointConfig: Sendable, Equatable {
    // LLM (Qwen-7B style)
    public var hiddenSize: Int          // H
    public var numLayers: Int
    public var numHeads: Int
    public var headDim: Int             // kv_channels
    public var intermediateSize: Int    // the HF value = 2F (w1 and w2 are F wide each)
    public var vocabSize: Int           // V
    public var rmsNormEps: Double
    public var ropeBase: Double
    public var seqLength: Int
    public var useDynamicNTK: Bool
    public var useLognAttn: Bool
    // audio encoder (Whisper style)
    public var nMels: Int               // M
    public var nCtx: Int                // C
    public var nState: Int              // S
    public var nHead: Int
    public var nLayer: Int
    public var outputDim: Int           // D
    public var audioStartId: Int
    public var addAudioBosEos: Bool

    /// Attention projection width P = heads × head_dim (the code needs P = H).
    public var projectionSize: Int { numHeads * headDim }
    /// Width of each of w1, w2.
    public var ffnSize: Int { intermediateSize / 2 }

    /// Parses and checks `config.json` bytes (`path` is only used in messages).
    public static func parse(_ data: Data, path: String) throws(ConvertError) -> CheckpointConfig {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw .invalidConfig(path: path, reason: "not valid JSON")
        }
        guard let root = object as? [String: Any] else {
            throw .invalidConfig(path: path, reason: "not a JSON object")
        }
        let architectures = (root["architectures"] as? [Any])?.compactMap { $0 as? String } ?? []
        let modelType = root["model_type"] as? String
        let audio = root["audio"] as? [String: Any]
        guard architectures.contains("QWenLMHeadModel"), let audio else {
            var found = "architectures \(architectures)"
            if let modelType { found += ", model_type \"\(modelType)\"" }
            if architectures.contains("QWenLMHeadModel") { found += " without an \"audio\" sub-config (a text-only Qwen)" }
            throw .unsupportedArchitecture(found: found)
        }
        let llm = Fields(dict: root, prefix: "", path: path)
        let enc = Fields(dict: audio, prefix: "audio.", path: path)
        let c = CheckpointConfig(
            hiddenSize: try llm.int("hidden_size"), numLayers: try llm.int("num_hidden_layers"),
            numHeads: try llm.int("num_attention_heads"), headDim: try llm.int("kv_channels"),
            intermediateSize: try llm.int("intermediate_size"), vocabSize: try llm.int("vocab_size"),
            rmsNormEps: try llm.double("layer_norm_epsilon"), ropeBase: try llm.double("rotary_emb_base"),
            seqLength: try llm.int("seq_length"),
            useDynamicNTK: try llm.bool("use_dynamic_ntk", default: true),
            useLognAttn: try llm.bool("use_logn_attn", default: true),
            nMels: try enc.int("n_mels"), nCtx: try enc.int("n_ctx"), nState: try enc.int("n_state"),
            nHead: try enc.int("n_head"), nLayer: try enc.int("n_layer"), outputDim: try enc.int("output_dim"),
            audioStartId: try enc.int("audio_start_id"),
            addAudioBosEos: try enc.bool("add_audio_bos_eos_token", default: true))
        // Features the runtime does not implement are refused here rather than producing a wrong model.
        if try llm.bool("no_bias", default: true) == false {
            throw .unsupportedConfigValue(key: "no_bias", value: "false", reason: "only the released no_bias=true layout is supported")
        }
        if try llm.bool("tie_word_embeddings", default: false) {
            throw .unsupportedConfigValue(key: "tie_word_embeddings", value: "true", reason: "Qwen-Audio has an untied lm_head")
        }
        if let pct = root["rotary_pct"], (pct as? NSNumber)?.doubleValue != 1.0 {
            throw .unsupportedConfigValue(key: "rotary_pct", value: "\(pct)", reason: "only rotary_pct 1.0 is supported")
        }
        if try enc.bool("avg_pool", default: true) == false {
            throw .unsupportedConfigValue(key: "audio.avg_pool", value: "false", reason: "Qwen-Audio pools the encoder output")
        }
        try c.check()
        return c
    }

    /// Largest layer or head count accepted.
    public static let maxLayersOrHeads = 1024

    func check() throws(ConvertError) {
        let positive: [(String, Int)] = [
            ("hidden_size", hiddenSize), ("num_hidden_layers", numLayers), ("num_attention_heads", numHeads),
            ("kv_channels", headDim), ("intermediate_size", intermediateSize), ("vocab_size", vocabSize),
            ("seq_length", seqLength), ("audio.n_mels", nMels), ("audio.n_ctx", nCtx), ("audio.n_state", nState),
            ("audio.n_head", nHead), ("audio.n_layer", nLayer), ("audio.output_dim", outputDim),
        ]
        for (key, v) in positive where v <= 0 || v > 1 << 24 {
            throw .unsupportedConfigValue(key: key, value: "\(v)", reason: "must be between 1 and 2^24")
        }
        // Counts that size lists before any tensor is seen (the expected tensor list has ~8 names per LLM
        // layer and 15 per audio layer): bounded far above any real model (Qwen-7B: 32, Whisper-large: 32)
        // so a hostile config cannot make the converter build millions of names.
        let counts: [(String, Int)] = [("num_hidden_layers", numLayers), ("audio.n_layer", nLayer),
                                       ("num_attention_heads", numHeads), ("audio.n_head", nHead)]
        for (key, v) in counts where v > Self.maxLayersOrHeads {
            throw .unsupportedConfigValue(key: key, value: "\(v)", reason: "must be at most \(Self.maxLayersOrHeads)")
        }
        // Reals used as divisors and exponents: NaN, ±inf, 0 or a negative value would give NaN activations.
        if !(rmsNormEps.isFinite && rmsNormEps > 0 && rmsNormEps < 1) {
            throw .unsupportedConfigValue(key: "layer_norm_epsilon", value: "\(rmsNormEps)", reason: "must be a number in (0, 1)")
        }
        if !(ropeBase.isFinite && ropeBase > 1) {
            throw .unsupportedConfigValue(key: "rotary_emb_base", value: "\(ropeBase)", reason: "must be a finite number above 1")
        }
        if projectionSize != hiddenSize {
            throw .unsupportedConfigValue(key: "kv_channels", value: "\(headDim)",
                reason: "num_attention_heads × kv_channels = \(projectionSize) must equal hidden_size \(hiddenSize)")
        }
        if intermediateSize % 2 != 0 {
            throw .unsupportedConfigValue(key: "intermediate_size", value: "\(intermediateSize)", reason: "must be even (w1 and w2 are half each)")
        }
        if nState % nHead != 0 {
            throw .unsupportedConfigValue(key: "audio.n_head", value: "\(nHead)", reason: "must divide audio.n_state \(nState)")
        }
        if outputDim != hiddenSize {
            throw .unsupportedConfigValue(key: "audio.output_dim", value: "\(outputDim)", reason: "must equal hidden_size \(hiddenSize)")
        }
        if !addAudioBosEos {
            throw .unsupportedConfigValue(key: "audio.add_audio_bos_eos_token", value: "false", reason: "Qwen-Audio uses learned boundary vectors")
        }
    }
}

/// Typed access to one JSON object's fields, with messages naming the key.
struct Fields {
    let dict: [String: Any]
    let prefix: String
    let path: String

    func int(_ key: String) throws(ConvertError) -> Int {
        guard let v = dict[key] else { throw .invalidConfig(path: path, reason: "missing \"\(prefix)\(key)\"") }
        guard let i = exactInt(v) else { throw .invalidConfig(path: path, reason: "\"\(prefix)\(key)\" is not an integer: \(v)") }
        return i
    }

    func double(_ key: String) throws(ConvertError) -> Double {
        guard let v = dict[key] else { throw .invalidConfig(path: path, reason: "missing \"\(prefix)\(key)\"") }
        guard let n = v as? NSNumber, !isJSONBool(v) else {
            throw .invalidConfig(path: path, reason: "\"\(prefix)\(key)\" is not a number: \(v)")
        }
        return n.doubleValue
    }

    func bool(_ key: String, default value: Bool) throws(ConvertError) -> Bool {
        guard let v = dict[key], !(v is NSNull) else { return value }
        guard isJSONBool(v), let b = v as? Bool else { throw .invalidConfig(path: path, reason: "\"\(prefix)\(key)\" is not true/false: \(v)") }
        return b
    }
}
