// SpeechTimestampsTests: faster-whisper 1.2.1's get_speech_timestamps, collect_chunks and SpeechTimestampsMap,
// ported to Swift, against the values faster-whisper's own functions produced on the same probabilities
// (Tests/Fixtures/vad/goldens.json, Tools/vad/make_vad_goldens.py): onnxruntime's probabilities of real clips
// and of all clips assembled with pauses, and seeded synthetic sequences under five VadOptions sets.
// Exact equality: the port does the same integer/float arithmetic, so any difference is a bug.
@testable import EarshotAudio
import EarshotTestSupport
import Foundation
import Testing

private struct GSpan: Decodable { let start: Int; let end: Int }
private struct GChunk: Decodable { let offset: Double; let duration: Double; let segments: [GSpan] }
private struct GTime: Decodable { let time: Double; let is_end: Bool; let chunk: Int; let original: Double }
private struct GOptions: Decodable {
    let threshold: Double?, neg_threshold: Double?, min_speech_duration_ms: Double?, max_speech_duration_s: Double?
    let min_silence_duration_ms: Double?, speech_pad_ms: Double?
    var options: VADOptions {
        var o = VADOptions()
        if let v = threshold { o.threshold = v }
        o.negThreshold = neg_threshold
        if let v = min_speech_duration_ms { o.minSpeechDurationMs = v }
        if let v = max_speech_duration_s { o.maxSpeechDurationSeconds = v }
        if let v = min_silence_duration_ms { o.minSilenceDurationMs = v }
        if let v = speech_pad_ms { o.speechPadMs = v }
        return o
    }
}
private struct GRun: Decodable { let options: GOptions; let timestamps: [GSpan]; let chunks: [GChunk]; let chunks_30: [GChunk]; let time_map: [GTime] }
private struct GSynthetic: Decodable { let `case`: Int; let audio_samples: Int; let probabilities: [Float]; let runs: [GRun] }
private struct GClip: Decodable {
    let file: String?
    let samples: Int
    let probabilities: [Float]
    let timestamps_default: [GSpan], timestamps_batched: [GSpan]
    let chunks_default: [GChunk], chunks_batched: [GChunk]
    let time_map_default: [GTime]
}
private struct GFile: Decodable { let clips: [GClip]; let assembled: GClip; let synthetic: [GSynthetic] }

private let goldens: GFile = {
    try! JSONDecoder().decode(GFile.self, from: Data(contentsOf: Fixtures.url("vad/goldens.json")))
}()

private func spans(_ g: [GSpan]) -> [SpeechSpan] { g.map { SpeechSpan(start: $0.start, end: $0.end) } }

/// Compares chunks with faster-whisper's metadata; the audio ranges must cover exactly `duration`.
private func checkChunks(_ got: [SpeechChunk], _ want: [GChunk], _ label: String) {
    #expect(got.count == want.count, "\(label): \(got.count) chunks, faster-whisper \(want.count)")
    for (g, w) in zip(got, want) {
        #expect(g.offset == w.offset && g.duration == w.duration, "\(label): offset/duration \(g.offset)/\(g.duration) vs \(w.offset)/\(w.duration)")
        #expect(g.segments == spans(w.segments), "\(label): segments")
        #expect(Double(g.audio.reduce(0) { $0 + $1.count }) / 16000 == g.duration, "\(label): audio ranges vs duration")
    }
}

private func checkTimeMap(_ spansIn: [SpeechSpan], _ want: [GTime], _ label: String) {
    guard !spansIn.isEmpty else { #expect(want.isEmpty); return }
    let map = SpeechTimestampsMap(spans: spansIn)
    for t in want {
        #expect(map.chunkIndex(t.time, isEnd: t.is_end) == t.chunk, "\(label): chunk of \(t.time) (end \(t.is_end))")
        #expect(map.originalTime(t.time, isEnd: t.is_end) == t.original, "\(label): original time of \(t.time) (end \(t.is_end))")
    }
}

@Suite struct SpeechTimestampsTests {
    @Test func realClipsEqualFasterWhisper() {
        for clip in goldens.clips + [goldens.assembled] {
            let label = clip.file ?? "assembled"
            let def = SpeechTimestamps.speechSpans(probabilities: clip.probabilities, audioSamples: clip.samples)
            #expect(def == spans(clip.timestamps_default), "\(label)")
            let bat = SpeechTimestamps.speechSpans(probabilities: clip.probabilities, audioSamples: clip.samples, options: .batched)
            #expect(bat == spans(clip.timestamps_batched), "\(label) batched")
            checkChunks(SpeechTimestamps.collectChunks(def), clip.chunks_default, label)
            checkChunks(SpeechTimestamps.collectChunks(bat, maxDurationSeconds: 30), clip.chunks_batched, label + " batched")
            checkTimeMap(def, clip.time_map_default, label)
        }
        // Not trivial: the assembled signal has several spans and, batched, several ≤ 30 s chunks.
        #expect(goldens.assembled.timestamps_default.count >= 3 && goldens.assembled.chunks_batched.count >= 2)
    }

    @Test func syntheticSequencesEqualFasterWhisper() {
        var branches = (splitAtMax: false, dropShort: false, merged: false)
        for s in goldens.synthetic {
            for run in s.runs {
                let label = "case \(s.case) \(run.options.options)"
                let got = SpeechTimestamps.speechSpans(probabilities: s.probabilities, audioSamples: s.audio_samples, options: run.options.options)
                #expect(got == spans(run.timestamps), "\(label)")
                checkChunks(SpeechTimestamps.collectChunks(got), run.chunks, label)
                checkChunks(SpeechTimestamps.collectChunks(got, maxDurationSeconds: 30), run.chunks_30, label + " 30 s")
                checkTimeMap(got, run.time_map, label)
                if run.options.options.maxSpeechDurationSeconds.isFinite, got.contains(where: { $0.end - $0.start > 16000 }) { branches.splitAtMax = true }
                if run.options.options.minSpeechDurationMs > 0 { branches.dropShort = true }
                if run.chunks_30.count > 1 { branches.merged = true }
            }
        }
        #expect(branches.splitAtMax && branches.dropShort && branches.merged)
    }

    @Test func edgeCases() {
        #expect(SpeechTimestamps.speechSpans(probabilities: [], audioSamples: 0).isEmpty)
        #expect(SpeechTimestamps.speechSpans(probabilities: [0.1, 0.2], audioSamples: 1000).isEmpty)
        // Speech to the end: the span ends at the audio's end, padded start clamped at 0.
        #expect(SpeechTimestamps.speechSpans(probabilities: [0.9, 0.9, 0.9], audioSamples: 1300) == [SpeechSpan(start: 0, end: 1300)])
        // No spans: one empty chunk, as faster-whisper.
        #expect(SpeechTimestamps.collectChunks([]) == [SpeechChunk(offset: 0, duration: 0, segments: [], audio: [])])
        #expect(SpeechTimestamps.floorDiv(-7, 2) == -4 && SpeechTimestamps.floorDiv(7, 2) == 3)
        // Python's round: decimal rounding of the exact binary value.
        #expect(SpeechTimestampsMap.pythonRound(2.675, digits: 2) == 2.67)   // 2.675 is 2.67499999… in binary
        #expect(SpeechTimestampsMap.pythonRound(0.125, digits: 2) == 0.12)   // exact tie → even
        #expect(SpeechTimestampsMap.pythonRound(1.005, digits: 2) == 1.0)
    }
}
