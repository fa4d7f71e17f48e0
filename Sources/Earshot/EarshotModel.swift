// EarshotModel: a converted `.ear` Qwen-Audio model loaded once (memory-mapped weights, tokenizer, mel
// front-end, generation defaults) and shared by any number of sessions on any threads.
import EarshotKernels
import EarshotModels
import EarshotTokenizer
import Foundation

/// Generation defaults read from the model's `generation_config.json` (spec §6/§7).
public struct GenerationDefaults: Sendable, Equatable {
    public var chatFormat: String
    public var topP: Float
    public var topK: Int
    public var temperature: Float
    public var repetitionPenalty: Float
    public var maxNewTokens: Int
    public var maxWindowSize: Int
    public var eosTokenId: Int

    /// The base model's release config (chat_format raw, top_p 0.8, top_k off).
    public static let base = GenerationDefaults(chatFormat: "raw", topP: 0.8, topK: 0, temperature: 1, repetitionPenalty: 1,
                                                maxNewTokens: 512, maxWindowSize: 6144, eosTokenId: 151_643)
    /// Qwen-Audio-Chat's release config (chatml, top_p 0.5, window 6144).
    public static let chat = GenerationDefaults(chatFormat: "chatml", topP: 0.5, topK: 0, temperature: 1, repetitionPenalty: 1,
                                                maxNewTokens: 512, maxWindowSize: 6144, eosTokenId: 151_643)

    /// Reads the keys of a parsed generation_config.json; missing keys keep `fallback`'s values.
    public init(json: [String: Any], fallback: GenerationDefaults = .base) {
        self = fallback
        if let v = json["chat_format"] as? String { chatFormat = v }
        if let v = json["top_p"] as? Double { topP = Float(v) }
        if let v = json["top_k"] as? Int { topK = v }
        if let v = json["temperature"] as? Double { temperature = Float(v) }
        if let v = json["repetition_penalty"] as? Double { repetitionPenalty = Float(v) }
        if let v = json["max_new_tokens"] as? Int { maxNewTokens = v }
        if let v = json["max_window_size"] as? Int { maxWindowSize = v }
        if let v = json["eos_token_id"] as? Int { eosTokenId = v }
    }

    public init(chatFormat: String, topP: Float, topK: Int, temperature: Float, repetitionPenalty: Float,
                maxNewTokens: Int, maxWindowSize: Int, eosTokenId: Int) {
        self.chatFormat = chatFormat; self.topP = topP; self.topK = topK; self.temperature = temperature
        self.repetitionPenalty = repetitionPenalty; self.maxNewTokens = maxNewTokens
        self.maxWindowSize = maxWindowSize; self.eosTokenId = eosTokenId
    }

    /// Sampling parameters with these defaults.
    public func sampling(seed: UInt64 = 1234) -> SamplingParameters {
        SamplingParameters(greedy: false, temperature: temperature, topK: topK, topP: topP,
                           repetitionPenalty: repetitionPenalty, seed: seed)
    }
}

/// A loaded model. Immutable and `Sendable`: load it once and share it. Sessions built on it may run on
/// different threads; their compute steps take turns on the model (one prefill or decode step at a time),
/// because the kernels share one thread pool.
public final class EarshotModel: @unchecked Sendable {
    public let path: String
    public let runtime: QwenAudioRuntime
    /// Seconds spent loading (mapping, validating, building the model, the tokenizer).
    public let loadSeconds: Double
    /// The defaults of the file's generation config (base defaults when it has none).
    public let defaults: GenerationDefaults
    /// Defaults for chat: the file's config when it is a chat (chatml) config, else Qwen-Audio-Chat's release values.
    public let chatDefaults: GenerationDefaults
    let computeLock = NSLock()

    /// Maps and checks `path` (a converted `.ear` Qwen-Audio model).
    public init(path: String) throws(EarshotError) {
        let t0 = now()
        do { runtime = try QwenAudioRuntime(path: path) } catch {
            throw .load(path: path, reason: error.description)
        }
        self.path = path
        let json = runtime.generationConfig ?? [:]
        defaults = GenerationDefaults(json: json, fallback: .base)
        chatDefaults = defaults.chatFormat == "chatml" ? defaults : GenerationDefaults(json: [:], fallback: .chat)
        loadSeconds = now() - t0
    }

    public var tokenizer: QwenTokenizer { runtime.tokenizer }
    public var config: QwenAudioConfig { runtime.config }

    /// A new session (its own KV cache and audio cache).
    public func makeSession() -> Session { Session(model: self) }

    /// A new chat (ChatML, Qwen-Audio-Chat) with its own session.
    public func makeChat(system: String = Chat.defaultSystem) -> Chat { Chat(session: makeSession(), system: system) }

    /// Runs `body` while holding the model's compute turn.
    func compute<R>(_ body: () throws(EarshotError) -> R) throws(EarshotError) -> R {
        computeLock.lock()
        defer { computeLock.unlock() }
        return try body()
    }
}
