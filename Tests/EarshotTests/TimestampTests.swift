// Timestamp parsing (SRWT token text) and the SRT / VTT / JSON renderers.
import Testing
@testable import Earshot

@Suite struct TimestampTests {
    @Test func parsesTheSpecSRWTExample() {
        // spec §6: `<|0.00|><|sil|><|0.54|>面<|0.86|>条<|1.17|>机<|1.46|><|sil|><|2.01|>`
        let units = TimestampParser.parse("<|0.00|><|sil|><|0.54|>面<|0.86|>条<|1.17|>机<|1.46|><|sil|><|2.01|>")
        #expect(units == [
            TimedText(start: 0.54, end: 0.86, text: "面"),
            TimedText(start: 0.86, end: 1.17, text: "条"),
            TimedText(start: 1.17, end: 1.46, text: "机"),
        ])
        let segments = TimestampParser.segments(units)
        #expect(segments == [TimedText(start: 0.54, end: 1.46, text: "面条机")])
    }

    @Test func offsetsAndEnglishWords() {
        let units = TimestampParser.parse("<|0.10|> And<|0.40|> so<|0.62|><|sil|><|3.00|> my<|3.20|>", offset: 30)
        #expect(units.map(\.text) == [" And", " so", " my"])
        #expect(units.first?.start == 30.10)
        let segments = TimestampParser.segments(units)
        #expect(segments.count == 2)   // the 2.38 s silence splits them
        #expect(segments[0].text == "And so")
        #expect(segments[1].start == 33.0)
    }

    @Test func nonTimestampTagsStayText() {
        let units = TimestampParser.parse("<|0.00|>a<|en|>b<|99.00|>c<|1.00|>")
        #expect(units == [TimedText(start: 0, end: 1, text: "a<|en|>b<|99.00|>c")])
    }

    @Test func srtVttTsvJsonRendering() {
        let t = transcript([TimedText(start: 0.54, end: 1.46, text: " hello"), TimedText(start: 61.2, end: 3723.004, text: "world")])
        #expect(TranscriptFormat.srt.render(t) == "1\n00:00:00,540 --> 00:00:01,460\nhello\n\n2\n00:01:01,200 --> 01:02:03,004\nworld\n")
        #expect(TranscriptFormat.vtt.render(t) == "WEBVTT\n\n00:00:00.540 --> 00:00:01.460\nhello\n\n00:01:01.200 --> 01:02:03.004\nworld\n")
        #expect(TranscriptFormat.tsv.render(t) == "start\tend\ttext\n540\t1460\thello\n61200\t3723004\tworld\n")
        #expect(TranscriptFormat.txt.render(t) == "hello\nworld\n")
        // One schema; times in seconds to the millisecond (1.8800000000000001 never appears).
        var one = transcript([TimedText(start: 0.54, end: 1.8800000000000001, text: "hello \"x\"")])
        one.duration = 2
        #expect(TranscriptFormat.json.render(one) == #"{"model": "m.ear", "task": "transcribe", "audio": "a.wav", "duration": 2, "language": "en", "text": "hello", "segments": [{"start": 0.54, "end": 1.88, "text": "hello \"x\""}], "windows": [{"start": 0, "end": 1.88}]}"# + "\n")
    }

    /// A transcript holding these segments (one window over them).
    func transcript(_ segments: [TimedText]) -> Transcript {
        var t = Transcript(model: "m.ear", family: .whisper, task: "transcribe", audio: "a.wav", duration: 4000, language: "en", text: "hello")
        t.segments = segments.map { TranscriptSegment(start: $0.start, end: $0.end, text: $0.text) }
        t.windows = [TimeSpan(start: 0, end: segments.last.map { min($0.end, 2) } ?? 0)]
        return t
    }

    @Test func timesAreClampedToTheAudio() {
        // A 50 ms file whose model output claims 0 → 7 s; an end before its start.
        var t = Transcript(model: "m.ear", family: .whisper, task: "transcribe", audio: "a.wav", duration: 0.05)
        t.segments = [TranscriptSegment(start: 0, end: 7, text: "x"), TranscriptSegment(start: 14.32, end: 11.64, text: "y")]
        t.windows = [TimeSpan(start: 0, end: 30)]
        t.clampTimes()
        #expect(t.segments.map(\.start) == [0, 0.05] && t.segments.map(\.end) == [0.05, 0.05])
        #expect(t.windows == [TimeSpan(start: 0, end: 0.05)])
        var u = Transcript(model: "m.ear", family: .qwenAudio, task: "transcribe", audio: "a.wav", duration: 11)
        u.segments = [TranscriptSegment(start: 14.32, end: 11.64, text: "y")]
        u.clampTimes()
        #expect(u.segments[0].start == 11 && u.segments[0].end == 11)
    }
}
