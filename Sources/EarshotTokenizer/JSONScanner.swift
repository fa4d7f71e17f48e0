// JSONScanner: a small pull reader over the UTF-8 bytes of a JSON document, for the one large JSON file the
// runtime reads at load time (a Whisper `tokenizer.json`, ~2 MB with 50k vocabulary entries and 50k merges).
// The caller asks for exactly the shape it expects (objects key by key, arrays element by element, strings,
// integers) and skips everything else without building it; Foundation's JSONSerialization built the whole
// tree as NSObjects and spent ~0.1 s in it and in the dynamic casts back. Every read is bounds-checked;
// skipping is iterative (no recursion depth to exhaust); errors carry the byte offset.

/// Where and why a JSON document could not be read.
struct JSONScanError: Error {
    let offset: Int
    let reason: String
}

struct JSONScanner {
    private let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ reason: String) -> JSONScanError { JSONScanError(offset: offset, reason: reason) }

    private mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    /// The next non-space byte, not consumed (nil at the end).
    mutating func peek() -> UInt8? {
        skipSpace()
        return offset < bytes.count ? bytes[offset] : nil
    }

    private mutating func expect(_ c: UInt8) throws(JSONScanError) {
        guard peek() == c else { throw fail("expected '" + String(UnicodeScalar(c)) + "'") }
        offset += 1
    }

    /// Calls `body` with each key of an object; `body` must consume the value (read or `skipValue`).
    mutating func object(_ body: (inout JSONScanner, String) throws(JSONScanError) -> Void) throws(JSONScanError) {
        try expect(UInt8(ascii: "{"))
        if peek() == UInt8(ascii: "}") { offset += 1; return }
        while true {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
            guard let c = peek() else { throw fail("unterminated object") }
            offset += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else { throw fail("expected ',' or '}' in an object") }
        }
    }

    /// Calls `body` for each element of an array; `body` must consume the element.
    mutating func array(_ body: (inout JSONScanner) throws(JSONScanError) -> Void) throws(JSONScanError) {
        try expect(UInt8(ascii: "["))
        if peek() == UInt8(ascii: "]") { offset += 1; return }
        while true {
            try body(&self)
            guard let c = peek() else { throw fail("unterminated array") }
            offset += 1
            if c == UInt8(ascii: "]") { return }
            guard c == UInt8(ascii: ",") else { throw fail("expected ',' or ']' in an array") }
        }
    }

    /// A JSON string, escapes decoded (\uXXXX with surrogate pairs).
    mutating func string() throws(JSONScanError) -> String {
        try expect(UInt8(ascii: "\""))
        let start = offset
        while offset < bytes.count, bytes[offset] != UInt8(ascii: "\""), bytes[offset] != UInt8(ascii: "\\") { offset += 1 }
        guard offset < bytes.count else { throw fail("unterminated string") }
        if bytes[offset] == UInt8(ascii: "\"") {  // no escapes: the common case
            let s = String(decoding: bytes[start..<offset], as: UTF8.self)
            offset += 1
            return s
        }
        var out = Array(bytes[start..<offset])
        while true {
            guard offset < bytes.count else { throw fail("unterminated string") }
            let c = bytes[offset]
            offset += 1
            if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard offset < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[offset]
            offset += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {  // high surrogate: a low one must follow
                    guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate")
                    }
                    offset += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("bad surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("lone surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("bad \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("bad escape")
            }
        }
    }

    private mutating func hex4() throws(JSONScanError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[offset]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("bad hex digit in \\u escape")
            }
            v = v << 4 | d
            offset += 1
        }
        return v
    }

    /// A JSON integer (no fraction or exponent) that fits Int32's range.
    mutating func int() throws(JSONScanError) -> Int {
        _ = peek()
        var negative = false
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") { negative = true; offset += 1 }
        let start = offset
        var v = 0
        while offset < bytes.count, bytes[offset] >= UInt8(ascii: "0"), bytes[offset] <= UInt8(ascii: "9") {
            v = v * 10 + Int(bytes[offset] - UInt8(ascii: "0"))
            offset += 1
            guard v <= Int(Int32.max) else { throw fail("integer out of range") }
        }
        guard offset > start else { throw fail("expected an integer") }
        if offset < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[offset]) {
            throw fail("expected an integer")
        }
        return negative ? -v : v
    }

    /// Skips one value of any kind (iteratively, so deep nesting cannot exhaust the stack).
    mutating func skipValue() throws(JSONScanError) {
        var depth = 0
        repeat {
            guard let c = peek() else { throw fail("unexpected end") }
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; offset += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { throw fail("unexpected '" + String(UnicodeScalar(c)) + "'") }
                depth -= 1; offset += 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                guard depth > 0 else { throw fail("unexpected '" + String(UnicodeScalar(c)) + "'") }
                offset += 1
            case UInt8(ascii: "\""): _ = try string()
            default:  // number, true, false, null
                let start = offset
                while offset < bytes.count, !"{}[],: \t\r\n\"".utf8.contains(bytes[offset]) { offset += 1 }
                let word = bytes[start..<offset]
                guard !word.isEmpty, word.elementsEqual("true".utf8) || word.elementsEqual("false".utf8)
                        || word.elementsEqual("null".utf8) || word.allSatisfy({ "+-.eE0123456789".utf8.contains($0) }) else {
                    throw fail("bad literal")
                }
            }
        } while depth > 0
    }

    /// True when nothing but white space is left.
    mutating func atEnd() -> Bool { peek() == nil }
}
