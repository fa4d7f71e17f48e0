// InspectInterruptTests: a writer interrupted by SIGINT/SIGTERM midway (earshot-bench write-example,
// which opts in to EarWriter.deleteTemporaryFilesOnSignals) leaves neither the file nor a temporary.
import Testing
import Foundation
import EarshotTestSupport

/// Polls `condition` every 10 ms for up to `seconds`.
private func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

@Test(arguments: [SIGINT, SIGTERM])
func interruptedWriteLeavesNoFile(signal: Int32) throws {
    let dir = try TemporaryDirectory()
    let process = Process()
    process.executableURL = try CLIRunner.executable("earshot-bench")
    process.arguments = ["write-example", "--large-tensor-mib", "8", "--stall-after-mib", "3", dir.path("big.ear")]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    // Wait until the writer stalls mid-tensor: its temporary file holds the 16 KiB head, the small
    // example tensors and 3 MiB of the large one.
    func temporarySize() -> Int {
        guard let name = dir.contents().first(where: { $0.hasPrefix("big.ear.tmp-") }),
              let attributes = try? FileManager.default.attributesOfItem(atPath: dir.path(name)) else { return 0 }
        return (attributes[.size] as? Int) ?? 0
    }
    #expect(waitFor(30) { temporarySize() >= 3 << 20 }, "the writer never got 3 MiB into the tensor")
    #expect(dir.contents().count == 1)
    kill(process.processIdentifier, signal)
    #expect(waitFor(30) { !process.isRunning }, "the writer ignored the signal")
    guard !process.isRunning else { return }
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal)
    #expect(process.terminationStatus == signal)
    #expect(dir.contents().isEmpty, "\(dir.contents())")
}

@Test func diskFullMidTensorLeavesNoFile() throws {
    // RLIMIT_FSIZE of 2 MiB (SIGXFSZ ignored, so write() fails with EFBIG) while writing an 8 MiB tensor.
    let dir = try TemporaryDirectory()
    let earshot = try CLIRunner.executable("earshot-bench").path
    let r = try CLIRunner.run(program: URL(fileURLWithPath: "/bin/bash"),
                              ["-c", "trap '' XFSZ; ulimit -f 2048; exec \"$0\" write-example --large-tensor-mib 8 \"$1\"",
                               earshot, dir.path("big.ear")])
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stderrLines.count == 1 && r.stderr.contains("File too large"), "\(r)")
    #expect(dir.contents().isEmpty, "\(dir.contents())")
}
