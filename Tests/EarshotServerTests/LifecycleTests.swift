// The server's life around its requests: the port answers while the model is still loading (/health 503
// "loading", model endpoints 503 model_loading, then ok), a failed load is reported, and a client that
// hangs up on a non-streamed request frees its session at once (the streamed case is in ChatServerTests).
import Earshot
import EarshotServer
import EarshotTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@Suite(.serialized) struct LoadingStateTests {
    func host() throws -> ServerHost {
        var c = ServerConfiguration()
        c.port = 0
        var logger = Logger(label: "earshot-server-test")
        logger.logLevel = .warning
        return try ServerHost(configuration: c, logger: logger)
    }

    @Test func healthSaysLoadingUntilTheModelIsMapped() async throws {
        let host = try host()
        try await serve(host.router(), logger: host.logger) { client in
            let loading = try await client.get("/health")
            #expect(loading.status == .serviceUnavailable && loading.object?["status"] as? String == "loading", "\(loading.text)")
            #expect(loading.headers[.retryAfter] == "1")
            let models = try await client.get("/v1/models")
            #expect(models.status == .serviceUnavailable && models.errorCode == "model_loading", "\(models.text)")
            let chat = try await client.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": "hi"]]])
            #expect(chat.status == .serviceUnavailable && chat.errorCode == "model_loading")
            #expect(try await client.get("/metrics").text.contains("earshot_model_loaded 0"))

            try host.load { TestModels.whisper }
            let ok = try await client.get("/health")
            #expect(ok.status == .ok && ok.object?["status"] as? String == "ok")
            #expect(try await client.get("/v1/models").status == .ok)
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains("earshot_model_loaded 1"), "\(metrics)")
            // The requests answered while loading were counted by the same registry.
            #expect(metrics.contains("earshot_requests_total{endpoint=\"/health\",status=\"503\"} 1"), "\(metrics)")
        }
    }

    @Test func aFailedLoadIsReported() async throws {
        let host = try host()
        #expect(throws: EarshotError.self) {
            try host.load { () throws(EarshotError) in throw .invalidOption(name: "model", value: "x", reason: "not a model") }
        }
        try await serve(host.router(), logger: host.logger) { client in
            let h = try await client.get("/health")
            #expect(h.status == .serviceUnavailable && h.object?["status"] as? String == "error")
            #expect((h.object?["error"] as? String)?.contains("not a model") == true, "\(h.text)")
            let t = try await client.post("/v1/audio/transcriptions", form: .quick())
            #expect(t.status == .serviceUnavailable && t.errorCode == "model_failed")
        }
    }
}

@Suite(.serialized) struct HangUpTests {
    /// A non-streamed chat whose client closes its socket: cancelled at the next token, the session freed.
    @Test func hangingUpOnANonStreamedChatCancelsIt() async throws {
        try await withServer(TestModels.qwen, configure: { $0.maxTokens = 4096 }) { server, client in
            let port = client.port
            let body = try JSONSerialization.data(withJSONObject: [
                "messages": [["role": "user", "content": "Tell a very long story."]], "max_tokens": 4000, "temperature": 0,
            ] as [String: Any])
            let fd = try RawHTTP.post(port: port, path: "/v1/chat/completions", body: body)
            // Wait until the session is generating, then hang up.
            var waited = 0
            while await server.pool.busy == 0, waited < 500 { try await Task.sleep(nanoseconds: 20_000_000); waited += 1 }
            #expect(await server.pool.busy == 1)
            close(fd)
            waited = 0
            while waited < 100 {
                if server.metrics.cancelledRequests > 0, await server.pool.busy == 0 { break }
                try await Task.sleep(nanoseconds: 100_000_000)
                waited += 1
            }
            #expect(server.metrics.cancelledRequests == 1)
            #expect(await server.pool.busy == 0)
            // Well before 4000 tokens: the server answers the next request at once.
            let next = try await client.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": "hi"]], "max_tokens": 2])
            #expect(next.status == .ok, "\(next.text)")
        }
    }
}
