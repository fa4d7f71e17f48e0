// Session: one conversation's state on a shared model — the KV cache (and the ids it holds), a cache of
// encoded audios — and the generation loop: prefill (reusing the cached shared prefix), then sample token by
// token, streaming each through a callback or an AsyncSequence, until a stop id/string, max tokens or cancel.
import EarshotAudio
import EarshotKernels
import EarshotModels
import EarshotTokenizer
import Foundation

/// An audio given to a prompt.
public enum AudioInput: Sendable, Equatable {
    /// A file on disk (any format the audio loader reads), decoded and resampled to 16 kHz mono.
    case file(String)
    /// 16 kHz mono samples (at most 30 s are used); `name` keys the encoding cache and stands in the prompt text.
    case samples([Float], name: String)

    var name: String {
        switch self {
        case .file(let p): return p
        case .samples(_, let n): return n
        }
    }
}

/// A prompt ready for prefill: expanded ids and its audios in `<audio>` order.
public struct PreparedPrompt: Sendable {
    public let ids: [Int]
    public let audios: [PreparedAudio]
}

/// One audio of a prompt: its span length, and either its cached encoding or its log-mel.
public struct PreparedAudio: @unchecked Sendable {
    public let key: String
    /// Tokens of its `<audio>…</audio>` span (encoder frames + 2).
    public let spanTokens: Int
    let mel: AudioEncoder.Mel?
    let span: [Float]?
}

public final class Session: @unchecked Sendable {   // state guarded by `lock`
    public let model: EarshotModel
    /// Keep the KV cache of the longest prefix the next prompt shares with what the cache holds (default on).
    public var reusesPrefix = true
    /// Keep audio encodings (by file path, size and date) for later prompts of this session (default on).
    public var cachesAudio = true
    /// KV cache element type (f16 halves the memory; f32 for exactness checks).
    public var kvPrecision: KVCache.Precision = .f16

    /// The ids whose keys and values are in the KV cache, in order.
    public internal(set) var contextIds: [Int] = []
    /// What each cached position holds: the token id, or (negative) a hash of its audio and offset in the
    /// span — placeholder ids are the same for every audio, so ids alone cannot tell two prompts apart.
    var contextKeys: [Int] = []
    var cache: KVCache?
    var audioCache: [String: [Float]] = [:]
    let lock = NSLock()

    init(model: EarshotModel) { self.model = model }

    /// Forgets the KV cache (the audio cache is kept).
    public func reset() {
        lock.lock(); defer { lock.unlock() }
        contextIds = []
        contextKeys = []
        cache?.reset()
    }

    /// Forgets cached audio encodings.
    public func clearAudioCache() {
        lock.lock(); defer { lock.unlock() }
        audioCache = [:]
    }

    // MARK: - Prompts

    /// Reads one audio (or finds its encoding in the cache) and measures its span.
    public func prepareAudio(_ input: AudioInput, stats: inout GenerationStats) throws(EarshotError) -> PreparedAudio {
        let key = Session.cacheKey(input)
        if cachesAudio, let span = audioCache[key] {
            return PreparedAudio(key: key, spanTokens: span.count / model.config.llm.hiddenSize, mel: nil, span: span)
        }
        let t0 = now()
        let mel: AudioEncoder.Mel
        switch input {
        case .file(let path):
            do { mel = try model.runtime.mel(audioAt: path) } catch {
                if case let .audio(p, e) = error { throw .audio(path: p, reason: e.description) }
                throw .audio(path: path, reason: error.description)
            }
        case .samples(let samples, _):
            let n = min(samples.count, LogMelSpectrogram.chunkSamples)
            let m = model.runtime.melSpectrogram.compute(Array(samples.prefix(n)), threads: ThreadPool.shared.activeThreads)
            mel = AudioEncoder.Mel(values: m.values, frames: m.frames,
                                   melLength: AudioTokenCounts.qwenAudio(samples: n).melLength)
        }
        stats.audioSeconds += now() - t0
        stats.audioFiles += 1
        return PreparedAudio(key: key, spanTokens: model.config.audio.spanTokens(melLength: mel.melLength), mel: mel, span: nil)
    }

    /// The prompt of a base-model task on one audio: `<audio>NAME</audio>` + the task's tags (spec §6),
    /// tokenized with every special allowed and the span expanded.
    public func prepare(task: AudioTask, audio: AudioInput, stats: inout GenerationStats) throws(EarshotError) -> PreparedPrompt {
        try prepare(raw: task.prompt(audioPath: audio.name), audios: [audio], stats: &stats)
    }

    /// A raw base-model prompt whose `<audio>…</audio>` tags (in order) stand for `audios`.
    public func prepare(raw text: String, audios: [AudioInput], special: SpecialMode = .all,
                        stats: inout GenerationStats) throws(EarshotError) -> PreparedPrompt {
        var prepared: [PreparedAudio] = []
        for a in audios { prepared.append(try prepareAudio(a, stats: &stats)) }
        do {
            let ids = try model.tokenizer.encode(text, special: special, audioSpanTokens: prepared.map(\.spanTokens))
            return PreparedPrompt(ids: ids, audios: prepared)
        } catch { throw .prompt("\(error)") }
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    static func cacheKey(_ input: AudioInput) -> String {
        switch input {
        case .file(let path):
            let attrs = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attrs?[.size] as? NSNumber)?.int64Value ?? -1
            let date = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "file:\(URL(fileURLWithPath: path).standardizedFileURL.path):\(size):\(date)"
        case .samples(let s, let name):
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for v in s { h = (h ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 }
            return "samples:\(name):\(s.count):\(h)"
        }
    }

    // MARK: - Generation

    /// Prefills `prompt` and generates. `onToken` sees every token as it comes; returning false stops
    /// (reason `.cancelled`), as does `cancel` or the current Swift task being cancelled.
    public func generate(_ prompt: PreparedPrompt, options: GenerationOptions, cancel: CancellationFlag? = nil,
                         onToken: (TokenEvent) -> Bool = { _ in true }) throws(EarshotError) -> GenerationResult {
        var stats = GenerationStats()
        return try generate(prompt, options: options, stats: &stats, cancel: cancel, onToken: onToken)
    }

    /// As above; `stats` may already hold the prompt's audio figures.
    public func generate(_ prompt: PreparedPrompt, options: GenerationOptions, stats: inout GenerationStats,
                         cancel: CancellationFlag? = nil,
                         onToken: (TokenEvent) -> Bool = { _ in true }) throws(EarshotError) -> GenerationResult {
        lock.lock(); defer { lock.unlock() }
        guard options.maxTokens >= 0 else {
            throw .invalidOption(name: "maxTokens", value: "\(options.maxTokens)", reason: "must be ≥ 0")
        }
        var logits = try prefill(prompt, reserve: options.maxTokens, stats: &stats)
        var sampler = Sampler(options.sampling)
        var decoder = model.tokenizer.streamingDecoder()
        var context = prompt.ids
        var generated: [Int] = []
        var text = ""
        // Streamed text lags the decoded text by (longest stop string − 1) characters, so a stop string is
        // never streamed; the rest is flushed with the last token.
        var emitted = 0
        let holdBack = max((options.stopStrings.map(\.count).max() ?? 0) - 1, 0)
        func release(upTo end: Int) -> String {
            guard end > emitted else { return "" }
            let piece = String(text.dropFirst(emitted).prefix(end - emitted))
            emitted = end
            return piece
        }
        var reason = StopReason.maxTokens
        var decodeTime = 0.0
        while generated.count < options.maxTokens {
            if cancel?.isCancelled == true || Task.isCancelled { reason = .cancelled; break }
            let next = logits.withUnsafeMutableBufferPointer { sampler.next(logits: $0, context: context) }
            generated.append(next)
            context.append(next)
            let index = generated.count - 1
            if options.stopIds.contains(next) {
                reason = .stopToken(next)
                text += decoder.finish()
                _ = onToken(TokenEvent(index: index, id: next, text: release(upTo: text.count)))
                break
            }
            do { text += try decoder.append(next) } catch { throw .model("cannot decode token \(next): \(error)") }
            let last = generated.count == options.maxTokens
            if last { text += decoder.finish() }
            if let stop = options.stopStrings.first(where: { !$0.isEmpty && text.contains($0) }) {
                text = String(text[..<text.range(of: stop)!.lowerBound])
                _ = onToken(TokenEvent(index: index, id: next, text: release(upTo: text.count)))
                reason = .stopString(stop)
                break
            }
            let piece = release(upTo: last ? text.count : text.count - holdBack)
            if !onToken(TokenEvent(index: index, id: next, text: piece)) { reason = .cancelled; break }
            if last { break }
            let s0 = now()
            let cache = self.cache!
            let lm = model.runtime.model
            logits = try model.compute { () throws(EarshotError) -> [Float] in
                do { return try lm.decodeStep(id: next, cache: cache) } catch { throw EarshotError.from(error) }
            }
            decodeTime += now() - s0
            contextIds.append(next)
            contextKeys.append(next)
        }
        if reason == .cancelled { text += decoder.finish() }
        stats.generatedTokens = generated.count
        stats.decodeSeconds = decodeTime
        return GenerationResult(ids: generated, text: text, stopReason: reason, stats: stats)
    }

    /// Encodes the prompt's uncached audios (as one batch, like the reference), reuses the KV cache of the
    /// longest shared prefix, runs the rest through the LLM and returns the logits that pick the next token.
    func prefill(_ prompt: PreparedPrompt, reserve: Int, stats: inout GenerationStats) throws(EarshotError) -> [Float] {
        let ids = prompt.ids
        guard !ids.isEmpty else { throw .prompt("the prompt is empty") }
        let cfg = model.config
        let runtimeModel = model.runtime.model
        stats.promptTokens = ids.count

        // Audio spans: cached ones as they are, the others encoded together.
        var spans = prompt.audios.map(\.span)
        let todo = prompt.audios.indices.filter { spans[$0] == nil }
        if !todo.isEmpty {
            let mels = todo.map { prompt.audios[$0].mel! }
            let t0 = now()
            let encoded = try model.compute { () throws(EarshotError) -> [[Float]] in
                do { return try runtimeModel.encoder.encode(mels, batched: true) } catch { throw EarshotError.from(error) }
            }
            stats.encodeSeconds += now() - t0
            for (j, i) in todo.enumerated() {
                spans[i] = encoded[j]
                if cachesAudio { audioCache[prompt.audios[i].key] = encoded[j] }
            }
        }
        stats.encodedAudios += todo.count
        stats.cachedAudios += prompt.audios.count - todo.count

        // Audio spans: the j-th <audio> … </audio> pair holds audio j.
        let H = cfg.llm.hiddenSize
        let startId = cfg.audio.audioStartId
        let starts = ids.indices.filter { ids[$0] == startId }
        let ends = ids.indices.filter { ids[$0] == startId + 1 }
        guard starts.count == ends.count, zip(starts, ends).allSatisfy({ $0 < $1 }) else {
            throw .prompt("\(starts.count) <audio> and \(ends.count) </audio> tokens do not pair up")
        }
        guard starts.count == spans.count else {
            throw .prompt("the prompt has \(starts.count) audio spans but \(spans.count) audios were given")
        }
        var keys = ids
        for (j, (a, b)) in zip(starts, ends).enumerated() {
            let h = Session.fnv1a(prompt.audios[j].key)
            for p in a...b { keys[p] = Int(bitPattern: UInt((h ^ UInt64(p - a)) &* 0x100_0000_01b3)) | Int.min }
        }

        // The shared prefix (at least one new token must run to give logits; the NTK alpha must agree).
        var common = 0
        if reusesPrefix, let cache, cache.length == contextKeys.count, cache.length > 0,
           cfg.llm.ntkAlpha(forPrefillLength: ids.count) == cache.ntkAlpha {
            while common < min(contextKeys.count, ids.count - 1) && contextKeys[common] == keys[common] { common += 1 }
        }
        let cache = ensureCache(capacity: ids.count + max(reserve, 1), keeping: common)
        if common == 0 { cache.reset() } else { cache.truncate(to: common) }
        contextIds = Array(ids[..<common])
        contextKeys = Array(keys[..<common])
        stats.reusedPromptTokens = common

        // Embed the new ids and splice the audio rows that fall in them.
        let t0 = now()
        let suffix = Array(ids[common...])
        let logits = try model.compute { () throws(EarshotError) -> [Float] in
            do {
                var x = try runtimeModel.lm.embed(suffix)
                for (j, (a, b)) in zip(starts, ends).enumerated() where b >= common {
                    let span = spans[j]!
                    guard span.count == (b - a + 1) * H else {
                        throw EarshotError.prompt("audio \(j): the prompt reserves \(b - a + 1) tokens, the encoder gave \(span.count / H)")
                    }
                    let first = max(a, common)
                    x.replaceSubrange(((first - common) * H)..<((b + 1 - common) * H),
                                      with: span[((first - a) * H)...])
                }
                let h = try runtimeModel.lm.forward(x, cache: cache)
                return runtimeModel.lm.lastLogits(h)
            } catch { throw EarshotError.from(error) }
        }
        stats.prefillSeconds += now() - t0
        contextIds = ids
        contextKeys = keys
        return logits
    }

    /// A cache that holds at least `capacity` tokens; a smaller one is replaced (its first `keeping` rows copied).
    func ensureCache(capacity: Int, keeping: Int) -> KVCache {
        if let cache, cache.capacity >= capacity, cache.precision == kvPrecision { return cache }
        let rounded = (max(capacity, 2 * (cache?.capacity ?? 0)) + 255) / 256 * 256
        let fresh = model.runtime.model.makeCache(capacity: rounded, precision: kvPrecision)
        if let old = cache, keeping > 0, old.precision == kvPrecision {
            old.truncate(to: keeping)
            old.copy(into: fresh)
        }
        cache = fresh
        return fresh
    }

    // MARK: - Tasks

    /// Runs a base-model task on one audio (the reference's single 30 s window).
    /// `options` nil: `defaultOptions(for: task)`.
    public func run(_ task: AudioTask, audio: AudioInput, options: GenerationOptions? = nil, cancel: CancellationFlag? = nil,
                    onToken: (TokenEvent) -> Bool = { _ in true }) throws(EarshotError) -> GenerationResult {
        var stats = GenerationStats()
        let prompt = try prepare(task: task, audio: audio, stats: &stats)
        return try generate(prompt, options: options ?? defaultOptions(for: task), stats: &stats, cancel: cancel, onToken: onToken)
    }

    /// The task's options with the model's defaults: its generation config's sampling, the task's eval
    /// max_new_tokens, stop at `<|endoftext|>`.
    public func defaultOptions(for task: AudioTask) -> GenerationOptions {
        let d = model.defaults
        return GenerationOptions(sampling: d.sampling(), maxTokens: task.defaultMaxTokens, stopIds: [d.eosTokenId])
    }

    /// Streams a task's tokens as an AsyncSequence; cancelling the consuming task stops generation.
    public func stream(_ task: AudioTask, audio: AudioInput, options: GenerationOptions? = nil) -> AsyncThrowingStream<TokenEvent, any Error> {
        Session.makeStream { flag, yield in
            _ = try self.run(task, audio: audio, options: options, cancel: flag) { yield($0); return true }
        }
    }

    /// Runs blocking generation work on its own thread and exposes its tokens as an AsyncThrowingStream.
    static func makeStream(_ work: @escaping @Sendable (CancellationFlag, (TokenEvent) -> Void) throws -> Void)
        -> AsyncThrowingStream<TokenEvent, any Error> {
        AsyncThrowingStream { continuation in
            let flag = CancellationFlag()
            continuation.onTermination = { _ in flag.cancel() }
            Thread.detachNewThread {
                do {
                    try work(flag) { continuation.yield($0) }
                    continuation.finish()
                } catch { continuation.finish(throwing: error) }
            }
        }
    }
}
