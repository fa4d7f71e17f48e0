// earshot-convert on a Silero VAD .onnx file, run as a user would: detected by its extension, converted to a
// small .ear (default name from the input), --dry-run, and a broken .onnx refused in one line with no output left.
import Foundation
import Testing
import EarshotTestSupport

@Suite struct ConvertONNXCLITests {
    let onnx = Fixtures.url("vad/silero_vad_v6.onnx").path

    @Test func convertsAndRefuses() throws {
        let dir = try TemporaryDirectory("cli-onnx")
        let dry = try CLIRunner.run([onnx, "--dry-run"], executable: "earshot-convert", timeout: 120)
        #expect(dry.exitCode == 0 && dry.stdout.contains("Silero VAD OK: 14 tensors, 309121 weights, window 512 + context 64"))

        let r = try CLIRunner.run([onnx, "--no-table"], executable: "earshot-convert", currentDirectory: dir.url, timeout: 120)
        #expect(r.exitCode == 0, "\(r.stderr)")
        #expect(r.stdout.contains("wrote silero_vad_v6.ear") && r.stdout.contains("309121 weights (Silero VAD, f32)"))
        #expect(dir.contents() == ["silero_vad_v6.ear"])
        let again = try CLIRunner.run([onnx], executable: "earshot-convert", currentDirectory: dir.url, timeout: 120)
        #expect(again.exitCode == 1 && again.stderr.contains("file exists (use --force to overwrite)"))

        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: onnx)))
        bytes.removeLast(bytes.count / 2)
        let broken = dir.path("broken.onnx")
        try Data(bytes).write(to: URL(fileURLWithPath: broken))
        let bad = try CLIRunner.run([broken, "-o", dir.path("broken.ear")], executable: "earshot-convert", timeout: 120)
        #expect(bad.exitCode == 1 && bad.stderr.hasPrefix("error: invalid ONNX file \(broken):"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("broken.ear")))
    }
}
