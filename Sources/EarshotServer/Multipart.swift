// Multipart: a strict multipart/form-data parser (RFC 7578) for the audio upload endpoints. Every malformed
// shape — no boundary, a truncated body, a part without a name, headers that never end — is a typed error
// that names what was wrong, so the handler answers 400 instead of guessing.
import Foundation

/// One form field or file.
public struct MultipartPart: Sendable {
    public var name: String
    public var filename: String?
    public var contentType: String?
    public var data: Data

    /// The value as UTF-8 text (form fields).
    public var text: String? { String(data: data, encoding: .utf8) }
}

/// Why a multipart body was refused.
public enum MultipartError: Error, Equatable, CustomStringConvertible {
    case notMultipart(contentType: String?)
    case missingBoundary
    case noOpeningBoundary
    /// The body ends before the closing `--boundary--`.
    case truncated(part: Int)
    case badPartHeaders(part: Int, reason: String)
    case tooManyParts(limit: Int)

    public var description: String {
        switch self {
        case .notMultipart(let t): return "expected Content-Type multipart/form-data, got \(t ?? "none")"
        case .missingBoundary: return "the multipart/form-data Content-Type has no boundary parameter"
        case .noOpeningBoundary: return "the multipart body does not start with its boundary"
        case .truncated(let p): return "the multipart body is truncated (part \(p + 1) has no closing boundary)"
        case let .badPartHeaders(p, reason): return "multipart part \(p + 1): \(reason)"
        case .tooManyParts(let n): return "the multipart body has more than \(n) parts"
        }
    }
}

public enum Multipart {
    public static let maxParts = 64
    static let maxHeaderBytes = 16 * 1024

    /// The boundary of a `multipart/form-data; boundary=…` Content-Type.
    public static func boundary(contentType: String?) throws(MultipartError) -> String {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else {
            throw .notMultipart(contentType: contentType)
        }
        for param in contentType.split(separator: ";").dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, kv[0].lowercased() == "boundary" else { continue }
            var b = kv[1]
            if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
            guard !b.isEmpty, b.utf8.count <= 200 else { throw .missingBoundary }
            return b
        }
        throw .missingBoundary
    }

    /// Splits `body` into its parts.
    public static func parse(_ body: Data, boundary: String) throws(MultipartError) -> [MultipartPart] {
        let delimiter = Data(("--" + boundary).utf8)
        let crlf = Data("\r\n".utf8)
        let next = Data(("\r\n--" + boundary).utf8)
        guard let first = body.range(of: delimiter) else { throw .noOpeningBoundary }
        var parts: [MultipartPart] = []
        var cursor = first.upperBound
        while true {
            // After a delimiter: "--" closes the body, CRLF opens a part.
            if body.count - cursor >= 2, body[cursor] == UInt8(ascii: "-"), body[cursor + 1] == UInt8(ascii: "-") { return parts }
            guard body.count - cursor >= 2, body[cursor] == 13, body[cursor + 1] == 10 else { throw .truncated(part: parts.count) }
            cursor += 2
            guard parts.count < maxParts else { throw .tooManyParts(limit: maxParts) }
            let searchEnd = min(body.count, cursor + maxHeaderBytes)
            guard let headerEnd = body.range(of: Data("\r\n\r\n".utf8), in: cursor..<searchEnd) else {
                if searchEnd == body.count { throw .truncated(part: parts.count) }
                throw .badPartHeaders(part: parts.count, reason: "headers longer than \(maxHeaderBytes) bytes or not ended by an empty line")
            }
            var part = try headers(body[cursor..<headerEnd.lowerBound], index: parts.count, crlf: crlf)
            cursor = headerEnd.upperBound
            guard let end = body.range(of: next, in: cursor..<body.count) else { throw .truncated(part: parts.count) }
            part.data = body.subdata(in: cursor..<end.lowerBound)
            parts.append(part)
            cursor = end.upperBound
        }
    }

    static func headers(_ bytes: Data, index: Int, crlf: Data) throws(MultipartError) -> MultipartPart {
        guard let text = String(data: bytes, encoding: .utf8) else { throw .badPartHeaders(part: index, reason: "headers are not UTF-8") }
        var name: String?
        var filename: String?
        var contentType: String?
        for line in text.components(separatedBy: "\r\n") where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .badPartHeaders(part: index, reason: "header line without ':'") }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "content-disposition":
                let fields = parameters(value)
                guard fields.first?.key.lowercased() == "form-data" else {
                    throw .badPartHeaders(part: index, reason: "Content-Disposition is not form-data")
                }
                for f in fields.dropFirst() {
                    switch f.key.lowercased() {
                    case "name": name = f.value
                    case "filename": filename = f.value
                    default: break
                    }
                }
            case "content-type": contentType = value
            default: break
            }
        }
        guard let name, !name.isEmpty else { throw .badPartHeaders(part: index, reason: "no Content-Disposition name") }
        return MultipartPart(name: name, filename: filename, contentType: contentType, data: Data())
    }

    /// `form-data; name="a; b"; filename=x` → [(form-data, ""), (name, a; b), (filename, x)], quotes honoured.
    static func parameters(_ s: String) -> [(key: String, value: String)] {
        var out: [(String, String)] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        var pieces: [String] = []
        for c in s {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" && inQuotes { escaped = true; continue }
            if c == "\"" { inQuotes.toggle(); current.append(c); continue }
            if c == ";" && !inQuotes { pieces.append(current); current = ""; continue }
            current.append(c)
        }
        pieces.append(current)
        for p in pieces {
            let kv = p.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard let k = kv.first, !k.isEmpty else { continue }
            var v = kv.count > 1 ? kv[1] : ""
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            out.append((k, v))
        }
        return out
    }
}
