// `earshot mel` run as a program: the file it writes, its JSON, and its errors.
import EarshotAudio
import EarshotTestSupport
import Foundation
import Testing

@Suite struct MelCommandTests {
    /// --out writes the golden's layout ([bin][frame] f32 LE, 960 000 bytes; values within the golden
    /// tolerance 1e-4) and --json prints the spec's counts.
    @Test func writesMelAndPrintsCounts() throws {
        let dir = try TemporaryDirectory("earshot-mel")
        let out = dir.path("jfk.mel.f32")
        let r = try CLIRunner.run(["mel", AudioFixtures.path("jfk.wav"), "--out", out, "--json"])
        #expect(r.exitCode == 0, "\(r)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let g = AudioFixtures.golden("jfk.wav")
        #expect(object?["samples"] as? Int == g.samples)
        #expect(object?["mel_len"] as? Int == g.mel_len)
        #expect(object?["L1"] as? Int == g.L1)
        #expect(object?["N"] as? Int == g.N)
        #expect(object?["span"] as? Int == g.span)
        let written = try AudioFixtures.floats(out)
        #expect(written.count == 80 * 3000)
        #expect(maxAbsDiff(written, try g.mel()).value <= 1e-4)
    }

    /// 128 bins: Qwen2-Audio's ceil count (93 680 samples → 586 frames) and a 128 × 3000 file.
    @Test func bins128() throws {
        let dir = try TemporaryDirectory("earshot-mel")
        let out = dir.path("x.f32")
        let r = try CLIRunner.run(["mel", AudioFixtures.path("1272-128104-0000.flac"), "--bins", "128", "--out", out, "--json"])
        #expect(r.exitCode == 0, "\(r)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(object?["mel_len"] as? Int == 586)
        #expect(try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int == 128 * 3000 * 4)
    }

    /// A later window of a long file: music-31s.wav has a second window of 1 s.
    @Test func secondWindow() throws {
        let r = try CLIRunner.run(["mel", AudioFixtures.path("music-31s.wav"), "--window", "1", "--json"])
        #expect(r.exitCode == 0, "\(r)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(object?["samples"] as? Int == 31 * 16000)
        #expect(object?["window_samples"] as? Int == 16000)
        #expect(object?["mel_len"] as? Int == 100)
        #expect(object?["span"] as? Int == 27)
    }

    /// Bad input: a one-line error naming the file, non-zero exit, nothing on stdout.
    @Test func errorsNameTheFile() throws {
        let missing = try CLIRunner.run(["mel", "/nonexistent/clip.wav", "--json"])
        #expect(missing.exitCode != 0 && missing.stdout.isEmpty)
        #expect(missing.stderr.contains("/nonexistent/clip.wav: no such file"), "\(missing)")
        let bins = try CLIRunner.run(["mel", AudioFixtures.path("jfk.wav"), "--bins", "64"])
        #expect(bins.exitCode != 0 && bins.stderr.contains("--bins must be 80 or 128"), "\(bins)")
        let window = try CLIRunner.run(["mel", AudioFixtures.path("jfk.wav"), "--window", "1"])
        #expect(window.exitCode != 0 && window.stderr.contains("has no window 1"), "\(window)")
    }
}
