// SpeechTimestamps: faster-whisper 1.2.1's VAD post-processing (faster_whisper/vad.py) as pure functions —
// speech spans from per-window speech probabilities (`get_speech_timestamps`), spans merged into chunks
// (`collect_chunks`) and times in the speech-only audio mapped back to the file (`SpeechTimestampsMap`).
// Same arithmetic as the Python (float thresholds against integer sample positions, truncating `int()`,
// floor `//`, Python's decimal `round`), so the outputs equal faster-whisper's for the same probabilities;
// the tests check that against values faster-whisper produced (Tests/Fixtures/vad/goldens.json).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// faster-whisper's `VadOptions` (same defaults).
public struct VADOptions: Sendable, Equatable {
    /// Probabilities at or above this are speech.
    public var threshold: Double = 0.5
    /// Below this a triggered span counts as silence; nil = max(threshold − 0.15, 0.01).
    public var negThreshold: Double? = nil
    /// Spans not longer than this are dropped.
    public var minSpeechDurationMs: Double = 0
    /// Spans longer than this are split (at a silence of > 98 ms if there was one). Infinity: no limit.
    public var maxSpeechDurationSeconds: Double = .infinity
    /// Silence needed to end a span.
    public var minSilenceDurationMs: Double = 2000
    /// Padding added to each side of a span.
    public var speechPadMs: Double = 400

    public init(threshold: Double = 0.5, negThreshold: Double? = nil, minSpeechDurationMs: Double = 0,
                maxSpeechDurationSeconds: Double = .infinity, minSilenceDurationMs: Double = 2000, speechPadMs: Double = 400) {
        self.threshold = threshold; self.negThreshold = negThreshold; self.minSpeechDurationMs = minSpeechDurationMs
        self.maxSpeechDurationSeconds = maxSpeechDurationSeconds; self.minSilenceDurationMs = minSilenceDurationMs
        self.speechPadMs = speechPadMs
    }

    /// What `WhisperModel.transcribe(vad_filter=True)` uses: the defaults.
    public static let transcribe = VADOptions()
    /// What `BatchedInferencePipeline.transcribe(vad_filter=True)` uses: spans of at most 30 s, 160 ms silences.
    public static let batched = VADOptions(maxSpeechDurationSeconds: 30, minSilenceDurationMs: 160)
}

/// A span of speech, in samples of the 16 kHz signal: `start ..< end`.
public struct SpeechSpan: Sendable, Equatable, CustomStringConvertible {
    public var start: Int
    public var end: Int
    public init(start: Int, end: Int) { self.start = start; self.end = end }
    public var description: String { "\(start)..<\(end)" }
}

/// One chunk of `collect_chunks`: spans whose audio is concatenated into one piece.
public struct SpeechChunk: Sendable, Equatable {
    /// Seconds of speech-only audio before this chunk (faster-whisper's `offset`).
    public var offset: Double
    /// Seconds of audio in this chunk (`duration`).
    public var duration: Double
    /// faster-whisper's `segments` metadata. As in 1.2.1, a chunk started because the previous one was full
    /// does not list the span that started it (its audio is still in `audio`).
    public var segments: [SpeechSpan]
    /// The sample ranges of the file whose concatenation is this chunk's audio, in order.
    public var audio: [Range<Int>]

    public init(offset: Double, duration: Double, segments: [SpeechSpan], audio: [Range<Int>]) {
        self.offset = offset; self.duration = duration; self.segments = segments; self.audio = audio
    }
}

public enum SpeechTimestamps {
    /// The window the probabilities are computed on (Silero VAD at 16 kHz).
    public static let windowSamples = 512

    /// faster-whisper's `get_speech_timestamps` on probabilities already computed (one per 512-sample window,
    /// as `SileroVAD.speechProbabilities` returns them) for a signal of `audioSamples` samples.
    public static func speechSpans(probabilities: [Float], audioSamples: Int, options o: VADOptions = .init(),
                                   sampleRate: Int = 16000) -> [SpeechSpan] {
        let sr = Double(sampleRate), w = windowSamples
        let minSpeech = sr * o.minSpeechDurationMs / 1000
        let pad = sr * o.speechPadMs / 1000
        let maxSpeech = sr * o.maxSpeechDurationSeconds - Double(w) - 2 * pad
        let minSilence = sr * o.minSilenceDurationMs / 1000
        let minSilenceAtMaxSpeech = sr * 98 / 1000
        let neg = o.negThreshold ?? max(o.threshold - 0.15, 0.01)

        var triggered = false
        var speeches: [SpeechSpan] = []
        var current: Int? = nil          // current_speech["start"] (nil: empty dict)
        var tempEnd = 0, prevEnd = 0, nextStart = 0
        for (i, pf) in probabilities.enumerated() {
            let p = Double(pf), pos = w * i
            if p >= o.threshold && tempEnd != 0 {
                tempEnd = 0
                if nextStart < prevEnd { nextStart = pos }
            }
            if p >= o.threshold && !triggered {
                triggered = true
                current = pos
                continue
            }
            if triggered, let start = current, Double(pos - start) > maxSpeech {
                if prevEnd != 0 {
                    speeches.append(SpeechSpan(start: start, end: prevEnd))
                    current = nil
                    if nextStart < prevEnd { triggered = false } else { current = nextStart }
                    prevEnd = 0; nextStart = 0; tempEnd = 0
                } else {
                    speeches.append(SpeechSpan(start: start, end: pos))
                    current = nil
                    prevEnd = 0; nextStart = 0; tempEnd = 0
                    triggered = false
                    continue
                }
            }
            if p < neg && triggered {
                if tempEnd == 0 { tempEnd = pos }
                if Double(pos - tempEnd) > minSilenceAtMaxSpeech { prevEnd = tempEnd }
                if Double(pos - tempEnd) < minSilence { continue }
                // In Python `current_speech["start"]` exists here (triggered ⇒ a start was set, or a KeyError).
                if let start = current, Double(tempEnd - start) > minSpeech {
                    speeches.append(SpeechSpan(start: start, end: tempEnd))
                }
                current = nil
                prevEnd = 0; nextStart = 0; tempEnd = 0
                triggered = false
                continue
            }
        }
        if let start = current, Double(audioSamples - start) > minSpeech {
            speeches.append(SpeechSpan(start: start, end: audioSamples))
        }

        for i in speeches.indices {
            if i == 0 { speeches[i].start = truncate(max(0, Double(speeches[i].start) - pad)) }
            if i != speeches.count - 1 {
                let silence = speeches[i + 1].start - speeches[i].end
                if Double(silence) < 2 * pad {
                    speeches[i].end += floorDiv(silence, 2)
                    speeches[i + 1].start = max(0, speeches[i + 1].start - floorDiv(silence, 2))
                } else {
                    speeches[i].end = truncate(min(Double(audioSamples), Double(speeches[i].end) + pad))
                    speeches[i + 1].start = truncate(max(0, Double(speeches[i + 1].start) - pad))
                }
            } else {
                speeches[i].end = truncate(min(Double(audioSamples), Double(speeches[i].end) + pad))
            }
        }
        return speeches
    }

    /// faster-whisper's `collect_chunks`: consecutive spans merged while their total stays ≤ `maxDurationSeconds`
    /// (infinity: one chunk, as `WhisperModel.transcribe` does; 30 for the batched pipeline). No spans → one
    /// empty chunk, as in faster-whisper.
    public static func collectChunks(_ spans: [SpeechSpan], maxDurationSeconds: Double = .infinity,
                                     sampleRate: Int = 16000) -> [SpeechChunk] {
        let sr = Double(sampleRate)
        guard !spans.isEmpty else { return [SpeechChunk(offset: 0, duration: 0, segments: [], audio: [])] }
        var chunks: [SpeechChunk] = []
        var segments: [SpeechSpan] = [], audio: [Range<Int>] = []
        var currentDuration = 0, totalDuration = 0
        for s in spans {
            let length = s.end - s.start
            if Double(currentDuration + length) > maxDurationSeconds * sr {
                chunks.append(SpeechChunk(offset: Double(totalDuration) / sr, duration: Double(currentDuration) / sr,
                                          segments: segments, audio: audio))
                totalDuration += currentDuration
                segments = []
                audio = [s.start..<max(s.start, s.end)]
                currentDuration = length
            } else {
                segments.append(s)
                audio.append(s.start..<max(s.start, s.end))
                currentDuration += length
            }
        }
        chunks.append(SpeechChunk(offset: Double(totalDuration) / sr, duration: Double(currentDuration) / sr,
                                  segments: segments, audio: audio))
        return chunks
    }

    /// Python's `int()` of a finite float: truncation toward zero.
    @inline(__always) static func truncate(_ x: Double) -> Int { Int(x.rounded(.towardZero)) }

    /// Python's `//` on integers: floor division.
    @inline(__always) static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// faster-whisper's `SpeechTimestampsMap`: a time in the speech-only audio (the concatenated spans) → the time
/// in the original file, rounded to `timePrecision` decimals as Python's `round` does.
public struct SpeechTimestampsMap: Sendable {
    public let sampleRate: Int
    public let timePrecision: Int
    /// End of each span in the speech-only audio (samples).
    public let chunkEndSample: [Int]
    /// Seconds of non-speech before each span.
    public let totalSilenceBefore: [Double]

    public init(spans: [SpeechSpan], sampleRate: Int = 16000, timePrecision: Int = 2) {
        self.sampleRate = sampleRate
        self.timePrecision = timePrecision
        var ends: [Int] = [], silence: [Double] = []
        var previousEnd = 0, silent = 0
        for s in spans {
            silent += s.start - previousEnd
            previousEnd = s.end
            ends.append(s.end - silent)
            silence.append(Double(silent) / Double(sampleRate))
        }
        chunkEndSample = ends
        totalSilenceBefore = silence
    }

    /// The time in the original file of `time` (seconds in the speech-only audio). `chunkIndex` forces the span
    /// (faster-whisper passes one for the words of a segment); `isEnd` resolves a time exactly at a span's end
    /// to that span. Needs at least one span.
    public func originalTime(_ time: Double, chunkIndex: Int? = nil, isEnd: Bool = false) -> Double {
        let i = chunkIndex ?? self.chunkIndex(time, isEnd: isEnd)
        guard totalSilenceBefore.indices.contains(i) else { return time }
        return Self.pythonRound(totalSilenceBefore[i] + time, digits: timePrecision)
    }

    /// The span `time` falls in (faster-whisper's `get_chunk_index`).
    public func chunkIndex(_ time: Double, isEnd: Bool = false) -> Int {
        let scaled = time * Double(sampleRate)
        guard scaled.isFinite, abs(scaled) < 9e18 else { return max(0, chunkEndSample.count - 1) }
        let sample = Int(scaled.rounded(.towardZero))
        if isEnd, let i = chunkEndSample.firstIndex(of: sample) { return i }
        // bisect.bisect (bisect_right): the first index whose end is > sample.
        var lo = 0, hi = chunkEndSample.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sample < chunkEndSample[mid] { hi = mid } else { lo = mid + 1 }
        }
        return min(lo, chunkEndSample.count - 1)
    }

    /// Python's `round(x, digits)`: the decimal nearest the exact binary value (ties to even), via the C
    /// library's exact `%.*f` conversion.
    public static func pythonRound(_ x: Double, digits: Int) -> Double {
        guard x.isFinite, abs(x) < 1e15 else { return x }
        var buffer = [CChar](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBufferPointer { b in
            withVaList([Int32(max(0, min(digits, 15))), x]) { vsnprintf(b.baseAddress!, 64, "%.*f", $0) }
        }
        guard n > 0 && n < 64 else { return x }
        return buffer.withUnsafeBufferPointer { strtod($0.baseAddress!, nil) }
    }
}
