// WhisperTranscriber: speech → text with a plain Whisper model (e.g. tiny.en converted from CTranslate2):
// 16 kHz samples → 30 s windows → log-mel → AudioEncoder (plain-Whisper config) → WhisperDecoder search →
// WhisperTokenizer text. Mirrors faster-whisper's transcribe() for what it decodes:
//   - features: the Whisper log-mel of each window, with frames past the end of the audio set to 0 (faster-whisper
//     pads the *log-mel* with zeros, OpenAI pads the audio; this matches faster-whisper);
//   - prompt [sot] (+ language/task for multilingual models) (+ notimestamps unless timestamps are asked);
//   - CTranslate2's suppression and timestamp rules, greedy or beam search, 224 new tokens at most;
//   - windows advance by 30 s, or, with timestamps, to the last complete segment (faster-whisper's seek rule).
// No temperature fallback, no previous-text conditioning, no VAD.
import EarshotAudio
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTokenizer
import Foundation

public struct WhisperTranscribeOptions: Sendable {
    /// 1 = greedy; faster-whisper's default is 5.
    public var beamSize: Int
    /// Decode timestamp tokens and split the text into timed segments.
    public var timestamps: Bool
    /// Language code for multilingual models (ignored by English-only ones).
    public var language: String
    public var maxNewTokens: Int = 224

    public init(beamSize: Int = 5, timestamps: Bool = false, language: String = "en") {
        self.beamSize = beamSize
        self.timestamps = timestamps
        self.language = language
    }
}

/// One decoded piece: seconds from the start of the audio, text, and the generated ids it came from.
public struct WhisperSegment: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var text: String
    public var tokens: [Int]
}

public struct WhisperTranscript: Sendable {
    public var segments: [WhisperSegment]
    /// All segment texts joined, surrounding spaces trimmed.
    public var text: String { segments.map(\.text).joined().trimmingCharacters(in: .whitespaces) }
    /// Wall-clock seconds spent in the log-mel, in the encoder (with the cross-attention K/V), and in the
    /// decoder search.
    public var melSeconds: Double = 0
    public var encodeSeconds: Double = 0
    public var decodeSeconds: Double = 0
}

public final class WhisperTranscriber: @unchecked Sendable {   // immutable after init
    public let config: WhisperConfig
    public let tokenizer: WhisperTokenizer
    public let encoder: AudioEncoder
    public let decoder: WhisperDecoder
    let logMel: LogMelSpectrogram
    let suppressIds: [Int]
    let suppressIdsBegin: [Int]

    /// `weights` holds the canonical `audio.*` and `dec.*` tensors; `suppressIds`/`suppressIdsBegin` come from
    /// the model's metadata (CTranslate2's config.json).
    public init(config: WhisperConfig, weights: some WeightSource, tokenizer: WhisperTokenizer,
                suppressIds: [Int], suppressIdsBegin: [Int]) throws {
        self.config = config
        self.tokenizer = tokenizer
        encoder = try AudioEncoder(config: .whisper(nMels: config.nMels, nCtx: config.nAudioCtx, nState: config.nAudioState,
                                                    nHead: config.nAudioHead, nLayer: config.nAudioLayer), weights: weights)
        decoder = try WhisperDecoder(config: config, weights: weights)
        logMel = try LogMelSpectrogram(bins: config.nMels)
        self.suppressIds = suppressIds
        self.suppressIdsBegin = suppressIdsBegin
    }

    /// The encoder input of the window starting at `start`: [nMels × 3000], frames past the audio zeroed.
    public func features(_ samples: [Float], start: Int) -> AudioEncoder.Mel {
        let end = min(samples.count, start + LogMelSpectrogram.chunkSamples)
        var mel = logMel.compute(Array(samples[start..<end])).values
        let frames = LogMelSpectrogram.chunkFrames
        let content = min(frames, (end - start) / LogMelSpectrogram.hop)
        if content < frames {
            for b in 0..<config.nMels { for f in content..<frames { mel[b * frames + f] = 0 } }
        }
        return AudioEncoder.Mel(values: mel, frames: frames, melLength: frames)
    }

    /// Transcribes 16 kHz mono samples.
    public func transcribe(_ samples: [Float], options: WhisperTranscribeOptions = .init()) throws -> WhisperTranscript {
        let s = tokenizer.specials
        let prompt = tokenizer.prompt(language: options.language, timestamps: options.timestamps,
                                      multilingual: config.isMultilingual)
        var search = WhisperSearchOptions(beamSize: options.beamSize, suppressIds: suppressIds,
                                          suppressIdsBegin: suppressIdsBegin, timestamps: options.timestamps)
        search.maxNewTokens = options.maxNewTokens
        let tokens = WhisperSearchTokens(endOfText: s.endOfText, noTimestamps: s.noTimestamps, timestampBegin: s.timestampBegin)
        let hop = LogMelSpectrogram.hop, windowFrames = LogMelSpectrogram.chunkFrames
        let totalFrames = samples.count / hop
        var transcript = WhisperTranscript(segments: [])
        var seek = 0
        while seek < max(totalFrames, 1) {
            let t0 = Date()
            let mel = features(samples, start: seek * hop)
            let tm = Date()
            let audio = try encoder.encode([mel], batched: false)[0]
            let cross = try decoder.crossCache(audio: audio)
            let t1 = Date()
            let hyp = try WhisperSearch.run(decoder, cross: cross, prompt: prompt, tokens: tokens, options: search)
            transcript.melSeconds += tm.timeIntervalSince(t0)
            transcript.encodeSeconds += t1.timeIntervalSince(tm)
            transcript.decodeSeconds += Date().timeIntervalSince(t1)

            let segmentFrames = min(windowFrames, totalFrames - seek)
            let offset = Double(seek * hop) / Double(LogMelSpectrogram.sampleRate)
            let windowEnd = offset + Double(segmentFrames * hop) / Double(LogMelSpectrogram.sampleRate)
            var advance = segmentFrames
            if options.timestamps {
                let (segments, reread) = timedSegments(hyp.tokens, offset: offset, windowEnd: windowEnd)
                transcript.segments += segments
                if let reread { advance = reread }
            } else {
                let text = tokenizer.decode(hyp.tokens)
                if !hyp.tokens.isEmpty {
                    transcript.segments.append(WhisperSegment(start: offset, end: windowEnd, text: text, tokens: hyp.tokens))
                }
            }
            seek += advance
        }
        return transcript
    }

    /// faster-whisper's segment split: cut at consecutive timestamp pairs ("…<|t1|><|t1'|>…"). When the
    /// tokens do not end with a single timestamp, the window is re-read from the last cut (returned as the
    /// number of frames to advance); otherwise the whole window is consumed (nil).
    func timedSegments(_ ids: [Int], offset: Double, windowEnd: Double) -> ([WhisperSegment], Int?) {
        let tb = tokenizer.specials.timestampBegin
        func seconds(_ id: Int) -> Double { offset + tokenizer.seconds(ofTimestamp: id) }
        func text(_ part: ArraySlice<Int>) -> String { tokenizer.decode(part.filter { $0 < tokenizer.specials.endOfText }) }
        let singleTimestampEnding = ids.count >= 2 && ids[ids.count - 2] < tb && ids[ids.count - 1] >= tb
        var cuts = ids.indices.dropFirst().filter { ids[$0 - 1] >= tb && ids[$0] >= tb }
        guard !cuts.isEmpty else {
            let stamps = ids.filter { $0 >= tb }
            let end = stamps.count > 0 && stamps.last! != tb ? seconds(stamps.last!) : windowEnd
            let start = ids.first.map { $0 >= tb ? seconds($0) : offset } ?? offset
            let t = text(ids[...])
            return (t.isEmpty ? [] : [WhisperSegment(start: start, end: end, text: t, tokens: ids)], nil)
        }
        if singleTimestampEnding { cuts.append(ids.count) }
        var segments: [WhisperSegment] = []
        var last = 0
        for cut in cuts {
            let part = ids[last..<cut]
            if let first = part.first, let final = part.last, first >= tb, final >= tb {
                segments.append(WhisperSegment(start: seconds(first), end: seconds(final), text: text(part), tokens: Array(part)))
            }
            last = cut
        }
        return (segments, singleTimestampEnding ? nil : max(1, (ids[last - 1] - tb) * 2))   // 1 timestamp step = 2 frames
    }
}

extension WhisperTranscriber {
    /// Errors building a transcriber from a model file's metadata and blobs.
    public enum LoadError: Error, Equatable, CustomStringConvertible {
        /// `general.architecture` is not "whisper".
        case notWhisper(architecture: String?)
        /// A `whisper.*` key is missing or not of the expected type.
        case badMetadata(key: String)

        public var description: String {
            switch self {
            case .notWhisper(let a): return "not a Whisper model: general.architecture is \(a.map { "\"\($0)\"" } ?? "missing")"
            case .badMetadata(let k): return "Whisper model metadata: key \(k) is missing or malformed"
            }
        }
    }

    /// Builds a transcriber from a converted model: `metadata` (general.architecture "whisper", `whisper.*`),
    /// `weights` (e.g. the `.ear` file as a WeightSource) and the `tokenizer.json` blob.
    public convenience init(metadata: EarMetadata, weights: some WeightSource, tokenizerJSON: [UInt8]) throws {
        let arch = try? metadata.string("general.architecture")
        guard arch == "whisper" else { throw LoadError.notWhisper(architecture: arch) }
        guard let config = WhisperConfig(metadata: { try? metadata.int($0) }) else {
            let missing = config0Keys.first { (try? metadata.int($0)) == nil } ?? "whisper.*"
            throw LoadError.badMetadata(key: missing)
        }
        func ids(_ key: String) throws -> [Int] {
            if let a = try? metadata.ints(key) { return a }   // stored as an integer array
            guard let s = try? metadata.string(key) else { throw LoadError.badMetadata(key: key) }   // or as "[1,2,…]"
            let body = s.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            if body.isEmpty { return [] }
            var out: [Int] = []
            for part in body.split(separator: ",") {
                guard let v = Int(part.trimmingCharacters(in: .whitespaces)) else { throw LoadError.badMetadata(key: key) }
                out.append(v)
            }
            return out
        }
        let tokenizer = try WhisperTokenizer(tokenizerJSON: Data(tokenizerJSON), vocabularySize: config.nVocab)
        try self.init(config: config, weights: weights, tokenizer: tokenizer,
                      suppressIds: try ids("whisper.suppress_ids"), suppressIdsBegin: try ids("whisper.suppress_ids_begin"))
    }
}

private let config0Keys = ["whisper.n_mels", "whisper.n_audio_ctx", "whisper.n_audio_state", "whisper.n_audio_head",
                           "whisper.n_audio_layer", "whisper.n_vocab", "whisper.n_text_ctx", "whisper.n_text_state",
                           "whisper.n_text_head", "whisper.n_text_layer"]

extension WhisperTranscriber {
    /// Opens a Whisper `.ear` (memory-mapped; tensors used in place) and builds the transcriber from its
    /// metadata and `tokenizer.json` blob.
    public static func load(path: String) throws -> WhisperTranscriber {
        let weights = try EarWeights(path: path)
        let tokenizer = try weights.file.blob(named: "tokenizer.json")
        return try WhisperTranscriber(metadata: weights.file.metadata, weights: weights, tokenizerJSON: tokenizer)
    }

    /// True when the `.ear` at `path` declares `general.architecture` = "whisper" (cheap: header only).
    public static func isWhisperModel(path: String) -> Bool {
        guard let file = try? EarFile(path: path) else { return false }
        return (try? file.metadata.string("general.architecture")) == "whisper"
    }
}

extension WhisperTranscriber {
    /// Decodes an audio file (any format libsndfile reads, resampled to 16 kHz mono) and transcribes it.
    public func transcribe(file path: String, options: WhisperTranscribeOptions = .init()) throws -> WhisperTranscript {
        try transcribe(try AudioLoader.load(path).samples, options: options)
    }
}
