// Embedding: row gather — dequantize chosen rows of a weight matrix (token embeddings) to f32.

extension Kernels {
    /// out[i, :] = W[rows[i], :] as f32. `out`: [rows.count × w.cols].
    /// Throws `.rowOutOfRange` (before writing anything) if an index is outside 0..<w.rows.
    public static func embed(_ w: WeightMatrix, rows: UnsafeBufferPointer<Int>,
                             _ out: UnsafeMutablePointer<Float>) throws(KernelError) {
        for r in rows where r < 0 || r >= w.rows { throw .rowOutOfRange(row: r, rows: w.rows) }
        for (i, r) in rows.enumerated() { Reference.dequantizeRow(w, r, out + i &* w.cols) }
    }

    /// Array convenience for `embed(_:rows:_:)`.
    public static func embed(_ w: WeightMatrix, rows: [Int], _ out: UnsafeMutablePointer<Float>) throws(KernelError) {
        try rows.withUnsafeBufferPointer { (b) throws(KernelError) in try embed(w, rows: b, out) }
    }
}
