// ConvertSignalTests: SIGINT, SIGTERM and SIGHUP in the middle of a real conversion (the tiny fixture
// checkpoint, 40 M weights) leave no `*.tmp-*` file and no output, and the process dies of the signal
// (so a shell sees 128 + signal: "interrupted").
import Foundation
import Testing
import EarshotConvert
import EarshotTestSupport

@Suite(.serialized) struct ConvertSignalTests {
    static let checkpoint: URL = {
        let dir = try! scratchDirectory("signal-ckpt")
        try! writeTinyFixtureCheckpoint(dir)
        return dir
    }()

    private func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return condition()
    }

    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func interruptedConversionLeavesNothing(signal: Int32) throws {
        let out = try scratchDirectory("signal-out")
        defer { cleanup(out) }
        let process = Process()
        process.executableURL = try CLIRunner.executable("earshot-convert")
        process.arguments = [Self.checkpoint.path, "-o", out.appendingPathComponent("tiny.ear").path, "--quant", "q4", "--threads", "1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // The temporary output exists once the checkpoint is validated and the first tensors stream in.
        #expect(waitFor(60) { listing(out).contains { $0.hasPrefix("tiny.ear.tmp-") } }, "no temporary output appeared")
        usleep(50_000)
        #expect(process.isRunning, "the conversion finished before it could be interrupted")
        kill(process.processIdentifier, signal)
        #expect(waitFor(30) { !process.isRunning }, "the converter ignored the signal")
        guard !process.isRunning else { return }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal,
                "exit \(process.terminationStatus) (\(process.terminationReason == .uncaughtSignal ? "signal" : "status"))")
        #expect(listing(out).isEmpty, "\(listing(out))")
    }
}
