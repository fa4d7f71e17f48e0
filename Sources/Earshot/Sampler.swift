// Sampler: picks the next token from logits — greedy, temperature, top-k, top-p, repetition penalty,
// seeded and deterministic (same seed + same logits → same tokens on every machine).
import Foundation

/// How the next token is chosen. Defaults match Qwen-Audio's generation config (top_p 0.8, top_k off,
/// temperature 1, no repetition penalty); `greedy` overrides everything else.
public struct SamplingParameters: Sendable, Equatable {
    public var greedy: Bool
    public var temperature: Float
    /// 0 disables top-k.
    public var topK: Int
    /// 1 disables top-p (nucleus) filtering.
    public var topP: Float
    /// 1 disables the penalty. > 1 discourages tokens already in the context (HF/CTRL rule:
    /// positive logits are divided by it, negative ones multiplied).
    public var repetitionPenalty: Float
    public var seed: UInt64

    public init(greedy: Bool = false, temperature: Float = 1, topK: Int = 0, topP: Float = 0.8,
                repetitionPenalty: Float = 1, seed: UInt64 = 1234) {
        self.greedy = greedy
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }

    public static let greedy = SamplingParameters(greedy: true)
}

/// A small deterministic PRNG (SplitMix64): the same seed gives the same stream everywhere.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

/// Chooses tokens one at a time. Holds the RNG state, so one sampler serves one generation.
struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: SplitMix64

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        self.rng = SplitMix64(seed: parameters.seed)
    }

    /// The index of the largest logit (the lowest index on ties, like torch.argmax).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue {
            bestValue = logits[i]
            best = i
        }
        return best
    }

    /// Picks the next token. `context` holds the ids the repetition penalty looks at (prompt + generated).
    /// `logits` is modified in place (penalty, temperature).
    public mutating func next(logits: UnsafeMutableBufferPointer<Float>, context: some Collection<Int>) -> Int {
        let p = parameters
        if p.repetitionPenalty != 1 {
            var seen = Set<Int>()
            for id in context where id >= 0 && id < logits.count && seen.insert(id).inserted {
                let v = logits[id]
                logits[id] = v > 0 ? v / p.repetitionPenalty : v * p.repetitionPenalty
            }
        }
        if p.greedy || p.temperature <= 0 {
            return Sampler.argmax(UnsafeBufferPointer(logits))
        }
        // Candidates sorted by logit (descending; index breaks ties so the order is deterministic).
        var candidates = Array(0..<logits.count)
        let k = p.topK > 0 ? min(p.topK, logits.count) : logits.count
        if k < logits.count {
            candidates = Array(candidates.sorted { Sampler.before($0, $1, logits) }.prefix(k))
        } else {
            candidates.sort { Sampler.before($0, $1, logits) }
        }
        // Softmax over the candidates at the given temperature (in Double for stability).
        let maxLogit = Double(logits[candidates[0]])
        var probs = candidates.map { exp((Double(logits[$0]) - maxLogit) / Double(p.temperature)) }
        let total = probs.reduce(0, +)
        for i in probs.indices { probs[i] /= total }
        // Nucleus: keep the smallest prefix whose mass reaches top_p (at least one token).
        var keep = probs.count
        if p.topP < 1 {
            var mass = 0.0
            for i in probs.indices {
                mass += probs[i]
                if mass >= Double(p.topP) { keep = i + 1; break }
            }
        }
        let kept = probs[0..<keep]
        let keptMass = kept.reduce(0, +)
        var u = rng.nextUnit() * keptMass
        for i in 0..<keep {
            u -= probs[i]
            if u < 0 { return candidates[i] }
        }
        return candidates[keep - 1]
    }

    @inline(__always)
    private static func before(_ a: Int, _ b: Int, _ logits: UnsafeMutableBufferPointer<Float>) -> Bool {
        logits[a] != logits[b] ? logits[a] > logits[b] : a < b
    }
}
