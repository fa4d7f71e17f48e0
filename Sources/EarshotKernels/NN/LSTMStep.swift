// LSTMStep: one time step of an LSTM cell, the sequential part of a recurrent network (Silero VAD runs one per
// 32 ms window). The input projections of all steps are one GEMM beforehand (`Kernels.matmul`); this op adds
// the recurrent product and applies the gates, on the calling thread only: a 4H × H matrix-vector product at
// H = 128 is a few microseconds, less than a fork/join of the thread pool.
//
// Gate order (PyTorch): rows 0..<H input i, H..<2H forget f, 2H..<3H cell g, 3H..<4H output o.
//   z = pre + W_hh · h                 pre [4H] = W_ih · x + b_ih + b_hh, W_hh [4H × H]
//   c ← σ(z_f) · c + σ(z_i) · tanh(z_g)
//   h ← σ(z_o) · tanh(c)
// `Reference.lstmStep` is the scalar Double definition; `Kernels.lstmStep` the fast one (same signature;
// NNKernelsTests compares them).

import EarshotKernelsAVX512

extension Kernels {
    /// Same as `Reference.lstmStep`: f32 W_hh through the SIMD dot of this CPU level (one thread), gates with
    /// `Kernels.expf`. Other weight types fall back to the reference.
    public static func lstmStep(pre: UnsafePointer<Float>, w: WeightMatrix, h: UnsafeMutablePointer<Float>,
                                c: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let H = w.cols
        precondition(w.rows == 4 * H, "lstmStep: W_hh must be [4H × H]")
        guard w.type == .f32, Kernels.path != .reference else { return Reference.lstmStep(pre: pre, w: w, h: h, c: c, scratch: scratch) }
        #if arch(x86_64)
        if nativePath(Kernels.path) == .avx512 {
            AVX512.floatMatmul(w.base, kind: 0, rowBytes: w.rowBytes, cols: H, rows: 0..<(4 * H), UnsafePointer(h), tokens: 1, scratch, ldy: 4 * H)
        } else {
            for r in 0..<(4 * H) { scratch[r] = PortableFloat.dotF32(w.row(r), UnsafePointer(h), H) }
        }
        #else
        for r in 0..<(4 * H) { scratch[r] = PortableFloat.dotF32(w.row(r), UnsafePointer(h), H) }
        #endif
        for j in 0..<H {
            let zi = scratch[j] + pre[j], zf = scratch[H &+ j] + pre[H &+ j]
            let zg = scratch[2 &* H &+ j] + pre[2 &* H &+ j], zo = scratch[3 &* H &+ j] + pre[3 &* H &+ j]
            let cj = sigmoidF(zf) * c[j] + sigmoidF(zi) * tanhF(zg)
            c[j] = cj
            h[j] = sigmoidF(zo) * tanhF(cj)
        }
    }

    @inline(__always) static func sigmoidF(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// tanh from one exponential of −2|x| (no cancellation for large |x|; absolute error ≈ 1e-7 near 0).
    @inline(__always) static func tanhF(_ x: Float) -> Float {
        let e = expf(-2 * x.magnitude)
        let t = (1 - e) / (1 + e)
        return x < 0 ? -t : t
    }
}
