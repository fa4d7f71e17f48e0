// WeightMatrix: a typed, zero-copy view of one weight matrix as the kernels read it.
//
// Weight types and their row layouts (Formats/quant-blocks.md is the byte-level spec):
//   f32  : K × Float32                                  rowBytes = 4K
//   f16  : K × IEEE half                                rowBytes = 2K
//   bf16 : K × bfloat16                                 rowBytes = 2K
//   q8   : blocks of 32 int8 + one f16 scale each       rowBytes = K + K/16          (K % 32 == 0)
//   q4   : super-blocks of ≤ 256 (8 sub-blocks of 32),  rowBytes = K/2 + 16·⌈K/256⌉   (K % 32 == 0)
//          4-bit codes, 6-bit sub-scales and sub-mins, f16 super scale and min
// A matrix is `rows` rows of `rowBytes` bytes back to back (row r starts at base + r·rowBytes).

/// The storage type of a weight matrix. Raw values are this module's own; the file format maps its
/// dtype ids onto these.
public enum WeightType: UInt8, Sendable, CaseIterable {
    case f32, f16, bf16, q8, q4

    /// Lower-case name as used in docs and messages ("f32", "q4", …). Embedded Swift cannot
    /// interpolate enums, so messages use this.
    public var name: String {
        switch self {
        case .f32: return "f32"
        case .f16: return "f16"
        case .bf16: return "bf16"
        case .q8: return "q8"
        case .q4: return "q4"
        }
    }

    /// Columns must be a multiple of this.
    public var columnMultiple: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q8, .q4: return 32
        }
    }

    /// Bytes of one row of `cols` weights, or nil when `cols` is not a multiple of `columnMultiple`.
    public func rowBytes(cols: Int) -> Int? {
        guard cols >= 0, cols % columnMultiple == 0 else { return nil }
        switch self {
        case .f32: return 4 * cols
        case .f16, .bf16: return 2 * cols
        case .q8: return cols + cols / 16
        case .q4: return cols / 2 + 16 * ((cols + 255) / 256)
        }
    }
}

/// A [rows × cols] weight matrix (PyTorch Linear layout: rows = output features, cols = input features),
/// viewed in place (typically inside the memory-mapped model file).
public struct WeightMatrix: @unchecked Sendable {
    public let type: WeightType
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int
    public let base: UnsafeRawPointer

    /// `base` must hold `rows · type.rowBytes(cols:)` bytes and stay valid while the view is used.
    public init(type: WeightType, rows: Int, cols: Int, base: UnsafeRawPointer) {
        precondition(rows >= 0 && cols >= 0, "WeightMatrix: negative shape")
        guard let rb = type.rowBytes(cols: cols) else {
            preconditionFailure("WeightMatrix: " + type.name + " needs cols % " + String(type.columnMultiple)
                                + " == 0, got " + String(cols))
        }
        self.type = type
        self.rows = rows
        self.cols = cols
        self.rowBytes = rb
        self.base = base
    }

    public var byteCount: Int { rows * rowBytes }

    @inline(__always) public func row(_ r: Int) -> UnsafeRawPointer { base + r &* rowBytes }
}
