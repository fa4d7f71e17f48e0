// TinyCheckpoint: the tiny Qwen-Audio checkpoint of the fixtures, regenerated bit for bit from its
// config.json and seed by the counter-based generator of shared/fixtures/README.md §3.1
// (FNV-1a-64 of the tensor name, SplitMix64 of the element index, float32 affine, bf16 round-to-nearest-even).
// Names are the Hugging Face state-dict keys; every tensor is bfloat16 bits, row-major.
import Foundation

public struct TinyCheckpoint: Sendable {
    /// Scale/offset class of a tensor (README §3.1 "Scale and offset by role").
    public enum Role: String, Sendable { case matrix, lmHead = "lm_head", bias, normBias = "norm_bias", normWeight = "norm_weight", embedding }

    public struct Spec: Sendable {
        public let name: String
        public let shape: [Int]
        public let role: Role
        public var count: Int { shape.reduce(1, *) }
    }

    public struct Tensor: Sendable {
        public let spec: Spec
        /// bfloat16 bit patterns, row-major, `spec.count` of them.
        public let bits: [UInt16]
    }

    /// The dims the generator needs, read from a Qwen-Audio config.json.
    public struct Dims: Sendable {
        public var hidden, kvChannels, heads, intermediate, vocab, layers: Int
        public var nMels, nCtx, nState, audioLayers, outputDim: Int
        public var audioBosEos: Bool

        public init(configJSON: Data) throws {
            guard let c = try JSONSerialization.jsonObject(with: configJSON) as? [String: Any],
                  let a = c["audio"] as? [String: Any] else { throw TinyCheckpointError.badConfig("not a Qwen-Audio config") }
            func int(_ d: [String: Any], _ k: String) throws -> Int {
                guard let v = d[k] as? Int else { throw TinyCheckpointError.badConfig("missing integer \(k)") }
                return v
            }
            hidden = try int(c, "hidden_size"); kvChannels = try int(c, "kv_channels")
            heads = try int(c, "num_attention_heads"); intermediate = try int(c, "intermediate_size")
            vocab = try int(c, "vocab_size"); layers = try int(c, "num_hidden_layers")
            nMels = try int(a, "n_mels"); nCtx = try int(a, "n_ctx"); nState = try int(a, "n_state")
            audioLayers = try int(a, "n_layer"); outputDim = try int(a, "output_dim")
            audioBosEos = (a["add_audio_bos_eos_token"] as? Bool) ?? true
        }
    }

    /// Token ids at or above this have no token: their lm_head rows are zero.
    public static let tokenizerVocab = 155_165

    public let seed: UInt64
    public let dims: Dims
    /// Every tensor, sorted by name.
    public let tensors: [Tensor]
    private let index: [String: Int]

    public init(configJSON: Data, seed: UInt64) throws {
        self.seed = seed
        dims = try Dims(configJSON: configJSON)
        let specs = TinyCheckpoint.specs(dims)
        tensors = specs.map { Tensor(spec: $0, bits: TinyCheckpoint.generate($0, seed: seed)) }
        index = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.spec.name, $0) })
    }

    public subscript(name: String) -> Tensor? { index[name].map { tensors[$0] } }

    /// The fixtures' checkpoint: Tests/Fixtures/qwen-audio-tiny/config.json, seed 9. Built once (≈40 M values).
    public static let fixture: TinyCheckpoint = {
        let data = try! Data(contentsOf: Fixtures.url("qwen-audio-tiny/config.json"))
        return try! TinyCheckpoint(configJSON: data, seed: 9)
    }()

    // MARK: - Tensor list (README §3.1 "Tensor list for any config")

    public static func specs(_ d: Dims) -> [Spec] {
        let H = d.hidden, P = d.kvChannels * d.heads, F = d.intermediate / 2, V = d.vocab
        let S = d.nState, M = d.nMels, D = d.outputDim
        var s: [Spec] = [
            Spec(name: "lm_head.weight", shape: [V, H], role: .lmHead),
            Spec(name: "transformer.wte.weight", shape: [V, H], role: .embedding),
            Spec(name: "transformer.ln_f.weight", shape: [H], role: .normWeight),
        ]
        for i in 0..<d.layers {
            let p = "transformer.h.\(i)."
            s += [
                Spec(name: p + "ln_1.weight", shape: [H], role: .normWeight),
                Spec(name: p + "attn.c_attn.weight", shape: [3 * P, H], role: .matrix),
                Spec(name: p + "attn.c_attn.bias", shape: [3 * P], role: .bias),
                Spec(name: p + "attn.c_proj.weight", shape: [P, H], role: .matrix),
                Spec(name: p + "ln_2.weight", shape: [H], role: .normWeight),
                Spec(name: p + "mlp.w1.weight", shape: [F, H], role: .matrix),
                Spec(name: p + "mlp.w2.weight", shape: [F, H], role: .matrix),
                Spec(name: p + "mlp.c_proj.weight", shape: [H, F], role: .matrix),
            ]
        }
        let p = "transformer.audio."
        s += [
            Spec(name: p + "positional_embedding", shape: [d.nCtx, S], role: .embedding),
            Spec(name: p + "conv1.weight", shape: [S, M, 3], role: .matrix),
            Spec(name: p + "conv1.bias", shape: [S], role: .bias),
            Spec(name: p + "conv2.weight", shape: [S, S, 3], role: .matrix),
            Spec(name: p + "conv2.bias", shape: [S], role: .bias),
            Spec(name: p + "ln_post.weight", shape: [S], role: .normWeight),
            Spec(name: p + "ln_post.bias", shape: [S], role: .normBias),
            Spec(name: p + "proj.weight", shape: [D, S], role: .matrix),
            Spec(name: p + "proj.bias", shape: [D], role: .bias),
        ]
        if d.audioBosEos { s.append(Spec(name: p + "audio_bos_eos_token.weight", shape: [2, D], role: .embedding)) }
        for i in 0..<d.audioLayers {
            let b = "\(p)blocks.\(i)."
            s += [
                Spec(name: b + "attn.query.weight", shape: [S, S], role: .matrix),
                Spec(name: b + "attn.query.bias", shape: [S], role: .bias),
                Spec(name: b + "attn.key.weight", shape: [S, S], role: .matrix),
                Spec(name: b + "attn.value.weight", shape: [S, S], role: .matrix),
                Spec(name: b + "attn.value.bias", shape: [S], role: .bias),
                Spec(name: b + "attn.out.weight", shape: [S, S], role: .matrix),
                Spec(name: b + "attn.out.bias", shape: [S], role: .bias),
                Spec(name: b + "attn_ln.weight", shape: [S], role: .normWeight),
                Spec(name: b + "attn_ln.bias", shape: [S], role: .normBias),
                Spec(name: b + "mlp.0.weight", shape: [4 * S, S], role: .matrix),
                Spec(name: b + "mlp.0.bias", shape: [4 * S], role: .bias),
                Spec(name: b + "mlp.2.weight", shape: [S, 4 * S], role: .matrix),
                Spec(name: b + "mlp.2.bias", shape: [S], role: .bias),
                Spec(name: b + "mlp_ln.weight", shape: [S], role: .normWeight),
                Spec(name: b + "mlp_ln.bias", shape: [S], role: .normBias),
            ]
        }
        // Python sorts by the UTF-8 string; for these ASCII names that is Swift's `<` on String too.
        return s.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    // MARK: - Generator (README §3.1)

    static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let mix1: UInt64 = 0xBF58_476D_1CE4_E5B9
    static let mix2: UInt64 = 0x94D0_49BB_1331_11EB

    public static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    public static func state(name: String, seed: UInt64) -> UInt64 { fnv1a64(name.utf8) ^ (seed &* golden) }

    /// u in [−1, 1) of element `i`: the (i+1)-th SplitMix64 output from `state`, top 24 bits.
    @inline(__always) public static func uniform(state: UInt64, _ i: Int) -> Float {
        var z = state &+ UInt64(i + 1) &* golden
        z = (z ^ (z >> 30)) &* mix1
        z = (z ^ (z >> 27)) &* mix2
        z = z ^ (z >> 31)
        let k = z >> 40
        return Float(k) * Float(bitPattern: 0x3400_0000) - 1.0   // 2^-23, exact
    }

    @inline(__always) public static func bf16RNE(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }

    /// (scale, offset) of a tensor as float32 (README §3.1 table).
    public static func scaleOffset(_ spec: Spec) -> (Float, Float) {
        let fanIn = Float(spec.shape.dropFirst().reduce(1, *))
        switch spec.role {
        case .matrix: return (Float(1) / fanIn.squareRoot(), 0)
        case .lmHead: return (Float(4) / fanIn.squareRoot(), 0)
        case .bias, .normBias: return (Float(0.1), 0)
        case .normWeight: return (Float(0.1), 1)
        case .embedding: return (1, 0)
        }
    }

    public static func generate(_ spec: Spec, seed: UInt64) -> [UInt16] {
        let st = state(name: spec.name, seed: seed)
        let (scale, offset) = scaleOffset(spec)
        let n = spec.count
        var out = [UInt16](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n {
                let product = uniform(state: st, i) * scale      // float32 multiply, rounded
                let value = product + offset                       // then float32 add (no FMA)
                buf[i] = bf16RNE(value)
            }
            count = n
        }
        if spec.name == "lm_head.weight", spec.shape.count == 2 {
            let cols = spec.shape[1]
            let firstZero = min(tokenizerVocab, spec.shape[0]) * cols
            for i in firstZero..<n { out[i] = 0 }
        }
        return out
    }
}

public enum TinyCheckpointError: Error, CustomStringConvertible {
    /// config.json is not a readable Qwen-Audio config (the text says what is missing).
    case badConfig(String)
    public var description: String {
        switch self { case .badConfig(let s): return "tiny checkpoint: bad config.json: \(s)" }
    }
}
