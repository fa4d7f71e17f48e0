// Layout: the byte layout of a .ear file (Formats/EAR.md is the spec; keep both in step), its limits,
// and little-endian byte helpers shared by the reader and the writer.
//
//   [0, 128)                      header
//   [128, data_offset)            zero padding (data_offset is a multiple of 16 KiB)
//   [data_offset, data_end)       data region: tensors and blobs, each starting on a 64-byte boundary
//   [data_end, file_size)         index region: metadata JSON, string pool, blob table, tensor table

enum Layout {
    /// "\x89EAR\r\n\x1a\n": the high byte and CR/LF/^Z catch 7-bit and text-mode transfers (as PNG's).
    static let magic: [UInt8] = [0x89, 0x45, 0x41, 0x52, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The format version this code reads and writes.
    static let version: UInt32 = 1
    static let headerSize = 128
    static let dataAlignment = 16_384
    static let tensorAlignment = 64
    static let tableAlignment = 8
    static let tensorRecordSize = 112
    static let blobRecordSize = 56
    static let maxRank = 8

    // Limits that keep a hostile header from making the reader allocate or loop without bound.
    static let maxTensorCount: UInt64 = 1_000_000
    static let maxBlobCount: UInt64 = 10_000
    static let maxMetadataSize: UInt64 = 16 << 20
    static let maxStringPoolSize: UInt64 = 64 << 20
    static let maxBlobRawSize: UInt64 = 256 << 20

    /// Header field byte offsets.
    enum H {
        static let magic = 0, version = 8, headerSize = 12, fileSize = 16, dataOffset = 24, dataSize = 32
        static let metadataOffset = 40, metadataSize = 48, stringPoolOffset = 56, stringPoolSize = 64
        static let blobTableOffset = 72, blobCount = 80, tensorTableOffset = 88, tensorCount = 96
        static let indexChecksum = 104, reserved = 112
    }

    /// Tensor record field byte offsets.
    enum T {
        static let nameOffset = 0, nameLength = 4, dtype = 8, rank = 9, reserved1 = 10, dims = 16
        static let offset = 80, byteCount = 88, checksum = 96, reserved2 = 104
    }

    /// Blob record field byte offsets.
    enum B {
        static let nameOffset = 0, nameLength = 4, compression = 8, reserved1 = 9
        static let offset = 16, storedSize = 24, rawSize = 32, checksum = 40, reserved2 = 48
    }

    static func alignUp(_ x: Int, _ a: Int) -> Int { (x + a - 1) / a * a }
}

/// How a blob's bytes are stored.
public enum EarCompression: UInt8, Sendable, CustomStringConvertible {
    case raw = 0
    case zstd = 1

    public var description: String { self == .raw ? "raw" : "zstd" }
}

// MARK: - Little-endian helpers

extension UnsafeRawBufferPointer {
    /// Reads a little-endian integer at `offset`. Callers have checked `offset + size <= count`.
    @inline(__always) func le<T: FixedWidthInteger>(_ offset: Int, as: T.Type = T.self) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func putLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { bytes in
            for i in 0..<bytes.count { self[offset + i] = bytes[i] }
        }
    }

    mutating func padTo(_ count: Int) {
        if self.count < count { append(contentsOf: repeatElement(0, count: count - self.count)) }
    }
}

/// `withUnsafeBytes` for a byte array with a typed-throwing body (the stdlib's version rethrows
/// untyped errors).
@inline(__always)
func withBytes<E, R>(_ array: [E], _ body: (UnsafeRawBufferPointer) throws(EarError) -> R) throws(EarError) -> R {
    let result: Result<R, EarError> = array.withUnsafeBytes { b in Result { () throws(EarError) in try body(b) } }
    return try result.get()
}
