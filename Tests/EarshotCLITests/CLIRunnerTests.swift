// CLIRunnerTests: the test-support runner finds the built `earshot` and captures exit code and streams.
import Testing
import EarshotTestSupport

@Test func runnerCapturesVersionAndExitCode() throws {
    let ok = try CLIRunner.run(["--version"])
    #expect(ok.exitCode == 0, "\(ok)")
    #expect(!ok.stdout.isEmpty, "\(ok)")
    let bad = try CLIRunner.run(["--no-such-flag"])
    #expect(bad.exitCode != 0, "\(bad)")
    #expect(!bad.stderr.isEmpty, "\(bad)")
}
