// Fast neural-net ops: the same signatures and semantics as NN/ReferenceNN.swift, in Float with SIMD8
// accumulators and unchecked pointer arithmetic. Error budgets vs the reference are in NNKernelsTests.
// Conv1d is im2col + Kernels.matmul, so it speeds up with the matmul kernels for every weight type.

extension Kernels {
    @inline(__always) static func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        while i &+ 16 <= n {
            acc0 = acc0.addingProduct(load8(a, i), load8(b, i))
            acc1 = acc1.addingProduct(load8(a, i &+ 8), load8(b, i &+ 8))
            i &+= 16
        }
        if i &+ 8 <= n {
            acc0 = acc0.addingProduct(load8(a, i), load8(b, i))
            i &+= 8
        }
        let v = acc0 + acc1
        let h4 = v.lowHalf + v.highHalf
        let h2 = h4.lowHalf + h4.highHalf
        var s = h2[0] + h2[1]
        while i < n { s += a[i] * b[i]; i &+= 1 }
        return s
    }

    /// y += a · x over n values.
    @inline(__always) static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let av = SIMD8<Float>(repeating: a)
        while i &+ 8 <= n {
            let yv = UnsafeMutableRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv.addingProduct(av, xv), as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < n { y[i] += a * x[i]; i &+= 1 }
    }

    /// Same as `Reference.rmsNorm`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                               rows: Int, dim: Int, _ y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r &* dim, yr = y + r &* dim
            let ss = dot(xr, xr, dim)
            let inv = 1 / (ss / Float(dim) + eps).squareRoot()
            for i in 0..<dim { yr[i] = (xr[i] * inv) * weight[i] }
        }
    }

    /// Same as `Reference.layerNorm` (two passes in Float).
    public static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 eps: Float, rows: Int, dim: Int, _ y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r &* dim, yr = y + r &* dim
            var s: Float = 0
            for i in 0..<dim { s += xr[i] }
            let mean = s / Float(dim)
            var v: Float = 0
            for i in 0..<dim { let d = xr[i] - mean; v += d * d }
            let inv = 1 / (v / Float(dim) + eps).squareRoot()
            for i in 0..<dim { yr[i] = (xr[i] - mean) * inv * weight[i] + bias[i] }
        }
    }

    /// Same as `Reference.softmax`.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var m = -Float.infinity
        for i in 0..<count { m = Swift.max(m, x[i]) }
        var s: Float = 0
        for i in 0..<count { let e = x[i] == -.infinity ? 0 : expf(x[i] - m); x[i] = e; s += e }
        let inv = 1 / s
        for i in 0..<count { x[i] *= inv }
    }

    /// Same as `Reference.gelu` (exact-erf GELU).
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; x[i] = v * 0.5 * (1 + erff(v * 0.707_106_77)) }
    }

    /// Same as `Reference.silu`.
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; x[i] = v / (1 + expf(-v)) }
    }

    /// Same as `Reference.swiglu`: y = up ⊙ SiLU(gate).
    public static func swiglu(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int,
                              _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { let g = gate[i]; y[i] = up[i] * (g / (1 + expf(-g))) }
    }

    /// Same as `Reference.add`.
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = a[i] + b[i] }
    }

    /// Same as `Reference.mul`.
    public static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = a[i] * b[i] }
    }

    /// Same as `Reference.addBias`.
    public static func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, dim: Int) {
        for r in 0..<rows {
            let xr = x + r &* dim
            for i in 0..<dim { xr[i] += bias[i] }
        }
    }

    /// Same as `Reference.ropeRotateHalf`.
    public static func ropeRotateHalf(_ x: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDim: Int,
                                      rowStride: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
                                      scale: UnsafePointer<Float>?) {
        let half = headDim / 2
        for t in 0..<tokens {
            let s: Float = scale?[t] ?? 1
            let c = cos + t &* half, sn = sin + t &* half
            for k in 0..<heads {
                let p = x + (t &* rowStride &+ k &* headDim)
                for j in 0..<half {
                    let a = p[j], b = p[j &+ half]
                    p[j] = (a * c[j] - b * sn[j]) * s
                    p[j &+ half] = (b * c[j] + a * sn[j]) * s
                }
            }
        }
    }

    /// Same as `Reference.conv1dK3`, as im2col + `Kernels.matmul`. `scratch` must hold outFrames · 3·inChannels floats.
    public static func conv1dK3(_ x: UnsafePointer<Float>, inFrames: Int, inChannels: Int, stride: Int,
                                weight w: WeightMatrix, bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                scratch: UnsafeMutablePointer<Float>) {
        let outFrames = (inFrames - 1) / stride + 1
        let m = inChannels, cols = 3 &* m
        // col[t, k·M + m] = x[t·stride + k − 1, m]  (zero outside the input)
        for t in 0..<outFrames {
            let dst = scratch + t &* cols
            for k in 0..<3 {
                let src = t &* stride &+ k &- 1
                if src < 0 || src >= inFrames {
                    (dst + k &* m).update(repeating: 0, count: m)
                } else {
                    (dst + k &* m).update(from: x + src &* m, count: m)
                }
            }
        }
        matmul(w, UnsafePointer(scratch), tokens: outFrames, y)
        addBias(y, bias, rows: outFrames, dim: w.rows)
    }

    /// Same as `Reference.avgPool2`.
    public static func avgPool2(_ x: UnsafePointer<Float>, frames: Int, channels: Int, _ y: UnsafeMutablePointer<Float>) {
        for t in 0..<(frames / 2) {
            let a = x + 2 &* t &* channels, b = a + channels, d = y + t &* channels
            for c in 0..<channels { d[c] = (a[c] + b[c]) * 0.5 }
        }
    }

    /// Same as `Reference.attention`. f16 keys/values are widened per head into a scratch buffer first.
    public static func attention(q: UnsafePointer<Float>, qStride: Int, tokens: Int, firstPosition: Int,
                                 keys: KVStorage, values: KVStorage, kvStride: Int, keyCount: Int,
                                 heads: Int, headDim: Int, scale: Float, causal: Bool,
                                 out: UnsafeMutablePointer<Float>, outStride: Int) {
        guard keyCount > 0, tokens > 0 else { return }
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: keyCount)
        defer { scores.deallocate() }
        // Per-head contiguous f32 copies (only when the storage is f16).
        var widened: UnsafeMutablePointer<Float>? = nil
        if case .f16 = keys { widened = .allocate(capacity: 2 &* keyCount &* headDim) }
        if case .f16 = values, widened == nil { widened = .allocate(capacity: 2 &* keyCount &* headDim) }
        defer { widened?.deallocate() }

        for h in 0..<heads {
            let kBase: UnsafePointer<Float>, kStride: Int, vBase: UnsafePointer<Float>, vStride: Int
            switch keys {
            case .f32(let p): kBase = UnsafePointer(p + h &* headDim); kStride = kvStride
            case .f16(let p):
                let dst = widened!
                for j in 0..<keyCount {
                    let s = p + (j &* kvStride &+ h &* headDim), d = dst + j &* headDim
                    for i in 0..<headDim { d[i] = Float(s[i]) }
                }
                kBase = UnsafePointer(dst); kStride = headDim
            }
            switch values {
            case .f32(let p): vBase = UnsafePointer(p + h &* headDim); vStride = kvStride
            case .f16(let p):
                let dst = widened! + keyCount &* headDim
                for j in 0..<keyCount {
                    let s = p + (j &* kvStride &+ h &* headDim), d = dst + j &* headDim
                    for i in 0..<headDim { d[i] = Float(s[i]) }
                }
                vBase = UnsafePointer(dst); vStride = headDim
            }
            for t in 0..<tokens {
                let visible = causal ? Swift.min(firstPosition &+ t &+ 1, keyCount) : keyCount
                let qh = q + (t &* qStride &+ h &* headDim)
                var m = -Float.infinity
                for j in 0..<visible {
                    let s = dot(qh, kBase + j &* kStride, headDim) * scale
                    scores[j] = s
                    m = Swift.max(m, s)
                }
                var sum: Float = 0
                for j in 0..<visible { let e = expf(scores[j] - m); scores[j] = e; sum += e }
                let oh = out + (t &* outStride &+ h &* headDim)
                oh.update(repeating: 0, count: headDim)
                for j in 0..<visible { axpy(scores[j], vBase + j &* vStride, oh, headDim) }
                let inv = 1 / sum
                for i in 0..<headDim { oh[i] *= inv }
            }
        }
    }
}
