// EarshotError: the one error type of the Earshot library API (model loading, prompts, audio, generation,
// session files). Each case carries the offending path or value and reads well when printed.
import EarshotModels

public enum EarshotError: Error, CustomStringConvertible, Sendable {
    /// The model file could not be opened or does not describe a usable model.
    case load(path: String, reason: String)
    /// An audio file could not be read or decoded.
    case audio(path: String, reason: String)
    /// The prompt could not be built or tokenized (bad tags, unclosed `<audio>`, …).
    case prompt(String)
    /// The model refused its input (shapes, ids out of range).
    case model(String)
    /// The prompt plus the tokens to generate do not fit in the model's context.
    case contextFull(needed: Int, capacity: Int)
    /// A session file is missing, damaged, or was saved with another model.
    case sessionFile(path: String, reason: String)
    /// An option has a value the library cannot use.
    case invalidOption(name: String, value: String, reason: String)

    public var description: String {
        switch self {
        case let .load(path, reason): return "cannot load model '\(path)': \(reason)"
        case let .audio(path, reason): return "cannot read audio '\(path)': \(reason)"
        case let .prompt(reason): return "bad prompt: \(reason)"
        case let .model(reason): return "model error: \(reason)"
        case let .contextFull(needed, capacity):
            return "the context is full: \(needed) tokens needed, the model holds \(capacity)"
        case let .sessionFile(path, reason): return "session file '\(path)': \(reason)"
        case let .invalidOption(name, value, reason): return "invalid \(name) '\(value)': \(reason)"
        }
    }

    static func from(_ e: any Error) -> EarshotError {
        if let e = e as? EarshotError { return e }
        if let e = e as? ModelError {
            if case let .contextFull(needed, capacity) = e { return .contextFull(needed: needed, capacity: capacity) }
            return .model(e.description)
        }
        return .model("\(e)")
    }
}
