// SileroVADWindowsTests: the pause-aligned window planner (EarshotAudio) driven by the real Silero VAD on real
// speech (the fixture clips back to back, the 30 s marks inside sentences): every cut lies in a pause
// (RMS ±10 ms < 0.1 × the RMS of the clip it lies in, as in PauseAlignedWindowsTests), windows ≤ 30 s,
// contiguous, covering the signal, and the VAD sees every sample once, in order.
import EarshotAudio
import EarshotModels
import EarshotTestSupport
import Foundation
import Testing

@Suite struct SileroVADWindowsTests {
    @Test func vadCutsOnRealSpeechLieInPauses() throws {
        let files = ["audio/1272-128104-0000.flac", "vad/clips/es_pangrama.wav", "vad/clips/fr_comptage.wav",
                     "vad/clips/zh_pangrama.wav", "audio/jfk.wav"]
        let decoded = try files.map { try AudioLoader.load(Fixtures.url($0).path).samples }
        var signal: [Float] = [], clips: [(start: Int, end: Int, rms: Double)] = []
        func rms(_ x: ArraySlice<Float>) -> Double { (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, x.count))).squareRoot() }
        for i in [0, 1, 2, 3, 4, 0, 2, 4, 1, 3, 2, 4, 0, 3, 4, 1] {
            clips.append((signal.count, signal.count + decoded[i].count, rms(decoded[i][...])))
            signal += decoded[i]
        }
        var stream = SileroVADStream(model: SileroFixtures.model)
        var seen = 0
        let planner = try PauseAlignedWindowPlanner(samples: signal, speechProbabilities: { w in
            seen += w.count
            return stream.push(w)
        })
        var windows: [PlannedWindow] = []
        while let w = try planner.next() {
            #expect(w.startSample == (windows.last?.endSample ?? 0) && w.samples.count <= 480_000)
            windows.append(w)
        }
        #expect(windows.last?.endSample == signal.count && windows.count >= 4)
        #expect(seen % 512 == 0 && seen <= signal.count)
        var report: [String] = []
        for w in windows.dropLast() {
            let c = w.endSample
            let level = clips.filter { $0.start - 160 <= c && c <= $0.end + 160 }.map(\.rms).max()!
            let r = rms(signal[max(0, c - 160)..<min(signal.count, c + 160)]) / level
            report.append(String(format: "%.2f s %@ (%.3f)", w.endSeconds, "\(w.cut)", r))
            #expect(r < 0.1, "cut at \(w.endSeconds) s (\(w.cut)): RMS ±10 ms is \(r) × the speech RMS")
        }
        #expect(windows.dropLast().contains { $0.cut == .vadPause })   // the VAD did decide somewhere
        print("pause-aligned cuts (Silero VAD): " + report.joined(separator: ", "))
    }
}
