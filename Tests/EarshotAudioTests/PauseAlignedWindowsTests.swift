// PauseAlignedWindowsTests: the ≤ 30 s window planner on real speech (the fixture clips assembled back to back
// so that the 30 s marks fall inside sentences), streamed from a file and from memory: every cut lies in a
// pause, windows are ≤ 30 s, contiguous and cover the file; tails shorter than 10 ms are merged; memory
// stays bounded (the planner's buffer never exceeds a window plus one read).
//
// "In a pause": the RMS over ±10 ms around the cut is below 0.1 × the RMS of the clip the cut lies in
// (−20 dB; the clips' pauses sit 20–40 dB below their speech). The same check on the naive cut at exactly
// 30.0 s fails on these signals, so it does tell a pause from a word.
import EarshotAudio
import EarshotTestSupport
import Foundation
import Testing

/// Real speech assembled from the fixture clips, with the layout the checks need.
struct AssembledSpeech {
    let samples: [Float]
    /// (start, end, RMS) of each clip in `samples`.
    let clips: [(start: Int, end: Int, rms: Double)]

    static let clipFiles = ["audio/1272-128104-0000.flac", "vad/clips/es_pangrama.wav", "vad/clips/fr_comptage.wav",
                            "vad/clips/zh_pangrama.wav", "audio/jfk.wav"]

    /// The clips in `order` (indices into clipFiles), back to back with `gap` zeros between them.
    static func make(order: [Int], gapSamples gap: Int = 0) throws -> AssembledSpeech {
        let decoded = try clipFiles.map { try AudioLoader.load(Fixtures.url($0).path).samples }
        var out: [Float] = [], clips: [(Int, Int, Double)] = []
        for (k, i) in order.enumerated() {
            let c = decoded[i]
            clips.append((out.count, out.count + c.count, rms(c[...])))
            out += c
            if k < order.count - 1 { out += [Float](repeating: 0, count: gap) }
        }
        return AssembledSpeech(samples: out, clips: clips)
    }

    /// The speech level a cut at `sample` is judged against: the RMS of its clip (the louder one at a boundary).
    func speechRMS(at sample: Int) -> Double {
        clips.filter { $0.start - 160 <= sample && sample <= $0.end + 160 }.map(\.rms).max() ?? clips.map(\.rms).max()!
    }

    /// RMS over ±`half` samples around `sample`, relative to the speech level there.
    func relativeRMS(at sample: Int, half: Int = 160) -> Double {
        let a = max(0, sample - half), b = min(samples.count, sample + half)
        return rms(samples[a..<b]) / speechRMS(at: sample)
    }
}

func rms(_ x: ArraySlice<Float>) -> Double {
    guard !x.isEmpty else { return 0 }
    return (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)).squareRoot()
}

/// Writes 16 kHz mono float samples as a 16-bit PCM WAV.
func writeWAV(_ samples: [Float], to path: String) throws {
    var d = Data()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    let bytes = UInt32(2 * samples.count)
    d.append(contentsOf: Array("RIFF".utf8)); u32(36 + bytes); d.append(contentsOf: Array("WAVE".utf8))
    d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(1); u32(16000); u32(32000); u16(2); u16(16)
    d.append(contentsOf: Array("data".utf8)); u32(bytes)
    for s in samples { withUnsafeBytes(of: Int16(max(-32768, min(32767, (s * 32768).rounded()))).littleEndian) { d.append(contentsOf: $0) } }
    try d.write(to: URL(fileURLWithPath: path))
}

/// Runs a planner to the end; checks coverage, order and lengths; returns the windows.
func planAll(_ planner: PauseAlignedWindowPlanner, total: Int, max: Int = 480_000) throws -> [PlannedWindow] {
    var out: [PlannedWindow] = []
    while let w = try planner.next() {
        #expect(w.index == out.count)
        #expect(w.startSample == (out.last?.endSample ?? 0), "window \(w.index) starts at \(w.startSample), previous ended at \(out.last?.endSample ?? 0)")
        #expect(w.samples.count <= max && w.samples.count >= 1, "window \(w.index) has \(w.samples.count) samples")
        out.append(w)
    }
    #expect(out.last?.endSample == total, "the windows end at \(out.last?.endSample ?? 0), the signal at \(total)")
    #expect(out.last?.cut == .endOfFile)
    #expect(out.dropLast().allSatisfy { $0.cut != .endOfFile })
    return out
}

@Suite struct PauseAlignedWindowsTests {
    /// ~110 s: the clips back to back without gaps (jfk, 11 s, straddles every 30 s mark).
    static let speech: AssembledSpeech = try! .make(order: [0, 1, 2, 3, 4, 0, 2, 4, 1, 3, 2, 4, 0, 3, 4, 1])

    @Test func cutsOnRealSpeechLieInPauses() throws {
        let s = Self.speech
        let windows = try planAll(try PauseAlignedWindowPlanner(samples: s.samples), total: s.samples.count)
        #expect(windows.count >= 4)
        var report: [String] = []
        for w in windows.dropLast() {
            let r = s.relativeRMS(at: w.endSample)
            report.append(String(format: "%.2f s (%.3f)", w.endSeconds, r))
            #expect(r < 0.1, "cut at \(w.endSeconds) s: RMS ±10 ms is \(r) × the speech RMS")
            #expect(w.durationSeconds >= 24 - 0.01, "window \(w.index) is \(w.durationSeconds) s, the search range starts at 24 s")
        }
        print("pause-aligned cuts (energy): " + report.joined(separator: ", "))
        // The check discriminates: cutting blindly at every 30.0 s would land in speech here.
        let naive = stride(from: 480_000, to: s.samples.count, by: 480_000).map { s.relativeRMS(at: $0) }
        #expect(naive.contains { $0 > 0.1 }, "naive 30 s cuts \(naive): the test signal has no word on a 30 s mark")
    }

    @Test func streamedFromAFileEqualsInMemory() throws {
        let s = Self.speech
        let dir = try TemporaryDirectory("pause-windows")
        let path = dir.path("speech.wav")
        try writeWAV(s.samples, to: path)
        let fromFile = try AudioLoader.load(path).samples     // the int16-rounded signal the file holds
        let streamed = try planAll(try PauseAlignedWindowPlanner(path: path), total: fromFile.count)
        let inMemory = try planAll(try PauseAlignedWindowPlanner(samples: fromFile), total: fromFile.count)
        #expect(streamed.map(\.startSample) == inMemory.map(\.startSample))
        #expect(streamed.map(\.samples) == inMemory.map(\.samples))
    }

    @Test func shortAndEdgeLengths() throws {
        func plan(_ n: Int, value: Float = 0.1) throws -> [PlannedWindow] {
            let x = (0..<n).map { i in value * Float(sin(Double(i) * 0.05)) }
            return try planAll(try PauseAlignedWindowPlanner(samples: x), total: n)
        }
        #expect(try PauseAlignedWindowPlanner(samples: []).next() == nil)           // nothing: no window
        #expect(try plan(5).map(\.samples.count) == [5])                           // shorter than 10 ms: one window
        #expect(try plan(480_000).map(\.samples.count) == [480_000])               // exactly 30 s: one window
        // 30 s + 5 ms: the 5 ms tail is not left alone: the cut moves so the last window has ≥ 10 ms.
        let tail = try plan(480_000 + 80)
        #expect(tail.count == 2 && tail[1].samples.count >= 160)
        // 30 s + 1 sample, silence: same.
        let one = try plan(480_001, value: 0)
        #expect(one.count == 2 && one[1].samples.count >= 160)
        // Long silence: windows of ≤ 30 s all the way.
        let silent = try plan(16000 * 95, value: 0)
        #expect(silent.count == 4)
    }

    @Test func inconsistentOptionsAreTypedErrors() {
        var o = PauseAlignedWindowOptions()
        o.searchSamples = o.maxWindowSamples
        #expect(throws: AudioError.invalidWindowOptions("searchSamples 480000 must be 1 …< maxWindowSamples (480000)")) {
            try PauseAlignedWindowPlanner(samples: [0], options: o)
        }
        o = PauseAlignedWindowOptions(); o.minTailSamples = 0
        #expect(throws: AudioError.self) { try PauseAlignedWindowPlanner(samples: [0], options: o) }
        o = PauseAlignedWindowOptions(); o.readSamples = 100
        #expect(throws: AudioError.self) { try PauseAlignedWindowPlanner(path: "/nonexistent.wav", options: o) }
    }

    /// The planner keeps at most a window plus one read in memory, however long the input.
    @Test func memoryStaysBounded() throws {
        var produced = 0
        let total = 16000 * 600              // 10 min streamed from a generator, never materialised
        var maxBuffered = 0
        let options = PauseAlignedWindowOptions()
        let planner = try PauseAlignedWindowPlanner(source: { (n: Int) throws(AudioError) -> [Float] in
            let count = min(n, total - produced)
            defer { produced += count }
            return (0..<count).map { i in Float(sin(Double(produced + i) * 0.01)) * ((produced + i) / 8000 % 3 == 0 ? 0.001 : 0.3) }
        })
        var end = 0
        while let w = try planner.next() {
            #expect(w.startSample == end)
            end = w.endSample
            maxBuffered = max(maxBuffered, planner.bufferedSamples)
        }
        #expect(end == total)
        #expect(maxBuffered <= options.maxWindowSamples + options.minTailSamples + options.readSamples)
    }

    @Test func vadProviderDecidesWhenItHearsSilence() throws {
        // A fake VAD that calls everything non-speech between 27.0 and 27.5 s (and speech elsewhere):
        // the cut lies inside that stretch (its windows end at 27.52 s), at its quietest frame.
        let s = Self.speech
        var fed = 0
        let planner = try PauseAlignedWindowPlanner(samples: s.samples, speechProbabilities: { windows in
            let n = windows.count / 512
            defer { fed += n }
            return (0..<n).map { k in
                let t = Double((fed + k) * 512) / 16000
                return (27.0..<27.5).contains(t) || (57.0..<57.5).contains(t) || (87.0..<87.5).contains(t) ? 0.1 : 0.9
            }
        })
        let windows = try planAll(planner, total: s.samples.count)
        #expect(fed * 512 <= s.samples.count && fed * 512 > s.samples.count - 480_000 - 512)
        #expect(windows[0].cut == .vadPause && windows[0].endSeconds >= 27.0 && windows[0].endSeconds <= 27.52)
        #expect(windows[1].cut == .vadPause && windows[1].endSeconds >= 57.0 && windows[1].endSeconds <= 57.52)
        // A VAD that hears speech everywhere: the energy minimum decides, as without a VAD.
        let always = try planAll(try PauseAlignedWindowPlanner(samples: s.samples, speechProbabilities: { [Float](repeating: 0.99, count: $0.count / 512) }),
                                 total: s.samples.count)
        let none = try planAll(try PauseAlignedWindowPlanner(samples: s.samples), total: s.samples.count)
        #expect(always.dropLast().allSatisfy { $0.cut == .energyMinimum })
        #expect(zip(always, none).allSatisfy { abs($0.endSample - $1.endSample) < 512 })
    }
}
