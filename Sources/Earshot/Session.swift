// Session: one conversation's (or one user's) state on a shared model — the KV cache and the ids it holds,
// a cache of encoded audios — and the Qwen path (Qwen-Audio, or a text-only Qwen LLM) from a prompt to
// generated tokens: prefill (reusing the cached shared prefix, splicing the audio spans), then the one
// generation loop (`Decoding`).
//
// Thread safety: every method may be called from any thread. A session runs one job at a time (a second
// caller waits for the first); its state is only touched under `lock`. Sessions of one model run their
// compute steps in turn (`EarshotModel.compute`).
import EarshotAudio
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTokenizer
import Foundation

/// An audio given to a prompt or a transcription.
public enum AudioInput: Sendable, Equatable {
    /// A file on disk (WAV, FLAC, Ogg Vorbis/Opus, MP3), decoded, down-mixed and resampled to 16 kHz as it is read.
    case file(String)
    /// Samples in memory: interleaved over `channels`, at `sampleRate` Hz (resampled to 16 kHz when needed).
    /// `name` keys the encoding cache and stands for the audio in prompt text and messages.
    case samples([Float], sampleRate: Int = 16_000, channels: Int = 1, name: String = "samples")

    /// How the audio is named in prompts and messages.
    public var name: String {
        switch self {
        case .file(let p): return p
        case .samples(_, _, _, let n): return n
        }
    }

    /// The audio's length in seconds as its header (or sample count) states it, without decoding it; nil
    /// when it cannot be read or the format does not say.
    public func declaredDuration() -> Double? {
        (try? stream(blockSize: 16_000))?.declaredSeconds
    }

    /// The front end's stream of 16 kHz mono blocks.
    func stream(blockSize: Int = 160_000) throws(EarshotError) -> SampleStream {
        do {
            switch self {
            case .file(let p): return try SampleStream(path: p, blockSize: blockSize)
            case let .samples(s, rate, channels, name):
                return try SampleStream(samples: s, sampleRate: rate, channels: channels, name: name, blockSize: blockSize)
            }
        } catch { throw .audio(path: name, error) }
    }
}

/// A Qwen-Audio prompt ready for prefill: expanded ids and its audios in `<audio>` order.
public struct PreparedPrompt: Sendable {
    public let ids: [Int]
    public let audios: [PreparedAudio]
    /// Time spent reading audio and computing log-mels for it.
    public internal(set) var stats = GenerationStats()

    init(ids: [Int], audios: [PreparedAudio]) {
        self.ids = ids
        self.audios = audios
    }

    /// A prompt of token ids without audio (e.g. ids from another tokenizer run, for parity checks); each id is
    /// checked against the model's vocabulary when it runs.
    public init(ids: [Int]) {
        self.init(ids: ids, audios: [])
    }
}

/// One audio of a prompt: its span length, and its cached encoding, its log-mel, or where to read it again
/// if neither the audio cache nor the KV cache prefix holds it.
public struct PreparedAudio: @unchecked Sendable {
    public let key: String
    /// Tokens of its `<audio>…</audio>` span (encoder frames + 2).
    public let spanTokens: Int
    let mel: AudioEncoder.Mel?
    let span: [Float]?
    var source: AudioInput? = nil
}

/// Per-session switches.
public struct SessionSettings: Sendable, Equatable {
    /// Keep the KV cache of the longest prefix the next prompt shares with what the cache holds.
    public var reusesPrefix = true
    /// Keep audio encodings (by file path, size and date, or by sample content) for later prompts.
    public var cachesAudio = true
    /// KV cache element type (f16 halves the memory; f32 for exactness checks).
    public var kvPrecision: KVCache.Precision = .f16
    /// Most audio encodings the cache keeps (oldest dropped first; a 30 s audio of the 7B model is 12 MB).
    public var audioCacheLimit = 8

    public init(reusesPrefix: Bool = true, cachesAudio: Bool = true, kvPrecision: KVCache.Precision = .f16) {
        self.reusesPrefix = reusesPrefix
        self.cachesAudio = cachesAudio
        self.kvPrecision = kvPrecision
    }
}

public final class Session: @unchecked Sendable {   // all mutable state guarded by `lock`
    public let model: EarshotModel
    let lock = NSRecursiveLock()

    private var _settings: SessionSettings
    /// The ids whose keys and values are in the KV cache, in order.
    var _contextIds: [Int] = []
    /// What each cached position holds: the token id, or (negative) a hash of its audio and offset in the
    /// span — placeholder ids are the same for every audio, so ids alone cannot tell two prompts apart.
    var contextKeys: [Int] = []
    var cache: KVCache?
    var audioCache: [String: [Float]] = [:]
    var audioCacheOrder: [String] = []

    init(model: EarshotModel) {
        self.model = model
        _settings = SessionSettings(kvPrecision: model.options.kvPrecision)
    }

    /// The session's switches (read and written under the session's lock).
    public var settings: SessionSettings {
        get { locked { _settings } }
        set { locked { _settings = newValue } }
    }

    /// The ids whose keys and values are in the KV cache, in order.
    public var contextIds: [Int] { locked { _contextIds } }

    /// Forgets the KV cache (the audio cache is kept).
    public func reset() {
        locked {
            _contextIds = []
            contextKeys = []
            cache?.reset()
        }
    }

    /// Forgets cached audio encodings.
    public func clearAudioCache() {
        locked {
            audioCache = [:]
            audioCacheOrder = []
        }
    }

    @inline(__always) func locked<R>(_ body: () throws(EarshotError) -> R) throws(EarshotError) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    @inline(__always) func locked<R>(_ body: () -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    func qwenEngine(_ what: String) throws(EarshotError) -> QwenAudioEngine {
        guard let e = model.qwen else {
            let why = model.info.family == .qwenText ? " (it is a text-only LLM, without an audio encoder)" : ""
            throw .unsupported(family: model.info.family, what: what + why)
        }
        return e
    }

    /// The Qwen LLM (Qwen-Audio's or a text model's).
    func llmEngine(_ what: String) throws(EarshotError) -> any QwenLLMEngine {
        guard let e = model.llm else { throw .unsupported(family: model.info.family, what: what) }
        return e
    }

    // MARK: - Prompts (Qwen-Audio)

    /// Reads one audio (or finds its encoding in the cache) and measures its span. Only the first 30 s of
    /// an audio fit in one span (use `run`/`transcribe` for longer audio: they cut it into windows).
    public func prepareAudio(_ input: AudioInput) throws(EarshotError) -> (PreparedAudio, GenerationStats) {
        let engine = try qwenEngine("take audio prompts")
        return try locked { () throws(EarshotError) -> (PreparedAudio, GenerationStats) in
            var stats = GenerationStats()
            let key = Session.cacheKey(input)
            if _settings.cachesAudio, let span = audioCache[key] {
                return (PreparedAudio(key: key, spanTokens: engine.spanTokens(rows: span.count / engine.config.llm.hiddenSize), mel: nil, span: span), stats)
            }
            let t0 = now()
            let stream = try input.stream(blockSize: LogMelSpectrogram.chunkSamples)
            let samples: [Float]
            do throws(AudioError) { samples = try stream.read() } catch { throw .audio(path: input.name, error) }
            guard !samples.isEmpty else { throw .audio(path: input.name, .empty(path: input.name)) }
            let mel = try model.compute { () throws(EarshotError) -> AudioEncoder.Mel in
                engine.mel(samples[...], threads: model.threads)
            }
            stats.audioSeconds += now() - t0
            stats.audioFiles += 1
            return (PreparedAudio(key: key, spanTokens: engine.spanTokens(melLength: mel.melLength), mel: mel, span: nil), stats)
        }
    }

    /// The prompt of a base-model task on one audio. Qwen-Audio: `<audio>NAME</audio>` + the task's tags (spec
    /// §6); the tags are specials, the text of `.ask` is tokenized with every special disallowed (plain text).
    /// Qwen2-Audio: the audio span + the task's natural-language prompt (Docs/qwen2-audio.md §5); `.ask` is an
    /// Instruct chat turn (audio-analysis mode: the audio, then the question).
    /// - Throws: `.unsupported` for a task the model has no prompt for.
    public func prompt(task: AudioTask, audio: AudioInput) throws(EarshotError) -> PreparedPrompt {
        let engine = try qwenEngine("run Qwen-Audio task prompts")
        let parts: [(text: String, specials: Bool)]
        switch engine.flavor {
        case .qwenAudio: parts = task.promptParts
        case .qwen2Audio:
            if case .ask(let question) = task {
                let (prepared, stats) = try prepareAudio(audio)
                let chat = engine.tokenizer.qwen2AudioChatPrompt(
                    query: ChatContent(audios: [(name: audio.name, spanTokens: prepared.spanTokens)], text: question, textMode: .none),
                    history: [], system: engine.defaultSystem, maxWindowTokens: Int.max, span: engine.qwen2SpanIDs)
                var p = PreparedPrompt(ids: chat.ids, audios: [prepared])
                p.stats = stats
                return p
            }
            if case .transcribe(_, true) = task {
                throw .unsupported(family: model.info.family, what: "switch inverse text normalisation (its ASR prompt has no such tag)")
            }
            guard let q = task.qwen2AudioPromptParts else {
                throw .unsupported(family: model.info.family, what: "run the \(task.name) task (it has no Qwen2-Audio prompt)")
            }
            parts = q
        }
        let (prepared, stats) = try prepareAudio(audio)
        var ids = engine.spanIds(tokens: prepared.spanTokens)
        for part in parts {
            ids += engine.tokenizer.encode(part.text, special: part.specials ? .all : .none)
        }
        var p = PreparedPrompt(ids: ids, audios: [prepared])
        p.stats = stats
        return p
    }

    /// Experts only: a raw base-model prompt, tokenized with **every special allowed**, whose
    /// `<audio>…</audio>` tags (in order) stand for `audios`. Never pass untrusted text here.
    /// A text-only LLM takes the text alone (its tokenizer has no audio tags; `audios` must be empty).
    public func prompt(raw text: String, audios: [AudioInput] = [], special: SpecialMode = .all) throws(EarshotError) -> PreparedPrompt {
        let engine = try llmEngine("run raw prompts")
        if !audios.isEmpty { _ = try qwenEngine("take audio inputs") }
        guard audios.count <= QwenAudioEngine.maxAudiosPerPrompt else {
            throw .prompt(.tooManyAudios(count: audios.count, limit: QwenAudioEngine.maxAudiosPerPrompt))
        }
        var prepared: [PreparedAudio] = []
        var stats = GenerationStats()
        for a in audios {
            let (p, s) = try prepareAudio(a)
            prepared.append(p)
            stats.add(s)
        }
        var ids: [Int]
        if let audio = engine.audio, audio.flavor == .qwen2Audio {
            // As Qwen2AudioProcessor: the j-th `<|AUDIO|>` becomes audio j's N copies.
            ids = engine.tokenizer.encode(text, special: special)
            let fill = audio.spanFillId
            let runs = ids.filter { $0 == fill }.count
            guard runs == prepared.count else { throw .prompt(.audioCount(spans: runs, audios: prepared.count)) }
            var expanded: [Int] = []
            var j = 0
            for id in ids {
                if id == fill {
                    expanded += repeatElement(fill, count: max(prepared[j].spanTokens - 2, 0))
                    j += 1
                } else {
                    expanded.append(id)
                }
            }
            ids = expanded
        } else {
            do { ids = try engine.tokenizer.encode(text, special: special, audioSpanTokens: prepared.map(\.spanTokens)) } catch {
                throw .tokenizer(error)
            }
        }
        var p = PreparedPrompt(ids: ids, audios: prepared)
        p.stats = stats
        return p
    }

    /// Experts only: a raw base-model prompt whose `<audio>PATH</audio>` tags name files, which are read
    /// (paths relative to the working directory) — the way the official code takes prompts. Every special
    /// is allowed. Never pass untrusted text here: it can make the session read any audio file.
    /// On a text-only LLM `<audio>` is ordinary text: nothing is read.
    /// On Qwen2-Audio each `<audio>PATH</audio>` becomes the model's own `<|audio_bos|><|AUDIO|><|audio_eos|>`.
    public func prompt(rawReadingAudioTags text: String) throws(EarshotError) -> PreparedPrompt {
        guard let engine = model.qwen else { return try prompt(raw: text, audios: []) }
        if engine.flavor == .qwen2Audio {
            var rest = text[...], out = "", paths: [String] = []
            while let open = rest.range(of: "<audio>") {
                guard let close = rest[open.upperBound...].range(of: "</audio>") else {
                    throw .prompt(.unpairedAudioTags(starts: paths.count + 1, ends: paths.count))
                }
                out += rest[..<open.lowerBound] + "<|audio_bos|><|AUDIO|><|audio_eos|>"
                paths.append(String(rest[open.upperBound..<close.lowerBound]))
                rest = rest[close.upperBound...]
            }
            guard paths.count <= QwenAudioEngine.maxAudiosPerPrompt else {
                throw .prompt(.tooManyAudios(count: paths.count, limit: QwenAudioEngine.maxAudiosPerPrompt))
            }
            return try prompt(raw: out + rest, audios: paths.map { AudioInput.file($0) })
        }
        let paths: [String]
        do { paths = try engine.tokenizer.audioPaths(in: text, special: .all) } catch { throw .tokenizer(error) }
        return try prompt(raw: text, audios: paths.map { AudioInput.file($0) })
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
        case let .samples(s, rate, channels, name):
            let h = s.withUnsafeBytes { XXH64.hash($0) }     // the format's checksum: ~10 GB/s, not a byte loop
            return "samples:\(name):\(rate):\(channels):\(s.count):\(h)"
        }
    }

    func forgetAudio(_ key: String) {
        guard audioCache[key] != nil else { return }
        audioCache[key] = nil
        audioCacheOrder.removeAll { $0 == key }
    }

    func rememberAudio(_ key: String, _ span: [Float]) {
        guard _settings.cachesAudio else { return }
        if audioCache[key] == nil { audioCacheOrder.append(key) }
        audioCache[key] = span
        while audioCacheOrder.count > max(_settings.audioCacheLimit, 1) {
            audioCache[audioCacheOrder.removeFirst()] = nil
        }
    }

    // MARK: - Generation (Qwen-Audio and text LLMs)

    /// Prefills `prompt` and generates. `onToken` sees every token as it comes; returning false stops
    /// (reason `.cancelled`), as does `cancel` or the current Swift task being cancelled. `probe` receives
    /// every named intermediate of the prefill (for `earshot run --dump`).
    /// - Throws: `.contextFull` when the prompt does not fit the model's context, `.prompt` for a malformed
    ///   prompt, `.model` when the model refuses its input.
    public func generate(_ prompt: PreparedPrompt, options: GenerationOptions, cancel: CancellationFlag? = nil,
                         probe: Probe? = nil, onToken: (TokenEvent) -> Bool = { _ in true }) throws(EarshotError) -> GenerationResult {
        let engine = try llmEngine("generate with Qwen prompts")
        return try locked { () throws(EarshotError) -> GenerationResult in
            guard options.maxTokens >= 0 else {
                throw .invalidOption(name: "maxTokens", value: "\(options.maxTokens)", reason: "must be ≥ 0")
            }
            var stats = prompt.stats
            let context = engine.contextLength
            guard prompt.ids.count < context else { throw .prompt(.tooLong(tokens: prompt.ids.count, limit: context - 1)) }
            // Never more tokens than the context holds after the prompt, whatever was asked.
            let limit = min(options.maxTokens, context - prompt.ids.count)
            let first: [Float]
            do throws(EarshotError) { first = try prefill(prompt, engine: engine, reserve: limit, stats: &stats, probe: probe, cancel: cancel) } catch {
                guard case .cancelled = error else { throw error }
                return GenerationResult(ids: [], text: "", stopReason: .cancelled, stats: stats)   // stopped in the prefill
            }
            let decoder = QwenStepDecoder(model: model, lm: engine.lm, cache: cache!)
            var text = QwenTextStream(decoder: engine.tokenizer.streamingDecoder(),
                                      paddingFrom: engine.audio?.flavor == .qwenAudio ? nil : engine.tokenizer.vocabularySize)
            var request = DecodingRequest(maxTokens: limit, stopIds: options.stopIds)
            request.stopStrings = options.stopStrings
            var decodeTime = 0.0
            var stepStart = now()
            let hyps = try Decoding.run(decoder, state: 0, first: first, context: prompt.ids, request: request,
                                        strategy: .sample(options.sampling, count: 1), text: &text, cancel: cancel,
                                        onToken: { e in stepStart = now(); return onToken(e) },
                                        afterStep: { id in
                                            decodeTime += now() - stepStart
                                            _contextIds.append(id)
                                            contextKeys.append(id)
                                        })
            let h = hyps[0]
            stats.generatedTokens = h.ids.count
            stats.decodeSeconds = decodeTime
            return GenerationResult(ids: h.ids, text: h.text, stopReason: h.stopReason, stats: stats)
        }
    }

    /// Encodes the prompt's uncached audios (as one batch, like the reference), reuses the KV cache of the
    /// longest shared prefix, runs the rest through the LLM and returns the logits that pick the next token.
    /// `cancel` (or the task's cancellation) stops it before the encoder and between LLM layers: `.cancelled`,
    /// the context left at the reused prefix.
    func prefill(_ prompt: PreparedPrompt, engine: any QwenLLMEngine, reserve: Int, stats: inout GenerationStats,
                 probe: Probe?, cancel: CancellationFlag? = nil) throws(EarshotError) -> [Float] {
        let stopped = { cancel?.isCancelled == true || Task.isCancelled }
        let ids = prompt.ids
        guard !ids.isEmpty else { throw .prompt(.empty) }
        let llm = engine.llmConfig
        let lm = engine.lm
        stats.promptTokens = ids.count
        if !prompt.audios.isEmpty { _ = try qwenEngine("take audio inputs") }

        // Audio spans: the j-th start … end pair (<audio> … </audio>, Qwen2-Audio's <|audio_bos|> … <|audio_eos|>) holds audio j.
        let H = llm.hiddenSize
        let inset = engine.audio?.spanInset ?? 0
        let spanTokensOf = { (rows: Int) in rows + 2 * inset }
        let starts: [Int], ends: [Int]
        if let startId = engine.audio?.config.audio.audioStartId {
            starts = ids.indices.filter { ids[$0] == startId }
            ends = ids.indices.filter { ids[$0] == startId + 1 }
        } else {
            starts = []; ends = []
        }
        guard starts.count == ends.count, zip(starts, ends).allSatisfy({ $0 < $1 }) else {
            throw .prompt(.unpairedAudioTags(starts: starts.count, ends: ends.count))
        }
        guard starts.count == prompt.audios.count else {
            throw .prompt(.audioCount(spans: starts.count, audios: prompt.audios.count))
        }
        for (j, (a, b)) in zip(starts, ends).enumerated() where b - a + 1 != prompt.audios[j].spanTokens {
            throw .prompt(.spanLength(audio: j, reserved: b - a + 1, encoded: prompt.audios[j].spanTokens))
        }

        var keys = ids
        for (j, (a, b)) in zip(starts, ends).enumerated() {
            let h = Session.fnv1a(prompt.audios[j].key)
            for p in a...b { keys[p] = Int(bitPattern: UInt((h ^ UInt64(p - a)) &* 0x100_0000_01b3)) | Int.min }
        }

        // The shared prefix (at least one new token must run to give logits; the NTK alpha must agree).
        var common = 0
        if _settings.reusesPrefix, probe == nil, let cache, cache.length == contextKeys.count, cache.length > 0,
           llm.ntkAlpha(forPrefillLength: ids.count) == cache.ntkAlpha {
            while common < min(contextKeys.count, ids.count - 1) && contextKeys[common] == keys[common] { common += 1 }
        }

        // Spans the new rows need: cached ones as they are, the others encoded together (one padded batch,
        // like the reference). An audio whose span lies wholly in the reused prefix is not needed at all.
        var spans = [[Float]?](repeating: nil, count: prompt.audios.count)
        var mels: [(index: Int, mel: AudioEncoder.Mel)] = []
        stats.cachedAudios += ends.filter { $0 < common }.count
        for (j, (_, b)) in zip(starts, ends).enumerated() where b >= common {
            let a = prompt.audios[j]
            if let span = a.span ?? audioCache[a.key] { spans[j] = span; stats.cachedAudios += 1; continue }
            if let mel = a.mel { mels.append((j, mel)); continue }
            guard let source = a.source else { throw .prompt(.audioCount(spans: starts.count, audios: j)) }
            let (fresh, s) = try prepareAudio(source)
            stats.add(s)
            guard fresh.spanTokens == a.spanTokens else {
                throw .prompt(.spanLength(audio: j, reserved: a.spanTokens, encoded: fresh.spanTokens))
            }
            if let span = fresh.span { spans[j] = span } else if let mel = fresh.mel { mels.append((j, mel)) }
        }
        if stopped() { throw .cancelled }
        if !mels.isEmpty, let encoder = engine.audio?.model.encoder {
            let t0 = now()
            let batch = mels.map(\.mel)
            let encoded = try model.compute { () throws(EarshotError) -> [[Float]] in
                do { return try encoder.encode(batch, batched: true, probe: probe) } catch { throw EarshotError.from(error) }
            }
            stats.encodeSeconds += now() - t0
            for (k, m) in mels.enumerated() {
                spans[m.index] = encoded[k]
                rememberAudio(prompt.audios[m.index].key, encoded[k])
            }
        }
        stats.encodedAudios += mels.count

        let cache = ensureCache(engine: engine, capacity: ids.count + max(reserve, 1), keeping: common)
        if common == 0 { cache.reset() } else { cache.truncate(to: common) }
        _contextIds = Array(ids[..<common])
        contextKeys = Array(keys[..<common])
        stats.reusedPromptTokens = common
        if stopped() { throw .cancelled }

        // Embed the new ids and splice the audio rows that fall in them (QwenLM.splice over the suffix).
        let t0 = now()
        let suffix = Array(ids[common...])
        let logits = try model.compute { () throws(EarshotError) -> [Float] in
            do {
                var x = try lm.embed(suffix)
                // The encoder's rows cover [a + inset, b − inset] (Qwen2-Audio keeps its delimiters' embeddings).
                for (j, (a, b)) in zip(starts, ends).enumerated() {
                    let lo = a + inset, hi = b - inset
                    guard hi >= common, hi >= lo else { continue }
                    let span = spans[j]!
                    guard span.count == (hi - lo + 1) * H else {
                        throw EarshotError.prompt(.spanLength(audio: j, reserved: b - a + 1, encoded: spanTokensOf(span.count / H)))
                    }
                    let first = max(lo, common)
                    try lm.splice(rows: span[((first - lo) * H)...], into: &x, at: first - common)
                }
                emit(probe, "llm.inputs_embeds", [suffix.count, H], x)
                let h = try lm.forward(x, cache: cache, probe: probe, shouldStop: stopped)
                let logits = lm.lastLogits(h)
                emit(probe, "llm.last_logits", [logits.count], logits)
                return logits
            } catch { throw EarshotError.from(error) }
        }
        stats.prefillSeconds += now() - t0
        _contextIds = ids
        contextKeys = keys
        return logits
    }

    /// A cache that holds at least `capacity` tokens (at most the model's context); a smaller one is replaced
    /// (its first `keeping` rows copied).
    func ensureCache(engine: any QwenLLMEngine, capacity: Int, keeping: Int) -> KVCache {
        let precision = _settings.kvPrecision
        if let cache, cache.capacity >= capacity, cache.precision == precision { return cache }
        let rounded = min((max(capacity, 2 * (cache?.capacity ?? 0)) + 255) / 256 * 256, max(engine.contextLength, capacity))
        let fresh = engine.makeCache(capacity: rounded, precision: precision)
        if let old = cache, keeping > 0, old.precision == precision {
            old.truncate(to: keeping)
            old.copy(into: fresh)
        }
        cache = fresh
        return fresh
    }
}

/// Calls a probe (the model's `emit` is internal to EarshotModels).
@inline(__always) func emit(_ probe: Probe?, _ name: String, _ shape: [Int], _ values: [Float]) {
    guard let probe else { return }
    values.withUnsafeBufferPointer { probe(name, shape, $0) }
}
