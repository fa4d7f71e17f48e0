// Earshot's 16 kHz samples against ffmpeg's for sources at other rates, bit depths and channel counts:
// Tests/Fixtures/audio/rates, made by Tools/fixtures/make_rate_fixtures.sh with ffmpeg 5.1 running the
// Qwen-Audio reference's own decode command (`ffmpeg -nostdin -threads 0 -i FILE -f s16le -ac 1
// -acodec pcm_s16le -ar 16000 -`). `AudioLoader` rebuilds libswresample's default resampler, edges,
// mixing and rounding, so the tolerance on the PCM is none: every sample equal.
import EarshotAudio
import Foundation
import Testing

enum RateFixtures {
    /// Sources: mono 16-bit at the five common rates, a 24-bit source (float arithmetic), an odd rate
    /// (interpolated phases), stereo up-, down- and not resampled.
    static let names = ["jfk-8000", "jfk-22050", "jfk-24000", "jfk-44100", "jfk-48000",
                        "jfk-22050-s24", "jfk-44056", "jfk-8000-stereo", "jfk-16000-stereo", "jfk-44100-stereo"]

    static func source(_ name: String) -> String { AudioFixtures.path("rates/\(name).flac") }

    /// ffmpeg's int16 output / 32768 (stored as 16 kHz mono FLAC, which libsndfile decodes losslessly).
    static func reference(_ name: String) throws -> [Float] {
        try AudioFile(path: AudioFixtures.path("rates/\(name).ref.flac")).readMono()
    }
}

/// Sample-by-sample comparison of two int16 / 32768 signals.
struct PCMComparison: CustomStringConvertible {
    let count: Int
    let maxLSB: Int
    /// max |Δ| away from the edges (64 samples at each end), where only the filter differs.
    let interiorMaxLSB: Int
    let exactFraction: Double

    init(_ a: [Float], _ b: [Float]) {
        precondition(a.count == b.count)
        var worst = 0, inner = 0, exact = 0
        for i in a.indices {
            let d = Int((abs(a[i] - b[i]) * 32768).rounded())
            worst = max(worst, d)
            if i >= 64 && i < a.count - 64 { inner = max(inner, d) }
            if d == 0 { exact += 1 }
        }
        interiorMaxLSB = inner
        count = a.count
        maxLSB = worst
        exactFraction = a.isEmpty ? 1 : Double(exact) / Double(a.count)
    }

    var description: String {
        "\(count) samples, max |Δ| \(maxLSB) LSB (\(interiorMaxLSB) away from the ends), \(String(format: "%.3f", 100 * exactFraction)) % exact"
    }
}

@Suite struct RateGoldenTests {
    static let front = try! LogMelSpectrogram(bins: 80)

    /// The whole-file path gives ffmpeg's samples exactly: same count, every sample equal.
    @Test(arguments: RateFixtures.names)
    func pcmEqualsFfmpeg(_ name: String) throws {
        let mine = try AudioLoader.load(RateFixtures.source(name)).samples
        let ref = try RateFixtures.reference(name)
        #expect(mine.count == ref.count, "\(name): \(mine.count) samples, ffmpeg \(ref.count)")
        let n = min(mine.count, ref.count)
        let c = PCMComparison(Array(mine[..<n]), Array(ref[..<n]))
        print("[rates] \(name) PCM: \(c) (\(mine.count) vs ffmpeg \(ref.count))")
        #expect(c.maxLSB == 0, "\(name): \(c)")
    }

    /// The log-mel of Earshot's decode against the log-mel of ffmpeg's PCM through the same mel code.
    /// Tolerance 1e-4 (the mel-vs-reference bound of LogMelGoldenTests); identical PCM makes it 0.
    @Test(arguments: RateFixtures.names)
    func logMelEqualsLogMelOfFfmpegPCM(_ name: String) throws {
        let mine = try AudioLoader.load(RateFixtures.source(name)).samples
        let ref = try RateFixtures.reference(name)
        let a = Self.front.compute(mine).values, b = Self.front.compute(ref).values
        let d = maxAbsDiff(a, b)
        let mean = zip(a, b).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(a.count)
        print("[rates] \(name) log-mel: max |Δ| \(d.value) (bin \(d.index / 3000)), mean \(mean)")
        #expect(d.value <= 1e-4, "\(name): log-mel max |Δ| \(d.value) at bin \(d.index / 3000), frame \(d.index % 3000)")
    }

    /// How many samples ffmpeg makes of N input samples near the filter length (counts.json, measured
    /// with the reference command on raw s16 input): swr's edge rules, including "nothing at all" for
    /// inputs shorter than about 1.5 filter lengths.
    @Test func outputCountsMatchFfmpeg() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: AudioFixtures.path("rates/counts.json")))
        let table = try JSONDecoder().decode([String: [String: Int]].self, from: data)
        #expect(table.count == 5)
        for (rate, counts) in table {
            let r = try Resampler(from: try #require(Int(rate)), quality: .ffmpeg)
            for (n, want) in counts {
                let got = r.outputCount(forInput: try #require(Int(n)))
                #expect(got == want, "\(rate) Hz, \(n) samples: \(got) outputs, ffmpeg \(want)")
            }
        }
    }
}
