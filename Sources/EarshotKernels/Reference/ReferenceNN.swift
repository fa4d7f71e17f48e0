// Reference (scalar, Double-accumulating) neural-net ops. Every fast op in NN/FastNN.swift has the same
// signature and is tested against these (Tests/EarshotKernelsTests/NN*Tests.swift).
// Layouts: activations are row-major [rows × dim] f32; "in place" ops overwrite their input.

extension Reference {
    /// y[r, :] = x[r, :] / sqrt(mean(x[r, :]²) + eps) · weight            (Qwen RMSNorm; x, y: [rows × dim])
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                               rows: Int, dim: Int, _ y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r * dim, yr = y + r * dim
            var ss = 0.0
            for i in 0..<dim { ss += Double(xr[i]) * Double(xr[i]) }
            let inv = 1 / (ss / Double(dim) + Double(eps)).squareRoot()
            for i in 0..<dim { yr[i] = Float(Double(xr[i]) * inv) * weight[i] }
        }
    }

    /// y[r, :] = (x − mean) / sqrt(var + eps) · weight + bias   (biased variance; x, y: [rows × dim])
    public static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 eps: Float, rows: Int, dim: Int, _ y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r * dim, yr = y + r * dim
            var mean = 0.0
            for i in 0..<dim { mean += Double(xr[i]) }
            mean /= Double(dim)
            var v = 0.0
            for i in 0..<dim { let d = Double(xr[i]) - mean; v += d * d }
            let inv = 1 / (v / Double(dim) + Double(eps)).squareRoot()
            for i in 0..<dim { yr[i] = Float((Double(xr[i]) - mean) * inv * Double(weight[i]) + Double(bias[i])) }
        }
    }

    /// Numerically stable softmax over `count` values, in place. −∞ entries get probability 0.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var m = -Double.infinity
        for i in 0..<count { m = Swift.max(m, Double(x[i])) }
        var s = 0.0
        var e = [Double](repeating: 0, count: count)
        for i in 0..<count { e[i] = x[i] == -.infinity ? 0 : exp(Double(x[i]) - m); s += e[i] }
        for i in 0..<count { x[i] = Float(e[i] / s) }
    }

    /// x ← x · ½(1 + erf(x/√2))   (exact-erf GELU, PyTorch's default), in place over `count` values.
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = Double(x[i])
            x[i] = Float(v * 0.5 * (1 + erf(v * 0.70710678118654752440)))
        }
    }

    /// x ← x · sigmoid(x), in place.
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = Double(x[i]); x[i] = Float(v / (1 + exp(-v))) }
    }

    /// y = up ⊙ SiLU(gate)   (Qwen MLP: gate = w2 branch, up = w1 branch). y may alias up or gate.
    public static func swiglu(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int,
                              _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let g = Double(gate[i])
            y[i] = Float(Double(up[i]) * (g / (1 + exp(-g))))
        }
    }

    /// y = a + b (elementwise, `count` values; y may alias a or b).
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = a[i] + b[i] }
    }

    /// y = a ⊙ b (elementwise; y may alias a or b).
    public static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = a[i] * b[i] }
    }

    /// x[r, :] += bias for every row, in place (x: [rows × dim]).
    public static func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, dim: Int) {
        for r in 0..<rows { for i in 0..<dim { x[r * dim + i] += bias[i] } }
    }

    /// Rotate-half RoPE in place on `heads` heads of `headDim` values in each of `tokens` rows:
    ///   x'[j] = x[j]·cos[t, j] − x[j+h]·sin[t, j],  x'[j+h] = x[j+h]·cos[t, j] + x[j]·sin[t, j]   (h = headDim/2, j < h)
    /// then, when `scale` is given, x' ·= scale[t] (Qwen's logn query scaling).
    /// x: row t at x + t·rowStride, head k at offset k·headDim. cos, sin: [tokens × headDim/2]; scale: [tokens].
    public static func ropeRotateHalf(_ x: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDim: Int,
                                      rowStride: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
                                      scale: UnsafePointer<Float>?) {
        let half = headDim / 2
        for t in 0..<tokens {
            let s = scale.map { Double($0[t]) } ?? 1
            for k in 0..<heads {
                let p = x + t * rowStride + k * headDim
                for j in 0..<half {
                    let c = Double(cos[t * half + j]), sn = Double(sin[t * half + j])
                    let a = Double(p[j]), b = Double(p[j + half])
                    p[j] = Float(Float(a * c - b * sn) * Float(s))
                    p[j + half] = Float(Float(b * c + a * sn) * Float(s))
                }
            }
        }
    }

    /// Conv1d, kernel 3, padding 1, time-major: x [inFrames × inChannels], y [outFrames × w.rows] with
    /// outFrames = (inFrames − 1)/stride + 1 and y[t, s] = bias[s] + Σ_{k,m} W[s, k·M + m] · x[t·stride + k − 1, m]
    /// (x outside [0, inFrames) is 0). `w` is the converter's [S × 3·M] layout (W[s, k·M+m] = conv[s, m, k]).
    public static func conv1dK3(_ x: UnsafePointer<Float>, inFrames: Int, inChannels: Int, stride: Int,
                                weight w: WeightMatrix, bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let outFrames = (inFrames - 1) / stride + 1
        var row = [Float](repeating: 0, count: w.cols)
        for s in 0..<w.rows {
            row.withUnsafeMutableBufferPointer { dequantizeRow(w, s, $0.baseAddress!) }
            for t in 0..<outFrames {
                var acc = Double(bias[s])
                for k in 0..<3 {
                    let src = t * stride + k - 1
                    if src < 0 || src >= inFrames { continue }
                    for m in 0..<inChannels { acc += Double(row[k * inChannels + m]) * Double(x[src * inChannels + m]) }
                }
                y[t * w.rows + s] = Float(acc)
            }
        }
    }

    /// AvgPool1d(2, stride 2) over time, time-major: x [frames × channels] → y [frames/2 × channels] (odd last frame dropped).
    public static func avgPool2(_ x: UnsafePointer<Float>, frames: Int, channels: Int, _ y: UnsafeMutablePointer<Float>) {
        for t in 0..<(frames / 2) {
            for c in 0..<channels { y[t * channels + c] = (x[2 * t * channels + c] + x[(2 * t + 1) * channels + c]) * 0.5 }
        }
    }

    /// Multi-head scaled dot-product attention (every query head has its own key/value head).
    public static func attention(q: UnsafePointer<Float>, qStride: Int, tokens: Int, firstPosition: Int,
                                 keys: KVStorage, values: KVStorage, kvStride: Int, keyCount: Int,
                                 heads: Int, headDim: Int, scale: Float, causal: Bool,
                                 out: UnsafeMutablePointer<Float>, outStride: Int) {
        attention(q: q, qStride: qStride, tokens: tokens, firstPosition: firstPosition, keys: keys, values: values,
                  kvStride: kvStride, keyCount: keyCount, heads: heads, kvHeads: heads, headDim: headDim, scale: scale,
                  causal: causal, out: out, outStride: outStride)
    }

    /// Grouped-query scaled dot-product attention: `heads` query heads share `kvHeads` key/value heads
    /// (heads % kvHeads == 0); query head h reads key/value head h / (heads / kvHeads).
    ///   q: [tokens × …], query t's head h at q + t·qStride + h·headDim; its absolute position is firstPosition + t.
    ///   keys/values: rows 0..<keyCount, row p's KV head g at p·kvStride + g·headDim.
    ///   causal: query t sees keys 0...firstPosition+t; otherwise all `keyCount` keys.
    ///   out: [tokens × …], head h at out + t·outStride + h·headDim.   scores = q·k · scale, softmax, · v.
    public static func attention(q: UnsafePointer<Float>, qStride: Int, tokens: Int, firstPosition: Int,
                                 keys: KVStorage, values: KVStorage, kvStride: Int, keyCount: Int,
                                 heads: Int, kvHeads: Int, headDim: Int, scale: Float, causal: Bool,
                                 out: UnsafeMutablePointer<Float>, outStride: Int) {
        let group = Swift.max(1, heads / Swift.max(kvHeads, 1))
        var p = [Double](repeating: 0, count: keyCount)
        for t in 0..<tokens {
            let visible = causal ? Swift.min(firstPosition + t + 1, keyCount) : keyCount
            for h in 0..<heads {
                let qh = q + t * qStride + h * headDim
                let kv = (h / group) * headDim
                var m = -Double.infinity
                for j in 0..<visible {
                    var dot = 0.0
                    for d in 0..<headDim { dot += Double(qh[d]) * Double(keys.load(j * kvStride + kv + d)) }
                    p[j] = dot * Double(scale)
                    m = Swift.max(m, p[j])
                }
                var sum = 0.0
                for j in 0..<visible { p[j] = exp(p[j] - m); sum += p[j] }
                let oh = out + t * outStride + h * headDim
                for d in 0..<headDim {
                    var acc = 0.0
                    for j in 0..<visible { acc += p[j] * Double(values.load(j * kvStride + kv + d)) }
                    oh[d] = Float(acc / sum)
                }
            }
        }
    }
}
