// QwenTasks: a Qwen-Audio (or Qwen2-Audio) task on a recording of any length. The reference reads only the first 30 s;
// here the audio streams from the file (never whole in memory) and is cut into windows of at most 30 s
// (`AudioWindowCutter`), each run as its own prompt, every window's timestamps shifted by its start.
// `truncate` keeps the reference's behaviour (first 30 s only). `transcribe` for Qwen-Audio is the ASR task
// over those windows, returned as a `Transcript` like Whisper's.
import EarshotAudio
import EarshotTokenizer
import Foundation

/// One window's result: where it starts in the audio and what the task produced for it.
public struct WindowResult: Sendable {
    public let index: Int
    public let startSeconds: Double
    public let durationSeconds: Double
    public let result: GenerationResult

    /// Timed pieces of this window's text, in audio time: the `<|t|>` timestamps parsed (shifted by the
    /// window start, clamped to the window); text without timestamps becomes one piece spanning the window.
    public var segments: [TimedText] {
        // Text before the first timestamp starts at the window start (the SRWT prompt itself ends in <|0.00|>).
        let text = result.text.hasPrefix("<|0.00|>") ? result.text : "<|0.00|>" + result.text
        let words = TimestampParser.parse(text, offset: startSeconds)
        let end = startSeconds + durationSeconds
        func clamp(_ t: TimedText) -> TimedText {
            let s = min(max(t.start, startSeconds), end)
            return TimedText(start: s, end: max(min(max(t.end, startSeconds), end), s), text: t.text)
        }
        if result.text.contains("<|"), !words.isEmpty { return TimestampParser.segments(words.map(clamp)) }
        let plain = result.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return plain.isEmpty ? [] : [TimedText(start: startSeconds, end: end, text: plain)]
    }
}

/// A task's result over the whole audio.
public struct TaskResult: Sendable {
    public var windows: [WindowResult]
    /// Length of the audio, seconds (of what was read: the first 30 s with `truncate`).
    public var duration: Double
    /// The text of a single window as generated; several windows' texts trimmed and joined with a space.
    public var text: String {
        if windows.count == 1 { return windows[0].result.text }
        return windows.map { $0.result.text.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: " ")
    }
    /// Every window's generated ids, in order.
    public var ids: [Int] { windows.flatMap(\.result.ids) }
    /// Why the last window stopped.
    public var stopReason: StopReason { windows.last?.result.stopReason ?? .cancelled }
    /// All windows' figures summed.
    public var stats: GenerationStats {
        var s = GenerationStats()
        for w in windows { s.add(w.result.stats) }
        return s
    }
}

/// The windows a Qwen-Audio task runs on: cut in pauses (`PauseAlignedWindowPlanner`: where the VAD finds no
/// speech, else at a short-time-energy minimum before the 30 s mark; never inside a word), streamed from the
/// input; with `truncate`, only the reference's first 30 s.
final class WindowSource {
    private let planner: PauseAlignedWindowPlanner?
    private let cutter: AudioWindowCutter?
    private let name: String
    private var truncated = false

    init(_ audio: AudioInput, truncate: Bool, voiceActivity: VoiceActivityDetector?) throws(EarshotError) {
        name = audio.name
        if truncate {
            cutter = AudioWindowCutter(stream: try audio.stream())
            planner = nil
            return
        }
        let options = PauseAlignedWindowOptions()
        let stream = try audio.stream(blockSize: options.readSamples)
        do {
            planner = try PauseAlignedWindowPlanner(source: { (_: Int) throws(AudioError) -> [Float] in try stream.read() },
                                                    options: options, speechProbabilities: voiceActivity?.probabilityProvider())
        } catch { throw .audio(path: audio.name, error) }
        cutter = nil
    }

    func next() throws(AudioError) -> AudioWindow? {
        if let cutter {
            guard !truncated else { return nil }
            truncated = true
            return try cutter.next()
        }
        guard let w = try planner!.next() else { return nil }
        // Only a whole audio shorter than 10 ms comes back this short: pad it to one encoder frame.
        let samples = w.samples.count >= LogMelSpectrogram.hop ? w.samples
            : w.samples + [Float](repeating: 0, count: LogMelSpectrogram.hop - w.samples.count)
        return AudioWindow(index: w.index, startSample: w.startSample, samples: samples)
    }
}

/// Cuts a stream of 16 kHz samples into windows of at most 30 s, in order, without gaps or overlaps. A tail
/// shorter than 10 ms is dropped (it cannot make one encoder frame); an audio shorter than that is padded.
final class AudioWindowCutter {
    let stream: SampleStream
    let length = LogMelSpectrogram.chunkSamples
    let minimum = LogMelSpectrogram.hop
    private var pending: [Float] = []
    private var pendingStart = 0
    private var index = 0
    private var ended = false

    init(stream: SampleStream) { self.stream = stream }

    func next() throws(AudioError) -> AudioWindow? {
        while !ended && pending.count < length {
            let block = try stream.read()
            if block.isEmpty { ended = true } else { pending += block }
        }
        if pending.isEmpty { return nil }
        var take = min(length, pending.count)
        if ended && pending.count - take < minimum { take = pending.count }
        var samples = Array(pending[0..<take])
        pending.removeFirst(take)
        if samples.count < minimum {
            if index > 0 { return nil }
            samples += [Float](repeating: 0, count: minimum - samples.count)
        }
        defer { index += 1; pendingStart += take }
        return AudioWindow(index: index, startSample: pendingStart, samples: samples)
    }
}

extension Session {
    /// Runs a Qwen-Audio task on an audio of any length: one prompt per window of at most 30 s, windows cut
    /// in pauses, or only the first 30 s with `truncate`.
    /// - Parameters:
    ///   - task: the task prompt (transcribe, caption, ask, …).
    ///   - audio: a file or samples.
    ///   - options: nil uses `defaultOptions(for: task)` (the model's generation config).
    ///   - truncate: only the first 30 s, as the reference does.
    ///   - voiceActivity: cut windows where this detector finds no speech (nil: at short-time-energy minima).
    ///   - cancel: a flag another thread may set to stop after the current token.
    ///   - onToken: every generated token; return false to stop.
    /// - Throws: `.unsupported` for a model without Qwen-Audio task prompts (Whisper: use `transcribe`),
    ///   `.audio` when the audio cannot be read.
    public func run(_ task: AudioTask, audio: AudioInput, options: GenerationOptions? = nil, truncate: Bool = false,
                    voiceActivity: VoiceActivityDetector? = nil, cancel: CancellationFlag? = nil,
                    onToken: (TokenEvent) -> Bool = { _ in true }) throws(EarshotError) -> TaskResult {
        try runWindows(task, audio: audio, options: options, truncate: truncate, voiceActivity: voiceActivity, cancel: cancel,
                       onWindow: { _ in true }, onToken: onToken)
    }

    /// `run`, told before each window starts.
    /// - Parameters:
    ///   - task: the task prompt.
    ///   - audio: a file or samples.
    ///   - options: nil uses `defaultOptions(for: task)`.
    ///   - truncate: only the first 30 s.
    ///   - voiceActivity: cut windows where this detector finds no speech.
    ///   - cancel: a flag another thread may set.
    ///   - onWindow: called before each window runs; return false to stop.
    ///   - onToken: every generated token; return false to stop.
    public func runWindows(_ task: AudioTask, audio: AudioInput, options: GenerationOptions? = nil, truncate: Bool = false,
                           voiceActivity: VoiceActivityDetector? = nil, cancel: CancellationFlag? = nil,
                           onWindow: (AudioWindow) -> Bool, onToken: (TokenEvent) -> Bool) throws(EarshotError) -> TaskResult {
        _ = try qwenEngine("run Qwen-Audio task prompts (use transcribe)")
        let opts = options ?? defaultOptions(for: task)
        return try locked { () throws(EarshotError) -> TaskResult in
            let t0 = now()
            let cutter = try WindowSource(audio, truncate: truncate, voiceActivity: voiceActivity)
            var results: [WindowResult] = []
            var decodeSeconds = now() - t0
            var readSamples = 0
            while true {
                if cancel?.isCancelled == true || Task.isCancelled { break }
                let t1 = now()
                let window: AudioWindow?
                do throws(AudioError) { window = try cutter.next() } catch { throw .audio(path: audio.name, error) }
                decodeSeconds += now() - t1
                guard let w = window else { break }
                readSamples = w.startSample + w.samples.count
                if !onWindow(w) { break }
                let clip = AudioInput.samples(w.samples, name: "\(audio.name)@\(w.startSample)")
                var prompt = try self.prompt(task: task, audio: clip)
                prompt.stats.audioSeconds += decodeSeconds
                decodeSeconds = 0
                let r = try generate(prompt, options: opts, cancel: cancel, onToken: onToken)
                forgetAudio(Session.cacheKey(clip))   // a window is never seen again
                results.append(WindowResult(index: w.index, startSeconds: w.startSeconds, durationSeconds: w.durationSeconds, result: r))
                if r.stopReason == .cancelled || truncate { break }
            }
            if results.isEmpty && !(cancel?.isCancelled ?? false) && !Task.isCancelled {
                throw .audio(path: audio.name, .empty(path: audio.name))
            }
            return TaskResult(windows: results, duration: Double(readSamples) / Double(LogMelSpectrogram.sampleRate))
        }
    }

    /// The task's options with the model's defaults: its generation config's sampling, the task's eval
    /// max_new_tokens, stop at `<|endoftext|>`.
    /// Qwen2-Audio: its defaults' sampling (greedy unless its generation config samples) and max new tokens
    /// (the evals' 256), stop at its eos, `<|endoftext|>` or `<|im_end|>`.
    public func defaultOptions(for task: AudioTask) -> GenerationOptions {
        let d = model.defaults
        if let e = model.qwen, e.flavor == .qwen2Audio {
            return GenerationOptions(sampling: d.sampling(), maxTokens: d.maxNewTokens, stopIds: e.stopIds)
        }
        return GenerationOptions(sampling: d.sampling(), maxTokens: task.defaultMaxTokens, stopIds: [d.eosTokenId])
    }

    /// Transcribes (or translates) speech of any length with any model family, returning timed segments.
    /// Whisper runs faster-whisper's long-form algorithm; Qwen-Audio runs its ASR (or translation) task
    /// prompt over ≤ 30 s windows.
    /// - Parameters:
    ///   - audio: a file or samples.
    ///   - options: language, task, decoding, VAD (defaults: faster-whisper's).
    ///   - cancel: a flag another thread may set to stop.
    ///   - onEvent: language, windows, streamed tokens (Qwen-Audio), final segments and progress; return false to stop.
    /// - Throws: `.invalidOption`/`.unsupported` for options the model cannot honour (never silently ignored),
    ///   `.audio` for unreadable audio, `.cancelled` when cancelled before any result.
    public func transcribe(_ audio: AudioInput, options: TranscriptionOptions = TranscriptionOptions(),
                           cancel: CancellationFlag? = nil,
                           onEvent: (TranscriptionEvent) -> Bool = { _ in true }) throws(EarshotError) -> Transcript {
        try locked { () throws(EarshotError) -> Transcript in
            switch model.engine {
            case .whisper(let e):
                return try transcribeWhisper(audio, options: options, engine: e, cancel: cancel, onEvent: onEvent)
            case .qwenAudio:
                return try transcribeQwen(audio, options: options, cancel: cancel, onEvent: onEvent)
            case .qwenText:
                throw .unsupported(family: model.info.family, what: "transcribe audio (it is a text-only LLM; use generate or chat)")
            }
        }
    }

    func transcribeQwen(_ audio: AudioInput, options o: TranscriptionOptions, cancel: CancellationFlag?,
                        onEvent: (TranscriptionEvent) -> Bool) throws(EarshotError) -> Transcript {
        func language(_ code: String, _ name: String) throws(EarshotError) -> AudioLanguage {
            guard let l = AudioLanguage(rawValue: code) else {
                throw .invalidOption(name: name, value: code, reason: "Qwen-Audio knows \(AudioLanguage.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return l
        }
        if o.wordTimestamps { throw .unsupported(family: model.info.family, what: "give word timestamps in transcribe (use the timestamps task)") }
        if o.initialPrompt != nil { throw .unsupported(family: model.info.family, what: "take an initial prompt") }
        if o.itn, model.qwen?.flavor == .qwen2Audio {
            throw .unsupported(family: model.info.family, what: "switch inverse text normalisation (its ASR prompt has no such tag)")
        }
        let spoken = try language(o.language ?? "en", "language")
        let task: AudioTask
        var taskName = "transcribe"
        switch o.task {
        case .transcribe: task = .transcribe(language: spoken, itn: o.itn)
        case .translate(let target):
            task = .translate(source: spoken, target: try language(target, "target language"))
            taskName = "translate"
        }
        var opts = defaultOptions(for: task)
        opts.sampling = o.sampling ?? .greedy
        opts.stopStrings = o.stopStrings
        if let m = o.maxNewTokens {
            guard m >= 1 else { throw .invalidOption(name: "max new tokens", value: "\(m)", reason: "must be ≥ 1") }
            opts.maxTokens = m
        }
        if !onEvent(.language(code: spoken.rawValue, probability: 1)) { throw .cancelled }
        var stopped = false
        let result = try runWindows(task, audio: audio, options: opts, truncate: o.truncate, voiceActivity: o.voiceActivity, cancel: cancel,
            onWindow: { w in
                stopped = !onEvent(.window(index: w.index, span: TimeSpan(start: w.startSeconds, end: w.startSeconds + w.durationSeconds)))
                return !stopped
            },
            onToken: { e in
                stopped = !onEvent(.token(e))
                return !stopped
            })
        let transcript = Transcript(result: result, model: model, task: taskName, audio: audio.name, language: spoken.rawValue)
        if !stopped {
            for segment in transcript.segments where !stopped { stopped = !onEvent(.segment(segment)) }
        }
        return transcript
    }
}

extension Transcript {
    /// A Qwen-Audio task's windows as a transcript: each window's text (or the timed pieces its timestamp
    /// tokens mark) becomes segments in audio time.
    public init(result: TaskResult, model: EarshotModel, task: String, audio: String, language: String?) {
        self.init(model: (model.path as NSString).lastPathComponent, family: model.info.family, task: task, audio: audio,
                  duration: result.duration, language: language, languageProbability: language == nil ? nil : 1,
                  text: result.text.trimmingCharacters(in: .whitespacesAndNewlines), stats: result.stats)
        let textTokenLimit = model.llm?.tokenizer.ranks.count ?? QwenTokenID.endOfText   // ids before the specials
        for w in result.windows {
            windows.append(TimeSpan(start: w.startSeconds, end: w.startSeconds + w.durationSeconds))
            for s in w.segments {
                segments.append(TranscriptSegment(start: s.start, end: s.end, text: s.text,
                                                  tokens: w.result.ids.filter { $0 < textTokenLimit }))
            }
        }
        clampTimes()
    }
}
