// Metadata: the typed key/value pairs of a .ear file (architecture, hyperparameters, provenance, …).
// On disk they are one UTF-8 JSON object with flat dotted keys (Formats/EAR.md § Metadata); values are
// strings, integers, doubles, booleans or (nested) arrays of those. No null, no nested objects.

/// One metadata value. Integers and doubles are distinct: `4096` is `.int`, `4096.0` is `.double`.
public enum MetadataValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case array([MetadataValue])

    /// "string", "int", "double", "bool" or "array" (used in error messages).
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .double: return "double"
        case .bool: return "bool"
        case .array: return "array"
        }
    }

    /// The value as compact JSON (`"qwen-audio"`, `4096`, `1e-06`, `[1,2]`).
    public var description: String { MetadataJSON.serialize(self) }
}

extension MetadataValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: MetadataValue...) { self = .array(elements) }
}

/// The metadata of a file: a dictionary with typed, throwing accessors that name the key on failure.
public struct EarMetadata: Equatable, Sendable {
    public private(set) var values: [String: MetadataValue]

    public init(_ values: [String: MetadataValue] = [:]) { self.values = values }

    /// Keys in byte order (the order they are stored in).
    public var keys: [String] { values.keys.sorted() }

    public subscript(key: String) -> MetadataValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    private func require(_ key: String) throws(EarError) -> MetadataValue {
        guard let v = values[key] else { throw .metadataKeyNotFound(key: key) }
        return v
    }

    public func string(_ key: String) throws(EarError) -> String {
        let v = try require(key)
        guard case .string(let s) = v else { throw .metadataTypeMismatch(key: key, expected: "string", found: v.typeName) }
        return s
    }

    public func int(_ key: String) throws(EarError) -> Int {
        let v = try require(key)
        guard case .int(let i) = v else { throw .metadataTypeMismatch(key: key, expected: "int", found: v.typeName) }
        guard let r = Int(exactly: i) else { throw .metadataTypeMismatch(key: key, expected: "int", found: "int out of range") }
        return r
    }

    /// A double; an integer value is accepted and converted (JSON writers often drop ".0").
    public func double(_ key: String) throws(EarError) -> Double {
        let v = try require(key)
        switch v {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: throw .metadataTypeMismatch(key: key, expected: "double", found: v.typeName)
        }
    }

    public func bool(_ key: String) throws(EarError) -> Bool {
        let v = try require(key)
        guard case .bool(let b) = v else { throw .metadataTypeMismatch(key: key, expected: "bool", found: v.typeName) }
        return b
    }

    public func array(_ key: String) throws(EarError) -> [MetadataValue] {
        let v = try require(key)
        guard case .array(let a) = v else { throw .metadataTypeMismatch(key: key, expected: "array", found: v.typeName) }
        return a
    }

    public func strings(_ key: String) throws(EarError) -> [String] {
        try array(key).map { (v) throws(EarError) -> String in
            guard case .string(let s) = v else { throw .metadataTypeMismatch(key: key, expected: "array of string", found: "array containing \(v.typeName)") }
            return s
        }
    }

    public func ints(_ key: String) throws(EarError) -> [Int] {
        try array(key).map { (v) throws(EarError) -> Int in
            guard case .int(let i) = v, let r = Int(exactly: i) else {
                throw .metadataTypeMismatch(key: key, expected: "array of int", found: "array containing \(v.typeName)")
            }
            return r
        }
    }

    public func doubles(_ key: String) throws(EarError) -> [Double] {
        try array(key).map { (v) throws(EarError) -> Double in
            switch v {
            case .double(let d): return d
            case .int(let i): return Double(i)
            default: throw .metadataTypeMismatch(key: key, expected: "array of double", found: "array containing \(v.typeName)")
            }
        }
    }
}

/// Rules shared by metadata keys and tensor/blob names.
enum NameRules {
    static let maxLength = 255

    /// nil when `name` is acceptable, else the reason.
    static func problem(_ name: String) -> String? {
        let utf8 = Array(name.utf8)
        if utf8.isEmpty { return "empty" }
        if utf8.count > maxLength { return "longer than \(maxLength) bytes (\(utf8.count))" }
        for b in utf8 {
            let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == 0x2E || b == 0x5F || b == 0x2D || b == 0x2F
            if !ok { return "character '\(String(decoding: [b], as: UTF8.self))' (0x\(String(b, radix: 16))) is not one of A-Z a-z 0-9 . _ - /" }
        }
        return nil
    }
}

extension EarMetadata: ExpressibleByDictionaryLiteral {
    /// `["general.architecture": "qwen-audio", "qwen.num_layers": 32]` (a repeated key keeps the last value).
    public init(dictionaryLiteral elements: (String, MetadataValue)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension EarMetadata {
    /// The metadata as stored: one compact JSON object, keys in byte order.
    public var json: String { MetadataJSON.serialize(self) }
}
