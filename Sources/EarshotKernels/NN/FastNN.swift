// Fast neural-net ops: the same signatures and semantics as NN/ReferenceNN.swift, in Float with SIMD8
// accumulators and unchecked pointer arithmetic. Error budgets vs the reference are in NNKernelsTests.
// Conv1d is im2col + Kernels.matmul, so it speeds up with the matmul kernels for every weight type.
// With `Kernels.path == .reference` (EARSHOT_KERNELS=reference) every entry point runs its Reference twin.

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
        if path == .reference { return Reference.rmsNorm(x, weight: weight, eps: eps, rows: rows, dim: dim, y) }
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
        if path == .reference { return Reference.layerNorm(x, weight: weight, bias: bias, eps: eps, rows: rows, dim: dim, y) }
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
        if path == .reference { return Reference.softmax(x, count: count) }
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
        if path == .reference { return Reference.gelu(x, count: count) }
        for i in 0..<count { let v = x[i]; x[i] = v * 0.5 * (1 + erff(v * 0.707_106_77)) }
    }

    /// Same as `Reference.silu`.
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        if path == .reference { return Reference.silu(x, count: count) }
        for i in 0..<count { let v = x[i]; x[i] = v / (1 + expf(-v)) }
    }

    /// Same as `Reference.swiglu`: y = up ⊙ SiLU(gate).
    public static func swiglu(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int,
                              _ y: UnsafeMutablePointer<Float>) {
        if path == .reference { return Reference.swiglu(gate: gate, up: up, count: count, y) }
        for i in 0..<count { let g = gate[i]; y[i] = up[i] * (g / (1 + expf(-g))) }
    }

    /// Same as `Reference.add`.
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, _ y: UnsafeMutablePointer<Float>) {
        if path == .reference { return Reference.add(a, b, count: count, y) }
        for i in 0..<count { y[i] = a[i] + b[i] }
    }

    /// Same as `Reference.mul`.
    public static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, _ y: UnsafeMutablePointer<Float>) {
        if path == .reference { return Reference.mul(a, b, count: count, y) }
        for i in 0..<count { y[i] = a[i] * b[i] }
    }

    /// Same as `Reference.addBias`.
    public static func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, dim: Int) {
        if path == .reference { return Reference.addBias(x, bias, rows: rows, dim: dim) }
        for r in 0..<rows {
            let xr = x + r &* dim
            for i in 0..<dim { xr[i] += bias[i] }
        }
    }

    /// Same as `Reference.ropeRotateHalf`.
    public static func ropeRotateHalf(_ x: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDim: Int,
                                      rowStride: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
                                      scale: UnsafePointer<Float>?) {
        if path == .reference { return Reference.ropeRotateHalf(x, tokens: tokens, heads: heads, headDim: headDim, rowStride: rowStride, cos: cos, sin: sin, scale: scale) }
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
        if path == .reference { return Reference.conv1dK3(x, inFrames: inFrames, inChannels: inChannels, stride: stride, weight: w, bias: bias, y) }
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
        if path == .reference { return Reference.avgPool2(x, frames: frames, channels: channels, y) }
        for t in 0..<(frames / 2) {
            let a = x + 2 &* t &* channels, b = a + channels, d = y + t &* channels
            for c in 0..<channels { d[c] = (a[c] + b[c]) * 0.5 }
        }
    }

    /// Same as `Reference.attention` (one key/value head per query head).
    public static func attention(q: UnsafePointer<Float>, qStride: Int, tokens: Int, firstPosition: Int,
                                 keys: KVStorage, values: KVStorage, kvStride: Int, keyCount: Int,
                                 heads: Int, headDim: Int, scale: Float, causal: Bool,
                                 out: UnsafeMutablePointer<Float>, outStride: Int) {
        attention(q: q, qStride: qStride, tokens: tokens, firstPosition: firstPosition, keys: keys, values: values,
                  kvStride: kvStride, keyCount: keyCount, heads: heads, kvHeads: heads, headDim: headDim, scale: scale,
                  causal: causal, out: out, outStride: outStride)
    }

    /// Same as `Reference.attention` with grouped-query heads (query head h reads KV head h / (heads/kvHeads)).
    /// With `flashMinQueries` or more queries (encoder, prefill) the blocked online-softmax kernel runs
    /// (FlashAttention.swift), KV heads × query chunks in parallel on the thread pool; fewer queries (decode)
    /// take the row-at-a-time path, `attentionRowwise`.
    public static func attention(q: UnsafePointer<Float>, qStride: Int, tokens: Int, firstPosition: Int,
                                 keys: KVStorage, values: KVStorage, kvStride: Int, keyCount: Int,
                                 heads: Int, kvHeads: Int, headDim: Int, scale: Float, causal: Bool,
                                 out: UnsafeMutablePointer<Float>, outStride: Int) {
        if path == .reference {
            return Reference.attention(q: q, qStride: qStride, tokens: tokens, firstPosition: firstPosition, keys: keys, values: values,
                                       kvStride: kvStride, keyCount: keyCount, heads: heads, kvHeads: kvHeads, headDim: headDim,
                                       scale: scale, causal: causal, out: out, outStride: outStride)
        }
        guard keyCount > 0, tokens > 0, heads > 0 else { return }
        if tokens < flashMinQueries {
            attentionRowwise(q: q, qStride: qStride, tokens: tokens, firstPosition: firstPosition, keys: keys,
                             values: values, kvStride: kvStride, keyCount: keyCount, heads: heads, kvHeads: kvHeads,
                             headDim: headDim, scale: scale, causal: causal, out: out, outStride: outStride)
            return
        }
        let group = Swift.max(1, heads / Swift.max(kvHeads, 1)), groups = (heads &+ group &- 1) / group
        // Split each KV head's queries into chunks when there are too few KV heads to keep every thread busy.
        let threads = ThreadPool.current.activeThreads
        let blocks = (tokens &+ flashQueryBlock &- 1) / flashQueryBlock
        let chunks = Swift.max(1, Swift.min(blocks, (2 &* threads &+ groups &- 1) / groups))
        let blocksPerChunk = (blocks &+ chunks &- 1) / chunks
        let body: (Int) -> Void = { i in
            let g = i / chunks, c = i % chunks
            let t0 = c &* blocksPerChunk &* flashQueryBlock
            let t1 = Swift.min(tokens, t0 &+ blocksPerChunk &* flashQueryBlock)
            guard t0 < t1 else { return }
            flashAttentionHeads((g &* group)..<Swift.min(heads, (g &+ 1) &* group), kvHead: g,
                                q: q + t0 &* qStride, qStride: qStride, tokens: t1 &- t0,
                                firstPosition: firstPosition &+ t0, keys: keys, values: values, kvStride: kvStride,
                                keyCount: keyCount, headDim: headDim, scale: scale, causal: causal,
                                out: out + t0 &* outStride, outStride: outStride)
        }
        let items = groups &* chunks
        if items > 1 && threads > 1 {
            ThreadPool.current.parallelFor(items, body)
        } else {
            for i in 0..<items { body(i) }
        }
    }

    /// Same as `Reference.attention`, one query row at a time (one KV head per query head).
    public static func attentionRowwise(q: UnsafePointer<Float>, qStride: Int, tokens: Int, firstPosition: Int,
                                        keys: KVStorage, values: KVStorage, kvStride: Int, keyCount: Int,
                                        heads: Int, headDim: Int, scale: Float, causal: Bool,
                                        out: UnsafeMutablePointer<Float>, outStride: Int) {
        attentionRowwise(q: q, qStride: qStride, tokens: tokens, firstPosition: firstPosition, keys: keys, values: values,
                         kvStride: kvStride, keyCount: keyCount, heads: heads, kvHeads: heads, headDim: headDim,
                         scale: scale, causal: causal, out: out, outStride: outStride)
    }

    /// Same as `Reference.attention`, one query row at a time (dot per key, softmax, axpy per key); heads in
    /// parallel. The decode path of `attention`; public so benchmarks can compare it with the blocked kernel.
    /// f16 keys/values are read directly (widened 8 lanes at a time) when there are few queries; for more,
    /// each head's keys/values are widened once into a scratch buffer and the f32 path runs.
    public static func attentionRowwise(q: UnsafePointer<Float>, qStride: Int, tokens: Int, firstPosition: Int,
                                        keys: KVStorage, values: KVStorage, kvStride: Int, keyCount: Int,
                                        heads: Int, kvHeads: Int, headDim: Int, scale: Float, causal: Bool,
                                        out: UnsafeMutablePointer<Float>, outStride: Int) {
        guard keyCount > 0, tokens > 0, heads > 0 else { return }
        let group = Swift.max(1, heads / Swift.max(kvHeads, 1))
        let work = tokens &* keyCount &* headDim
        if tokens <= 4 {
            // Decode: each thread takes a contiguous block of heads and walks the cache position by position,
            // so it reads its heads' slice of every cached row in one run (a page-local stream) instead of one
            // 2·headDim-byte piece per 8 KB row, head after head. With GQA a block is whole KV groups when
            // possible, so each KV slice is read by one thread.
            let threads = heads > 1 && work >= 16_384 ? Swift.min(heads, ThreadPool.current.activeThreads) : 1
            let groups = (heads &+ group &- 1) / group
            let per = groups >= threads ? ((groups &+ threads &- 1) / threads) &* group : (heads &+ threads &- 1) / threads
            let block: (Int) -> Void = { i in
                let h0 = i &* per, h1 = Swift.min(heads, h0 &+ per)
                if h0 < h1 {
                    attentionHeadsKeyMajor(h0..<h1, group: group, q: q, qStride: qStride, tokens: tokens,
                                           firstPosition: firstPosition, keys: keys, values: values, kvStride: kvStride,
                                           keyCount: keyCount, headDim: headDim, scale: scale, causal: causal,
                                           out: out, outStride: outStride)
                }
            }
            if threads > 1 { ThreadPool.current.parallelFor(threads, block) } else { block(0) }
            return
        }
        let body: (Int) -> Void = { h in
            attentionHead(h, kvHead: h / group, q: q, qStride: qStride, tokens: tokens, firstPosition: firstPosition,
                          keys: keys, values: values, kvStride: kvStride, keyCount: keyCount, headDim: headDim,
                          scale: scale, causal: causal, out: out, outStride: outStride)
        }
        if heads > 1 && work >= 16_384 {
            ThreadPool.current.parallelFor(heads, body)
        } else {
            for h in 0..<heads { body(h) }
        }
    }

    static func attentionHead(_ h: Int, kvHead g: Int, q: UnsafePointer<Float>, qStride: Int, tokens: Int, firstPosition: Int,
                              keys: KVStorage, values: KVStorage, kvStride: Int, keyCount: Int,
                              headDim: Int, scale: Float, causal: Bool,
                              out: UnsafeMutablePointer<Float>, outStride: Int) {
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: keyCount)
        defer { scores.deallocate() }
        let widen = tokens > 4
        var widened: UnsafeMutablePointer<Float>? = nil
        defer { widened?.deallocate() }
        // Key/value row j of this head's KV head, as f32 (pointer + stride) or f16 (direct).
        var kF32: UnsafePointer<Float>? = nil, vF32: UnsafePointer<Float>? = nil
        var kF16: UnsafePointer<Float16>? = nil, vF16: UnsafePointer<Float16>? = nil
        var kStride = kvStride, vStride = kvStride
        switch keys {
        case .f32(let p): kF32 = UnsafePointer(p + g &* headDim)
        case .f16(let p):
            if widen {
                if widened == nil { widened = .allocate(capacity: 2 &* keyCount &* headDim) }
                widenRows(UnsafePointer(p + g &* headDim), kvStride, keyCount, headDim, widened!)
                kF32 = UnsafePointer(widened!); kStride = headDim
            } else { kF16 = UnsafePointer(p + g &* headDim) }
        }
        switch values {
        case .f32(let p): vF32 = UnsafePointer(p + g &* headDim)
        case .f16(let p):
            if widen {
                if widened == nil { widened = .allocate(capacity: 2 &* keyCount &* headDim) }
                let dst = widened! + keyCount &* headDim
                widenRows(UnsafePointer(p + g &* headDim), kvStride, keyCount, headDim, dst)
                vF32 = UnsafePointer(dst); vStride = headDim
            } else { vF16 = UnsafePointer(p + g &* headDim) }
        }
        for t in 0..<tokens {
            let visible = causal ? Swift.min(firstPosition &+ t &+ 1, keyCount) : keyCount
            let qh = q + (t &* qStride &+ h &* headDim)
            var m = -Float.infinity
            for j in 0..<visible {
                let d = kF32 != nil ? dot(qh, kF32! + j &* kStride, headDim) : dotHalf(qh, kF16! + j &* kStride, headDim)
                let s = d * scale
                scores[j] = s
                m = Swift.max(m, s)
            }
            let sum = exponentiateShifted(scores, visible, max: m)
            let oh = out + (t &* outStride &+ h &* headDim)
            oh.update(repeating: 0, count: headDim)
            if let vF32 {
                for j in 0..<visible { axpy(scores[j], vF32 + j &* vStride, oh, headDim) }
            } else {
                for j in 0..<visible { axpyHalf(scores[j], vF16! + j &* vStride, oh, headDim) }
            }
            let inv = 1 / sum
            for i in 0..<headDim { oh[i] *= inv }
        }
    }

    /// `attentionHead` for the heads in `hs` (few queries, KV read in place; head h reads KV head h / group),
    /// with the key loop outside the head loop. Per head the arithmetic and its order are those of `attentionHead` (same results).
    static func attentionHeadsKeyMajor(_ hs: Range<Int>, group: Int, q: UnsafePointer<Float>, qStride: Int, tokens: Int,
                                       firstPosition: Int, keys: KVStorage, values: KVStorage, kvStride: Int,
                                       keyCount: Int, headDim: Int, scale: Float, causal: Bool,
                                       out: UnsafeMutablePointer<Float>, outStride: Int) {
        let nh = hs.count
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: nh &* keyCount)
        defer { scores.deallocate() }
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: nh)
        defer { sums.deallocate() }
        for t in 0..<tokens {
            let visible = causal ? Swift.min(firstPosition &+ t &+ 1, keyCount) : keyCount
            let qt = q + t &* qStride, ot = out + t &* outStride
            for j in 0..<visible {
                let row = j &* kvStride
                for (k, h) in hs.enumerated() {
                    let qh = qt + h &* headDim
                    let d: Float
                    switch keys {
                    case .f32(let p): d = dot(qh, p + (row &+ (h / group) &* headDim), headDim)
                    case .f16(let p): d = dotHalf(qh, p + (row &+ (h / group) &* headDim), headDim)
                    }
                    scores[k &* keyCount &+ j] = d * scale
                }
            }
            for k in 0..<nh {
                let sc = scores + k &* keyCount
                var m = -Float.infinity
                for j in 0..<visible { m = Swift.max(m, sc[j]) }
                sums[k] = exponentiateShifted(sc, visible, max: m)
                (ot + hs.lowerBound &* headDim + k &* headDim).update(repeating: 0, count: headDim)
            }
            for j in 0..<visible {
                let row = j &* kvStride
                for (k, h) in hs.enumerated() {
                    let oh = ot + h &* headDim, a = scores[k &* keyCount &+ j]
                    switch values {
                    case .f32(let p): axpy(a, p + (row &+ (h / group) &* headDim), oh, headDim)
                    case .f16(let p): axpyHalf(a, p + (row &+ (h / group) &* headDim), oh, headDim)
                    }
                }
            }
            for (k, h) in hs.enumerated() {
                let oh = ot + h &* headDim, inv = 1 / sums[k]
                for i in 0..<headDim { oh[i] *= inv }
            }
        }
    }

    /// s[j] = e^(s[j] − m) for j < n (16 lanes at a time with the vector exp of FlashAttention.swift, then a
    /// scalar tail); returns Σ s[j]. The softmax numerators of the row-wise attention paths.
    @inline(__always) static func exponentiateShifted(_ s: UnsafeMutablePointer<Float>, _ n: Int, max m: Float) -> Float {
        var j = 0, acc = SIMD16<Float>()
        let mv = SIMD16<Float>(repeating: m)
        while j &+ 16 <= n {
            let e = exp16(load16(s + j) - mv)
            store16(e, s + j)
            acc += e
            j &+= 16
        }
        var sum = hsum16(acc)
        while j < n { let e = expf(s[j] - m); s[j] = e; sum += e; j &+= 1 }
        return sum
    }

    /// dst[j·n + i] = Float(src[j·stride + i]) for j < rows, i < n.
    @inline(__always) static func widenRows(_ src: UnsafePointer<Float16>, _ stride: Int, _ rows: Int, _ n: Int,
                                            _ dst: UnsafeMutablePointer<Float>) {
        for j in 0..<rows {
            let s = src + j &* stride, d = dst + j &* n
            for i in 0..<n { d[i] = Float(s[i]) }
        }
    }

    @inline(__always) static func load8(_ p: UnsafePointer<Float16>, _ i: Int) -> SIMD8<Float> {
        let h = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float16>.self)
        return SIMD8<Float>(Float(h[0]), Float(h[1]), Float(h[2]), Float(h[3]),
                            Float(h[4]), Float(h[5]), Float(h[6]), Float(h[7]))
    }

    /// Σ a[i]·Float(b[i]) over n values (b in f16).
    @inline(__always) static func dotHalf(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float16>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= n { acc = acc.addingProduct(load8(a, i), load8(b, i)); i &+= 8 }
        let h4 = acc.lowHalf + acc.highHalf
        let h2 = h4.lowHalf + h4.highHalf
        var s = h2[0] + h2[1]
        while i < n { s += a[i] * Float(b[i]); i &+= 1 }
        return s
    }

    /// y += a · Float(x) over n values (x in f16).
    @inline(__always) static func axpyHalf(_ a: Float, _ x: UnsafePointer<Float16>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let av = SIMD8<Float>(repeating: a)
        while i &+ 8 <= n {
            let yv = UnsafeMutableRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv.addingProduct(av, load8(x, i)), as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < n { y[i] += a * Float(x[i]); i &+= 1 }
    }
}
