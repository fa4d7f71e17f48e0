// FaultAndDiskTests: what only a child process can show (Tools/test-probe):
//   - a model truncated under a running process: the MappedFileFaults handler prints one line naming the
//     file, removes the temporary files of unfinished writers and exits with 128 + SIGBUS (no crash);
//   - a segmentation fault elsewhere still crashes as a crash (the handler passes it on);
//   - a full or read-only file system (a tiny tmpfs in a private mount namespace; root only, skipped
//     otherwise): AtomicFileWriter reports it in words and leaves no file.
import Testing
import Foundation
import EarshotFormat
import EarshotTestSupport

private func probe(_ args: [String]) throws -> CLIResult {
    try CLIRunner.run(args, executable: "earshot-test-probe", timeout: 60)
}

@Test func modelTruncatedWhileMappedGivesOneLine() throws {
    let dir = try TemporaryDirectory()
    let model = dir.path("model.ear")
    try EarExample.write(path: model)
    let r = try probe(["sigbus", model, dir.path("out.bin")])
    #expect(r.exitCode == 128 + SIGBUS, "\(r)")
    #expect(r.stderrLines.count == 1, "\(r)")
    #expect(r.stderr.hasPrefix("error: the model file '\(model)' changed or was truncated while in use"), "\(r)")
    // The writer's temporary file (its path is on stdout) was removed by the handler.
    let temporary = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(temporary.contains("out.bin.tmp-"), "\(r)")
    #expect(dir.contents() == ["model.ear"], "\(dir.contents())")
}

@Test func otherFaultsStillCrash() throws {
    let r = try probe(["segv"])
    // Under a sanitizer (Tools/sanitize.sh sets its options) the sanitizer's own SEGV handler reports
    // the crash and exits with its status (ASan 1, TSan 66): still a crash, never our one-line exit.
    let env = ProcessInfo.processInfo.environment
    let sanitized = env["ASAN_OPTIONS"] != nil || env["TSAN_OPTIONS"] != nil
    #expect(r.exitCode == 128 + SIGSEGV || (sanitized && r.exitCode != 0 && r.exitCode != 128 + SIGBUS), "\(r)")
    #expect(!r.stderr.contains("changed or was truncated"), "\(r)")
}

/// Runs `script` as root in a private mount namespace (`unshare -m`); nil when that is not possible here.
private func inMountNamespace(_ script: String, _ args: [String]) throws -> CLIResult? {
    guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return nil }
    let check = try CLIRunner.run(program: URL(fileURLWithPath: "/usr/bin/unshare"),
                                  ["-m", "--propagation", "private", "/bin/sh", "-c", "mount -t tmpfs tmpfs \"$1\"", "sh", "/mnt"])
    guard check.exitCode == 0 else { return nil }
    return try CLIRunner.run(program: URL(fileURLWithPath: "/usr/bin/unshare"),
                             ["-m", "--propagation", "private", "/bin/sh", "-c", script, "sh"] + args)
}

@Test func fullDiskIsReportedAndLeavesNoFile() throws {
    let dir = try TemporaryDirectory()
    let exe = try CLIRunner.executable("earshot-test-probe").path
    let script = """
    mount -t tmpfs -o size=64k tmpfs "$1" || exit 99
    "$2" write "$1/mel.f32" 1000000; echo "status $?"
    ls -A "$1"
    """
    guard let r = try inMountNamespace(script, [dir.url.path, exe]) else { return }   // not root: skipped
    #expect(r.stdout.hasPrefix("status 1\n"), "\(r)")
    #expect(r.stdout == "status 1\n", "a partial or temporary file was left: \(r)")
    #expect(r.stderr == "error: cannot write '\(dir.url.path)/mel.f32': no space left on the device (nothing was written)\n", "\(r)")
}

@Test func readOnlyFileSystemIsReported() throws {
    let dir = try TemporaryDirectory()
    let exe = try CLIRunner.executable("earshot-test-probe").path
    let script = """
    mount -t tmpfs -o ro,size=64k tmpfs "$1" || exit 99
    "$2" write "$1/session.bin" 100; echo "status $?"
    """
    guard let r = try inMountNamespace(script, [dir.url.path, exe]) else { return }
    #expect(r.stdout == "status 1\n", "\(r)")
    #expect(r.stderr.contains("its directory '\(dir.url.path)' cannot take the file (Read-only file system)"), "\(r)")
}
