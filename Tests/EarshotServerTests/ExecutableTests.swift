// The `earshot-server` executable: flags refused with a reason, and a real start on a free port (it prints
// the URL it listens on, answers /health) followed by SIGTERM, which must end it with exit code 0.
import EarshotTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

@Suite(.serialized) struct ExecutableTests {
    @Test func badFlagsAreRefusedWithAReason() throws {
        let model = try TinyWhisperEar.path()
        let unknown = try CLIRunner.run(["--model", model, "--bogus"], executable: "earshot-server", timeout: 60)
        #expect(unknown.exitCode != 0 && unknown.stderr.contains("Unknown option '--bogus'"), "\(unknown)")
        let parallel = try CLIRunner.run(["--model", model, "--parallel", "0"], executable: "earshot-server", timeout: 60)
        #expect(parallel.exitCode != 0 && parallel.stderr.contains("--parallel 0: must be 1…64"), "\(parallel)")
        let missing = try CLIRunner.run(["--model", "/nonexistent/m.ear"], executable: "earshot-server", timeout: 60)
        #expect(missing.exitCode == 1 && missing.stderr.contains("cannot open model"), "\(missing)")
        let help = try CLIRunner.run(["--help"], executable: "earshot-server", timeout: 60)
        #expect(help.exitCode == 0 && help.stdout.contains("--api-key") && help.stdout.contains("/v1/chat/completions"))
    }

    @Test func startsPrintsItsURLAndStopsOnSIGTERM() async throws {
        let p = Process()
        p.executableURL = try CLIRunner.executable("earshot-server")
        p.arguments = ["--model", try TinyWhisperEar.path(), "--port", "0", "--threads", "1"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        // The first stdout line: "earshot-server: listening on http://127.0.0.1:PORT".
        var line = Data()
        while !line.contains(10), p.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        let url = try #require(text.split(separator: "\n").first.flatMap { $0.components(separatedBy: "listening on ").last })
        #expect(url.hasPrefix("http://127.0.0.1:"), "\(text)")
        let (data, response) = try await URLSession.shared.data(from: URL(string: url + "/health")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: data, as: UTF8.self).contains("\"status\":\"ok\""))
        kill(p.processIdentifier, SIGTERM)
        var waited = 0
        while p.isRunning && waited < 100 { try await Task.sleep(nanoseconds: 100_000_000); waited += 1 }
        #expect(!p.isRunning)
        #expect(p.terminationStatus == 0 && p.terminationReason == .exit)
    }
}
