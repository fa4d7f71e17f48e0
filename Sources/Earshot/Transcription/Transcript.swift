// Transcript: what `Session.transcribe` returns for every model family — the text, timed segments (with
// words when asked), the windows the audio was cut into, the language — plus the options that steer it
// and the events it streams while it runs.
import EarshotAudio

/// A span of the audio, seconds from its start.
public struct TimeSpan: Sendable, Equatable, Codable {
    public var start: Double
    public var end: Double
    public init(start: Double, end: Double) { self.start = start; self.end = end }
}

/// One timed word (Whisper `wordTimestamps`, Qwen-Audio's timestamps task).
public struct TranscriptWord: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var word: String
    /// The model's probability of the word's tokens (nil when unknown).
    public var probability: Double?
    public init(start: Double, end: Double, word: String, probability: Double? = nil) {
        self.start = start; self.end = end; self.word = word; self.probability = probability
    }
}

/// One timed piece of the transcript.
public struct TranscriptSegment: Sendable, Equatable {
    public var start: Double
    public var end: Double
    /// The text as decoded (Whisper pieces usually start with a space).
    public var text: String
    public var words: [TranscriptWord]?
    /// Generated text ids of the segment.
    public var tokens: [Int]
    /// Decoding figures of the window that gave it (Whisper).
    public var temperature: Double?
    public var averageLogProbability: Double?
    public var compressionRatio: Double?
    public var noSpeechProbability: Double?

    public init(start: Double, end: Double, text: String, words: [TranscriptWord]? = nil, tokens: [Int] = [],
                temperature: Double? = nil, averageLogProbability: Double? = nil, compressionRatio: Double? = nil,
                noSpeechProbability: Double? = nil) {
        self.start = start; self.end = end; self.text = text; self.words = words; self.tokens = tokens
        self.temperature = temperature; self.averageLogProbability = averageLogProbability
        self.compressionRatio = compressionRatio; self.noSpeechProbability = noSpeechProbability
    }
}

/// The result of a transcription (or speech translation).
public struct Transcript: Sendable {
    /// The model's file name.
    public var model: String
    public var family: ModelFamily
    /// "transcribe" or "translate".
    public var task: String
    /// The input's name (file path or samples name).
    public var audio: String
    /// Length of the audio, seconds.
    public var duration: Double
    /// The spoken language (given, or detected), ISO code.
    public var language: String?
    public var languageProbability: Double?
    /// Segment texts joined, surrounding whitespace trimmed.
    public var text: String
    public var segments: [TranscriptSegment]
    /// The ≤ 30 s windows the model saw, in order (after the VAD, in file time).
    public var windows: [TimeSpan]
    public var stats: GenerationStats

    public init(model: String, family: ModelFamily, task: String, audio: String, duration: Double, language: String? = nil,
                languageProbability: Double? = nil, text: String = "", segments: [TranscriptSegment] = [],
                windows: [TimeSpan] = [], stats: GenerationStats = GenerationStats()) {
        self.model = model; self.family = family; self.task = task; self.audio = audio; self.duration = duration
        self.language = language; self.languageProbability = languageProbability; self.text = text
        self.segments = segments; self.windows = windows; self.stats = stats
    }

    /// Clamps every time to [0, duration] with end ≥ start (model timestamps can overshoot a short file).
    public mutating func clampTimes() {
        func c(_ t: Double) -> Double { min(max(t, 0), duration) }
        for i in segments.indices {
            segments[i].start = c(segments[i].start)
            segments[i].end = max(c(segments[i].end), segments[i].start)
            if var words = segments[i].words {
                for w in words.indices {
                    words[w].start = c(words[w].start)
                    words[w].end = max(c(words[w].end), words[w].start)
                }
                segments[i].words = words
            }
        }
        for i in windows.indices {
            windows[i].start = c(windows[i].start)
            windows[i].end = max(c(windows[i].end), windows[i].start)
        }
    }
}

/// What `transcribe` should do. Defaults are faster-whisper's `WhisperModel.transcribe` defaults for
/// Whisper; Qwen-Audio uses `language`, `itn`, `sampling`, `maxNewTokens`, `truncate` and `vad`.
public struct TranscriptionOptions: Sendable {
    public enum Task: Sendable, Equatable {
        case transcribe
        /// Translate the speech into `target` (Whisper translates into English only).
        case translate(target: String)
    }

    public var task: Task = .transcribe
    /// The spoken language (ISO code); nil: detected (multilingual Whisper) or English.
    public var language: String?
    /// Beam size for temperature 0 (1 = greedy).
    public var beamSize = 5
    /// Sampled candidates at temperatures above 0.
    public var bestOf = 5
    public var patience = 1.0
    public var lengthPenalty = 1.0
    /// Temperature fallback: each window is decoded at the first temperature, and again at the next one
    /// while the result is too repetitive (compression ratio) or too unlikely (average log-probability).
    public var temperatures: [Double] = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    public var compressionRatioThreshold: Double? = 2.4
    public var logProbThreshold: Double? = -1.0
    /// A window whose no-speech probability is above this (and whose text is unlikely) is skipped as silence.
    public var noSpeechThreshold: Double? = 0.6
    /// Feed the previous windows' text as the prompt of the next (`<|startofprev|>`).
    public var conditionOnPreviousText = true
    /// Stop conditioning once a window needed a temperature above this.
    public var promptResetOnTemperature = 0.5
    /// Text that conditions the first window (names, spelling, style).
    public var initialPrompt: String?
    /// Decode timestamp tokens (faster-whisper's default); false decodes each window without them.
    public var timestamps = true
    /// Word-level times (cross-attention alignment + DTW).
    public var wordTimestamps = false
    /// The first timestamp of a window is at most this many seconds.
    public var maxInitialTimestamp = 1.0
    /// Most tokens per window (nil: the model's limit, 224 for Whisper; 256 for Qwen-Audio ASR).
    public var maxNewTokens: Int?
    /// Whisper: transcribe only the speech this detector finds (faster-whisper's `vad_filter`: the speech is
    /// joined, transcribed, and every time mapped back to the file). Qwen-Audio: windows are cut where it finds
    /// no speech (without it, at short-time-energy minima). nil: no VAD.
    public var voiceActivity: VoiceActivityDetector?
    /// The detector's settings (faster-whisper's defaults).
    public var vadOptions = VADOptions.transcribe
    /// Qwen-Audio: inverse text normalisation.
    public var itn = false
    /// Qwen-Audio: sampling (nil: greedy, the eval scripts' decoding).
    public var sampling: SamplingParameters?
    /// Qwen-Audio: stop a window's text at any of these strings.
    public var stopStrings: [String] = []
    /// Only the first 30 s (the reference's behaviour).
    public var truncate = false
    /// Seed of the sampled fallback candidates.
    public var seed: UInt64 = 1234

    public init() {}
}

/// What a running transcription reports. Returning false from the handler cancels the run.
public enum TranscriptionEvent: Sendable {
    /// The language was detected (or taken from the options).
    case language(code: String, probability: Double?)
    /// A window starts.
    case window(index: Int, span: TimeSpan)
    /// A token streamed (Qwen-Audio), with the text it completes.
    case token(TokenEvent)
    /// A segment is final.
    case segment(TranscriptSegment)
    /// Audio seconds processed so far, and the total when known.
    case progress(seconds: Double, total: Double?)
}
