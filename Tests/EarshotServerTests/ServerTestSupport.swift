// Helpers of the server tests: the tiny models loaded once, a server on a loopback port with an HTTP client
// of its own, multipart and JSON request builders, and readers of OpenAI error objects and SSE streams.
import AsyncHTTPClient
import Earshot
import EarshotServer
import EarshotTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1

enum TestModels {
    static let whisper: EarshotModel = try! EarshotModel(path: try! TinyWhisperEar.path(), options: ModelOptions(threads: 1))
    static let qwen: EarshotModel = try! EarshotModel(path: try! TinyEarModel.path(), options: ModelOptions(threads: 1))
    static let jfk = Fixtures.url("audio/jfk.wav")
    static let jfkBytes = try! Data(contentsOf: jfk)
}

/// Runs `body` against a live server (real HTTP on a loopback port) for `model`.
func withServer<R>(_ model: EarshotModel, configure: (inout ServerConfiguration) -> Void = { _ in },
                   _ body: @Sendable (EarshotServer, ServerClient) async throws -> R) async throws -> R {
    var c = ServerConfiguration()
    c.port = 0
    configure(&c)
    var logger = Logger(label: "earshot-server-test")
    logger.logLevel = .warning
    let server = try EarshotServer(model: model, configuration: c, logger: logger)
    return try await serve(server.router(), logger: logger) { client in try await body(server, client) }
}

/// Runs `body` with a client of `router` served on a loopback port. HummingbirdTesting starts and stops the
/// server; its clients are not used: the live one is a single keep-alive connection, which the generation
/// endpoints' `Connection: close` ends, and its AsyncHTTPClient one has a fixed 15 s deadline that chat tests
/// exceed on 2 cores under the full parallel suite.
func serve<R>(_ router: Router<BasicRequestContext>, logger: Logger,
              _ body: @Sendable (ServerClient) async throws -> R) async throws -> R {
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
    return try await app.test(.live) { live in
        guard let port = live.port else { throw RawHTTP.Failure(what: "the test server has no port") }
        return try await body(ServerClient(port: port))
    }
}

/// An HTTP client of the server under test (AsyncHTTPClient's shared client: a new connection after every
/// `Connection: close`, a deadline of minutes).
struct ServerClient: Sendable {
    let port: Int
    var deadline: TimeAmount = .seconds(600)

    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> ServerReply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(uri)")
        request.method = HTTPMethod(rawValue: method.rawValue)
        for field in headers { request.headers.add(name: field.name.rawName, value: field.value) }
        request.body = body.map { .bytes($0) }
        let response = try await HTTPClient.shared.execute(request, deadline: .now() + deadline)
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
        }
        let head = HTTPResponse(status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase), headerFields: fields)
        return ServerReply(head: head, body: try await response.body.collect(upTo: 1 << 30))
    }

    func post(_ uri: String, form: UploadForm, body: Data? = nil, headers extra: HTTPFields = [:]) async throws -> ServerReply {
        var h = form.headers
        for f in extra { h.append(f) }
        return try await executeRequest(uri: uri, method: .post, headers: h, body: ByteBuffer(bytes: body ?? form.closed()))
    }

    func post(_ uri: String, json: Any, headers extra: HTTPFields = [:]) async throws -> ServerReply {
        var h: HTTPFields = [.contentType: "application/json"]
        for f in extra { h.append(f) }
        let data = try JSONSerialization.data(withJSONObject: json)
        return try await executeRequest(uri: uri, method: .post, headers: h, body: ByteBuffer(bytes: data))
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> ServerReply {
        try await executeRequest(uri: uri, method: .get, headers: headers, body: nil)
    }
}

/// A response as the tests read it.
struct ServerReply: Sendable {
    let head: HTTPResponse
    let body: ByteBuffer
    var status: HTTPResponse.Status { head.status }
    var headers: HTTPFields { head.headerFields }
}

extension ServerReply {
    /// A chat completion's first choice's message content.
    var replyContent: String? { ((object?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String }
    /// Its usage object, and the prompt tokens found in the KV cache.
    var usage: [String: Any]? { object?["usage"] as? [String: Any] }
    var cachedTokens: Int? { (usage?["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int }
}

/// A multipart/form-data body.
struct UploadForm {
    let boundary = "earshot-test-\(UUID().uuidString)"
    var data = Data()

    mutating func field(_ name: String, _ value: String) {
        data.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
    }
    /// A form whose decoding is fast on the random tiny Whisper (no fallback, 8 tokens per window).
    static func quick(_ bytes: Data = TestModels.jfkBytes) -> UploadForm {
        var f = UploadForm()
        f.file(bytes)
        f.field("temperature_inc", "0")
        f.field("max_tokens", "8")
        return f
    }

    mutating func file(_ bytes: Data, name: String = "file", filename: String = "jfk.wav") {
        data.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: audio/wav\r\n\r\n".utf8))
        data.append(bytes)
        data.append(Data("\r\n".utf8))
    }
    func closed() -> Data { data + Data("--\(boundary)--\r\n".utf8) }
    var headers: HTTPFields { [.contentType: "multipart/form-data; boundary=\(boundary)"] }
}

extension ServerReply {
    var text: String { String(buffer: body) }
    var object: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] }
    /// The OpenAI error object, when the body is one with all four keys.
    var error: [String: Any]? {
        guard let e = object?["error"] as? [String: Any], e["message"] is String, e["type"] is String,
              e.keys.contains("param"), e.keys.contains("code") else { return nil }
        return e
    }
    var errorCode: String? { error?["code"] as? String }
    /// SSE `data:` payloads in order (each event must be `data: …` followed by a blank line).
    var events: [String]? {
        let t = text
        guard t.hasSuffix("\n\n") else { return nil }
        var out: [String] = []
        for block in t.components(separatedBy: "\n\n").dropLast() {
            guard block.hasPrefix("data: "), !block.contains("\n") else { return nil }
            out.append(String(block.dropFirst(6)))
        }
        return out
    }
}

/// A user message with text and jfk.wav as `input_audio`.
func userMessage(_ text: String, audio: Data? = TestModels.jfkBytes) -> [String: Any] {
    var parts: [[String: Any]] = []
    if let audio { parts.append(["type": "input_audio", "input_audio": ["data": audio.base64EncodedString(), "format": "wav"]]) }
    parts.append(["type": "text", "text": text])
    return ["role": "user", "content": parts]
}

/// A request written on a socket of its own, so a test can hang up mid-request (close the descriptor).
enum RawHTTP {
    struct Failure: Error { let what: String }

    /// Sends `request` as it is and returns the response head (status line and headers) the server answers
    /// with (what arrived when it closes or 10 s pass without a byte).
    static func exchange(port: Int, _ request: Data) throws -> String {
        let fd = try connected(port: port)
        defer { close(fd) }
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else { throw Failure(what: "send: \(sent) of \(request.count) bytes") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < 1 << 20, received.range(of: Data("\r\n\r\n".utf8)) == nil {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Connects to 127.0.0.1:`port`, sends a JSON POST and returns the connected descriptor.
    static func post(port: Int, path: String, body: Data) throws -> Int32 {
        let fd = try connected(port: port)
        let request = Data("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else { close(fd); throw Failure(what: "send: \(sent) of \(request.count) bytes") }
        return fd
    }

    static func connected(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(what: "socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw Failure(what: "connect: errno \(errno)") }
        return fd
    }
}
