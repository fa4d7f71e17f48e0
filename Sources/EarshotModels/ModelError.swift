// ModelError: every way building or running a model can fail, with the offending name/value.

public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// The weight source has no tensor with this canonical name.
    case missingTensor(String)
    /// A tensor exists but its shape is not what the config implies.
    case shapeMismatch(name: String, expected: [Int], actual: [Int])
    /// A tensor's storage type cannot be used where the model needs it (e.g. a quantized norm weight).
    case unsupportedType(name: String, type: String)
    /// A config/metadata key is missing or has an unusable value.
    case badConfig(key: String, reason: String)
    /// The inputs do not fit the model (unpaired audio tags, span length vs audio, too few mel frames, bad id …).
    case badInput(String)
    /// The KV cache cannot hold the tokens asked for.
    case contextFull(needed: Int, capacity: Int)
    /// The caller asked the forward pass to stop (between layers); the KV cache kept its length.
    case stopped

    public var description: String {
        switch self {
        case .missingTensor(let n): return "model: tensor '\(n)' is missing from the weights"
        case .shapeMismatch(let n, let e, let a): return "model: tensor '\(n)' has shape \(a), expected \(e)"
        case .unsupportedType(let n, let t): return "model: tensor '\(n)' is stored as \(t), which cannot be used there"
        case .badConfig(let k, let r): return "model: config key '\(k)': \(r)"
        case .badInput(let s): return "model: bad input: \(s)"
        case .contextFull(let n, let c): return "model: the KV cache holds \(c) tokens, \(n) are needed"
        case .stopped: return "model: stopped by the caller"
        }
    }
}
