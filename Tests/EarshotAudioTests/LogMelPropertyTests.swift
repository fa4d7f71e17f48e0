// Log-mel properties that need no golden: silence, padding value, threads, truncation at 30 s.
import EarshotAudio
import Testing

@Suite struct LogMelPropertyTests {
    static let front = try! LogMelSpectrogram(bins: 80)

    /// All-zero input: every mel is 0 → log10 floor −10 = max → (−10 + 4) / 4 = −1.5 everywhere.
    @Test func silenceIsConstant() {
        let mel = Self.front.compute([])
        #expect(mel.bins == 80 && mel.frames == 3000 && mel.values.count == 240_000)
        #expect(mel.values.allSatisfy { $0 == mel.values[0] })
        #expect(abs(mel.values[0] + 1.5) < 1e-6)
    }

    /// Padded frames end at (M − 4) / 4 with M the global max of log10 (spec §10).
    @Test func paddedFramesSitAtTheFloor() throws {
        let pcm = try #require(try AudioFixtures.golden("es.mp3").pcmSamples())
        let mel = Self.front.compute(pcm)
        let top = mel.values.max()!                     // (M + 4) / 4
        let m = top * 4 - 4
        for b in [0, 40, 79] { #expect(abs(mel[b, 2999] - (m - 4) / 4) < 1e-6) }
    }

    /// Two threads give the same values bit for bit (frames are independent).
    @Test func threadsDoNotChangeTheResult() throws {
        let pcm = try #require(try AudioFixtures.golden("jfk.mp3").pcmSamples())
        #expect(Self.front.compute(pcm, threads: 1).values == Self.front.compute(pcm, threads: 2).values)
        #expect(Self.front.compute(pcm, threads: 1).values == Self.front.compute(pcm, threads: 7).values)
    }

    /// Input beyond 30 s is ignored (the reference trims), so 31 s and its first 30 s agree.
    @Test func longInputIsTrimmedTo30Seconds() throws {
        let audio = try AudioLoader.load(AudioFixtures.path("music-31s.wav"))
        #expect(audio.samples.count == 31 * 16000)
        #expect(Self.front.compute(audio.samples).values == Self.front.compute(Array(audio.samples[0..<480_000])).values)
    }
}
