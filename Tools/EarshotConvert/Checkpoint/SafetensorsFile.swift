// SafetensorsFile: our own reader for one `.safetensors` file — 8-byte header length, JSON header, mmap.
//
// Layout: [u64 LE n][n bytes of JSON][data]. The JSON maps tensor names to
// {"dtype": "BF16"|"F16"|"F32", "shape": [d0, …], "data_offsets": [begin, end]} (offsets relative to the
// data region) plus an optional "__metadata__" object of strings. Every field is validated before use:
// header length within the file, offsets within the data region, end − begin = numel × element size,
// no two tensors overlapping, and the data region exactly as long as the tensors need.
import Foundation

/// Element types the converter reads.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bf16 = "BF16"
    case f16 = "F16"
    case f32 = "F32"

    public var byteSize: Int { self == .f32 ? 4 : 2 }
}

/// One tensor in a safetensors file: where its bytes are and how to read them.
public struct SafetensorsTensor: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Absolute byte offset in the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A mapped, validated safetensors file.
public final class SafetensorsFile: @unchecked Sendable {
    /// Largest header accepted (the reference implementation's limit).
    public static let maxHeaderBytes: UInt64 = 100_000_000

    public let path: String
    public let file: MappedFile
    /// Tensors by name.
    public let tensors: [String: SafetensorsTensor]
    /// The `__metadata__` strings (e.g. {"format": "pt"}).
    public let metadata: [String: String]

    public init(path: String) throws(ConvertError) {
        self.path = path
        file = try MappedFile(path: path)
        let size = file.size
        guard size >= 8 else {
            throw .safetensorsHeaderTruncated(path: path, headerLength: 0, fileSize: size)
        }
        let raw = file.bytes(offset: 0, count: 8)
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(raw[i]) << (8 * UInt64(i)) }
        guard headerLength <= Self.maxHeaderBytes, headerLength <= UInt64(size - 8) else {
            throw .safetensorsHeaderTruncated(path: path, headerLength: headerLength, fileSize: size)
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = Data(file.bytes(offset: 8, count: Int(headerLength)))
        let parsed = try Self.parseHeader(headerBytes, path: path, dataStart: dataStart)
        tensors = parsed.tensors
        metadata = parsed.metadata

        let needed = parsed.dataEnd
        let actual = size - dataStart
        guard needed == actual else {
            throw .shardSizeMismatch(path: path, expectedDataBytes: needed, actualDataBytes: actual)
        }
    }

    /// The raw bytes of a tensor (in the mapping; valid while this file is alive).
    public func bytes(of tensor: SafetensorsTensor) -> UnsafeRawBufferPointer {
        file.bytes(offset: tensor.fileOffset, count: tensor.byteCount)
    }

    /// Lets the kernel drop a tensor's pages from this process's resident set once it is converted.
    public func release(_ tensor: SafetensorsTensor) {
        file.release(offset: tensor.fileOffset, count: tensor.byteCount)
    }

    // MARK: header parsing

    struct ParsedHeader {
        var tensors: [String: SafetensorsTensor]
        var metadata: [String: String]
        /// Bytes of data the tensors need (max end offset).
        var dataEnd: Int
    }

    static func parseHeader(_ bytes: Data, path: String, dataStart: Int) throws(ConvertError) -> ParsedHeader {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: bytes, options: [])
        } catch {
            throw .safetensorsInvalidHeader(path: path, reason: "header is not valid JSON")
        }
        guard let dict = object as? [String: Any] else {
            throw .safetensorsInvalidHeader(path: path, reason: "header is not a JSON object")
        }
        var tensors: [String: SafetensorsTensor] = [:]
        var metadata: [String: String] = [:]
        var ranges: [(begin: Int, end: Int, name: String)] = []
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let meta = value as? [String: Any] else {
                    throw .safetensorsInvalidHeader(path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in meta {
                    guard let s = v as? String else {
                        throw .safetensorsInvalidHeader(path: path, reason: "__metadata__[\(k)] is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else {
                throw .invalidTensorEntry(path: path, tensor: name, reason: "entry is not a JSON object")
            }
            guard let dtypeName = entry["dtype"] as? String else {
                throw .invalidTensorEntry(path: path, tensor: name, reason: "missing or non-string \"dtype\"")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw .unsupportedDType(path: path, tensor: name, dtype: dtypeName)
            }
            guard let shapeValues = entry["shape"] as? [Any] else {
                throw .invalidTensorEntry(path: path, tensor: name, reason: "missing or non-array \"shape\"")
            }
            var shape: [Int] = []
            var count = 1
            for d in shapeValues {
                guard let dim = exactInt(d), dim >= 0 else {
                    throw .invalidTensorEntry(path: path, tensor: name, reason: "shape \(shapeValues) has a dimension that is not a non-negative integer")
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: dim)
                guard !overflow, product <= Int(Int32.max) * 64 else {
                    throw .invalidTensorEntry(path: path, tensor: name, reason: "shape \(shapeValues) is too large")
                }
                count = product
                shape.append(dim)
            }
            guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = exactInt(offsets[0]), let end = exactInt(offsets[1]) else {
                throw .invalidTensorEntry(path: path, tensor: name, reason: "\"data_offsets\" must be two integers [begin, end]")
            }
            guard begin >= 0, end >= begin else {
                throw .invalidTensorEntry(path: path, tensor: name, reason: "data_offsets [\(begin), \(end)] are not an increasing pair")
            }
            let expectedBytes = count * dtype.byteSize
            guard end - begin == expectedBytes else {
                throw .invalidTensorEntry(path: path, tensor: name,
                    reason: "shape \(shape) of \(dtypeName) needs \(expectedBytes) bytes but data_offsets [\(begin), \(end)] span \(end - begin)")
            }
            tensors[name] = SafetensorsTensor(name: name, dtype: dtype, shape: shape,
                                              fileOffset: dataStart + begin, byteCount: expectedBytes)
            ranges.append((begin, end, name))
        }
        ranges.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var dataEnd = 0
        var previous: (end: Int, name: String)? = nil
        for r in ranges {
            if let p = previous, r.begin < p.end, r.end > r.begin {
                throw .invalidTensorEntry(path: path, tensor: r.name, reason: "data overlaps tensor \(p.name)")
            }
            if r.end > r.begin || previous == nil { previous = (r.end, r.name) }
            dataEnd = max(dataEnd, r.end)
        }
        return ParsedHeader(tensors: tensors, metadata: metadata, dataEnd: dataEnd)
    }
}

/// True for a JSON `true`/`false` (Foundation bridges integers to Bool too, so `is Bool` cannot tell).
func isJSONBool(_ value: Any) -> Bool {
    String(describing: type(of: value)).contains("Boolean")
}

/// An integer JSON value (rejects fractions, booleans and out-of-range numbers).
func exactInt(_ value: Any) -> Int? {
    if isJSONBool(value) { return nil }
    if let n = value as? NSNumber {
        let d = n.doubleValue
        guard d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return n.intValue
    }
    return nil
}
