// CTranslate2Model: reads a CTranslate2 model directory (`model.bin` + `config.json`) with every offset and
// size checked. Layout of `model.bin` (little-endian; written by ctranslate2/specs/model_spec.py `_serialize`,
// read by src/models/model.cc `Model::load`):
//
//   u32 binary_version                       (this reader: 2…6; v1 had no spec name)
//   str spec_name, u32 spec_revision         (str = u16 length incl. trailing NUL, bytes, NUL)
//   u32 variable_count, then per variable:
//     str name, u8 rank, rank × u32 dims,
//     v ≥ 4: u8 dtype id (0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16), u32 byte_count
//     v < 4: u8 item size (4 f32, 2 i16, 1 i8),        u32 element_count
//     byte_count bytes of data (row-major, no padding)
//   v ≥ 3: u32 alias_count, then per alias: str alias, str target
//
// int8 weights come with a `<name>_scale` f32 variable of shape [rows]: w = q / scale (per output row).
import Foundation

/// Everything that can go wrong reading a CTranslate2 model or mapping it to canonical names.
public enum CTranslate2Error: Error, Equatable, CustomStringConvertible {
    /// The directory has no `model.bin` (or it cannot be read).
    case missingFile(path: String)
    /// `model.bin` or `config.json` cannot be read: not a regular file, too large, an I/O error.
    case unreadable(path: String, reason: String)
    /// A read of `size` bytes at `offset` runs past the end of the file (`fileSize`); `what` names the field.
    case truncated(what: String, offset: Int, size: Int, fileSize: Int)
    /// The binary version is outside what this reader understands.
    case unsupportedBinaryVersion(Int)
    /// A string field is not valid UTF-8 or lacks its trailing NUL.
    case badString(offset: Int)
    /// A variable has a dtype id this reader does not know.
    case unknownDType(variable: String, id: Int)
    /// A variable's byte count disagrees with its shape and dtype.
    case sizeMismatch(variable: String, expected: Int, actual: Int)
    /// The same variable or alias name appears twice.
    case duplicateName(String)
    /// An alias points at a variable that does not exist.
    case danglingAlias(alias: String, target: String)
    /// Bytes remain after the alias table.
    case trailingBytes(offset: Int, fileSize: Int)
    /// The model is not of the expected specification (e.g. not `WhisperSpec`).
    case wrongSpec(expected: String, actual: String)
    /// A variable the mapping needs is absent.
    case missingVariable(String)
    /// A variable has an unexpected shape.
    case badShape(variable: String, expected: [Int], actual: [Int])
    /// A variable holds a dtype that cannot be converted to float (e.g. int32 used as a weight).
    case notFloat(variable: String, dtype: String)
    /// `config.json` is not valid JSON of the expected form.
    case badConfig(String)

    public var description: String {
        switch self {
        case .missingFile(let p): return "CTranslate2 model: cannot read \(p)"
        case .unreadable(let p, let reason): return "CTranslate2 model: cannot read \(p): \(reason)"
        case .truncated(let w, let o, let s, let f):
            return "CTranslate2 model.bin is truncated: \(w) needs \(s) bytes at offset \(o), file has \(f) bytes"
        case .unsupportedBinaryVersion(let v):
            return "CTranslate2 model.bin binary version \(v) is not supported (this reader handles 2…6)"
        case .badString(let o): return "CTranslate2 model.bin: malformed string at offset \(o)"
        case .unknownDType(let n, let id): return "CTranslate2 variable \(n): unknown dtype id \(id)"
        case .sizeMismatch(let n, let e, let a):
            return "CTranslate2 variable \(n): shape and dtype need \(e) bytes, file says \(a)"
        case .duplicateName(let n): return "CTranslate2 model.bin: name \(n) appears twice"
        case .danglingAlias(let a, let t): return "CTranslate2 alias \(a) points at missing variable \(t)"
        case .trailingBytes(let o, let f): return "CTranslate2 model.bin: \(f - o) unexpected bytes after offset \(o)"
        case .wrongSpec(let e, let a): return "CTranslate2 model is a \(a), expected \(e)"
        case .missingVariable(let n): return "CTranslate2 model has no variable \(n)"
        case .badShape(let n, let e, let a): return "CTranslate2 variable \(n): expected shape \(e), got \(a)"
        case .notFloat(let n, let d): return "CTranslate2 variable \(n) has dtype \(d), expected a float type"
        case .badConfig(let m): return "CTranslate2 config.json: \(m)"
        }
    }
}

extension CTranslate2Error {
    /// A file error of the shared readers as this reader reports it.
    init(_ error: ConvertError, path: String) {
        switch error {
        case .missingFile: self = .missingFile(path: path)
        case .unreadableFile(_, let reason): self = .unreadable(path: path, reason: reason)
        default: self = .unreadable(path: path, reason: error.description)
        }
    }
}

/// CTranslate2's storage types (ids as in include/ctranslate2/types.h).
public enum CTranslate2DType: UInt8, Sendable, CaseIterable {
    case float32 = 0, int8 = 1, int16 = 2, int32 = 3, float16 = 4, bfloat16 = 5

    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .int16, .float16, .bfloat16: return 2
        case .int8: return 1
        }
    }

    public var name: String {
        switch self {
        case .float32: return "float32"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        }
    }
}

/// One variable of `model.bin`: where its bytes are inside the file.
public struct CTranslate2Variable: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let dtype: CTranslate2DType
    /// Byte offset of the data inside `model.bin`.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A parsed CTranslate2 model: header, variable table and aliases; data stays in the (memory-mapped) file.
public struct CTranslate2Model: @unchecked Sendable {
    public let binaryVersion: Int
    public let specName: String
    public let specRevision: Int
    /// Variables in file order.
    public let variables: [CTranslate2Variable]
    /// alias name → target variable name.
    public let aliases: [String: String]
    /// The `config.json` next to `model.bin`, parsed (empty when the file is absent).
    public let config: [String: Any]
    /// The raw file bytes (memory-mapped when loaded from disk).
    public let data: Data
    private let index: [String: Int]

    /// Loads `DIR/model.bin` (memory-mapped, regular files only) and `DIR/config.json` (optional).
    public static func load(directory: URL) throws(CTranslate2Error) -> CTranslate2Model {
        let binURL = directory.appendingPathComponent("model.bin")
        let mapped: MappedFile
        do { mapped = try MappedFile(path: binURL.path, what: "CTranslate2 model") } catch {
            throw CTranslate2Error(error, path: binURL.path)
        }
        // The Data keeps the mapping alive (and unmaps it when the last copy goes).
        let data = mapped.base.map { base in
            Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: mapped.size, deallocator: .custom { _, _ in
                withExtendedLifetime(mapped) {}
            })
        } ?? Data()
        var config: [String: Any] = [:]
        let configURL = directory.appendingPathComponent("config.json")
        var st = stat()
        if lstat(configURL.path, &st) == 0 {
            let bytes: Data
            do { bytes = try readWholeFile(configURL, what: "CTranslate2 config.json", limit: InputLimits.jsonConfig) } catch {
                throw CTranslate2Error(error, path: configURL.path)
            }
            guard let object = try? JSONSerialization.jsonObject(with: bytes), let dict = object as? [String: Any] else {
                throw .badConfig("not a JSON object")
            }
            config = dict
        }
        return try CTranslate2Model(data: data, config: config)
    }

    /// Parses `model.bin` bytes. Every field is bounds-checked; sizes are checked against shapes.
    public init(data: Data, config: [String: Any] = [:]) throws(CTranslate2Error) {
        var reader = ByteReader(data: data)
        let version = Int(try reader.u32("binary version"))
        guard (2...6).contains(version) else { throw .unsupportedBinaryVersion(version) }
        specName = try reader.string()
        specRevision = Int(try reader.u32("spec revision"))
        let count = Int(try reader.u32("variable count"))
        var vars: [CTranslate2Variable] = []
        var idx: [String: Int] = [:]
        for _ in 0..<count {
            let name = try reader.string()
            let rank = Int(try reader.u8("rank of \(name)"))
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(Int(try reader.u32("shape of \(name)"))) }
            let dtype: CTranslate2DType
            let byteCount: Int
            if version >= 4 {
                let id = try reader.u8("dtype of \(name)")
                guard let t = CTranslate2DType(rawValue: id) else { throw .unknownDType(variable: name, id: Int(id)) }
                dtype = t
                byteCount = Int(try reader.u32("byte count of \(name)"))
            } else {
                let itemSize = try reader.u8("item size of \(name)")
                switch itemSize {
                case 4: dtype = .float32
                case 2: dtype = .int16
                case 1: dtype = .int8
                default: throw .unknownDType(variable: name, id: Int(itemSize))
                }
                byteCount = Int(try reader.u32("element count of \(name)")) * Int(itemSize)   // ≤ 2³²·4: no overflow
            }
            var elements = 1
            for d in shape {
                let (m, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw .sizeMismatch(variable: name, expected: Int.max, actual: byteCount) }
                elements = m
            }
            let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, expected == byteCount else { throw .sizeMismatch(variable: name, expected: overflow ? Int.max : expected, actual: byteCount) }
            let offset = try reader.skip(byteCount, "data of \(name)")
            guard idx[name] == nil else { throw .duplicateName(name) }
            idx[name] = vars.count
            vars.append(CTranslate2Variable(name: name, shape: shape, dtype: dtype, offset: offset, byteCount: byteCount))
        }
        var aliasTable: [String: String] = [:]
        if version >= 3 {
            let aliasCount = Int(try reader.u32("alias count"))
            for _ in 0..<aliasCount {
                let alias = try reader.string()
                let target = try reader.string()
                guard idx[alias] == nil, aliasTable[alias] == nil else { throw .duplicateName(alias) }
                guard idx[target] != nil else { throw .danglingAlias(alias: alias, target: target) }
                aliasTable[alias] = target
            }
        }
        guard reader.offset == data.count else { throw .trailingBytes(offset: reader.offset, fileSize: data.count) }
        binaryVersion = version
        variables = vars
        aliases = aliasTable
        index = idx
        self.config = config
        self.data = data
    }

    /// The variable called `name`, following aliases; nil when absent.
    public func variable(_ name: String) -> CTranslate2Variable? {
        if let i = index[name] { return variables[i] }
        if let target = aliases[name], let i = index[target] { return variables[i] }
        return nil
    }

    /// The variable called `name` (following aliases) or `.missingVariable`.
    public func require(_ name: String) throws(CTranslate2Error) -> CTranslate2Variable {
        guard let v = variable(name) else { throw .missingVariable(name) }
        return v
    }

    /// An integer scalar (rank 0, any integer dtype or f32), e.g. `encoder/num_heads`.
    public func intScalar(_ name: String) throws(CTranslate2Error) -> Int {
        let v = try require(name)
        guard v.elementCount == 1 else { throw .badShape(variable: name, expected: [], actual: v.shape) }
        return data.withUnsafeBytes { raw -> Int in
            let p = raw.baseAddress! + v.offset
            switch v.dtype {
            case .int8: return Int(p.load(as: Int8.self))
            case .int16: return Int(p.loadUnaligned(as: Int16.self).littleEndian)
            case .int32: return Int(p.loadUnaligned(as: Int32.self).littleEndian)
            case .float32: return Int(Float(bitPattern: p.loadUnaligned(as: UInt32.self).littleEndian))
            case .float16: return Int(Float(Float16(bitPattern: p.loadUnaligned(as: UInt16.self).littleEndian)))
            case .bfloat16: return Int(Float(bitPattern: UInt32(p.loadUnaligned(as: UInt16.self).littleEndian) << 16))
            }
        }
    }

    /// The values of a float variable as f32 (f16/bf16 widened exactly; int8/int16 divided by the per-row
    /// `<name>_scale` CTranslate2 stores next to quantized weights).
    public func floats(_ name: String) throws(CTranslate2Error) -> [Float] {
        let v = try require(name)
        var scales: [Float]? = nil
        if v.dtype == .int8 || v.dtype == .int16 {
            let scaleName = (aliases[name] ?? name) + "_scale"
            let s = try floats(scaleName)
            let rows = v.shape.count >= 2 ? v.shape.dropLast().reduce(1, *) : 1
            guard s.count == rows || s.count == 1 else {
                throw .badShape(variable: scaleName, expected: [rows], actual: [s.count])
            }
            scales = s
        } else if v.dtype == .int32 {
            throw .notFloat(variable: name, dtype: v.dtype.name)
        }
        let n = v.elementCount
        let cols = max(1, v.shape.last ?? 1)
        var out = [Float](repeating: 0, count: n)
        data.withUnsafeBytes { raw in
            let p = raw.baseAddress! + v.offset
            out.withUnsafeMutableBufferPointer { o in
                switch v.dtype {
                case .float32:
                    for i in 0..<n { o[i] = Float(bitPattern: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian) }
                case .float16:
                    for i in 0..<n {
                        o[i] = Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
                    }
                case .bfloat16:
                    for i in 0..<n {
                        o[i] = Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                    }
                case .int8:
                    let s = scales!
                    for i in 0..<n { o[i] = Float(p.load(fromByteOffset: i, as: Int8.self)) / s[s.count == 1 ? 0 : i / cols] }
                case .int16:
                    let s = scales!
                    for i in 0..<n {
                        o[i] = Float(p.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self).littleEndian) / s[s.count == 1 ? 0 : i / cols]
                    }
                case .int32:
                    break
                }
            }
        }
        return out
    }
}

/// A bounds-checked little-endian cursor over `model.bin`.
private struct ByteReader {
    let data: Data
    var offset = 0

    private mutating func take(_ size: Int, _ what: String) throws(CTranslate2Error) -> Int {
        guard size >= 0, offset <= data.count, data.count - offset >= size else {
            throw .truncated(what: what, offset: offset, size: size, fileSize: data.count)
        }
        let start = offset
        offset += size
        return start
    }

    mutating func u8(_ what: String) throws(CTranslate2Error) -> UInt8 {
        let at = try take(1, what)
        return data[data.startIndex + at]
    }

    mutating func u16(_ what: String) throws(CTranslate2Error) -> UInt16 {
        let at = try take(2, what)
        return data.withUnsafeBytes { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
    }

    mutating func u32(_ what: String) throws(CTranslate2Error) -> UInt32 {
        let at = try take(4, what)
        return data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    }

    /// Returns the start offset of `size` skipped bytes.
    mutating func skip(_ size: Int, _ what: String) throws(CTranslate2Error) -> Int {
        try take(size, what)
    }

    /// u16 length (including the trailing NUL), bytes, NUL.
    mutating func string() throws(CTranslate2Error) -> String {
        let start = offset
        let length = Int(try u16("string length"))
        let at = try take(length, "string")
        guard length >= 1 else { throw .badString(offset: start) }
        let bytes = data[(data.startIndex + at)..<(data.startIndex + at + length)]
        guard bytes.last == 0, let s = String(bytes: bytes.dropLast(), encoding: .utf8), !s.contains("\0") else {
            throw .badString(offset: start)
        }
        return s
    }
}
