// CTranslate2Whisper: maps a CTranslate2 `WhisperSpec` model onto canonical Whisper tensors (f32 values),
// the config and the generation settings stored in its config.json. Names: Formats/tensor-names-whisper.md.
//
// CTranslate2 layout (ctranslate2/specs/whisper_spec.py, converters/transformers.py WhisperLoader):
//   encoder/conv{1,2}/{weight [S, Cin, 3], bias}            encoder/position_encodings/encodings [C, S]
//   encoder/layer_l/self_attention/layer_norm/{gamma,beta}   …/linear_0 fused q|k|v [3S, S] (+[3S] bias, k part 0)
//   encoder/layer_l/self_attention/linear_1 (out)            encoder/layer_l/ffn/{layer_norm, linear_0 up, linear_1 down}
//   encoder/layer_norm (ln_post)                             encoder/num_heads (int16 scalar)
//   decoder/embeddings/weight [V, D]                         decoder/position_encodings/encodings [T, D]
//   decoder/layer_l/self_attention/… (as encoder)            decoder/layer_l/attention/layer_norm (cross_norm)
//   decoder/layer_l/attention/linear_0 q, linear_1 fused k|v [2D, D], linear_2 out
//   decoder/layer_norm, decoder/num_heads, decoder/projection/weight (usually an alias of the embeddings)
// The key bias CTranslate2 pads with zeros is dropped: a bias on keys adds q·b to every score of a query,
// which softmax cancels, so dropping it is exact even if it were non-zero.
import EarshotModels
import Foundation

/// One tensor under its canonical name, as f32 values (row-major).
public struct CanonicalTensor: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Decoding settings CTranslate2 keeps in `config.json` for Whisper.
public struct WhisperGenerationSettings: Sendable, Equatable {
    /// Tokens never sampled (OpenAI's `suppress_tokens` "-1" set: symbols, speaker tags, some specials).
    public var suppressIds: [Int]
    /// Tokens suppressed at the first sampled position (space and end-of-text).
    public var suppressIdsBegin: [Int]
    /// Language token ids (empty for English-only checkpoints that list none).
    public var langIds: [Int]
    /// (decoder layer, head) pairs used for word-level alignment.
    public var alignmentHeads: [[Int]]

    public init(suppressIds: [Int] = [], suppressIdsBegin: [Int] = [], langIds: [Int] = [], alignmentHeads: [[Int]] = []) {
        self.suppressIds = suppressIds
        self.suppressIdsBegin = suppressIdsBegin
        self.langIds = langIds
        self.alignmentHeads = alignmentHeads
    }
}

/// A Whisper checkpoint in canonical form.
public struct WhisperCheckpoint: Sendable {
    public let config: WhisperConfig
    public let generation: WhisperGenerationSettings
    /// In `WhisperTensorNames.all(config)` order (plus `dec.output.weight` when the projection is untied).
    public let tensors: [CanonicalTensor]

    public func tensor(_ name: String) -> CanonicalTensor? { tensors.first { $0.name == name } }
}

public enum CTranslate2Whisper {
    /// Reads `DIR/model.bin` + `DIR/config.json` and maps them.
    public static func load(directory: URL) throws(CTranslate2Error) -> WhisperCheckpoint {
        try convert(try CTranslate2Model.load(directory: directory))
    }

    /// Maps a parsed `WhisperSpec` model to canonical tensors, checking every shape.
    public static func convert(_ m: CTranslate2Model) throws(CTranslate2Error) -> WhisperCheckpoint {
        guard m.specName == "WhisperSpec" else { throw .wrongSpec(expected: "WhisperSpec", actual: m.specName) }
        let conv1 = try m.require("encoder/conv1/weight")
        guard conv1.shape.count == 3, conv1.shape[2] == 3 else {
            throw .badShape(variable: conv1.name, expected: [-1, -1, 3], actual: conv1.shape)
        }
        let s = conv1.shape[0], nMels = conv1.shape[1]
        let audioPos = try m.require("encoder/position_encodings/encodings")
        guard audioPos.shape.count == 2, audioPos.shape[1] == s else {
            throw .badShape(variable: audioPos.name, expected: [-1, s], actual: audioPos.shape)
        }
        let emb = try m.require("decoder/embeddings/weight")
        guard emb.shape.count == 2 else { throw .badShape(variable: emb.name, expected: [-1, -1], actual: emb.shape) }
        let vocab = emb.shape[0], d = emb.shape[1]
        let textPos = try m.require("decoder/position_encodings/encodings")
        guard textPos.shape.count == 2, textPos.shape[1] == d else {
            throw .badShape(variable: textPos.name, expected: [-1, d], actual: textPos.shape)
        }
        let config = WhisperConfig(
            nMels: nMels, nAudioCtx: audioPos.shape[0], nAudioState: s,
            nAudioHead: try m.intScalar("encoder/num_heads"), nAudioLayer: try layerCount(m, "encoder"),
            nVocab: vocab, nTextCtx: textPos.shape[0], nTextState: d,
            nTextHead: try m.intScalar("decoder/num_heads"), nTextLayer: try layerCount(m, "decoder"))
        guard config.nAudioHead > 0, s % config.nAudioHead == 0 else {
            throw .badShape(variable: "encoder/num_heads", expected: [s], actual: [config.nAudioHead])
        }
        guard config.nTextHead > 0, d % config.nTextHead == 0 else {
            throw .badShape(variable: "decoder/num_heads", expected: [d], actual: [config.nTextHead])
        }

        var out: [CanonicalTensor] = []
        let mapper = Mapper(model: m)
        typealias N = WhisperTensorNames
        // Encoder stem.
        out.append(try mapper.conv(N.conv1Weight, "encoder/conv1/weight", out: s, inChannels: nMels))
        out.append(try mapper.plain(N.conv1Bias, "encoder/conv1/bias", [s]))
        out.append(try mapper.conv(N.conv2Weight, "encoder/conv2/weight", out: s, inChannels: s))
        out.append(try mapper.plain(N.conv2Bias, "encoder/conv2/bias", [s]))
        out.append(try mapper.plain(N.audioPositionEmbedding, audioPos.name, [config.nAudioCtx, s]))
        for l in 0..<config.nAudioLayer {
            let p = "encoder/layer_\(l)/"
            out += try mapper.norm({ N.encoder(l, "attn_norm.\($0)") }, p + "self_attention/layer_norm", s)
            out += try mapper.fusedSelfAttention({ N.encoder(l, $0) }, p + "self_attention", s)
            out += try mapper.ffn({ N.encoder(l, $0) }, p + "ffn", s)
        }
        out += try mapper.norm({ $0 == "weight" ? N.postNormWeight : N.postNormBias }, "encoder/layer_norm", s)
        // Decoder.
        out.append(try mapper.plain(N.tokenEmbedding, emb.name, [vocab, d]))
        out.append(try mapper.plain(N.positionEmbedding, textPos.name, [config.nTextCtx, d]))
        for l in 0..<config.nTextLayer {
            let p = "decoder/layer_\(l)/"
            out += try mapper.norm({ N.decoder(l, "attn_norm.\($0)") }, p + "self_attention/layer_norm", d)
            out += try mapper.fusedSelfAttention({ N.decoder(l, $0) }, p + "self_attention", d)
            out += try mapper.norm({ N.decoder(l, "cross_norm.\($0)") }, p + "attention/layer_norm", d)
            out += try mapper.crossAttention({ N.decoder(l, $0) }, p + "attention", d)
            out += try mapper.ffn({ N.decoder(l, $0) }, p + "ffn", d)
        }
        out += try mapper.norm({ $0 == "weight" ? N.outputNormWeight : N.outputNormBias }, "decoder/layer_norm", d)
        if m.variable("decoder/projection/weight") != nil, m.aliases["decoder/projection/weight"] != emb.name {
            let proj = try mapper.plain("dec.output.weight", "decoder/projection/weight", [vocab, d])
            if proj.values != out.first(where: { $0.name == N.tokenEmbedding })?.values { out.append(proj) }
        }
        return WhisperCheckpoint(config: config, generation: try generationSettings(m.config), tensors: out)
    }

    /// Number of `PREFIX/layer_N/` groups (checked to be 0…N-1 without gaps).
    static func layerCount(_ m: CTranslate2Model, _ prefix: String) throws(CTranslate2Error) -> Int {
        var layers = Set<Int>()
        let head = prefix + "/layer_"
        for v in m.variables where v.name.hasPrefix(head) {
            let rest = v.name.dropFirst(head.count)
            if let slash = rest.firstIndex(of: "/"), let n = Int(rest[..<slash]) { layers.insert(n) }
        }
        for l in 0..<layers.count where !layers.contains(l) { throw .missingVariable("\(head)\(l)/…") }
        return layers.count
    }

    static func generationSettings(_ c: [String: Any]) throws(CTranslate2Error) -> WhisperGenerationSettings {
        func ints(_ key: String) throws(CTranslate2Error) -> [Int] {
            guard let v = c[key] else { return [] }
            guard let a = v as? [Any] else { throw .badConfig("\(key) is not a list") }
            var out: [Int] = []
            for x in a {
                guard let n = x as? Int else { throw .badConfig("\(key) holds a non-integer") }
                out.append(n)
            }
            return out
        }
        var heads: [[Int]] = []
        if let v = c["alignment_heads"] {
            guard let a = v as? [[Int]] else { throw .badConfig("alignment_heads is not a list of pairs") }
            heads = a
        }
        return WhisperGenerationSettings(suppressIds: try ints("suppress_ids"),
                                         suppressIdsBegin: try ints("suppress_ids_begin"),
                                         langIds: try ints("lang_ids"), alignmentHeads: heads)
    }
}

/// Reads CTranslate2 variables as f32 and cuts/transforms them into canonical tensors.
private struct Mapper {
    let model: CTranslate2Model

    func values(_ ct2: String, _ shape: [Int]) throws(CTranslate2Error) -> [Float] {
        let v = try model.require(ct2)
        guard v.shape == shape else { throw .badShape(variable: ct2, expected: shape, actual: v.shape) }
        return try model.floats(ct2)
    }

    func plain(_ name: String, _ ct2: String, _ shape: [Int]) throws(CTranslate2Error) -> CanonicalTensor {
        CanonicalTensor(name: name, shape: shape, values: try values(ct2, shape))
    }

    /// conv [S, M, 3] → im2col [S, 3·M] with W[s, k·M + m] = conv[s, m, k].
    func conv(_ name: String, _ ct2: String, out s: Int, inChannels m: Int) throws(CTranslate2Error) -> CanonicalTensor {
        let c = try values(ct2, [s, m, 3])
        var w = [Float](repeating: 0, count: s * 3 * m)
        for o in 0..<s { for ch in 0..<m { for k in 0..<3 { w[o * 3 * m + k * m + ch] = c[(o * m + ch) * 3 + k] } } }
        return CanonicalTensor(name: name, shape: [s, 3 * m], values: w)
    }

    func norm(_ name: (String) -> String, _ ct2: String, _ n: Int) throws(CTranslate2Error) -> [CanonicalTensor] {
        [try plain(name("weight"), ct2 + "/gamma", [n]), try plain(name("bias"), ct2 + "/beta", [n])]
    }

    /// Rows [from, from+count) of a [R, cols] matrix (or elements of a vector when cols == 1).
    func slice(_ v: [Float], rows from: Int, _ count: Int, cols: Int) -> [Float] {
        Array(v[(from * cols)..<((from + count) * cols)])
    }

    func fusedSelfAttention(_ name: (String) -> String, _ ct2: String, _ s: Int) throws(CTranslate2Error) -> [CanonicalTensor] {
        let w = try values(ct2 + "/linear_0/weight", [3 * s, s])
        let b = try values(ct2 + "/linear_0/bias", [3 * s])
        return [
            CanonicalTensor(name: name("attn_q.weight"), shape: [s, s], values: slice(w, rows: 0, s, cols: s)),
            CanonicalTensor(name: name("attn_q.bias"), shape: [s], values: slice(b, rows: 0, s, cols: 1)),
            CanonicalTensor(name: name("attn_k.weight"), shape: [s, s], values: slice(w, rows: s, s, cols: s)),
            CanonicalTensor(name: name("attn_v.weight"), shape: [s, s], values: slice(w, rows: 2 * s, s, cols: s)),
            CanonicalTensor(name: name("attn_v.bias"), shape: [s], values: slice(b, rows: 2 * s, s, cols: 1)),
            try plain(name("attn_output.weight"), ct2 + "/linear_1/weight", [s, s]),
            try plain(name("attn_output.bias"), ct2 + "/linear_1/bias", [s]),
        ]
    }

    func crossAttention(_ name: (String) -> String, _ ct2: String, _ d: Int) throws(CTranslate2Error) -> [CanonicalTensor] {
        let kv = try values(ct2 + "/linear_1/weight", [2 * d, d])
        let kvb = try values(ct2 + "/linear_1/bias", [2 * d])
        return [
            try plain(name("cross_q.weight"), ct2 + "/linear_0/weight", [d, d]),
            try plain(name("cross_q.bias"), ct2 + "/linear_0/bias", [d]),
            CanonicalTensor(name: name("cross_k.weight"), shape: [d, d], values: slice(kv, rows: 0, d, cols: d)),
            CanonicalTensor(name: name("cross_v.weight"), shape: [d, d], values: slice(kv, rows: d, d, cols: d)),
            CanonicalTensor(name: name("cross_v.bias"), shape: [d], values: slice(kvb, rows: d, d, cols: 1)),
            try plain(name("cross_output.weight"), ct2 + "/linear_2/weight", [d, d]),
            try plain(name("cross_output.bias"), ct2 + "/linear_2/bias", [d]),
        ]
    }

    func ffn(_ name: (String) -> String, _ ct2: String, _ s: Int) throws(CTranslate2Error) -> [CanonicalTensor] {
        let up = try model.require(ct2 + "/linear_0/weight")
        guard up.shape.count == 2, up.shape[1] == s else { throw .badShape(variable: up.name, expected: [-1, s], actual: up.shape) }
        let f = up.shape[0]
        return try norm({ name("ffn_norm.\($0)") }, ct2 + "/layer_norm", s) + [
            try plain(name("ffn_up.weight"), ct2 + "/linear_0/weight", [f, s]),
            try plain(name("ffn_up.bias"), ct2 + "/linear_0/bias", [f]),
            try plain(name("ffn_down.weight"), ct2 + "/linear_1/weight", [s, f]),
            try plain(name("ffn_down.bias"), ct2 + "/linear_1/bias", [s]),
        ]
    }
}
