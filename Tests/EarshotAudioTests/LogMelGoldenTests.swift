// Log-mel against the official Qwen-Audio front-end (goldens in Tests/Fixtures/audio/mel), from the
// reference's own int16 PCM and from the original files decoded by libsndfile.
import EarshotAudio
import Foundation
import Testing

@Suite struct LogMelGoldenTests {
    static let front = try! LogMelSpectrogram(bins: 80)

    /// Mel stage alone: the PCM ffmpeg produced → our log-mel. Tolerance 1e-4: float32 FFT and
    /// accumulation order differ from torch's (measured ≤ 2e-5 with numpy's float32 rFFT).
    @Test(arguments: AudioFixtures.goldens.filter { $0.pcm != nil })
    func fromReferencePCM(_ g: MelGolden) throws {
        let pcm = try #require(try g.pcmSamples())
        let mel = Self.front.compute(pcm)
        let d = maxAbsDiff(mel.values, try g.mel())
        #expect(d.value <= 1e-4, "\(g.golden): max |Δ| \(d.value) at bin \(d.index / 3000), frame \(d.index % 3000)")
        let counts = AudioTokenCounts.qwenAudio(samples: g.samples)
        #expect(counts.melLength == g.mel_len && counts.encoderFrames == g.L1 && counts.audioTokens == g.N && counts.span == g.span)
    }

    /// 16 kHz WAV/FLAC through libsndfile are the reference's samples exactly, so the same 1e-4 holds.
    @Test(arguments: ["jfk.wav", "1272-128104-0000.flac", "music.wav"])
    func fromLosslessFiles(_ name: String) throws {
        let g = AudioFixtures.golden(name)
        let audio = try AudioLoader.load(AudioFixtures.path(g.file))
        if name != "music.wav" { #expect(audio.samples.count == g.samples) }
        if let pcm = try g.pcmSamples() { #expect(audio.samples == pcm, "libsndfile's FLAC decode equals ffmpeg's") }
        let mel = Self.front.compute(audio.samples)
        let d = maxAbsDiff(mel.values, try g.mel())
        #expect(d.value <= 1e-4, "\(name): max |Δ| \(d.value)")
    }

    /// MP3s decode through mpg123 (libsndfile) instead of ffmpeg's own decoder (float rounding, same
    /// length and alignment); the 48 kHz ones then go through the swr resampler, which matches ffmpeg's
    /// bit for bit (RateGoldenTests), so what is left is the decoder. Measured max |Δ|: jfk.mp3 0.0018,
    /// es.mp3 0.0017, glass 0.00043 (0.0065 and 0.0047 with the earlier approximate swr filter); bound
    /// 0.02 leaves room for decoder versions.
    @Test(arguments: ["jfk.mp3", "es.mp3", "glass-breaking-151256.mp3"])
    func fromMP3Files(_ name: String) throws {
        let g = AudioFixtures.golden(name)
        let audio = try AudioLoader.load(AudioFixtures.path(g.file))
        #expect(audio.samples.count == g.samples)
        let d = maxAbsDiff(Self.front.compute(audio.samples).values, try g.mel())
        print("[mel] \(name) default loader: max |Δ| \(d.value) at bin \(d.index / 3000) frame \(d.index % 3000)")
        #expect(d.value <= 0.02)
    }

    /// With the `.standard` resampler (sharp 7.2–8 kHz transition, no aliasing) the 48 kHz files differ
    /// from the reference mainly in the top mel bins, whose band (≈7–8 kHz) the two filters treat
    /// differently (measured: 0.37 in bin 79). Below bin 76 (< ≈6.8 kHz) both filters are flat: ≤ 0.05.
    @Test(arguments: ["es.mp3", "glass-breaking-151256.mp3"])
    func fromMP3FilesStandardResampler(_ name: String) throws {
        let g = AudioFixtures.golden(name)
        let audio = try AudioLoader.load(AudioFixtures.path(g.file), options: .init(resampling: .standard))
        let mel = Self.front.compute(audio.samples).values, golden = try g.mel()
        let all = maxAbsDiff(mel, golden)
        let low = maxAbsDiff(Array(mel[0..<(76 * 3000)]), Array(golden[0..<(76 * 3000)]))
        print("[mel] \(name) standard resampler: max |Δ| \(all.value) (bin \(all.index / 3000)), bins < 76: \(low.value)")
        #expect(low.value <= 0.05)
        #expect(all.value <= 0.5)
    }
}
