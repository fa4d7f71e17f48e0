// Server: the OpenAI-compatible HTTP API on one loaded model — its sessions, the endpoints it serves,
// the small endpoints (health, models) and the helpers every handler uses (bodies within the limit, a
// slot under the request timeout). ServerHost routes requests to it and serves /health while it loads.
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
    public let metrics: ServerMetrics
    public let logger: Logger
    /// The id `/v1/models` lists.
    public let modelID: String
    let created = Int(Date().timeIntervalSince1970)

    /// - Throws: `ServerConfigurationError` for settings out of range.
    public init(model: EarshotModel, configuration: ServerConfiguration, metrics: ServerMetrics = ServerMetrics(),
                logger: Logger = Logger(label: "earshot-server")) throws(ServerConfigurationError) {
        try configuration.validate()
        self.model = model
        self.metrics = metrics
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

    /// The router of a host serving this (loaded) server.
    public func router() -> Router<BasicRequestContext> { ServerHost(server: self).router() }

    /// The Hummingbird application of a host serving this server; `onRunning` gets the bound port.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        ServerHost(server: self).application(onRunning: onRunning)
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

    // MARK: - Helpers

    /// A JSON response (keys sorted, so bodies are stable).
    func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response { Self.json(object, status: status) }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func text(_ s: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: s)))
    }

    /// The whole request body, at most `maxBodyBytes` (413 otherwise; a Content-Length above it is refused
    /// before anything is read).
    func body(_ request: Request) async throws(APIError) -> Data {
        Data(try await Self.collect(request, limit: configuration.maxBodyBytes).readableBytesView)
    }

    static func collect(_ request: Request, limit: Int) async throws(APIError) -> ByteBuffer {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw APIError(.contentTooLarge, "the request body (\(declared) bytes) is larger than the limit of \(limit) bytes",
                           code: "request_too_large")
        }
        do { return try await request.body.collect(upTo: limit) } catch {
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

    /// Runs `work` holding a slot, cancelled after the request timeout (504) or when the client hangs up
    /// (counted in the metrics as cancelled).
    func withSlot<R: Sendable>(conversation: UInt64? = nil, _ work: @escaping @Sendable (Slot) async throws -> R) async throws -> R {
        let slot = try await pool.acquire(conversation: conversation)
        defer { Task { await pool.release(slot) } }
        do { return try await withTimeout { try await work(slot) } } catch {
            if Self.isCancellation(error) { metrics.cancellation() }
            throw error
        }
    }

    /// Whether `error` says the work was cancelled (not timed out, not failed).
    static func isCancellation(_ error: any Error) -> Bool {
        switch error {
        case is CancellationError: return true
        case let e as EarshotError: if case .cancelled = e { return true }
        case let e as APIError: return e.code == "cancelled"
        default: break
        }
        return false
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
