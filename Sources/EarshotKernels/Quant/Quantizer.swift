// Quantizer: reference (scalar, deterministic) conversion of f32 rows into any WeightType's row bytes.
// The converter uses these; the same input gives the same bytes on every machine and CPU path.

public enum Quantizer {
    /// Encodes one row of `cols` f32 values as `type` into `out` (type.rowBytes(cols:) bytes).
    /// f16 and bf16 round to nearest even; q8 and q4 follow Formats/quant-blocks.md.
    public static func quantizeRow(_ type: WeightType, _ x: UnsafePointer<Float>, cols: Int,
                                   _ out: UnsafeMutableRawPointer) throws(KernelError) {
        guard cols >= 0 else { throw .invalidShape(rows: 1, cols: cols) }
        guard type.rowBytes(cols: cols) != nil else {
            throw .columnsNotMultiple(type: type, cols: cols, multiple: type.columnMultiple)
        }
        switch type {
        case .f32:
            for k in 0..<cols { out.storeBytes(of: x[k].bitPattern.littleEndian, toByteOffset: 4 &* k, as: UInt32.self) }
        case .f16:
            for k in 0..<cols { out.storeBytes(of: Float16(x[k]).bitPattern.littleEndian, toByteOffset: 2 &* k, as: UInt16.self) }
        case .bf16:
            for k in 0..<cols { out.storeBytes(of: bf16Bits(x[k]).littleEndian, toByteOffset: 2 &* k, as: UInt16.self) }
        case .q8:
            Q8Block.quantizeRow(x, cols: cols, out)
        case .q4:
            Q4Block.quantizeRow(x, cols: cols, out)
        }
    }

    /// Encodes a [rows × cols] f32 matrix (row-major) as `type`; `out` holds rows · rowBytes bytes.
    public static func quantize(_ type: WeightType, rows: Int, cols: Int, _ x: UnsafePointer<Float>,
                                _ out: UnsafeMutableRawPointer) throws(KernelError) {
        guard rows >= 0, cols >= 0 else { throw .invalidShape(rows: rows, cols: cols) }
        guard let rb = type.rowBytes(cols: cols) else {
            throw .columnsNotMultiple(type: type, cols: cols, multiple: type.columnMultiple)
        }
        for r in 0..<rows { try quantizeRow(type, x + r &* cols, cols: cols, out + r &* rb) }
    }

    /// f32 → bfloat16 bits, round to nearest even (NaN stays NaN).
    @inline(__always) public static func bf16Bits(_ v: Float) -> UInt16 {
        let b = v.bitPattern
        if v.isNaN { return UInt16(truncatingIfNeeded: b >> 16) | 0x40 }
        let rounded = b &+ 0x7FFF &+ ((b >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }
}
