// The official `openai` Python client, unchanged, against the server on a loopback port with the tiny
// Qwen-Audio model: Tools/server/openai_client_check.py (models, transcription json + verbose_json, a
// streamed chat with input_audio, a second turn whose history must come from the cache). Runs when
// python3 can import openai (pip install openai); skipped otherwise.
import EarshotServer
import EarshotTestSupport
import Foundation
import HummingbirdTesting
import Testing

enum Python {
    static let withOpenAI: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import openai"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()
}

@Suite(.serialized) struct OpenAIClientTests {
    @Test(.enabled(if: Python.withOpenAI, "python3 with the openai package"))
    func theOfficialClientWorksUnchanged() async throws {
        let script = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/server/openai_client_check.py").path
        try await withServer(TestModels.qwen) { _, client in
            let port = client.port
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("openai-check-\(UUID().uuidString).txt")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: out) }
            let handle = try FileHandle(forWritingTo: out)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", script, "--base-url", "http://127.0.0.1:\(port)/v1", "--max-tokens", "8"]
            p.standardOutput = handle
            p.standardError = handle
            try p.run()
            var waited = 0.0
            while p.isRunning && waited < 240 {   // the server runs on this process's tasks: poll, never block
                try await Task.sleep(nanoseconds: 100_000_000)
                waited += 0.1
            }
            if p.isRunning { p.terminate() }
            try handle.close()
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            #expect(p.terminationStatus == 0, "\(text)")
            #expect(text.contains("openai_client_check: 0 failed"), "\(text)")
            #expect(text.contains("ok   chat turn 2"), "\(text)")
        }
    }
}
