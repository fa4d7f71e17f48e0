// Generation: what one generation asks for (sampling, limits, stop ids and strings) and what it gives back
// (ids, text, why it stopped, timing figures), plus the streamed token event and a cancellation flag.
import Foundation

/// Options of one generation.
public struct GenerationOptions: Sendable {
    public var sampling: SamplingParameters
    /// Most tokens to generate (the stop token counts).
    public var maxTokens: Int
    /// Generation stops after producing one of these ids (it is reported in `ids`, not in `text`).
    public var stopIds: Set<Int>
    /// Generation stops once the text contains one of these strings (the text is cut before it).
    public var stopStrings: [String]

    public init(sampling: SamplingParameters = SamplingParameters(), maxTokens: Int = 512,
                stopIds: Set<Int> = [151_643], stopStrings: [String] = []) {
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stopIds = stopIds
        self.stopStrings = stopStrings
    }
}

/// Why a generation ended.
public enum StopReason: Sendable, Equatable, CustomStringConvertible {
    /// A stop id was generated (the id).
    case stopToken(Int)
    /// The text reached a stop string.
    case stopString(String)
    /// `maxTokens` were generated.
    case maxTokens
    /// The caller cancelled (task cancellation, `CancellationFlag.cancel()`, or the callback returned false).
    case cancelled

    public var description: String {
        switch self {
        case .stopToken(let id): return "stop token \(id)"
        case .stopString(let s): return "stop string \(s.debugDescription)"
        case .maxTokens: return "max tokens"
        case .cancelled: return "cancelled"
        }
    }
}

/// One generated token as it streams out.
public struct TokenEvent: Sendable, Equatable {
    /// 0-based index among the generated tokens.
    public let index: Int
    public let id: Int
    /// The text this token completes (may be empty while a multi-byte character is split across tokens;
    /// empty for stop tokens).
    public let text: String
}

/// Timing figures of one run, llama.cpp style. Seconds; counts in tokens.
public struct GenerationStats: Sendable, Equatable {
    /// Model load time (0 unless the caller fills it in).
    public var loadSeconds: Double = 0
    /// Audio decoding + log-mel.
    public var audioSeconds: Double = 0
    public var audioFiles = 0
    /// Audio encoder.
    public var encodeSeconds: Double = 0
    public var encodedAudios = 0
    /// Audios whose encoding came from the session's cache.
    public var cachedAudios = 0
    /// Prompt tokens in total, and how many of them were already in the KV cache (shared prefix).
    public var promptTokens = 0
    public var reusedPromptTokens = 0
    /// LLM prefill of the new prompt tokens (excludes the encoder).
    public var prefillSeconds: Double = 0
    public var generatedTokens = 0
    public var decodeSeconds: Double = 0

    public init() {}

    public var prefilledTokens: Int { promptTokens - reusedPromptTokens }
    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(prefilledTokens) / prefillSeconds : 0 }
    /// Decode speed: tokens fed back through the model (all generated tokens but the last) per second.
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(max(generatedTokens - 1, 0)) / decodeSeconds : 0
    }
    public var totalSeconds: Double { loadSeconds + audioSeconds + encodeSeconds + prefillSeconds + decodeSeconds }

    /// Adds another run's figures (for multi-window transcription).
    public mutating func add(_ o: GenerationStats) {
        audioSeconds += o.audioSeconds; audioFiles += o.audioFiles
        encodeSeconds += o.encodeSeconds; encodedAudios += o.encodedAudios; cachedAudios += o.cachedAudios
        promptTokens += o.promptTokens; reusedPromptTokens += o.reusedPromptTokens
        prefillSeconds += o.prefillSeconds; generatedTokens += o.generatedTokens; decodeSeconds += o.decodeSeconds
    }

    /// The summary printed on stderr, one figure per line:
    /// ```
    /// earshot: load    =    812.40 ms
    /// earshot: audio   =     21.07 ms /   1 clips   (files or windows read and resampled)
    /// earshot: encode  =    380.12 ms /   1 audios (0 cached)
    /// earshot: prefill =   1402.33 ms /   154 tokens (  109.82 tok/s, 0 reused from the KV cache)
    /// earshot: decode  =   2011.10 ms /    19 runs   (    9.45 tok/s)
    /// earshot: total   =   4627.02 ms
    /// ```
    public var summary: String {
        func ms(_ s: Double) -> String { String(format: "%9.2f ms", s * 1000) }
        return """
            earshot: load    = \(ms(loadSeconds))
            earshot: audio   = \(ms(audioSeconds)) / \(String(format: "%3d", audioFiles)) clips
            earshot: encode  = \(ms(encodeSeconds)) / \(String(format: "%3d", encodedAudios)) audios (\(cachedAudios) cached)
            earshot: prefill = \(ms(prefillSeconds)) / \(String(format: "%5d", prefilledTokens)) tokens (\(String(format: "%8.2f", prefillTokensPerSecond)) tok/s, \(reusedPromptTokens) reused from the KV cache)
            earshot: decode  = \(ms(decodeSeconds)) / \(String(format: "%5d", max(generatedTokens - 1, 0))) runs   (\(String(format: "%8.2f", decodeTokensPerSecond)) tok/s)
            earshot: total   = \(ms(totalSeconds))
            """
    }
}

/// What a generation produced.
public struct GenerationResult: Sendable {
    /// Every generated id, the stop token included when one was generated.
    public var ids: [Int]
    /// The decoded text of the generated ids before any stop token, cut before a stop string.
    public var text: String
    public var stopReason: StopReason
    public var stats: GenerationStats

    public init(ids: [Int], text: String, stopReason: StopReason, stats: GenerationStats) {
        self.ids = ids; self.text = text; self.stopReason = stopReason; self.stats = stats
    }
}

/// A thread-safe flag a caller sets to stop a running generation after the current token.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    public init() {}
    public func cancel() { lock.lock(); flag = true; lock.unlock() }
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}

