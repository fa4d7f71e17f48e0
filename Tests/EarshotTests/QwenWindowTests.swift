// QwenWindowTests: Qwen-Audio on a long recording of real speech (74 s, the 30 s marks inside sentences):
// every window boundary the transcript reports lies in a pause (the signal's RMS around the cut is far below
// the speech's), the windows cover the audio in order without gaps, and none is longer than 30 s.
import Foundation
import Testing
import EarshotTestSupport
import EarshotAudio
@testable import Earshot

@Suite struct QwenWindowTests {
    @Test func windowsAreCutInPauses() throws {
        let jfk = try AudioLoader.load(Fixtures.url("audio/jfk.wav").path).samples
        let flac = try AudioLoader.load(Fixtures.url("audio/1272-128104-0000.flac").path).samples
        var audio: [Float] = []
        for (clip, gap) in [(jfk, 0.7), (flac, 1.3), (jfk, 0.0), (flac, 2.0), (jfk, 0.4), (flac, 1.1), (jfk, 1.6), (flac, 0.2)] {
            audio += clip
            audio += [Float](repeating: 0, count: Int(16000 * gap))
        }
        var o = TranscriptionOptions()
        o.maxNewTokens = 2
        let t = try LibGoldens.model.makeSession().transcribe(.samples(audio, name: "long"), options: o)
        let duration = Double(audio.count) / 16000
        #expect(abs(t.duration - duration) < 0.001)
        #expect(t.windows.count >= 3, "\(t.windows)")
        #expect(t.windows.first?.start == 0 && abs((t.windows.last?.end ?? 0) - duration) < 0.001)
        func rms(_ a: Int, _ b: Int) -> Double {
            let s = audio[max(0, a)..<min(audio.count, b)]
            return (s.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(s.count, 1))).squareRoot()
        }
        let speech = rms(0, audio.count)
        for (a, b) in zip(t.windows, t.windows.dropFirst()) {
            #expect(abs(a.end - b.start) < 1e-9, "windows are contiguous: \(a) then \(b)")
            #expect(a.end - a.start <= 30.0001, "window \(a) is longer than 30 s")
            let cut = Int(a.end * 16000)
            let around = rms(cut - 160, cut + 160)        // ±10 ms
            #expect(around < 0.1 * speech, "cut at \(a.end) s: RMS \(around) vs speech \(speech)")
        }
        // Blind 30 s cuts would have fallen inside speech here (so the check can fail).
        #expect(max(rms(480_000 - 1600, 480_000 + 1600), rms(960_000 - 1600, 960_000 + 1600)) > 0.1 * speech)
    }
}
