// ReferenceLSTM: the scalar Double definition of one LSTM step (Silero VAD's decoder); `Kernels.lstmStep`
// (NN/LSTMStep.swift) is the fast twin with the same signature.
#if !hasFeature(Embedded)
#if canImport(Glibc)
import Glibc
#endif
#endif

extension Reference {
    /// One LSTM step in place on h [H] and c [H]. `w` is W_hh [4H × H] of any weight type; `scratch` holds 4H floats.
    public static func lstmStep(pre: UnsafePointer<Float>, w: WeightMatrix, h: UnsafeMutablePointer<Float>,
                                c: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let H = w.cols
        precondition(w.rows == 4 * H, "lstmStep: W_hh must be [4H × H]")
        let row = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(H, 1))
        defer { row.deallocate() }
        for r in 0..<(4 * H) {
            dequantizeRow(w, r, row)
            var s = Double(pre[r])
            for k in 0..<H { s += Double(row[k]) * Double(h[k]) }
            scratch[r] = Float(s)
        }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        func tanh(_ x: Double) -> Double { let e = exp(-2 * x.magnitude); return (x < 0 ? -1 : 1) * (1 - e) / (1 + e) }
        for j in 0..<H {
            let i = sigmoid(Double(scratch[j])), f = sigmoid(Double(scratch[H + j]))
            let g = tanh(Double(scratch[2 * H + j])), o = sigmoid(Double(scratch[3 * H + j]))
            let cj = f * Double(c[j]) + i * g
            c[j] = Float(cj)
            h[j] = Float(o * tanh(cj))
        }
    }
}
