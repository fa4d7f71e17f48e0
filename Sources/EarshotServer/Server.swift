// Server: the OpenAI-compatible HTTP API on one loaded model — the router (health, models, metrics,
// transcriptions, translations, chat completions), the middleware every request passes (API key, the
// OpenAI error shape for every failure, metrics, one log line), and the Hummingbird application.
import Earshot
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

public final class EarshotServer: Sendable {
    public let model: EarshotModel
    public let configuration: ServerConfiguration
    public let pool: SlotPool
    public let metrics = ServerMetrics()
    public let logger: Logger
    /// The id `/v1/models` lists.
    public let modelID: String
    let created = Int(Date().timeIntervalSince1970)

    /// - Throws: `ServerConfigurationError` for settings out of range.
    public init(model: EarshotModel, configuration: ServerConfiguration, logger: Logger = Logger(label: "earshot-server"))
        throws(ServerConfigurationError) {
        try configuration.validate()
        self.model = model
        self.configuration = configuration
        self.logger = logger
        modelID = configuration.modelName ?? (model.path as NSString).lastPathComponent
        pool = SlotPool(model: model, parallel: configuration.parallel, queueLimit: configuration.queueLimit)
    }

    /// The endpoints this model serves (what `/v1/models` and refusals name).
    public var endpoints: [String] {
        var e = ["/v1/audio/transcriptions"]
        if model.info.supports(.translate) && (model.info.family != .whisper || model.info.translationTargets.contains("en")) {
            e.append("/v1/audio/translations")
        }
        if model.info.chats { e.append("/v1/chat/completions") }
        if model.info.family != .whisper { e.append("/v1/audio/tasks") }
        return e
    }

    // MARK: - Application

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ServerMiddleware(server: self))
        router.get("/") { _, _ in self.text(WebPage.html, contentType: "text/html; charset=utf-8") }
        router.get("/health") { _, _ in self.health() }
        router.get("/v1/health") { _, _ in self.health() }
        router.get("/v1/models") { _, _ in self.models() }
        router.get("/metrics") { _, _ in await self.metricsResponse() }
        router.post("/v1/audio/transcriptions") { request, _ in try await self.transcriptions(request, translate: false) }
        router.post("/v1/audio/translations") { request, _ in try await self.transcriptions(request, translate: true) }
        router.post("/v1/chat/completions") { request, _ in try await self.chatCompletions(request) }
        router.post("/v1/audio/tasks") { request, _ in try await self.audioTasks(request) }
        return router
    }

    /// The Hummingbird application on the configured address; `onRunning` gets the bound port.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        Application(router: router(),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "earshot-server"),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                    logger: logger)
    }

    // MARK: - Small endpoints

    func health() -> Response {
        json(["status": "ok", "model": modelID, "family": model.info.family.rawValue, "slots": configuration.parallel])
    }

    func models() -> Response {
        let info = model.info
        let entry: [String: Any] = [
            "id": modelID, "object": "model", "created": created, "owned_by": "earshot",
            "earshot": [
                "family": info.family.rawValue, "tasks": info.tasks.map(\.rawValue), "endpoints": endpoints,
                "languages": info.languages, "translation_targets": info.translationTargets,
                "context_length": info.contextLength, "parameters": info.parameterCount,
                "quantization": info.quantization.map { $0 as Any } ?? NSNull(),
            ] as [String: Any],
        ]
        return json(["object": "list", "data": [entry]])
    }

    func metricsResponse() async -> Response {
        let text = metrics.render(queueDepth: await pool.queueDepth, busy: await pool.busy, slots: configuration.parallel)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: - Helpers

    /// A JSON response (keys sorted, so bodies are stable).
    func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    func text(_ s: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: s)))
    }

    /// The whole request body, at most `maxBodyBytes` (413 otherwise; a Content-Length above it is refused
    /// before anything is read).
    func body(_ request: Request) async throws(APIError) -> Data {
        let limit = configuration.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw APIError(.contentTooLarge, "the request body (\(declared) bytes) is larger than the limit of \(limit) bytes",
                           code: "request_too_large")
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch {
            throw APIError(.contentTooLarge, "the request body is larger than the limit of \(limit) bytes", code: "request_too_large")
        }
    }

    /// The parts of a multipart/form-data request (its boundary from Content-Type, its body within the
    /// limit); a malformed form is a 400 `invalid_multipart`.
    func multipartParts(_ request: Request) async throws(APIError) -> [MultipartPart] {
        let boundary: String
        do { boundary = try Multipart.boundary(contentType: request.headers[.contentType]) } catch {
            throw APIError.badRequest(error.description, code: "invalid_multipart")
        }
        let data = try await body(request)
        do { return try Multipart.parse(data, boundary: boundary) } catch { throw APIError.badRequest(error.description, code: "invalid_multipart") }
    }

    /// Runs `work` holding a slot, cancelled after the request timeout (504).
    func withSlot<R: Sendable>(conversation: UInt64? = nil, _ work: @escaping @Sendable (Slot) async throws -> R) async throws -> R {
        let slot = try await pool.acquire(conversation: conversation)
        defer { Task { await pool.release(slot) } }
        return try await withTimeout { try await work(slot) }
    }

    func withTimeout<R: Sendable>(_ work: @escaping @Sendable () async throws -> R) async throws -> R {
        let seconds = configuration.requestTimeoutSeconds
        return try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                metrics.cancellation()
                throw APIError(.gatewayTimeout, "the request took longer than \(seconds) s and was cancelled", type: "server_error", code: "timeout")
            }
            return value
        }
    }
}

/// Every request: API key check, the OpenAI error object for every failure, metrics and one log line.
struct ServerMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let server: EarshotServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let path = request.uri.path
        var response: Response
        do {
            if let key = server.configuration.apiKey, path != "/health", path != "/v1/health", path != "/" {
                guard Self.authorized(request.headers[.authorization], key: key) else {
                    throw APIError(.unauthorized, "a valid API key is required: send the header 'Authorization: Bearer <key>'",
                                   type: "authentication_error", code: "invalid_api_key")
                }
            }
            response = try await next(request, context)
        } catch let e as APIError {
            response = e.response
        } catch let e as EarshotError {
            response = APIError.from(e).response
        } catch let e as HTTPError {
            let type = e.status == .notFound ? "not_found_error" : "invalid_request_error"
            let message = e.status == .notFound ? "no endpoint \(request.method) \(path); this server has \(server.endpoints.joined(separator: ", ")), /v1/models, /health, /metrics"
                : (e.body ?? e.status.reasonPhrase)
            response = APIError(e.status, message, type: type, code: e.status == .notFound ? "not_found" : nil).response
        } catch is CancellationError {
            server.metrics.cancellation()
            response = APIError(.serviceUnavailable, "the request was cancelled", type: "server_error", code: "cancelled").response
        } catch {
            response = APIError(.internalServerError, "internal error: \(error)", type: "server_error", code: "internal_error").response
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let endpoint = ["/", "/health", "/v1/health", "/v1/models", "/metrics", "/v1/audio/transcriptions", "/v1/audio/translations",
                        "/v1/chat/completions", "/v1/audio/tasks"].contains(path) ? path : "other"
        server.metrics.request(endpoint: endpoint, status: Int(response.status.code), seconds: seconds)
        let tokens = response.headers[HTTPField.Name("x-earshot-tokens")!].map { " tokens=\($0)" } ?? ""
        server.logger.info("\(request.method) \(path) \(response.status.code) \(String(format: "%.3f", seconds))s\(tokens)")
        return response
    }

    /// `Authorization: Bearer <key>` compared in time independent of where the strings differ.
    static func authorized(_ header: String?, key: String) -> Bool {
        guard let header else { return false }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix("bearer ") else { return false }
        let given = Array(header.utf8.dropFirst(prefix.utf8.count))
        let expected = Array(key.utf8)
        var diff = UInt8(given.count == expected.count ? 0 : 1)
        for i in 0..<expected.count { diff |= expected[i] ^ (i < given.count ? given[i] : 0) }
        return diff == 0
    }
}
