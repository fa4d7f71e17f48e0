// ServerHost: what listens on the port — the router, the middleware every request passes (API key, the
// OpenAI error shape for every failure, metrics, one log line) and the Hummingbird application — over a
// server that is loading, ready or failed. The port opens before the model is mapped, as llama-server's
// does: until then `/health` answers 503 `{"status": "loading"}` and every model endpoint 503
// `model_loading` with Retry-After, so a kiosk's supervisor can tell "starting" from "down".
import Earshot
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

public final class ServerHost: Sendable {
    /// Where the model is.
    public enum State: Sendable {
        case loading
        case ready(EarshotServer)
        /// Loading failed with this message (the executable exits; an embedding app may keep serving /health).
        case failed(String)
    }

    public let configuration: ServerConfiguration
    public let metrics: ServerMetrics
    public let logger: Logger
    private let state: Mutex<State>

    /// A host whose model is still to be loaded (`load(_:)`).
    /// - Throws: `ServerConfigurationError` for settings out of range.
    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "earshot-server"))
        throws(ServerConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        metrics = ServerMetrics()
        state = Mutex(.loading)
    }

    /// A host for a server whose model is loaded.
    public init(server: EarshotServer) {
        configuration = server.configuration
        logger = server.logger
        metrics = server.metrics
        state = Mutex(.ready(server))
    }

    public var current: State { state.withLock { $0 } }

    /// The ready server, or nil while loading or after a failure.
    public var server: EarshotServer? {
        if case .ready(let s) = current { return s }
        return nil
    }

    /// Maps the model with `open` (on the calling thread) and starts serving it. A failure is kept (so
    /// `/health` reports it) and rethrown.
    @discardableResult
    public func load(_ open: () throws(EarshotError) -> EarshotModel) throws -> EarshotServer {
        do {
            let model = try open()
            let server = try EarshotServer(model: model, configuration: configuration, metrics: metrics, logger: logger)
            state.withLock { $0 = .ready(server) }
            return server
        } catch let e as EarshotError {
            state.withLock { $0 = .failed(e.description) }
            throw e
        } catch {
            state.withLock { $0 = .failed("\(error)") }
            throw error
        }
    }

    /// The ready server, or the 503 a request gets while there is none.
    func ready() throws(APIError) -> EarshotServer {
        switch current {
        case .ready(let s): return s
        case .loading:
            throw APIError(.serviceUnavailable, "the model is still loading; retry shortly", type: "unavailable_error",
                           code: "model_loading", retryAfter: 1)
        case .failed(let message):
            throw APIError(.serviceUnavailable, "the model failed to load: \(message)", type: "unavailable_error", code: "model_failed")
        }
    }

    // MARK: - Application

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ServerMiddleware(host: self))
        router.get("/") { _, _ in EarshotServer.text(WebPage.html, contentType: "text/html; charset=utf-8") }
        router.get("/health") { _, _ in self.health() }
        router.get("/v1/health") { _, _ in self.health() }
        router.get("/v1/models") { _, _ in try self.ready().models() }
        router.get("/metrics") { _, _ in await self.metricsResponse() }
        // The generation endpoints stop when the client hangs up (see `cancelledOnHangUp`).
        router.post("/v1/audio/transcriptions") { request, _ in
            try await self.cancelledOnHangUp(request) { try await self.ready().transcriptions($0, translate: false) }
        }
        router.post("/v1/audio/translations") { request, _ in
            try await self.cancelledOnHangUp(request) { try await self.ready().transcriptions($0, translate: true) }
        }
        router.post("/v1/chat/completions") { request, _ in
            try await self.cancelledOnHangUp(request) { try await self.ready().chatCompletions($0) }
        }
        router.post("/v1/audio/tasks") { request, _ in
            try await self.cancelledOnHangUp(request) { try await self.ready().audioTasks($0) }
        }
        return router
    }

    /// The Hummingbird application on the configured address; `onRunning` gets the bound port.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "earshot-server"),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                    logger: logger)
    }

    /// Runs `handler` cancelled as soon as the client closes its side of the connection (Hummingbird's
    /// `consumeWithCancellationOnInboundClose`), so a hung-up client frees its session at the next token or
    /// window instead of at the end or the timeout. That consumes the connection's inbound stream, so the
    /// response (or refusal) says `Connection: close` (ServerMiddleware) and clients open a new connection
    /// for the next request — one
    /// loopback connect per generation, nothing next to the model's work.
    ///
    /// The body is read (within the limit) before, and drained inside, the helper: Hummingbird 2.28's helper
    /// ends only once its reader has handed on the body, and a handler that throws before reading it (a
    /// 413, a model that cannot chat) would leave that reader waiting for ever. Errors leave the closure as
    /// values for the same reason.
    func cancelledOnHangUp(_ request: Request, _ handler: (Request) async throws -> Response) async throws -> Response {
        var request = request
        let buffer = try await EarshotServer.collect(request, limit: configuration.maxBodyBytes)
        request.body = RequestBody(buffer: buffer)   // keeps the connection's stream for the helper
        let outcome = try await request.body.consumeWithCancellationOnInboundClose { body in
            for try await _ in body {}   // the collected buffer replayed, then the request's end
            var r = request
            r.body = RequestBody(buffer: buffer)
            do { return HandlerOutcome.response(try await handler(r)) } catch { return .failure(UncheckedError(error)) }
        }
        switch outcome {
        case .response(let response): return response
        case .failure(let e): throw e.error
        }
    }

    // MARK: - Endpoints that answer while loading

    func health() -> Response {
        switch current {
        case .ready(let s): return s.health()
        case .loading:
            var r = EarshotServer.json(["status": "loading"], status: .serviceUnavailable)
            r.headers[.retryAfter] = "1"
            return r
        case .failed(let message):
            return EarshotServer.json(["status": "error", "error": message], status: .serviceUnavailable)
        }
    }

    func metricsResponse() async -> Response {
        let server = self.server
        let queue = await server?.pool.queueDepth ?? 0
        let busy = await server?.pool.busy ?? 0
        let text = metrics.render(queueDepth: queue, busy: busy, slots: configuration.parallel, loaded: server != nil)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A handler's response or error, carried out of `consumeWithCancellationOnInboundClose`.
enum HandlerOutcome: Sendable {
    case response(Response)
    case failure(UncheckedError)
}

/// An error moved across the task boundary once, read by the one task that awaits it.
struct UncheckedError: @unchecked Sendable {
    let error: any Error
    init(_ error: any Error) { self.error = error }
}

/// Every request: API key check, the OpenAI error object for every failure, metrics and one log line.
struct ServerMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let host: ServerHost

    /// The endpoints run under `ServerHost.cancelledOnHangUp`: their connections close after the response.
    static let closing: Set<String> = ["/v1/audio/transcriptions", "/v1/audio/translations", "/v1/chat/completions", "/v1/audio/tasks"]
    static let endpoints: Set<String> = ["/", "/health", "/v1/health", "/v1/models", "/metrics", "/v1/audio/transcriptions",
                                         "/v1/audio/translations", "/v1/chat/completions", "/v1/audio/tasks"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let path = request.uri.path
        var response: Response
        do {
            if let key = host.configuration.apiKey, path != "/health", path != "/v1/health", path != "/" {
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
            let served = host.server?.endpoints.joined(separator: ", ") ?? "(the model is loading)"
            let message = e.status == .notFound ? "no endpoint \(request.method) \(path); this server has \(served), /v1/models, /health, /metrics"
                : (e.body ?? e.status.reasonPhrase)
            response = APIError(e.status, message, type: type, code: e.status == .notFound ? "not_found" : nil).response
        } catch is CancellationError {
            response = APIError(.serviceUnavailable, "the request was cancelled", type: "server_error", code: "cancelled").response
        } catch {
            response = APIError(.internalServerError, "internal error: \(error)", type: "server_error", code: "internal_error").response
        }
        if request.method == .post, Self.closing.contains(path) { response.headers[.connection] = "close" }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let endpoint = Self.endpoints.contains(path) ? path : "other"
        host.metrics.request(endpoint: endpoint, status: Int(response.status.code), seconds: seconds)
        let tokens = response.headers[HTTPField.Name("x-earshot-tokens")!].map { " tokens=\($0)" } ?? ""
        host.logger.info("\(request.method) \(path) \(response.status.code) \(String(format: "%.3f", seconds))s\(tokens)")
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
