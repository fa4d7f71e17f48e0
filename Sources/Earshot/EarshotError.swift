// EarshotError: the one error type of the Earshot library API. Each case wraps the typed error of the
// module that failed (format, model, tokenizer, audio) or names the offending option, path or size, and
// reads as one clear sentence when printed.
import EarshotAudio
import EarshotFormat
import EarshotModels
import EarshotTokenizer

public enum EarshotError: Error, CustomStringConvertible, Sendable {
    /// The model file could not be opened, mapped or validated.
    case modelFile(path: String, EarError)
    /// The file is a valid `.ear` but does not describe a usable model (metadata, tensor names or shapes).
    case modelContents(path: String, ModelError)
    /// The file holds a kind of model this version cannot run (`architecture` from its metadata).
    case unknownArchitecture(path: String, architecture: String)
    /// The model's Qwen tokenizer could not be loaded, or text could not be tokenized / decoded.
    case tokenizer(TokenizerError)
    /// The model's Whisper tokenizer (`tokenizer.json`) could not be loaded.
    case whisperTokenizer(WhisperTokenizerError)
    /// An audio input could not be read or decoded (`path` is the file, or the name given to samples).
    case audio(path: String, AudioError)
    /// The model refused its input while running (shapes, ids out of range).
    case model(ModelError)
    /// A prompt could not be built (see `PromptProblem`).
    case prompt(PromptProblem)
    /// The prompt plus the tokens to generate do not fit in the model's context.
    case contextFull(needed: Int, capacity: Int)
    /// This model family cannot do what was asked (e.g. chat with a Whisper model).
    case unsupported(family: ModelFamily, what: String)
    /// This CPU cannot run the kernels as built (`reason` names the missing instruction sets).
    case unsupportedCPU(reason: String)
    /// A session file is missing, damaged, or was saved with another model.
    case sessionFile(path: String, reason: String)
    /// An option has a value the library cannot use.
    case invalidOption(name: String, value: String, reason: String)
    /// An output file could not be written (nothing is left behind).
    case output(path: String, reason: String)
    /// The work was cancelled (Swift task cancellation or a `CancellationFlag`) before it produced a result.
    case cancelled

    public var description: String {
        switch self {
        case let .modelFile(path, e): return "cannot open model '\(path)': \(e.description)"
        case let .modelContents(path, e): return "model '\(path)' is not usable: \(e.description)"
        case let .unknownArchitecture(path, arch):
            return "model '\(path)' has architecture '\(arch)', which this version of Earshot cannot run"
        case let .tokenizer(e): return "tokenizer: \(e)"
        case let .whisperTokenizer(e): return e.description
        case let .audio(path, e): return "cannot read audio '\(path)': \(e.description)"
        case let .model(e): return e.description
        case let .prompt(p): return "bad prompt: \(p.description)"
        case let .contextFull(needed, capacity):
            return "the prompt and the tokens to generate need \(needed) positions, the model's context holds \(capacity)"
        case let .unsupported(family, what): return "a \(family.displayName) model cannot \(what)"
        case let .sessionFile(path, reason): return "session file '\(path)': \(reason)"
        case let .invalidOption(name, value, reason): return "invalid \(name) '\(value)': \(reason)"
        case let .output(path, reason): return "cannot write '\(path)': \(reason)"
        case .unsupportedCPU(let reason): return reason
        case .cancelled: return "cancelled"
        }
    }

    /// Wraps an error thrown by a lower module.
    static func from(_ e: any Error) -> EarshotError {
        switch e {
        case let e as EarshotError: return e
        case let e as ModelError:
            if case let .contextFull(needed, capacity) = e { return .contextFull(needed: needed, capacity: capacity) }
            if case .stopped = e { return .cancelled }
            return .model(e)
        case let e as TokenizerError: return .tokenizer(e)
        case let e as WhisperTokenizerError: return .whisperTokenizer(e)
        default: return .model(.badInput("\(e)"))
        }
    }
}

/// Why a prompt could not be built.
public enum PromptProblem: Sendable, Equatable, CustomStringConvertible {
    /// The prompt has no tokens.
    case empty
    /// The prompt's `<audio>` spans and the audios given differ in number.
    case audioCount(spans: Int, audios: Int)
    /// `<audio>` and `</audio>` tokens do not pair up.
    case unpairedAudioTags(starts: Int, ends: Int)
    /// The audio's encoding does not fill the span the prompt reserves.
    case spanLength(audio: Int, reserved: Int, encoded: Int)
    /// More audios in one prompt than the model takes.
    case tooManyAudios(count: Int, limit: Int)
    /// The prompt alone is longer than the model's context.
    case tooLong(tokens: Int, limit: Int)

    public var description: String {
        switch self {
        case .empty: return "the prompt is empty"
        case let .audioCount(spans, audios): return "the prompt has \(spans) <audio> spans but \(audios) audios were given"
        case let .unpairedAudioTags(s, e): return "\(s) <audio> and \(e) </audio> tokens do not pair up"
        case let .spanLength(a, r, e): return "audio \(a): the prompt reserves \(r) tokens, the encoder gave \(e)"
        case let .tooManyAudios(c, l): return "\(c) audios in one prompt, at most \(l) are allowed"
        case let .tooLong(t, l): return "the prompt has \(t) tokens, the model's context holds \(l)"
        }
    }
}
