// Formats beyond the fixtures: Ogg Vorbis and Opus (encoded here with libsndfile from jfk.wav) and a
// multi-channel float WAV at 44.1 kHz (down-mix and resampling through the whole loader).
import CSndFile
import EarshotAudio
import EarshotTestSupport
import Foundation
import Testing

@Suite struct AudioFormatsTests {
    /// Writes `frames` ([frame][channel] interleaved) with libsndfile in `format`; returns the path.
    let dir = try! TemporaryDirectory("earshot-audio")

    func write(_ name: String, format: Int32, rate: Int, channels: Int, _ interleaved: [Float]) throws -> String {
        let path = dir.path(name)
        var info = SF_INFO()
        info.samplerate = Int32(rate); info.channels = Int32(channels); info.format = format
        let handle = try #require(sf_open(path, Int32(SFM_WRITE), &info), "libsndfile cannot write \(name)")
        _ = interleaved.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, sf_count_t(interleaved.count / channels)) }
        sf_close(handle)
        return path
    }

    /// Lossy codecs change the signal, so the mel is compared on average: measured mean |Δ| 0.011 for
    /// both at libsndfile's default quality; bound 0.03.
    @Test(arguments: [("jfk.ogg", Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS), "Ogg Vorbis"),
                      ("jfk.opus", Int32(SF_FORMAT_OGG | SF_FORMAT_OPUS), "Ogg Opus")])
    func oggCodecsDecode(_ name: String, _ format: Int32, _ formatName: String) throws {
        let source = try AudioLoader.load(AudioFixtures.path("jfk.wav")).samples
        let path = try write(name, format: format, rate: 16000, channels: 1, source)
        let file = try AudioFile(path: path)
        #expect(file.formatName == formatName && file.sampleRate == 16000)
        let audio = try AudioLoader.load(path)
        #expect(audio.samples.count == source.count)
        let mel = try LogMelSpectrogram(bins: 80).compute(audio.samples).values
        let golden = try AudioFixtures.golden("jfk.wav").mel()
        let mean = zip(mel, golden).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(golden.count)
        #expect(mean <= 0.03, "\(name): mean |Δ| \(mean)")
    }

    /// Three channels (x, 2x, 0) at 44.1 kHz, float WAV: the loader must give resample(x) (the average
    /// is x up to float rounding, ≤ 1 ulp; then the same resampler and int16 step).
    @Test func multichannelFloatWavAt44k() throws {
        let n = 44100
        let x = (0..<n).map { Float(0.3 * sin(2 * Double.pi * 440 * Double($0) / 44100)) }
        var interleaved: [Float] = []
        for v in x { interleaved += [v, 2 * v, 0] }
        let path = try write("three.wav", format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), rate: 44100, channels: 3, interleaved)
        let file = try AudioFile(path: path)
        #expect(file.channels == 3 && file.sampleRate == 44100 && file.formatName == "WAV float")
        let loaded = try AudioLoader.load(path, options: .init(quantizeToInt16: false)).samples
        let expected = try Resampler(from: 44100, to: 16000, quality: .ffmpeg).resample(x)
        #expect(loaded.count == 16000)
        #expect(maxAbsDiff(loaded, expected).value <= 1e-6)
    }

    /// A float WAV holding a NaN is refused (it would turn the whole log-mel into NaN).
    @Test func nonFiniteSamplesAreCorrupt() throws {
        var x = [Float](repeating: 0.1, count: 1000)
        x[777] = .nan
        let path = try write("nan.wav", format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), rate: 16000, channels: 1, x)
        #expect(throws: AudioError.corrupt(path: path, detail: "non-finite sample at frame 777")) {
            try AudioLoader.load(path)
        }
    }
}
