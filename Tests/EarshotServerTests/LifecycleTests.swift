// The server's life around its requests: the port answers while the model is still loading (/health 503
// "loading", model endpoints 503 model_loading, then ok) and a failed load is reported.
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
        let app = Application(router: host.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: host.logger)
        try await app.test(.ahc(.http)) { client in
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
        let app = Application(router: host.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: host.logger)
        try await app.test(.ahc(.http)) { client in
            let h = try await client.get("/health")
            #expect(h.status == .serviceUnavailable && h.object?["status"] as? String == "error")
            #expect((h.object?["error"] as? String)?.contains("not a model") == true, "\(h.text)")
            let t = try await client.post("/v1/audio/transcriptions", form: .quick())
            #expect(t.status == .serviceUnavailable && t.errorCode == "model_failed")
        }
    }
}
