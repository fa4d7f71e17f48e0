// MetadataJSON: a strict, bounded JSON reader/writer for .ear metadata (a flat object of typed values).
//
// Own parser instead of Foundation's JSONSerialization: it tells ints from doubles and bools from
// numbers on every platform, rejects duplicate keys, null, nested objects and non-finite numbers, caps
// nesting depth (no stack overflow on "[[[[…"), and reports the byte position of an error.
// The writer emits keys in byte order with no whitespace, so the same metadata gives the same bytes.

enum MetadataJSON {
    static let maxDepth = 32

    // MARK: Writing

    static func serialize(_ metadata: EarMetadata) -> String {
        var out = "{"
        for (i, key) in metadata.keys.enumerated() {
            if i > 0 { out += "," }
            out += quote(key) + ":" + serialize(metadata.values[key]!)
        }
        return out + "}"
    }

    static func serialize(_ value: MetadataValue) -> String {
        switch value {
        case .string(let s): return quote(s)
        case .int(let i): return String(i)
        case .double(let d):
            // Swift prints the shortest round-tripping form ("1e-06", "10000.0"), valid JSON when finite.
            return "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .array(let a): return "[" + a.map(serialize).joined(separator: ",") + "]"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + String(scalar.value, radix: 16).leftPadded(2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// nil when `value` can be stored, else the reason (non-finite double, too deep).
    static func problem(_ value: MetadataValue, depth: Int = 1) -> String? {
        switch value {
        case .double(let d) where !d.isFinite: return "non-finite double \(d) cannot be stored"
        case .array(let a):
            if depth >= maxDepth { return "arrays nested deeper than \(maxDepth)" }
            for v in a { if let p = problem(v, depth: depth + 1) { return p } }
            return nil
        default: return nil
        }
    }

    // MARK: Reading

    /// Parses the metadata bytes (already checked to be valid UTF-8).
    static func parse(_ bytes: [UInt8]) throws(EarError) -> EarMetadata {
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    struct Parser {
        let bytes: [UInt8]
        var pos = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func fail(_ reason: String, key: String? = nil) -> EarError {
            .invalidMetadata(key: key, reason: "\(reason) at byte \(pos)")
        }

        mutating func skipSpace() {
            while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String, key: String? = nil) throws(EarError) {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == byte else { throw fail("expected \(what)", key: key) }
            pos += 1
        }

        mutating func document() throws(EarError) -> EarMetadata {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "{") else {
                throw fail("the metadata must be a JSON object")
            }
            pos += 1
            var values: [String: MetadataValue] = [:]
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
                pos += 1
            } else {
                while true {
                    skipSpace()
                    guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a key string") }
                    let key = try string()
                    if let reason = NameRules.problem(key) { throw EarError.invalidMetadata(key: key, reason: "invalid key: \(reason)") }
                    try expect(UInt8(ascii: ":"), "':'", key: key)
                    let v = try value(key: key, depth: 1)
                    if values[key] != nil { throw EarError.duplicateName(kind: "metadata key", name: key) }
                    values[key] = v
                    skipSpace()
                    guard pos < bytes.count else { throw fail("unterminated object") }
                    if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if bytes[pos] == UInt8(ascii: "}") { pos += 1; break }
                    throw fail("expected ',' or '}'", key: key)
                }
            }
            skipSpace()
            guard pos == bytes.count else { throw fail("unexpected bytes after the object") }
            return EarMetadata(values)
        }

        mutating func value(key: String, depth: Int) throws(EarError) -> MetadataValue {
            skipSpace()
            guard pos < bytes.count else { throw fail("missing value", key: key) }
            switch bytes[pos] {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                guard depth < MetadataJSON.maxDepth else { throw fail("arrays nested deeper than \(MetadataJSON.maxDepth)", key: key) }
                pos += 1
                var items: [MetadataValue] = []
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                while true {
                    items.append(try value(key: key, depth: depth + 1))
                    skipSpace()
                    guard pos < bytes.count else { throw fail("unterminated array", key: key) }
                    if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                    throw fail("expected ',' or ']'", key: key)
                }
            case UInt8(ascii: "t"): try literal("true", key: key); return .bool(true)
            case UInt8(ascii: "f"): try literal("false", key: key); return .bool(false)
            case UInt8(ascii: "n"): throw fail("null is not allowed", key: key)
            case UInt8(ascii: "{"): throw fail("nested objects are not allowed (use dotted keys)", key: key)
            default: return try number(key: key)
            }
        }

        mutating func literal(_ word: String, key: String) throws(EarError) {
            let w = Array(word.utf8)
            guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else {
                throw fail("invalid literal", key: key)
            }
            pos += w.count
        }

        mutating func number(key: String) throws(EarError) -> MetadataValue {
            let start = pos
            var isInteger = true
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
            let intStart = pos
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            guard pos > intStart else { throw fail("invalid value", key: key) }
            if bytes[intStart] == UInt8(ascii: "0"), pos - intStart > 1 { throw fail("leading zero in number", key: key) }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
                isInteger = false
                pos += 1
                let fracStart = pos
                while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
                guard pos > fracStart else { throw fail("digits expected after '.'", key: key) }
            }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
                isInteger = false
                pos += 1
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
                let expStart = pos
                while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
                guard pos > expStart else { throw fail("digits expected in exponent", key: key) }
            }
            let text = String(decoding: bytes[start..<pos], as: UTF8.self)
            if isInteger {
                guard let i = Int64(text) else { throw fail("integer \(text) does not fit in 64 bits", key: key) }
                return .int(i)
            }
            guard let d = Double(text), d.isFinite else { throw fail("number \(text) is not a finite double", key: key) }
            return .double(d)
        }

        /// Reads a string starting at the opening quote.
        mutating func string() throws(EarError) -> String {
            pos += 1  // opening quote
            var scalars = String.UnicodeScalarView()
            var runStart = pos
            func flush(_ end: Int) {
                if end > runStart { scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars) }
            }
            while true {
                guard pos < bytes.count else { throw fail("unterminated string") }
                let b = bytes[pos]
                if b == UInt8(ascii: "\"") { flush(pos); pos += 1; return String(scalars) }
                if b < 0x20 { throw fail("raw control character in string") }
                if b != UInt8(ascii: "\\") { pos += 1; continue }
                flush(pos)
                pos += 1
                guard pos < bytes.count else { throw fail("unterminated escape") }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if code >= 0xD800 && code < 0xDC00 {
                        guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate escape")
                        }
                        pos += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw fail("invalid low surrogate escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("escape is not a Unicode scalar") }
                    scalars.append(scalar)
                default: throw fail("invalid escape")
                }
                runStart = pos
            }
        }

        mutating func hex4() throws(EarError) -> UInt32 {
            guard pos + 4 <= bytes.count else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[pos]
                let d: UInt32
                switch b {
                case 0x30...0x39: d = UInt32(b - 0x30)
                case 0x41...0x46: d = UInt32(b - 0x41 + 10)
                case 0x61...0x66: d = UInt32(b - 0x61 + 10)
                default: throw fail("invalid hex digit in \\u escape")
                }
                v = v << 4 | d
                pos += 1
            }
            return v
        }
    }
}
