// GGUFFile: our own reader for GGUF v2/v3 files (llama.cpp's model format), memory-mapped, every field
// checked before use. Layout (little-endian; ggml/docs/gguf.md):
//
//   u32 magic "GGUF", u32 version (2, 3), u64 tensor_count, u64 kv_count
//   kv_count × { string key, u32 value_type, value }
//       string = u64 length + UTF-8 bytes (no NUL); array = u32 element type, u64 count, elements
//       value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array, 10 u64, 11 i64, 12 f64
//   tensor_count × { string name, u32 n_dims, n_dims × u64 ne (ne[0] = row length, innermost), u32 ggml type,
//                    u64 offset (from the data section, a multiple of the alignment) }
//   padding to `general.alignment` (u32, default 32), then the data section.
//
// Checks: magic, version, counts against hard caps *and* what the remaining bytes can hold (before any
// allocation), every string and array length against the bytes left, UTF-8, unique keys and names, the value
// types, the alignment (power of two), per tensor 1–4 dims ≥ 1 with no overflow, a supported type, ne[0] a
// whole number of blocks, offset aligned, bytes inside the file, no two tensors overlapping. Only the header
// is read; tensor data stay in the mapping until a tensor is converted.
import Foundation

/// A GGUF metadata value.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint(UInt64)       // u8, u16, u32, u64
    case int(Int64)         // i8, i16, i32, i64
    case float(Double)      // f32, f64
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// The type name as a GGUF writer would say it (for messages).
    public var typeName: String {
        switch self {
        case .uint: return "an unsigned integer"
        case .int: return "an integer"
        case .float: return "a float"
        case .bool: return "a bool"
        case .string: return "a string"
        case .array: return "an array"
        }
    }

    /// Integer value of a .uint or .int that fits in Int.
    public var intValue: Int? {
        switch self {
        case .uint(let u): return u <= UInt64(Int.max) ? Int(u) : nil
        case .int(let i): return Int(exactly: i)
        default: return nil
        }
    }
}

/// One tensor entry: its ggml shape (ne, innermost first) and where its bytes are in the file.
public struct GGUFTensor: Sendable, Equatable {
    public let name: String
    public let type: GGMLType
    /// ggml dims, ne[0] first (the row length).
    public let ne: [Int]
    /// Absolute byte offset in the file.
    public let fileOffset: Int
    public let byteCount: Int

    /// PyTorch-order shape (outermost first): a [out, in] matrix is ne = [in, out].
    public var shape: [Int] { ne.reversed() }
    public var cols: Int { ne[0] }
    public var rows: Int { ne.dropFirst().reduce(1, *) }
    public var elementCount: Int { ne.reduce(1, *) }
    public var rowBytes: Int { type.rowBytes(cols: cols)! }
}

/// A mapped, validated GGUF file.
public final class GGUFFile: @unchecked Sendable {
    /// Hard caps (far above any real model; the bytes left in the file bound them further).
    public static let maxTensors: UInt64 = 1 << 20
    public static let maxKeys: UInt64 = 1 << 20
    public static let maxStringBytes: UInt64 = 1 << 28
    public static let maxArrayCount: UInt64 = 1 << 26
    public static let maxKeyBytes: UInt64 = 65_535
    public static let maxNameBytes: UInt64 = 255
    public static let maxDims = 4
    public static let maxElements = 1 << 40
    public static let maxAlignment: UInt64 = 1 << 16
    static let maxArrayDepth = 4

    public let path: String
    public let file: MappedFile
    public let version: UInt32
    /// Metadata in file order, and by key.
    public let keys: [String]
    public let metadata: [String: GGUFValue]
    /// Tensors in file order, and by name.
    public let tensors: [GGUFTensor]
    public let tensorsByName: [String: GGUFTensor]
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataOffset: Int

    public convenience init(path: String) throws(ConvertError) {
        try self.init(file: try MappedFile(path: path))
    }

    public init(file: MappedFile) throws(ConvertError) {
        self.file = file
        path = file.path
        var r = GGUFCursor(file: file)
        guard file.size >= 4, let magic = try? r.u32("magic"), magic == 0x4655_4747 else {
            let head = file.size >= 4 ? file.bytes(offset: 0, count: 4).map { String(format: "%02x", $0) }.joined(separator: " ") : "\(file.size) bytes"
            throw .ggufNotGGUF(path: path, reason: "expected magic \"GGUF\" (47 47 55 46), found \(head)")
        }
        version = try r.u32("version")
        guard version == 2 || version == 3 else { throw .ggufUnsupportedVersion(path: path, version: version) }
        let tensorCount = try r.u64("tensor_count")
        let kvCount = try r.u64("kv_count")
        // The smallest kv is 8 (key length) + 1 (key) + 4 (type) + 1 (u8 value) bytes; the smallest tensor
        // info 8 + 1 + 4 + 8 + 4 + 8.
        try r.checkCount(kvCount, "kv_count", cap: Self.maxKeys, minBytesEach: 14)
        try r.checkCount(tensorCount, "tensor_count", cap: Self.maxTensors, minBytesEach: 33)

        var keys: [String] = [], meta: [String: GGUFValue] = [:]
        keys.reserveCapacity(Int(kvCount))
        for i in 0..<Int(kvCount) {
            let key = try r.string("key of metadata entry \(i)", cap: Self.maxKeyBytes)
            guard !key.isEmpty else { throw .ggufInvalidField(path: path, field: "key of metadata entry \(i)", reason: "empty key") }
            guard meta[key] == nil else { throw .ggufInvalidField(path: path, field: key, reason: "key appears twice") }
            let type = try r.u32("type of \(key)")
            meta[key] = try r.value(type: type, field: key, depth: 0)
            keys.append(key)
        }
        self.keys = keys
        metadata = meta

        var align = 32
        if let a = meta["general.alignment"] {
            guard case .uint(let v) = a else {
                throw .ggufWrongKeyType(path: path, key: "general.alignment", expected: "an unsigned integer", found: a.typeName)
            }
            guard v > 0, v & (v - 1) == 0, v <= Self.maxAlignment else {
                throw .ggufInvalidField(path: path, field: "general.alignment", reason: "\(v) is not a power of two between 1 and \(Self.maxAlignment)")
            }
            align = Int(v)
        }
        alignment = align

        struct Entry { let name: String; let type: GGMLType; let ne: [Int]; let offset: UInt64; let bytes: Int }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(tensorCount))
        var seen = Set<String>()
        for i in 0..<Int(tensorCount) {
            let name = try r.string("name of tensor \(i)", cap: Self.maxNameBytes)
            guard !name.isEmpty else { throw .ggufInvalidTensor(path: path, tensor: "#\(i)", reason: "empty name") }
            guard seen.insert(name).inserted else { throw .ggufInvalidTensor(path: path, tensor: name, reason: "name appears twice") }
            let nDims = try r.u32("n_dims of \(name)")
            guard nDims >= 1 && nDims <= UInt32(Self.maxDims) else {
                throw .ggufInvalidTensor(path: path, tensor: name, reason: "n_dims = \(nDims), must be 1…\(Self.maxDims)")
            }
            var ne: [Int] = [], count = 1
            for d in 0..<Int(nDims) {
                let v = try r.u64("ne[\(d)] of \(name)")
                guard v >= 1, v <= UInt64(Self.maxElements) else {
                    throw .ggufInvalidTensor(path: path, tensor: name, reason: "ne[\(d)] = \(v) is not between 1 and 2^40")
                }
                let (p, overflow) = count.multipliedReportingOverflow(by: Int(v))
                guard !overflow, p <= Self.maxElements else {
                    throw .ggufInvalidTensor(path: path, tensor: name, reason: "\(ne + [Int(v)]) has more than 2^40 elements")
                }
                count = p
                ne.append(Int(v))
            }
            let typeID = try r.u32("type of \(name)")
            guard let type = GGMLType(rawValue: typeID) else {
                throw .ggufUnsupportedTensorType(path: path, tensor: name, type: GGMLType.describe(id: typeID))
            }
            guard let rowBytes = type.rowBytes(cols: ne[0]) else {
                throw .ggufInvalidTensor(path: path, tensor: name,
                                         reason: "ne[0] = \(ne[0]) is not a multiple of \(type.name)'s block size \(type.blockSize)")
            }
            let offset = try r.u64("offset of \(name)")
            guard offset % UInt64(align) == 0 else {
                throw .ggufInvalidTensor(path: path, tensor: name, reason: "offset \(offset) is not a multiple of the alignment \(align)")
            }
            entries.append(Entry(name: name, type: type, ne: ne, offset: offset, bytes: count / ne[0] * rowBytes))
        }
        let infoEnd = r.offset
        let padded = (infoEnd + align - 1) / align * align
        guard padded <= file.size || entries.isEmpty else {
            throw .ggufTruncated(path: path, field: "padding before the data section", offset: infoEnd,
                                 size: UInt64(padded - infoEnd), fileSize: file.size)
        }
        dataOffset = padded
        let dataBytes = UInt64(max(0, file.size - padded))

        var list: [GGUFTensor] = [], byName: [String: GGUFTensor] = [:]
        for e in entries {
            guard e.offset <= dataBytes, UInt64(e.bytes) <= dataBytes - e.offset else {
                throw .ggufInvalidTensor(path: path, tensor: e.name,
                    reason: "\(e.bytes) bytes at data offset \(e.offset) run past the end of the file (data section holds \(dataBytes) bytes)")
            }
            let t = GGUFTensor(name: e.name, type: e.type, ne: e.ne, fileOffset: padded + Int(e.offset), byteCount: e.bytes)
            list.append(t)
            byName[t.name] = t
        }
        let sorted = list.sorted { ($0.fileOffset, $0.name) < ($1.fileOffset, $1.name) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.fileOffset + a.byteCount > b.fileOffset {
            throw .ggufInvalidTensor(path: path, tensor: b.name, reason: "its bytes overlap tensor \(a.name)")
        }
        tensors = list
        tensorsByName = byName
    }

    /// The raw bytes of a tensor (in the mapping; valid while this file is alive).
    public func bytes(of t: GGUFTensor) -> UnsafeRawBufferPointer { file.bytes(offset: t.fileOffset, count: t.byteCount) }

    // MARK: typed metadata access (errors name the key)

    public func value(_ key: String) throws(ConvertError) -> GGUFValue {
        guard let v = metadata[key] else { throw .ggufMissingKey(path: path, key: key) }
        return v
    }

    public func string(_ key: String) throws(ConvertError) -> String {
        let v = try value(key)
        guard case .string(let s) = v else { throw .ggufWrongKeyType(path: path, key: key, expected: "a string", found: v.typeName) }
        return s
    }

    public func int(_ key: String) throws(ConvertError) -> Int {
        let v = try value(key)
        guard let i = v.intValue else { throw .ggufWrongKeyType(path: path, key: key, expected: "an integer", found: v.typeName) }
        return i
    }

    public func double(_ key: String) throws(ConvertError) -> Double {
        let v = try value(key)
        switch v {
        case .float(let d): return d
        case .uint, .int: if let i = v.intValue { return Double(i) }
        default: break
        }
        throw .ggufWrongKeyType(path: path, key: key, expected: "a number", found: v.typeName)
    }

    public func array(_ key: String) throws(ConvertError) -> [GGUFValue] {
        let v = try value(key)
        guard case .array(let a) = v else { throw .ggufWrongKeyType(path: path, key: key, expected: "an array", found: v.typeName) }
        return a
    }

    public func strings(_ key: String) throws(ConvertError) -> [String] {
        var out: [String] = []
        let a = try array(key)
        out.reserveCapacity(a.count)
        for (i, e) in a.enumerated() {
            guard case .string(let s) = e else {
                throw .ggufWrongKeyType(path: path, key: "\(key)[\(i)]", expected: "a string", found: e.typeName)
            }
            out.append(s)
        }
        return out
    }

    public func ints(_ key: String) throws(ConvertError) -> [Int] {
        var out: [Int] = []
        let a = try array(key)
        out.reserveCapacity(a.count)
        for (i, e) in a.enumerated() {
            guard let v = e.intValue else {
                throw .ggufWrongKeyType(path: path, key: "\(key)[\(i)]", expected: "an integer", found: e.typeName)
            }
            out.append(v)
        }
        return out
    }
}

/// A bounds-checked little-endian cursor over the mapped header.
struct GGUFCursor {
    let file: MappedFile
    var offset = 0
    var path: String { file.path }

    private mutating func take(_ size: Int, _ field: String) throws(ConvertError) -> UnsafeRawPointer {
        guard size >= 0, file.size - offset >= size, let base = file.base else {
            throw .ggufTruncated(path: path, field: field, offset: offset, size: UInt64(max(size, 0)), fileSize: file.size)
        }
        let p = base + offset
        offset += size
        return p
    }

    mutating func u8(_ field: String) throws(ConvertError) -> UInt8 { try take(1, field).load(as: UInt8.self) }
    mutating func u16(_ field: String) throws(ConvertError) -> UInt16 { UInt16(littleEndian: try take(2, field).loadUnaligned(as: UInt16.self)) }
    mutating func u32(_ field: String) throws(ConvertError) -> UInt32 { UInt32(littleEndian: try take(4, field).loadUnaligned(as: UInt32.self)) }
    mutating func u64(_ field: String) throws(ConvertError) -> UInt64 { UInt64(littleEndian: try take(8, field).loadUnaligned(as: UInt64.self)) }

    /// Refuses a count above `cap` or above what the bytes left could hold at `minBytesEach` per item.
    func checkCount(_ n: UInt64, _ field: String, cap: UInt64, minBytesEach: UInt64) throws(ConvertError) {
        let fits = UInt64(file.size - offset) / max(minBytesEach, 1)
        if n > cap { throw .ggufCountTooLarge(path: path, field: field, count: n, limit: cap) }
        if n > fits { throw .ggufCountTooLarge(path: path, field: field + " (bytes left in the file)", count: n, limit: fits) }
    }

    mutating func string(_ field: String, cap: UInt64) throws(ConvertError) -> String {
        let at = offset
        let n = try u64("length of " + field)
        guard n <= cap else { throw .ggufCountTooLarge(path: path, field: "length of " + field, count: n, limit: cap) }
        guard n <= UInt64(file.size - offset) else {
            throw .ggufTruncated(path: path, field: field, offset: offset, size: n, fileSize: file.size)
        }
        let p = try take(Int(n), field)
        guard let s = String(validating: UnsafeRawBufferPointer(start: p, count: Int(n)), as: UTF8.self) else {
            throw .ggufInvalidField(path: path, field: field, reason: "string at offset \(at) is not valid UTF-8")
        }
        return s
    }

    mutating func value(type: UInt32, field: String, depth: Int) throws(ConvertError) -> GGUFValue {
        switch type {
        case 0: return .uint(UInt64(try u8(field)))
        case 1: return .int(Int64(Int8(bitPattern: try u8(field))))
        case 2: return .uint(UInt64(try u16(field)))
        case 3: return .int(Int64(Int16(bitPattern: try u16(field))))
        case 4: return .uint(UInt64(try u32(field)))
        case 5: return .int(Int64(Int32(bitPattern: try u32(field))))
        case 6: return .float(Double(Float(bitPattern: try u32(field))))
        case 7:
            let b = try u8(field)
            guard b <= 1 else { throw .ggufInvalidField(path: path, field: field, reason: "bool value \(b) is neither 0 nor 1") }
            return .bool(b == 1)
        case 8: return .string(try string(field, cap: GGUFFile.maxStringBytes))
        case 9:
            guard depth < GGUFFile.maxArrayDepth else {
                throw .ggufInvalidField(path: path, field: field, reason: "arrays nested deeper than \(GGUFFile.maxArrayDepth)")
            }
            let elementType = try u32("element type of " + field)
            let count = try u64("element count of " + field)
            let minBytes: UInt64
            switch elementType {
            case 0, 1, 7: minBytes = 1
            case 2, 3: minBytes = 2
            case 4, 5, 6: minBytes = 4
            case 8, 10, 11, 12: minBytes = 8
            case 9: minBytes = 12
            default: throw .ggufInvalidField(path: path, field: field, reason: "unknown array element type \(elementType)")
            }
            try checkCount(count, "element count of " + field, cap: GGUFFile.maxArrayCount, minBytesEach: minBytes)
            var out: [GGUFValue] = []
            out.reserveCapacity(Int(count))
            let elementField = field + "[…]"
            for _ in 0..<Int(count) { out.append(try value(type: elementType, field: elementField, depth: depth + 1)) }
            return .array(out)
        case 10: return .uint(try u64(field))
        case 11: return .int(Int64(bitPattern: try u64(field)))
        case 12: return .float(Double(bitPattern: try u64(field)))
        default: throw .ggufInvalidField(path: path, field: field, reason: "unknown value type \(type)")
        }
    }
}
