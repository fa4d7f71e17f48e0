// WhisperTranscription: Whisper long-form transcription the way faster-whisper (1.2.1) runs it, on
// Earshot's generation loop:
//   1. log-mel of the whole recording, streamed (StreamingLogMel; the samples are never all in memory);
//   2. the language, when not given, from the first window (multilingual models; language-token softmax);
//   3. window after window from `seek`: the prompt is `<|startofprev|>` + the previous text (up to 223
//      tokens, reset after a window that needed a high temperature) + the start sequence; decoded at
//      temperature 0 (beam search or greedy) and again at 0.2, 0.4, … while the text is too repetitive
//      (gzip compression ratio > 2.4) or too unlikely (average log-probability < −1), unless the window
//      looks silent; a window whose no-speech probability is > 0.6 with a low log-probability is skipped;
//   4. the tokens are cut into segments at timestamp pairs and `seek` moves to the end of the last complete
//      segment (or the whole window when it ends on a single timestamp), so no word is cut at a window edge.
// With a VAD only the speech is transcribed (joined, as faster-whisper's vad_filter) and every time mapped back
// to the file. Every time is clamped to the audio; a window that would not advance moves a whole window on.
import CZlib
import EarshotAudio
import EarshotModels
import EarshotTokenizer
import Foundation

extension Session {
    func transcribeWhisper(_ input: AudioInput, options o: TranscriptionOptions, engine: WhisperEngine,
                           cancel: CancellationFlag?, onEvent: (TranscriptionEvent) -> Bool) throws(EarshotError) -> Transcript {
        let specials = engine.tokenizer.specials
        let multilingual = engine.isMultilingual
        // Options that the model cannot honour are refused, never ignored.
        var taskToken = WhisperTask.transcribe
        if case .translate(let target) = o.task {
            guard multilingual else { throw .unsupported(family: .whisper, what: "translate: this model is English-only (translation needs a multilingual Whisper)") }
            guard target == "en" else { throw .invalidOption(name: "target language", value: target, reason: "Whisper translates into English only") }
            taskToken = .translate
        }
        if let l = o.language, !engine.languages.contains(l) {
            if !multilingual { throw .invalidOption(name: "language", value: l, reason: "this Whisper model is English-only") }
            throw .invalidOption(name: "language", value: l, reason: "not one of the model's \(engine.languages.count) languages")
        }
        try Session.checkWhisperOptions(o)

        var stats = GenerationStats()
        // 1. Features of the whole recording (with a VAD: of its speech only, joined).
        let t0 = now()
        let limit = o.truncate ? LogMelSpectrogram.chunkSamples : nil
        var speech: (spans: [SpeechSpan], samples: Int)?
        if let vad = o.voiceActivity {
            speech = try vad.speechSpans(input, options: o.vadOptions, limitSamples: limit, cancel: cancel)
        }
        let stream = try input.stream()
        let mel = StreamingLogMel(spectrogram: engine.melSpectrogram, threads: model.threads)
        var position = 0
        var spanIndex = 0
        while true {
            if cancel?.isCancelled == true || Task.isCancelled { throw .cancelled }
            var block: [Float]
            do throws(AudioError) { block = try stream.read() } catch { throw .audio(path: input.name, error) }
            if let limit { block = Array(block.prefix(max(0, limit - position))) }
            if block.isEmpty { break }
            let start = position
            position += block.count
            var part = block
            if let spans = speech?.spans {
                // Only the samples inside speech spans, in order.
                part = []
                while spanIndex < spans.count && spans[spanIndex].end <= start { spanIndex += 1 }
                var k = spanIndex
                while k < spans.count && spans[k].start < position {
                    let a = max(spans[k].start, start), b = min(spans[k].end, position)
                    if a < b { part += block[(a - start)..<(b - start)] }
                    k += 1
                }
            }
            if part.isEmpty { continue }
            let piece = part
            try model.compute { () throws(EarshotError) in mel.append(piece) }
        }
        try model.compute { () throws(EarshotError) in mel.finish() }
        stats.audioSeconds = now() - t0
        stats.audioFiles = 1
        let duration = Double(position) / Double(LogMelSpectrogram.sampleRate)
        let timeMap = speech.map { SpeechTimestampsMap(spans: $0.spans) }
        /// Speech time (of the joined speech) → file time.
        func fileTime(_ t: Double, isEnd: Bool = false, chunkOf middle: Double? = nil) -> Double {
            guard let timeMap, let spans = speech?.spans, !spans.isEmpty else { return t }
            if let middle { return timeMap.originalTime(t, chunkIndex: timeMap.chunkIndex(middle)) }
            return timeMap.originalTime(t, isEnd: isEnd)
        }
        var lastSpeech = 0.0
        let contentFrames = mel.frameCount - 1
        let windowFrames = LogMelSpectrogram.chunkFrames
        let secondsPerFrame = Double(LogMelSpectrogram.hop) / Double(LogMelSpectrogram.sampleRate)   // 0.01

        var transcript = Transcript(model: (model.path as NSString).lastPathComponent, family: .whisper, task: taskToken == .translate ? "translate" : "transcribe",
                                    audio: input.name, duration: duration, language: nil, languageProbability: nil,
                                    text: "", segments: [], windows: [], stats: stats)

        // 2. Language.
        var language = o.language ?? (multilingual ? nil : "en")
        var languageProbability: Double? = o.language != nil || !multilingual ? 1 : nil
        if language == nil {
            let t1 = now()
            let features = mel.window(start: 0, count: min(windowFrames, max(contentFrames, 0)))
            let (code, p) = try detectLanguage(features, engine: engine)
            stats.encodeSeconds += now() - t1
            language = code
            languageProbability = p
        }
        transcript.language = language
        transcript.languageProbability = languageProbability
        if !onEvent(.language(code: language ?? "en", probability: languageProbability)) { throw .cancelled }

        let sotSequence = engine.tokenizer.prompt(language: language, task: taskToken, timestamps: true, multilingual: multilingual)
        let maxLength = engine.config.nTextCtx                        // 448
        var allTokens: [Int] = []
        if let initial = o.initialPrompt {
            allTokens = engine.tokenizer.encode(" " + initial.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var promptResetSince = 0
        var seek = 0
        var windowIndex = 0
        let tb = specials.timestampBegin

        // 3. Windows.
        while seek < contentFrames {
            if cancel?.isCancelled == true || Task.isCancelled { break }
            let timeOffset = Double(seek) * secondsPerFrame
            let segmentSize = min(windowFrames, contentFrames - seek)
            let segmentDuration = Double(segmentSize) * secondsPerFrame
            let span = TimeSpan(start: fileTime(timeOffset), end: fileTime(timeOffset + segmentDuration, isEnd: true))
            transcript.windows.append(span)
            if !onEvent(.window(index: windowIndex, span: span)) { break }
            windowIndex += 1

            let previous = Array(allTokens[promptResetSince...])
            var prompt: [Int] = []
            if !previous.isEmpty { prompt = [specials.startOfPrevious] + previous.suffix(maxLength / 2 - 1) }
            prompt += sotSequence
            if !o.timestamps { prompt.append(specials.noTimestamps) }

            let t1 = now()
            let features = mel.window(start: seek, count: segmentSize)
            let cross = try model.compute { () throws(EarshotError) -> WhisperCrossCache in try engine.encode(features) }
            stats.encodeSeconds += now() - t1
            stats.encodedAudios += 1
            let decoded = try decodeWindow(prompt: prompt, cross: cross, engine: engine, options: o, cancel: cancel, stats: &stats)
            if decoded.cancelled { break }

            if let threshold = o.noSpeechThreshold {
                var skip = decoded.noSpeechProbability > threshold
                if let lp = o.logProbThreshold, decoded.averageLogProbability > lp { skip = false }
                if skip {
                    seek += segmentSize
                    if !onEvent(.progress(seconds: min(fileTime(Double(seek) * secondsPerFrame), duration), total: duration)) { break }
                    continue
                }
            }

            // 4. Segments and the next seek.
            let tokens = decoded.tokens
            let previousSeek = seek
            var pieces: [(start: Double, end: Double, tokens: [Int])] = []   // in speech time
            let singleTimestampEnding = tokens.count >= 2 && tokens[tokens.count - 2] < tb && tokens[tokens.count - 1] >= tb
            var cuts = tokens.indices.dropFirst().filter { tokens[$0] >= tb && tokens[$0 - 1] >= tb }
            if !cuts.isEmpty {
                if singleTimestampEnding { cuts.append(tokens.count) }
                var last = 0
                for cut in cuts {
                    let part = Array(tokens[last..<cut])
                    pieces.append((timeOffset + Double(part[0] - tb) * 0.02, timeOffset + Double(part[part.count - 1] - tb) * 0.02, part))
                    last = cut
                }
                if singleTimestampEnding { seek += segmentSize } else { seek += (tokens[last - 1] - tb) * 2 }
            } else {
                var end = segmentDuration
                let stamps = tokens.filter { $0 >= tb }
                if let lastStamp = stamps.last, lastStamp != tb { end = Double(lastStamp - tb) * 0.02 }
                pieces.append((timeOffset, timeOffset + end, tokens))
                seek += segmentSize
            }
            var pieceWords: [[TranscriptWord]] = Array(repeating: [], count: pieces.count)
            if o.wordTimestamps {
                let text = pieces.flatMap { $0.tokens.filter { $0 < specials.endOfText } }
                let aligned = try WordAlignment.align(textTokens: text, sotSequence: sotSequence, frames: segmentSize, cross: cross,
                                                      engine: engine, model: model, language: language)
                let r = WordAlignment.addWordTimestamps(pieces: &pieces, windowStart: timeOffset, alignment: aligned,
                                                        endOfText: specials.endOfText, lastSpeech: lastSpeech)
                pieceWords = r.words
                lastSpeech = r.lastSpeech
                if !singleTimestampEnding {
                    let lastWordEnd = pieceWords.reversed().first(where: { !$0.isEmpty })?.last?.end ?? pieces.last?.end
                    if let e = lastWordEnd, e > timeOffset { seek = Int((e * 100).rounded(.toNearestOrEven)) }
                }
            }
            if seek <= previousSeek { seek = previousSeek + segmentSize }   // never stand still

            for (pieceIndex, piece) in pieces.enumerated() {
                let text = engine.tokenizer.decode(piece.tokens)
                if piece.start == piece.end || text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
                allTokens += piece.tokens
                var segment = TranscriptSegment(start: fileTime(piece.start), end: fileTime(piece.end, isEnd: true), text: text,
                                                tokens: piece.tokens.filter { $0 < specials.endOfText },
                                                temperature: decoded.temperature,
                                                averageLogProbability: decoded.averageLogProbability,
                                                compressionRatio: decoded.compressionRatio,
                                                noSpeechProbability: decoded.noSpeechProbability)
                if o.wordTimestamps {
                    segment.words = pieceWords[pieceIndex].map { w in
                        let middle = (w.start + w.end) / 2
                        return TranscriptWord(start: fileTime(w.start, chunkOf: middle), end: fileTime(w.end, chunkOf: middle),
                                              word: w.word, probability: w.probability)
                    }
                    if let first = segment.words?.first, let last = segment.words?.last { segment.start = first.start; segment.end = last.end }
                }
                segment.start = min(max(segment.start, 0), duration)
                segment.end = max(min(max(segment.end, 0), duration), segment.start)
                transcript.segments.append(segment)
                if !onEvent(.segment(segment)) { seek = contentFrames; break }
            }
            if !o.conditionOnPreviousText || decoded.temperature > o.promptResetOnTemperature {
                promptResetSince = allTokens.count
            }
            if !onEvent(.progress(seconds: min(fileTime(Double(seek) * secondsPerFrame), duration), total: duration)) { break }
        }
        transcript.text = transcript.segments.map(\.text).joined().trimmingCharacters(in: .whitespacesAndNewlines)
        transcript.stats = stats
        transcript.clampTimes()
        return transcript
    }

    /// The prompt of the first window (`earshot transcribe --print-prompt-ids`): the start sequence with the
    /// given or detected language, plus `<|notimestamps|>` without timestamps.
    public func firstWhisperPrompt(_ input: AudioInput, options o: TranscriptionOptions) throws(EarshotError) -> [Int] {
        guard let engine = model.whisper else { throw .unsupported(family: model.info.family, what: "build Whisper prompts") }
        var opts = o
        opts.maxNewTokens = 1
        var language = o.language
        if language == nil && engine.isMultilingual {
            // Detect on the first 30 s only.
            opts.truncate = true
            var detected: String?
            do {
                _ = try transcribe(input, options: opts) { e in
                    if case .language(let code, _) = e { detected = code; return false }
                    return true
                }
            } catch {
                guard case .cancelled = error else { throw error }
            }
            language = detected
        }
        if let language, !engine.languages.contains(language) {
            throw .invalidOption(name: "language", value: language, reason: engine.isMultilingual ? "not one of the model's languages" : "this Whisper model is English-only")
        }
        var task = WhisperTask.transcribe
        if case .translate = o.task { task = .translate }
        var p = [Int]()
        if let initial = o.initialPrompt {
            p = [engine.tokenizer.specials.startOfPrevious] + engine.tokenizer.encode(" " + initial.trimmingCharacters(in: .whitespacesAndNewlines)).suffix(engine.config.nTextCtx / 2 - 1)
        }
        p += engine.tokenizer.prompt(language: language ?? "en", task: task, timestamps: true, multilingual: engine.isMultilingual)
        if !o.timestamps { p.append(engine.tokenizer.specials.noTimestamps) }
        return p
    }

    static func checkWhisperOptions(_ o: TranscriptionOptions) throws(EarshotError) {
        guard (1...16).contains(o.beamSize) else { throw .invalidOption(name: "beam size", value: "\(o.beamSize)", reason: "must be 1…16") }
        guard (1...16).contains(o.bestOf) else { throw .invalidOption(name: "best of", value: "\(o.bestOf)", reason: "must be 1…16") }
        guard !o.temperatures.isEmpty, o.temperatures.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 5 }) else {
            throw .invalidOption(name: "temperature", value: o.temperatures.map { "\($0)" }.joined(separator: ","), reason: "each must be in 0…5")
        }
        guard o.patience > 0, o.patience <= 16 else { throw .invalidOption(name: "patience", value: "\(o.patience)", reason: "must be in (0, 16]") }
        if let m = o.maxNewTokens, !(1...224).contains(m) {
            throw .invalidOption(name: "max new tokens", value: "\(m)", reason: "Whisper decodes at most 224 tokens per 30 s window")
        }
    }

    /// The detected language and its probability: softmax over the language tokens of the logits after
    /// `<|startoftranscript|>` on the first window (CTranslate2's `detect_language`).
    func detectLanguage(_ features: [Float], engine: WhisperEngine) throws(EarshotError) -> (String, Double) {
        let s = engine.tokenizer.specials
        let logits = try model.compute { () throws(EarshotError) -> [Float] in
            let cross = try engine.encode(features)
            return try engine.prefill([s.startOfTranscript], cross: cross).last
        }
        let langs = engine.languages.compactMap { code in s.languages[code].map { (code, $0) } }
        guard !langs.isEmpty else { return ("en", 1) }
        let values = langs.map { logits[$0.1] }
        let m = values.max()!
        let weights = values.map { exp(Double($0 - m)) }
        let total = weights.reduce(0, +)
        let best = weights.indices.max { weights[$0] < weights[$1] }!
        return (langs[best].0, weights[best] / total)
    }

    /// One window decoded with temperature fallback (faster-whisper's `generate_with_fallback`).
    func decodeWindow(prompt: [Int], cross: WhisperCrossCache, engine: WhisperEngine, options o: TranscriptionOptions,
                      cancel: CancellationFlag?, stats: inout GenerationStats)
        throws(EarshotError) -> (tokens: [Int], averageLogProbability: Double, temperature: Double, compressionRatio: Double,
                                 noSpeechProbability: Double, cancelled: Bool) {
        let s = engine.tokenizer.specials
        let t0 = now()
        let (state, last, atStart) = try model.compute { () throws(EarshotError) -> (WhisperDecoderState, [Float], [Float]?) in
            try engine.prefill(prompt, cross: cross)
        }
        stats.prefillSeconds += now() - t0
        stats.promptTokens += prompt.count
        let noSpeech = engine.noSpeechProbability(atStart ?? last)
        // CTranslate2's length rule: max_length 448 (or prompt + max_new_tokens) → min(L / 2, L − (prompt − 1)) steps.
        let total = o.maxNewTokens.map { prompt.count + $0 } ?? engine.config.nTextCtx
        let maxNew = max(1, min(total / 2, total - (prompt.count - 1)))
        let decoder = WhisperStepDecoder(model: model, decoder: engine.decoder, cross: cross)
        var request = DecodingRequest(maxTokens: maxNew, stopIds: [s.endOfText])
        let initialIndex = Int((o.maxInitialTimestamp / 0.02).rounded())
        request.rules = engine.rules(timestamps: o.timestamps, maxInitialTimestampIndex: initialIndex)
        request.lengthPenalty = o.lengthPenalty
        request.wantsLogProbs = true

        typealias Attempt = (tokens: [Int], avg: Double, temperature: Double, ratio: Double)
        var all: [Attempt] = []
        var belowRatio: [Attempt] = []
        var chosen: Attempt?
        var text = WhisperTextStream(decoder: engine.tokenizer.streamingDecoder())
        for temperature in o.temperatures {
            let strategy: DecodingStrategy
            if temperature > 0 {
                let p = SamplingParameters(greedy: false, temperature: Float(temperature), topK: 0, topP: 1, seed: o.seed)
                strategy = .sample(p, count: o.bestOf)
            } else if o.beamSize > 1 {
                strategy = .beam(size: o.beamSize, patience: o.patience)
            } else {
                strategy = .sample(.greedy, count: 1)
            }
            let t1 = now()
            let hyps = try Decoding.run(decoder, state: state, first: last, context: prompt, request: request,
                                        strategy: strategy, text: &text, cancel: cancel, onToken: { _ in true })
            stats.decodeSeconds += now() - t1
            let best = hyps[0]
            if best.stopReason == .cancelled {
                return ([], 0, temperature, 0, noSpeech, true)
            }
            let tokens = best.ids.last == s.endOfText ? Array(best.ids.dropLast()) : best.ids
            stats.generatedTokens += best.ids.count
            let avg = best.sumLogProb / Double(tokens.count + 1)
            let decodedText = engine.tokenizer.decode(tokens).trimmingCharacters(in: .whitespacesAndNewlines)
            let ratio = Session.compressionRatio(decodedText)
            let attempt = (tokens, avg, temperature, ratio)
            all.append(attempt)
            var needsFallback = false
            if let threshold = o.compressionRatioThreshold {
                if ratio > threshold { needsFallback = true } else { belowRatio.append(attempt) }
            }
            if let threshold = o.logProbThreshold, avg < threshold { needsFallback = true }
            if let ns = o.noSpeechThreshold, noSpeech > ns, let lp = o.logProbThreshold, avg < lp { needsFallback = false }
            if !needsFallback { chosen = attempt; break }
        }
        if chosen == nil {
            var best = (belowRatio.isEmpty ? all : belowRatio).max { $0.avg < $1.avg }!
            best.temperature = o.temperatures.last!
            chosen = best
        }
        let c = chosen!
        return (c.tokens, c.avg, c.temperature, c.ratio, noSpeech, false)
    }

    /// len(bytes) / len(zlib.compress(bytes)) of the UTF-8 text, as faster-whisper's `get_compression_ratio`.
    static func compressionRatio(_ text: String) -> Double {
        let bytes = Array(text.utf8)
        var length = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = bytes.withUnsafeBufferPointer { src in
            compress2(&out, &length, src.baseAddress, uLong(bytes.count), Z_DEFAULT_COMPRESSION)
        }
        guard status == Z_OK, length > 0 else { return 0 }
        return Double(bytes.count) / Double(length)
    }
}
