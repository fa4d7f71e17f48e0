// WhisperMath: the small f32 ops the Whisper decoder needs around the matmuls (LayerNorm, exact GELU, bias,
// softmax attention over a cache). Plain loops; they move to the shared NN ops when those land.
import EarshotKernels
import Glibc

enum WhisperMath {
    /// y = LayerNorm(x) · w + b over rows of `n` (eps 1e-5, as torch.nn.LayerNorm). x, y: [rows × n].
    static func layerNorm(_ x: UnsafePointer<Float>, _ w: [Float], _ b: [Float], rows: Int, n: Int,
                          _ y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r * n, yr = y + r * n
            var mean: Float = 0
            for i in 0..<n { mean += xr[i] }
            mean /= Float(n)
            var variance: Float = 0
            for i in 0..<n { let d = xr[i] - mean; variance += d * d }
            variance /= Float(n)
            let inv = 1 / (variance + 1e-5).squareRoot()
            for i in 0..<n { yr[i] = (xr[i] - mean) * inv * w[i] + b[i] }
        }
    }

    /// y[t, :] = x[t, :] · Wᵀ (+ bias).
    static func linear(_ w: WeightMatrix, _ bias: [Float]?, _ x: UnsafePointer<Float>, rows: Int,
                       _ y: UnsafeMutablePointer<Float>) {
        Kernels.matmul(w, x, tokens: rows, y)
        if let bias {
            for t in 0..<rows { let yt = y + t * w.rows; for i in 0..<w.rows { yt[i] += bias[i] } }
        }
    }

    /// Exact GELU: x · Φ(x) = 0.5 x (1 + erf(x / √2)), in place.
    static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752)) }
    }

    /// One query row against `keys` [count × stride] / `values` (head slice at `offset`, width `dh`):
    /// out[0..<dh] = softmax(q·kᵀ · scale) · v. `scores` holds `count` floats of scratch.
    static func attend(query q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                       count: Int, stride: Int, offset: Int, dh: Int, scale: Float,
                       scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        var maxScore = -Float.infinity
        for j in 0..<count {
            let k = keys + j * stride + offset
            var s: Float = 0
            for i in 0..<dh { s += q[i] * k[i] }
            s *= scale
            scores[j] = s
            if s > maxScore { maxScore = s }
        }
        var sum: Float = 0
        for j in 0..<count { let e = expf(scores[j] - maxScore); scores[j] = e; sum += e }
        let inv = 1 / sum
        for i in 0..<dh { out[i] = 0 }
        for j in 0..<count {
            let p = scores[j] * inv
            let v = values + j * stride + offset
            for i in 0..<dh { out[i] += p * v[i] }
        }
    }

    /// log-softmax of a row, in Double for a stable sum; returns the log-probabilities.
    static func logSoftmax(_ x: UnsafeBufferPointer<Float>) -> [Float] {
        var m = -Float.infinity
        for v in x where v > m { m = v }
        var sum = 0.0
        for v in x where v > -Float.infinity { sum += exp(Double(v - m)) }
        let lse = Double(m) + log(sum)
        return x.map { $0 == -Float.infinity ? -Float.infinity : Float(Double($0) - lse) }
    }
}
