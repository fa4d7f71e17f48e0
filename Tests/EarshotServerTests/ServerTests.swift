// earshot-server over real HTTP on loopback, on the tiny random Whisper model and the tiny Qwen-Audio
// golden checkpoint: every endpoint's shape, transcripts equal to the library's for the same audio, chat
// equal to the library's Chat, history reuse (turn 2 prefills only the new tokens), SSE framing, the API
// key, 429 on overload, and a 400/413 with OpenAI's error object for each kind of malformed request.
import Earshot
import EarshotAudio
import EarshotServer
import EarshotTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite(.serialized) struct WhisperServerTests {
    @Test func healthModelsAndMetrics() async throws {
        try await withServer(TestModels.whisper) { server, client in
            let h = try await client.get("/health")
            #expect(h.status == .ok && h.object?["status"] as? String == "ok")
            let m = try await client.get("/v1/models")
            let data = m.object?["data"] as? [[String: Any]]
            #expect(m.object?["object"] as? String == "list" && data?.count == 1)
            #expect(data?.first?["object"] as? String == "model" && data?.first?["id"] as? String == server.modelID)
            let endpoints = (data?.first?["earshot"] as? [String: Any])?["endpoints"] as? [String]
            #expect(endpoints == ["/v1/audio/transcriptions"])   // tiny.en: English only, no chat
            let metrics = try await client.get("/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("earshot_requests_total{endpoint=\"/health\",status=\"200\"} 1"), "\(metrics.text)")
            #expect(metrics.text.contains("earshot_queue_depth 0") && metrics.text.contains("earshot_sessions 1"))
        }
    }

    @Test func transcriptionEqualsTheLibrary() async throws {
        let samples = try AudioLoader.load(TestModels.jfk.path).samples
        var options = TranscriptionOptions()
        options.temperatures = [0]
        options.maxNewTokens = 8
        let expected = try TestModels.whisper.makeSession().transcribe(AudioInput.samples(samples, name: "jfk"), options: options, cancel: nil)
        try await withServer(TestModels.whisper) { _, client in
            var form = UploadForm.quick()
            form.field("model", "whisper-1")
            let r = try await client.post("/v1/audio/transcriptions", form: form)
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.headers[.contentType] == "application/json")
            #expect(r.object?["text"] as? String == expected.text)
            #expect(r.object?.count == 1)

            var text = UploadForm.quick(); text.field("response_format", "text")
            let t = try await client.post("/v1/audio/transcriptions", form: text)
            #expect(t.text == expected.text + "\n")

            var srt = UploadForm.quick(); srt.field("response_format", "srt")
            let s = try await client.post("/v1/audio/transcriptions", form: srt)
            #expect(s.text == TranscriptFormat.srt.render(expected))

            var vtt = UploadForm.quick(); vtt.field("response_format", "vtt")
            let v = try await client.post("/v1/audio/transcriptions", form: vtt)
            #expect(v.text.hasPrefix("WEBVTT\n\n") && v.text == TranscriptFormat.vtt.render(expected))

            var verbose = UploadForm.quick(); verbose.field("response_format", "verbose_json")
            let vj = try await client.post("/v1/audio/transcriptions", form: verbose)
            let o = vj.object
            #expect(o?["task"] as? String == "transcribe" && o?["language"] as? String == "english")
            #expect(abs((o?["duration"] as? Double ?? 0) - 11.0) < 0.01)
            let segments = o?["segments"] as? [[String: Any]]
            #expect(segments?.count == expected.segments.count)
            for key in ["id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob", "compression_ratio", "no_speech_prob"] {
                #expect(segments?.first?[key] != nil, "segment key \(key)")
            }
        }
    }

    @Test func refusalsUseTheErrorObject() async throws {
        try await withServer(TestModels.whisper) { _, client in
            // A Whisper model does not chat, and tiny.en does not translate: 400 saying what it serves.
            let chat = try await client.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": "hi"]]])
            #expect(chat.status == .badRequest && chat.errorCode == "unsupported", "\(chat.text)")
            #expect((chat.error?["message"] as? String)?.contains("/v1/audio/transcriptions") == true)
            var f = UploadForm(); f.file(TestModels.jfkBytes)
            let tr = try await client.post("/v1/audio/translations", form: f)
            #expect(tr.status == .badRequest && tr.errorCode == "unsupported")

            // Truncated multipart: the closing boundary never comes.
            var cut = UploadForm(); cut.file(TestModels.jfkBytes)
            let truncated = try await client.post("/v1/audio/transcriptions", form: cut, body: cut.closed().prefix(5000))
            #expect(truncated.status == .badRequest && truncated.errorCode == "invalid_multipart", "\(truncated.text)")
            #expect((truncated.error?["message"] as? String)?.contains("truncated") == true)
            // Not multipart at all, and multipart without a boundary.
            let json = try await client.post("/v1/audio/transcriptions", json: ["file": "x"])
            #expect(json.status == .badRequest && json.errorCode == "invalid_multipart")
            let noBoundary = try await client.executeRequest(uri: "/v1/audio/transcriptions", method: .post,
                                                             headers: [.contentType: "multipart/form-data"], body: ByteBuffer(string: "x"))
            #expect(noBoundary.status == .badRequest && (noBoundary.error?["message"] as? String)?.contains("boundary") == true)
            // No file field.
            var nofile = UploadForm(); nofile.field("model", "whisper-1")
            let missing = try await client.post("/v1/audio/transcriptions", form: nofile)
            #expect(missing.status == .badRequest && missing.error?["param"] as? String == "file")
            // Bytes that are not audio.
            var junk = UploadForm(); junk.file(Data("this is not audio at all".utf8))
            let bad = try await client.post("/v1/audio/transcriptions", form: junk)
            #expect(bad.status == .badRequest && bad.errorCode == "invalid_audio", "\(bad.text)")
            #expect((bad.error?["message"] as? String)?.contains("/tmp") == false)   // no server path leaks
            // Bad fields.
            var fmt = UploadForm(); fmt.file(TestModels.jfkBytes); fmt.field("response_format", "xml")
            let badFormat = try await client.post("/v1/audio/transcriptions", form: fmt)
            #expect(badFormat.status == .badRequest && badFormat.error?["param"] as? String == "response_format")
            var temp = UploadForm(); temp.file(TestModels.jfkBytes); temp.field("temperature", "hot")
            let badTemp = try await client.post("/v1/audio/transcriptions", form: temp)
            #expect(badTemp.status == .badRequest && badTemp.error?["param"] as? String == "temperature")
            var lang = UploadForm(); lang.file(TestModels.jfkBytes); lang.field("language", "de")
            let badLang = try await client.post("/v1/audio/transcriptions", form: lang)
            #expect(badLang.status == .badRequest && badLang.errorCode == "unsupported_language")
            // Unknown endpoint: 404 in the same shape.
            let unknown = try await client.get("/v1/nothing")
            #expect(unknown.status == .notFound && unknown.error != nil)
        }
    }

    @Test func bodyLimitIsEnforced() async throws {
        try await withServer(TestModels.whisper, configure: { $0.maxBodyBytes = 64 * 1024 }) { server, client in
            var f = UploadForm(); f.file(TestModels.jfkBytes)   // 352 KB > 64 KB
            let big = try await client.post("/v1/audio/transcriptions", form: f)
            #expect(big.status == .contentTooLarge && big.errorCode == "request_too_large", "\(big.text)")
            // A Content-Length far beyond the limit is refused from the header alone.
            // (On a raw socket: an HTTP client will not send a Content-Length its body does not have.)
            let port = client.port
            let huge = try RawHTTP.exchange(port: port, Data((
                "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(f.headers[.contentType]!)\r\n"
                + "Content-Length: \(1 << 40)\r\n\r\nx").utf8))
            #expect(huge.hasPrefix("HTTP/1.1 413") || huge.hasPrefix("HTTP/1.1 400"), "\(huge.prefix(200))")
            #expect(server.metrics.count(endpoint: "/v1/audio/transcriptions", status: 413) >= 1)
        }
    }

    @Test func apiKeyIsRequired() async throws {
        try await withServer(TestModels.whisper, configure: { $0.apiKey = "sekret-key" }) { _, client in
            let none = try await client.get("/v1/models")
            #expect(none.status == .unauthorized && none.errorCode == "invalid_api_key" && none.headers[.wwwAuthenticate] == "Bearer")
            let wrong = try await client.get("/v1/models", headers: [.authorization: "Bearer sekret-kez"])
            #expect(wrong.status == .unauthorized)
            let prefix = try await client.get("/v1/models", headers: [.authorization: "Bearer sekret"])
            #expect(prefix.status == .unauthorized)
            let right = try await client.get("/v1/models", headers: [.authorization: "Bearer sekret-key"])
            #expect(right.status == .ok)
            let health = try await client.get("/health")
            #expect(health.status == .ok)
            // The page loads without the key (it asks for it); what it calls does not.
            let page = try await client.get("/")
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.text.contains("<title>Earshot</title>") && page.text.contains("/v1/audio/transcriptions"))
            #expect(!page.text.contains("http://") && !page.text.contains("https://"), "the page must load nothing from elsewhere")
        }
    }

    @Test func overloadGets429WithRetryAfter() async throws {
        try await withServer(TestModels.whisper, configure: { $0.parallel = 1; $0.queueLimit = 0 }) { server, client in
            let held = try await server.pool.acquire()   // the only session is busy
            let f = UploadForm.quick()
            let r = try await client.post("/v1/audio/transcriptions", form: f)
            #expect(r.status == .tooManyRequests && r.errorCode == "server_busy" && r.headers[.retryAfter] == "1", "\(r.text)")
            await server.pool.release(held)
            let ok = try await client.post("/v1/audio/transcriptions", form: f)
            #expect(ok.status == .ok)
        }
    }

    @Test func configurationIsValidated() throws {
        var c = ServerConfiguration()
        c.parallel = 0
        #expect(throws: ServerConfigurationError.self) { try c.validate() }
        c = ServerConfiguration(); c.port = 70_000
        #expect(throws: ServerConfigurationError.self) { try c.validate() }
        c = ServerConfiguration(); c.apiKey = ""
        #expect(throws: ServerConfigurationError.self) { try c.validate() }
        #expect(throws: Never.self) { try ServerConfiguration().validate() }
    }

    @Test func multipartParser() throws {
        var f = UploadForm()
        f.field("a", "1")
        f.file(Data([0, 13, 10, 45, 45, 1]))   // bytes that look like CRLF and dashes inside the file
        let parts = try Multipart.parse(f.closed(), boundary: f.boundary)
        #expect(parts.map(\.name) == ["a", "file"] && parts[0].text == "1" && parts[1].data == Data([0, 13, 10, 45, 45, 1]))
        #expect(parts[1].filename == "jfk.wav")
        #expect(throws: MultipartError.truncated(part: 1)) { try Multipart.parse(f.data, boundary: f.boundary) }
        #expect(throws: MultipartError.noOpeningBoundary) { try Multipart.parse(Data("junk".utf8), boundary: f.boundary) }
        let noName = Data("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n".utf8)
        #expect(throws: MultipartError.badPartHeaders(part: 0, reason: "no Content-Disposition name")) { try Multipart.parse(noName, boundary: "b") }
        #expect(try Multipart.boundary(contentType: "multipart/form-data; boundary=\"x y\"") == "x y")
    }
}
