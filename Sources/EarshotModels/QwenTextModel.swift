// QwenTextModel: a text-only Qwen LLM (architectures `qwen2` and `qwen` in `.ear` metadata) behind a small API —
// built from a WeightSource and the file's metadata keys (MetadataKeys), prefill a prompt, decode token by
// token against a KV cache, greedy decoding. No I/O: the caller opens the file and hands over its tensors.
import EarshotKernels

extension QwenLMConfig {
    /// The LLM config of a text model from `.ear` metadata (`general.architecture` = `qwen2` or `qwen`).
    /// Qwen2 defaults: no dynamic NTK, no logn, KV heads = heads unless `qwen.num_kv_heads` says otherwise.
    public init(textMetadata m: [String: ConfigValue]) throws(ModelError) {
        let arch = try MetadataReader(m).string(MetadataKeys.architecture)
        let qwen2 = arch == MetadataKeys.Architecture.qwen2
        guard qwen2 || arch == MetadataKeys.Architecture.qwen else {
            throw .badConfig(key: MetadataKeys.architecture, reason: "'\(arch)' is not a text Qwen model (qwen2, qwen)")
        }
        try self.init(metadata: m, qwen2: qwen2)
    }

    /// The `qwen.*` keys, with Qwen2's defaults (no NTK, no logn) when `qwen2` (also Qwen2-Audio's LLM).
    init(metadata m: [String: ConfigValue], qwen2: Bool) throws(ModelError) {
        let r = MetadataReader(m)
        let heads = try r.int(MetadataKeys.numHeads)
        self.init(hiddenSize: try r.int(MetadataKeys.hiddenSize), numLayers: try r.int(MetadataKeys.numLayers),
                  numHeads: heads, headDim: try r.int(MetadataKeys.headDim),
                  intermediateSize: try r.int(MetadataKeys.intermediateSize), vocabSize: try r.int(MetadataKeys.vocabSize),
                  rmsNormEps: Float(try r.double(MetadataKeys.rmsNormEps)), ropeBase: try r.double(MetadataKeys.ropeBase),
                  seqLength: try r.int(MetadataKeys.seqLength),
                  useDynamicNTK: try r.bool(MetadataKeys.useDynamicNTK, default: !qwen2),
                  useLognAttn: try r.bool(MetadataKeys.useLognAttn, default: !qwen2),
                  numKVHeads: try r.optionalInt(MetadataKeys.numKVHeads) ?? heads,
                  tiedEmbeddings: try r.bool(MetadataKeys.tiedEmbeddings, default: false))
        try validate()
    }
}

/// Typed reads of metadata values, with errors naming the key.
struct MetadataReader {
    let m: [String: ConfigValue]
    init(_ m: [String: ConfigValue]) { self.m = m }

    func optionalInt(_ k: String) throws(ModelError) -> Int? {
        switch m[k] {
        case .int(let v)?: return v
        case .double(let v)? where v == v.rounded() && abs(v) < 9e15: return Int(v)
        case nil: return nil
        default: throw .badConfig(key: k, reason: "not an integer")
        }
    }

    func int(_ k: String) throws(ModelError) -> Int {
        guard let v = try optionalInt(k) else { throw .badConfig(key: k, reason: "missing") }
        return v
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

    func string(_ k: String) throws(ModelError) -> String {
        switch m[k] {
        case .string(let v)?: return v
        case nil: throw .badConfig(key: k, reason: "missing")
        default: throw .badConfig(key: k, reason: "not a string")
        }
    }
}

/// A text-only Qwen LLM (Qwen2 / Qwen2.5, or Qwen-7B's text half).
public final class QwenTextModel: @unchecked Sendable {   // immutable after init
    public let config: QwenLMConfig
    public let lm: QwenLM

    /// Builds the model from canonical-name tensors; every shape is checked against `config`.
    public init(config: QwenLMConfig, weights: some WeightSource) throws(ModelError) {
        self.config = config
        lm = try QwenLM(config: config, weights: weights)
    }

    /// Builds the model from `.ear` metadata (QwenLMConfig(textMetadata:)) and its tensors.
    public convenience init(metadata: [String: ConfigValue], weights: some WeightSource) throws(ModelError) {
        try self.init(config: QwenLMConfig(textMetadata: metadata), weights: weights)
    }

    /// A KV cache for up to `capacity` tokens (f16 by default); it holds only the KV heads.
    public func makeCache(capacity: Int, precision: KVCache.Precision = .f16) -> KVCache {
        KVCache(config: config, capacity: capacity, precision: precision)
    }

    /// Runs the prompt `ids` into `cache` and returns the logits at its last position [V].
    public func prefill(ids: [Int], cache: KVCache) throws(ModelError) -> [Float] {
        guard !ids.isEmpty else { throw .badInput("empty prompt") }
        return lm.lastLogits(try lm.forward(try lm.embed(ids), cache: cache))
    }

    /// Feeds one token and returns the logits for the next one [V].
    public func decodeStep(id: Int, cache: KVCache) throws(ModelError) -> [Float] {
        lm.lastLogits(try lm.forward(try lm.embed([id]), cache: cache))
    }
}
