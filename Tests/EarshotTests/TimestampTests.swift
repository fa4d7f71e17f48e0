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

    @Test func srtAndVttRendering() {
        let segs = [TimedText(start: 0.54, end: 1.46, text: "hello"), TimedText(start: 61.2, end: 3723.004, text: "world")]
        #expect(SubtitleFormat.srt.render(segs) == "1\n00:00:00,540 --> 00:00:01,460\nhello\n\n2\n00:01:01,200 --> 01:02:03,004\nworld\n")
        #expect(SubtitleFormat.vtt.render(segs) == "WEBVTT\n\n00:00:00.540 --> 00:00:01.460\nhello\n\n00:01:01.200 --> 01:02:03.004\nworld\n")
        #expect(SubtitleFormat.json.render([segs[0]]) == "[{\"end\":1.46,\"start\":0.54,\"text\":\"hello\"}]\n")
    }
}
