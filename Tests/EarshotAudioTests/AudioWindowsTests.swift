// 30 s windows over long audio: in memory and streamed from a file (equal to whole-file decoding).
import EarshotAudio
import Testing

@Suite struct AudioWindowsTests {
    @Test func windowsCoverTheSignalWithOffsets() {
        let x = (0..<1_000_000).map { Float($0 % 1000) / 1000 }
        let w = AudioWindow.windows(of: x)
        #expect(w.map(\.startSample) == [0, 480_000, 960_000])
        #expect(w.map(\.startSeconds) == [0, 30, 60])
        #expect(w.map(\.samples.count) == [480_000, 480_000, 40_000])
        #expect(w.flatMap(\.samples) == x)
        #expect(w.map(\.index) == [0, 1, 2])
        #expect(AudioWindow.windows(of: []).isEmpty)
        #expect(AudioWindow.windows(of: [1, 2, 3]).count == 1)
        // Overlapping windows: 10-sample windows every 4 samples over 18 samples → starts 0, 4, 8.
        let o = AudioWindow.windows(of: (0..<18).map(Float.init), length: 10, hop: 4)
        #expect(o.map(\.startSample) == [0, 4, 8])
        #expect(o.last!.samples == (8..<18).map(Float.init))
    }

    /// Streaming windows equal slices of the whole decode, for a 16 kHz WAV and a 48 kHz MP3 (which
    /// needs seeking in the decoder and the resampler's margins).
    @Test(arguments: [("music-31s.wav", 160_000), ("es.mp3", 40_000), ("glass-breaking-151256.mp3", 24_000)])
    func streamedWindowsEqualWholeDecode(_ name: String, _ length: Int) throws {
        let whole = try AudioLoader.load(AudioFixtures.path(name)).samples
        let reader = try AudioWindowReader(path: AudioFixtures.path(name), length: length)
        var joined: [Float] = []
        var count = 0
        while let w = try reader.next() {
            #expect(w.startSample == count * length)
            let expected = Array(whole[w.startSample..<min(w.startSample + length, whole.count)])
            #expect(w.samples.count == expected.count)
            if w.samples.count == expected.count {
                let d = maxAbsDiff(w.samples, expected)
                #expect(d.value == 0, "\(name) window \(w.index): max |Δ| \(d.value) at \(d.index)")
            }
            joined += w.samples
            count += 1
        }
        #expect(joined.count == whole.count)
        #expect(count == (whole.count + length - 1) / length)
    }

    /// Streamed windows at other rates, bit depths and channel counts (the rates fixtures) equal the
    /// whole-file decode and ffmpeg's samples, bit for bit. 4 000-sample windows: every file spans
    /// several, so window starts fall mid-file and the last one ends on the mirrored tail.
    @Test(arguments: RateFixtures.names)
    func streamedWindowsAtOtherRatesEqualFfmpeg(_ name: String) throws {
        let length = 4000
        let whole = try AudioLoader.load(RateFixtures.source(name)).samples
        let ref = try RateFixtures.reference(name)
        let reader = try AudioWindowReader(path: RateFixtures.source(name), length: length)
        var joined: [Float] = []
        while let w = try reader.next() {
            let expected = Array(whole[w.startSample..<min(w.startSample + length, whole.count)])
            #expect(w.samples == expected, "\(name) window \(w.index) differs from the whole decode")
            joined += w.samples
        }
        #expect(joined.count == whole.count && joined == ref, "\(name): streamed \(joined.count) samples vs ffmpeg \(ref.count)")
    }
}
