// Window results → file-time segments: the SRWT output continues the prompt's <|0.00|>, and each 30 s
// window's times are shifted by its start.
import Testing
@testable import Earshot

@Suite struct WindowSegmentTests {
    func window(_ text: String, start: Double, duration: Double = 30) -> WindowResult {
        WindowResult(index: Int(start / 30), startSeconds: start, durationSeconds: duration,
                     result: GenerationResult(ids: [], text: text, stopReason: .stopToken(151_643), stats: GenerationStats()))
    }

    @Test func srwtOutputAfterThePromptsZeroTimestamp() {
        // Generated after `…<|timestamps|><|0.00|>`: the spec's example without its first timestamp.
        let w = window("<|sil|><|0.54|>面<|0.86|>条<|1.17|>机<|1.46|><|sil|><|2.01|>", start: 30)
        #expect(w.segments == [TimedText(start: 30.54, end: 31.46, text: "面条机")])
        #expect(w.segments.count == 1)
    }

    @Test func wordsBeforeTheFirstTimestampStartAtTheWindow() {
        let w = window(" And<|0.40|> so<|0.62|>", start: 60)
        #expect(w.segments == [TimedText(start: 60, end: 60.62, text: "And so")])
    }

    @Test func timestampsPastTheWindowAreClampedToIt() {
        // An 11 s window whose text claims <|14.32|>: the segment ends at the window's end.
        let w = window("<|0.00|> a<|14.32|>", start: 0, duration: 11)
        #expect(w.segments == [TimedText(start: 0, end: 11, text: "a")])
    }

    @Test func plainTextSpansItsWindow() {
        #expect(window(" hello there ", start: 30, duration: 1.5).segments == [TimedText(start: 30, end: 31.5, text: "hello there")])
        #expect(window("  ", start: 0).segments.isEmpty)
    }
}
