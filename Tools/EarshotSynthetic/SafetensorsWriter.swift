// SafetensorsWriter: writes `.safetensors` files for tests (tiny and full-size synthetic checkpoints,
// and deliberately broken ones). Layout: u64 LE header length, compact JSON header with names in sorted
// order ({"__metadata__":{"format":"pt"}, NAME: {"dtype","shape","data_offsets"}}) padded with spaces to
// a multiple of 8, then each tensor's bytes back to back in the same sorted order. Streams: header first,
// then `append` the data of each tensor in `order`.
import Foundation

/// One tensor entry of a safetensors header. `dtype` is free text so tests can write unknown dtypes.
public struct SafetensorsEntry: Sendable, Equatable {
    public var name: String
    public var dtype: String
    public var shape: [Int]
    /// Bytes of data (normally numel × element size; tests may lie).
    public var byteCount: Int

    public init(name: String, dtype: String, shape: [Int], byteCount: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteCount = byteCount
    }

    /// An entry whose byte count follows from the dtype (BF16/F16: 2, F32: 4 bytes per value).
    public init(name: String, dtype: String, shape: [Int]) {
        let size = dtype == "F32" ? 4 : 2
        self.init(name: name, dtype: dtype, shape: shape, byteCount: shape.reduce(1, *) * size)
    }
}

public enum SafetensorsWriterError: Error, CustomStringConvertible {
    case io(String)
    case sizeMismatch(String)
    public var description: String {
        switch self {
        case .io(let s): return "safetensors writer: \(s)"
        case .sizeMismatch(let s): return "safetensors writer: \(s)"
        }
    }
}

public final class SafetensorsWriter {
    /// Entries in data order (sorted by name).
    public let order: [SafetensorsEntry]
    private let handle: FileHandle
    private var written = 0
    private let total: Int
    private var buffer = Data()

    /// Creates (or replaces) `url` and writes its header.
    public init(url: URL, entries: [SafetensorsEntry], metadata: [String: String] = ["format": "pt"]) throws {
        order = entries.sorted { $0.name < $1.name }
        var parts: [String] = []
        if !metadata.isEmpty {
            parts.append("\"__metadata__\":{" + metadata.sorted { $0.key < $1.key }
                .map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",") + "}")
        }
        var offset = 0
        for e in order {
            parts.append("\(jsonString(e.name)):{\"dtype\":\(jsonString(e.dtype)),\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + e.byteCount)]}")
            offset += e.byteCount
        }
        total = offset
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let h = try? FileHandle(forWritingTo: url) else { throw SafetensorsWriterError.io("cannot create \(url.path)") }
        handle = h
        var prefix = Data(count: 8)
        for i in 0..<8 { prefix[i] = UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64(i))) }
        prefix.append(contentsOf: header)
        try handle.write(contentsOf: prefix)
    }

    /// Appends data bytes (any split; tensors follow each other in `order`).
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        written += bytes.count
        buffer.append(contentsOf: bytes)
        if buffer.count >= 8 << 20 { try flush() }
    }

    public func append(_ data: Data) throws { try data.withUnsafeBytes { try append($0) } }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes; throws if the data written differs from what the header declared.
    public func finish() throws {
        try flush()
        try handle.close()
        guard written == total else { throw SafetensorsWriterError.sizeMismatch("wrote \(written) data bytes, header declares \(total)") }
    }

    /// Writes a whole file from in-memory tensors.
    public static func write(url: URL, tensors: [(entry: SafetensorsEntry, data: Data)], metadata: [String: String] = ["format": "pt"]) throws {
        let w = try SafetensorsWriter(url: url, entries: tensors.map(\.entry), metadata: metadata)
        let byName = Dictionary(tensors.map { ($0.entry.name, $0.data) }, uniquingKeysWith: { a, _ in a })
        for e in w.order { try w.append(byName[e.name]!) }
        try w.finish()
    }
}

/// A JSON string literal (names here are ASCII; quotes and backslashes escaped).
func jsonString(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default:
            if c.value < 0x20 { out += String(format: "\\u%04x", c.value) } else { out.unicodeScalars.append(c) }
        }
    }
    return out + "\""
}
