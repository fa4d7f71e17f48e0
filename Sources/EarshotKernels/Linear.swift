// Linear: the dispatching entry point for y = x · Wᵀ. Fast paths plug in here; the reference is the fallback.

public enum Kernels {
    /// y[t, r] = Σ_k W[r, k] · x[t, k].  x: [tokens × w.cols], y: [tokens × w.rows], both f32 row-major.
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int,
                              _ y: UnsafeMutablePointer<Float>) {
        Reference.matmul(w, x, tokens: tokens, y)
    }
}
