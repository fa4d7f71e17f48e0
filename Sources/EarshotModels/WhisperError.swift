// WhisperError: what can go wrong building a Whisper model from tensors (the model does no I/O; the caller
// hands it tensor views, typically from a memory-mapped .ear file).

public enum WhisperError: Error, Equatable, CustomStringConvertible {
    /// A tensor the model needs is absent.
    case missingTensor(String)
    /// A tensor has the wrong shape.
    case badShape(name: String, expected: [Int], actual: [Int])
    /// A tensor has a storage type this use cannot take (e.g. a quantized norm).
    case badType(name: String, type: String)
    /// The configuration is inconsistent (heads not dividing the width, …).
    case badConfig(String)
    /// The prompt is empty, too long for the context, or holds ids outside the vocabulary.
    case badPrompt(String)

    public var description: String {
        switch self {
        case .missingTensor(let n): return "Whisper model: tensor \(n) is missing"
        case .badShape(let n, let e, let a): return "Whisper model: tensor \(n) has shape \(a), expected \(e)"
        case .badType(let n, let t): return "Whisper model: tensor \(n) is stored as \(t), which is not supported here"
        case .badConfig(let m): return "Whisper model: \(m)"
        case .badPrompt(let m): return "Whisper decoding: \(m)"
        }
    }
}
