// ModelInfo: what a loaded `.ear` model is and what it can do — family, tasks, languages, whether it
// chats — and ModelOptions, what a caller sets when loading one (threads, KV cache precision).
import EarshotFormat
import EarshotModels

/// The kinds of model Earshot runs.
public enum ModelFamily: String, Sendable, CaseIterable {
    /// Pre-trained Qwen-Audio: task-tag prompts (transcribe, translate, caption, …).
    case qwenAudio = "qwen-audio"
    /// Qwen-Audio-Chat: ChatML conversations about one or more audios (its generation config is chatml).
    case qwenAudioChat = "qwen-audio-chat"
    /// OpenAI Whisper (speech recognition and translation to English).
    case whisper
    /// A text-only Qwen LLM (architectures `qwen2` — Qwen2 / Qwen2.5, e.g. converted from a GGUF — and
    /// `qwen`): plain completion and ChatML chat, no audio.
    case qwenText = "qwen-text"
    /// Qwen2-Audio (base or Instruct): natural-language task prompts after the audio, and the Instruct chat
    /// template (`Audio k: <|audio_bos|><|AUDIO|><|audio_eos|>` lines) for chat (Docs/qwen2-audio.md).
    case qwen2Audio = "qwen2-audio"

    /// A name for messages.
    public var displayName: String {
        switch self {
        case .qwenAudio: return "Qwen-Audio"
        case .qwenAudioChat: return "Qwen-Audio-Chat"
        case .whisper: return "Whisper"
        case .qwenText: return "Qwen text LLM"
        case .qwen2Audio: return "Qwen2-Audio"
        }
    }
}

extension ModelFamily {
    /// The family a `.ear` file of `general.architecture` = `architecture` loads as (nil: not a model this
    /// version runs); `chatFormat` is its generation config's `chat_format` ("chatml" makes Qwen-Audio-Chat).
    public init?(architecture: String, chatFormat: String? = nil) {
        switch architecture {
        case MetadataKeys.Architecture.qwenAudio: self = chatFormat == "chatml" ? .qwenAudioChat : .qwenAudio
        case MetadataKeys.Architecture.whisper: self = .whisper
        case MetadataKeys.Architecture.qwen2, MetadataKeys.Architecture.qwen: self = .qwenText
        case MetadataKeys.Architecture.qwen2Audio: self = .qwen2Audio
        default: return nil
        }
    }

    /// The family an opened `.ear` file loads as (`earshot inspect`), from its metadata and generation config.
    public init?(file: EarFile) {
        guard let arch = try? file.metadata.string(MetadataKeys.architecture) else { return nil }
        self.init(architecture: arch, chatFormat: QwenAudioEngine.generationConfig(file)["chat_format"] as? String)
    }
}

/// A job a model can be asked to do.
public enum TaskKind: String, Sendable, CaseIterable {
    case transcribe, translate, timestamps, caption, ask, classify, notes, chat
}

/// What a loaded model is and can do.
public struct ModelInfo: Sendable, Equatable {
    public let family: ModelFamily
    /// `general.architecture` of the file ("qwen-audio", "whisper").
    public let architecture: String
    /// The recipe the converter used ("q8", "q4m", …), when the file says.
    public let quantization: String?
    /// Tasks it runs (`run`, `transcribe`, chat).
    public let tasks: [TaskKind]
    /// Spoken languages it recognises (ISO codes); English-only models list just "en".
    public let languages: [String]
    /// Languages it translates into.
    public let translationTargets: [String]
    /// Whether it detects the spoken language itself when none is given.
    public let detectsLanguage: Bool
    /// Whether it holds conversations (`makeChat`).
    public let chats: Bool
    /// The audio rate the model consumes (inputs at other rates are resampled); 0 for a text-only model.
    public let sampleRate: Int
    /// Longest audio one model call sees, seconds (longer inputs run in windows); 0 for a text-only model.
    public let windowSeconds: Double
    /// Positions the language model holds (prompt + generated tokens).
    public let contextLength: Int
    /// Parameters (weights) in the file.
    public let parameterCount: Int

    /// Whether the model takes audio at all (false for a text-only LLM).
    public var takesAudio: Bool { family != .qwenText }

    /// Whether the model runs `task`.
    public func supports(_ task: TaskKind) -> Bool { tasks.contains(task) }
}

/// How to load a model.
public struct ModelOptions: Sendable, Equatable {
    /// Threads for the kernels (nil: all online cores, or EARSHOT_THREADS). Each model owns its threads.
    public var threads: Int?
    /// KV cache element type of new sessions (f16 halves the memory; f32 for exactness checks).
    public var kvPrecision: KVCache.Precision

    public init(threads: Int? = nil, kvPrecision: KVCache.Precision = .f16) {
        self.threads = threads
        self.kvPrecision = kvPrecision
    }
}

/// Receives every named intermediate of a prefill (`Session.generate(…, probe:)`, `earshot run --dump`):
/// name (e.g. "audio.blocks.0.out", "llm.h.1.out", "llm.last_logits"), shape, values.
public typealias Probe = EarshotModels.Probe
