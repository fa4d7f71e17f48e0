// Reference (scalar, obviously-correct) linear-algebra kernels. Every fast kernel is tested against these.

public enum Reference {}

extension Reference {
    /// y[t, r] = Σ_k W[r, k] · x[t, k] for t < tokens.
    /// x: [tokens × w.cols] f32 row-major; y: [tokens × w.rows] f32 row-major. Accumulates in Double.
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int,
                              _ y: UnsafeMutablePointer<Float>) {
        var rowValues = [Float](repeating: 0, count: w.cols)
        for r in 0..<w.rows {
            rowValues.withUnsafeMutableBufferPointer { dequantizeRow(w, r, $0.baseAddress!) }
            for t in 0..<tokens {
                var acc = 0.0
                let xt = x + t &* w.cols
                for k in 0..<w.cols { acc += Double(rowValues[k]) * Double(xt[k]) }
                y[t &* w.rows &+ r] = Float(acc)
            }
        }
    }

    /// Row `r` of `w` as f32 values (`out` holds w.cols floats).
    public static func dequantizeRow(_ w: WeightMatrix, _ r: Int, _ out: UnsafeMutablePointer<Float>) {
        let p = w.row(r)
        switch w.type {
        case .f32:
            for k in 0..<w.cols { out[k] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 &* k, as: UInt32.self))) }
        case .f16:
            for k in 0..<w.cols { out[k] = loadF16(p, 2 &* k) }
        case .bf16:
            for k in 0..<w.cols {
                out[k] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 &* k, as: UInt16.self))) << 16)
            }
        case .q8:
            Q8Block.dequantizeRow(p, cols: w.cols, out)
        case .q4:
            Q4Block.dequantizeRow(p, cols: w.cols, out)
        }
    }
}
