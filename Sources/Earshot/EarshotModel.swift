// EarshotModel: the one loader. Opens any `.ear` Earshot runs (Qwen-Audio, Qwen-Audio-Chat, Qwen2-Audio,
// Whisper, text-only Qwen LLMs), maps and validates it once, and says what it is (`info`). Immutable and `Sendable`: share it between
// sessions and threads. Each model owns its kernel threads (`ModelOptions.threads`); sessions of one model
// take turns on it one compute step (an encoder pass, a prefill, one decode step) at a time.
import EarshotCPU
import EarshotFormat
import EarshotKernels
import EarshotModels
import Foundation

public final class EarshotModel: @unchecked Sendable {   // immutable after init; compute serialised by `computeLock`
    /// The file it was loaded from.
    public let path: String
    /// What the model is and can do.
    public let info: ModelInfo
    /// How it was loaded.
    public let options: ModelOptions
    /// Seconds spent loading (mapping, validating the index, building the model and tokenizer).
    public let loadSeconds: Double

    enum Engine {
        case qwenAudio(QwenAudioEngine)
        case whisper(WhisperEngine)
        case qwenText(QwenTextEngine)
    }
    let engine: Engine
    let file: EarFile
    /// This model's kernel threads.
    let pool: ThreadPool
    private let computeLock = NSLock()

    /// Opens `path` and builds the model it holds.
    /// - Parameters:
    ///   - path: a `.ear` file written by `earshot-convert`.
    ///   - options: threads and KV cache precision.
    /// - Throws: `EarshotError.modelFile` when the file cannot be opened or fails validation,
    ///   `.unknownArchitecture` for a kind of model this version does not run, `.modelContents` when its
    ///   metadata or tensors do not describe a usable model, `.tokenizer`/`.whisperTokenizer` for a bad
    ///   tokenizer blob, `.invalidOption` for a thread count below 1, `.unsupportedCPU` on an x86-64 CPU without
    ///   the AVX2 level the kernels are built for.
    public init(path: String, options: ModelOptions = ModelOptions()) throws(EarshotError) {
        // Before any kernel code runs: on a CPU without what the kernels were compiled for, a typed error, not SIGILL.
        if let reason = BuildCPU.refusal { throw .unsupportedCPU(reason: reason) }
        let t0 = now()
        if let t = options.threads, t < 1 { throw .invalidOption(name: "threads", value: "\(t)", reason: "must be at least 1") }
        self.path = path
        self.options = options
        do { file = try EarFile(path: path) } catch { throw .modelFile(path: path, error) }
        let architecture = (try? file.metadata.string(MetadataKeys.architecture)) ?? ""
        let parameters = file.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let quantization = try? file.metadata.string("general.quantization")
        switch architecture {
        case MetadataKeys.Architecture.qwenAudio:
            let e = try QwenAudioEngine(path: path, file: file)
            engine = .qwenAudio(e)
            let languages = AudioLanguage.allCases.map(\.rawValue)
            info = ModelInfo(family: e.isChatModel ? .qwenAudioChat : .qwenAudio, architecture: architecture,
                             quantization: quantization,
                             tasks: [.transcribe, .translate, .timestamps, .caption, .ask, .classify, .notes, .chat],
                             languages: languages, translationTargets: languages, detectsLanguage: false, chats: true,
                             sampleRate: 16_000, windowSeconds: 30, contextLength: e.contextLength, parameterCount: parameters)
        case MetadataKeys.Architecture.qwen2Audio:
            let e = try QwenAudioEngine(path: path, file: file)
            engine = .qwenAudio(e)
            let languages = AudioLanguage.allCases.map(\.rawValue)
            info = ModelInfo(family: .qwen2Audio, architecture: architecture, quantization: quantization,
                             tasks: [.transcribe, .translate, .caption, .ask, .classify, .chat],
                             languages: languages, translationTargets: languages, detectsLanguage: false, chats: true,
                             sampleRate: 16_000, windowSeconds: 30, contextLength: e.contextLength, parameterCount: parameters)
        case MetadataKeys.Architecture.whisper:
            let e = try WhisperEngine(path: path, file: file)
            engine = .whisper(e)
            info = ModelInfo(family: .whisper, architecture: architecture, quantization: quantization,
                             tasks: e.isMultilingual ? [.transcribe, .translate] : [.transcribe],
                             languages: e.languages, translationTargets: e.isMultilingual ? ["en"] : [],
                             detectsLanguage: e.isMultilingual, chats: false, sampleRate: 16_000, windowSeconds: 30,
                             contextLength: e.config.nTextCtx, parameterCount: parameters)
        case MetadataKeys.Architecture.qwen2, MetadataKeys.Architecture.qwen:
            let e = try QwenTextEngine(path: path, file: file)
            engine = .qwenText(e)
            info = ModelInfo(family: .qwenText, architecture: architecture, quantization: quantization, tasks: [.chat],
                             languages: [], translationTargets: [], detectsLanguage: false, chats: true,
                             sampleRate: 0, windowSeconds: 0, contextLength: e.contextLength, parameterCount: parameters)
        default:
            throw .unknownArchitecture(path: path, architecture: architecture.isEmpty ? "(none)" : architecture)
        }
        pool = options.threads.map { ThreadPool(threads: $0) } ?? ThreadPool.shared
        loadSeconds = now() - t0
    }

    /// A new session (its own KV cache, audio cache and settings). Sessions are safe to use from any thread.
    public func makeSession() -> Session { Session(model: self) }

    /// A new conversation with its own session.
    /// - Parameter system: the system prompt; nil takes `defaultSystem`.
    /// - Throws: `.unsupported` for a model that does not chat (Whisper).
    public func makeChat(system: String? = nil) throws(EarshotError) -> Chat {
        guard info.chats else { throw .unsupported(family: info.family, what: "chat") }
        return Chat(session: makeSession(), system: system ?? defaultSystem)
    }

    /// The system prompt of a chat that is given none: the chat template's own (a text LLM converted from a
    /// GGUF, e.g. Qwen2.5's "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."), else
    /// "You are a helpful assistant." (Qwen-Audio-Chat's).
    public var defaultSystem: String { llm?.defaultSystem ?? Chat.defaultSystem }

    /// The model's generation config defaults for tasks and plain generation (Qwen-Audio, text LLMs; Whisper has none).
    public var defaults: GenerationDefaults { llm?.defaults ?? .base }

    /// Defaults for chat: the file's config when it is a chat (chatml) config, else the release values
    /// (Qwen-Audio-Chat's; a text LLM's: Qwen2.5-Instruct's).
    public var chatDefaults: GenerationDefaults { llm?.chatDefaults ?? .chat }

    /// Ids that end a plain generation (`earshot run`, `generate`): the file's eos (Qwen-Audio), or a text
    /// LLM's eos, `<|endoftext|>` and `<|im_end|>`. Empty for Whisper (its own loop stops on its eot).
    public var stopIds: Set<Int> { llm?.stopIds ?? [] }

    /// The index checksum of the file (identifies the exact model, e.g. for session files).
    public var fileChecksum: UInt64 { file.indexChecksum }

    /// Threads the kernels use for this model.
    public var threads: Int { pool.activeThreads }

    var qwen: QwenAudioEngine? { if case .qwenAudio(let e) = engine { return e }; return nil }
    /// The Qwen LLM of a Qwen-Audio or text model.
    var llm: (any QwenLLMEngine)? {
        switch engine {
        case .qwenAudio(let e): return e
        case .qwenText(let e): return e
        case .whisper: return nil
        }
    }
    var whisper: WhisperEngine? { if case .whisper(let e) = engine { return e }; return nil }

    /// Runs `body` holding the model's compute turn, on the model's threads.
    func compute<R>(_ body: () throws(EarshotError) -> R) throws(EarshotError) -> R {
        computeLock.lock()
        defer { computeLock.unlock() }
        return try ThreadPool.run(on: pool, body)
    }
}

/// Seconds since an arbitrary start (monotonic).
@inline(__always) func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
