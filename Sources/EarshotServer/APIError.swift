// APIError: every refusal the server gives, in OpenAI's error shape
// `{"error": {"message", "type", "param", "code"}}` with its HTTP status — and the mapping from the
// library's typed errors (bad input → 400, overload → 429, cancelled/timeout, internal → 500).
import Earshot
import Foundation
import HTTPTypes
import Hummingbird

/// An error response: status, OpenAI `type`, the offending parameter and a machine-readable code.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// OpenAI's `type`: invalid_request_error, authentication_error, rate_limit_error, server_error, …
    public var type: String
    public var param: String?
    public var code: String?
    /// Seconds after which a retry may succeed (429, 503).
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error",
                param: String? = nil, code: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    /// 400 for a malformed or unacceptable request.
    public static func badRequest(_ message: String, param: String? = nil, code: String? = "invalid_value") -> APIError {
        APIError(.badRequest, message, param: param, code: code)
    }

    /// The JSON body.
    public var body: String {
        let object: [String: Any] = ["error": [
            "message": message, "type": type,
            "param": param.map { $0 as Any } ?? NSNull(), "code": code.map { $0 as Any } ?? NSNull(),
        ]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The HTTP response.
    public var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let r = retryAfter { headers[.retryAfter] = "\(r)" }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// The library's error as a response: what the request asked for that cannot be done is a 400.
    public static func from(_ error: EarshotError, param: String? = nil) -> APIError {
        switch error {
        case .unsupported:
            return APIError(.badRequest, error.description, param: param, code: "unsupported")
        case .invalidOption:
            return APIError(.badRequest, error.description, param: param, code: "invalid_value")
        case .audio:
            return APIError(.badRequest, error.description, param: param ?? "file", code: "invalid_audio")
        case .prompt, .contextFull:
            return APIError(.badRequest, error.description, param: param ?? "messages", code: "context_length_exceeded")
        case .tokenizer, .whisperTokenizer:
            // User text is tokenized with specials disallowed and cannot fail; this is the model's output.
            return APIError(.internalServerError, error.description, type: "server_error", code: "decode_error")
        case .cancelled:
            return APIError(.serviceUnavailable, "the request was cancelled", type: "server_error", code: "cancelled")
        default:
            return APIError(.internalServerError, error.description, type: "server_error", code: "internal_error")
        }
    }
}
