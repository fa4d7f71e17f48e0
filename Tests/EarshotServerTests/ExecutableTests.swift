// The `earshot-server` executable: flags refused with a reason, and a real start on a free port (it prints
// the URL it listens on, answers /health) followed by SIGTERM, which must end it with exit code 0 — after
// finishing a request in flight.
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
        let missing = try CLIRunner.run(["--model", "/nonexistent/m.ear", "--port", "0"], executable: "earshot-server", timeout: 60)
        #expect(missing.exitCode == 1 && missing.stderr.contains("cannot open model"), "\(missing)")
        let help = try CLIRunner.run(["--help"], executable: "earshot-server", timeout: 60)
        #expect(help.exitCode == 0 && help.stdout.contains("--api-key") && help.stdout.contains("/v1/chat/completions"))
    }

    /// Starts `earshot-server` on `model` at a free port; returns the process and its URL (its first stdout line).
    func start(_ model: String) throws -> (Process, String) {
        let p = Process()
        p.executableURL = try CLIRunner.executable("earshot-server")
        p.arguments = ["--model", model, "--port", "0", "--threads", "1"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // The first stdout line: "earshot-server: listening on http://127.0.0.1:PORT".
        var line = Data()
        while !line.contains(10), p.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let url = text.split(separator: "\n").first.flatMap({ $0.components(separatedBy: "listening on ").last }),
              url.hasPrefix("http://127.0.0.1:") else {
            p.terminate()
            throw RawHTTP.Failure(what: "no URL on stdout: \(text)")
        }
        return (p, url)
    }

    /// GET `url`, waiting while the server still loads (503).
    func ready(_ url: String) async throws -> String {
        for _ in 0..<100 {
            let (data, response) = try await URLSession.shared.data(from: URL(string: url + "/health")!)
            if (response as? HTTPURLResponse)?.statusCode == 200 { return String(decoding: data, as: UTF8.self) }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw RawHTTP.Failure(what: "/health never became ok")
    }

    func waitForExit(_ p: Process) async throws {
        var waited = 0
        while p.isRunning && waited < 200 { try await Task.sleep(nanoseconds: 100_000_000); waited += 1 }
    }

    @Test func startsPrintsItsURLAndStopsOnSIGTERM() async throws {
        let (p, url) = try start(try TinyWhisperEar.path())
        defer { if p.isRunning { p.terminate() } }
        #expect(try await ready(url).contains("\"status\":\"ok\""))
        kill(p.processIdentifier, SIGTERM)
        try await waitForExit(p)
        #expect(!p.isRunning)
        #expect(p.terminationStatus == 0 && p.terminationReason == .exit)
    }

    /// SIGTERM while a chat is generating: the reply still arrives whole, then the process exits 0.
    @Test func sigtermFinishesTheRequestInFlight() async throws {
        let (p, url) = try start(try TinyEarModel.path())
        defer { if p.isRunning { p.terminate() } }
        _ = try await ready(url)
        var request = URLRequest(url: URL(string: url + "/v1/chat/completions")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: [
            "messages": [["role": "user", "content": "Tell a very long story."]], "max_tokens": 600, "temperature": 0,
        ] as [String: Any])
        request.timeoutInterval = 120
        let reply = Task { try await URLSession.shared.data(for: request) }
        // Wait until a session is busy with it (the scrape-time gauge), then ask the server to stop.
        var busy = false
        for _ in 0..<200 where !busy {
            let (m, _) = try await URLSession.shared.data(from: URL(string: url + "/metrics")!)
            busy = String(decoding: m, as: UTF8.self).contains("earshot_sessions_busy 1")
            if !busy { try await Task.sleep(nanoseconds: 10_000_000) }
        }
        #expect(busy)
        kill(p.processIdentifier, SIGTERM)
        let (data, response) = try await reply.value
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let usage = object?["usage"] as? [String: Any]
        #expect((usage?["completion_tokens"] as? Int ?? 0) > 0, "\(String(decoding: data, as: UTF8.self))")
        try await waitForExit(p)
        #expect(!p.isRunning)
        #expect(p.terminationStatus == 0 && p.terminationReason == .exit)
    }
}
