// TensorInfo / BlobInfo: one validated entry of the tensor table and of the blob table.

/// A tensor as the table describes it. `offset` is absolute in the file (a multiple of 64).
public struct TensorInfo: Equatable, Sendable {
    public let name: String
    public let dtype: EarDType
    /// Dimensions, outermost first (PyTorch order: a Linear weight is [out, in]).
    public let shape: [Int]
    public let offset: Int
    public let byteCount: Int
    /// XXH64 (seed 0) of the tensor's bytes.
    public let checksum: UInt64

    /// Number of logical values (product of the shape; 1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
    /// Length of the last dimension (the row length a kernel sees); 1 for a scalar.
    public var columns: Int { shape.last ?? 1 }
    /// Product of all dimensions but the last (rows of the [rows × columns] view); 1 for rank ≤ 1.
    public var rows: Int { shape.dropLast().reduce(1, *) }
    /// The shape as "[4096, 4096]".
    public var shapeDescription: String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}

/// A named non-weight byte string (tokenizer ranks, mel filters, config JSON).
public struct BlobInfo: Equatable, Sendable {
    public let name: String
    public let compression: EarCompression
    /// Absolute offset of the stored bytes (a multiple of 64).
    public let offset: Int
    /// Bytes as stored in the file.
    public let storedSize: Int
    /// Bytes after decompression.
    public let rawSize: Int
    /// XXH64 (seed 0) of the raw (decompressed) bytes.
    public let checksum: UInt64
}
