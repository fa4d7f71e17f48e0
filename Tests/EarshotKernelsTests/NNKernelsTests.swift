// NNKernelsTests: fast NN ops (Kernels.*) against the scalar Double references (Reference.*) on random
// shapes, and the references against closed forms. Budgets are stated per assertion.
import Testing
@testable import EarshotKernels

/// Deterministic pseudo-random floats in [−range, range) (SplitMix64), so failures reproduce.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) * 0x1p-23 - 1
    }
    mutating func array(_ n: Int, range: Float = 1) -> [Float] { (0..<n).map { _ in next() * range } }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
}

@Suite struct NNMathTests {
    @Test func referenceErfAndExpClosedForms() {
        // Known values (Abramowitz & Stegun tables / mpmath), Double accuracy expected: budget 1e-14.
        let erfs: [(Double, Double)] = [(0, 0), (0.5, 0.5204998778130465), (1, 0.8427007929497149),
                                        (2, 0.9953222650189527), (3, 0.9999779095030014), (-1.5, -0.9661051464753108),
                                        (2.4, 0.999311486103355), (2.5, 0.999593047982555), (4, 0.9999999845827421), (6, 1.0)]
        // Series below 2.5, continued fraction above.
        for (x, want) in erfs { #expect(abs(Reference.erf(x) - want) < 1e-14, "erf(\(x))") }
        for x in [-20.0, -1, 0, 0.5, 1, 10, 88] {
            let want = [-20.0: 2.061153622438558e-09, -1: 0.36787944117144233, 0: 1, 0.5: 1.6487212707001282,
                        1: 2.718281828459045, 10: 22026.465794806718, 88: 1.6516362549940018e38][x]!
            #expect(abs(Reference.exp(x) / want - 1) < 1e-14, "exp(\(x))")
        }
    }

    @Test func fastExpAndErfWithinBudget() {
        // expf: relative error ≤ 3e-7 (≈ 2 ulp); erff: absolute error ≤ 5e-7. Dense sweep.
        var worstExp = 0.0, worstErf = 0.0
        var x: Float = -80
        while x < 80 {
            worstExp = Swift.max(worstExp, abs(Double(Kernels.expf(x)) / Reference.exp(Double(x)) - 1))
            x += 0.0137
        }
        x = -6
        while x < 6 {
            worstErf = Swift.max(worstErf, abs(Double(Kernels.erff(x)) - Reference.erf(Double(x))))
            x += 0.00071
        }
        #expect(worstExp < 3e-7, "expf worst relative error \(worstExp)")
        #expect(worstErf < 5e-7, "erff worst absolute error \(worstErf)")
    }
}

@Suite struct NNKernelsTests {
    @Test(arguments: [(1, 8), (3, 128), (5, 77), (2, 4096)])
    func normsMatchReference(rows: Int, dim: Int) {
        var rng = TestRandom(UInt64(rows * 1000 + dim))
        let x = rng.array(rows * dim, range: 3), w = rng.array(dim), b = rng.array(dim)
        var yr = [Float](repeating: 0, count: rows * dim), yf = yr
        Reference.rmsNorm(x, weight: w, eps: 1e-6, rows: rows, dim: dim, &yr)
        Kernels.rmsNorm(x, weight: w, eps: 1e-6, rows: rows, dim: dim, &yf)
        #expect(maxAbsDiff(yr, yf) < 2e-6)     // Float accumulation of ≤ 4096 squares: ~1e-7 relative
        Reference.layerNorm(x, weight: w, bias: b, eps: 1e-5, rows: rows, dim: dim, &yr)
        Kernels.layerNorm(x, weight: w, bias: b, eps: 1e-5, rows: rows, dim: dim, &yf)
        #expect(maxAbsDiff(yr, yf) < 5e-6)
        // RMSNorm closed form: a constant row c → c/sqrt(c² + eps) · w.
        var c = [Float](repeating: 2, count: dim), yc = c
        Reference.rmsNorm(&c, weight: w, eps: 0, rows: 1, dim: dim, &yc)
        #expect(maxAbsDiff(yc, w) < 1e-6)
    }

    @Test func activationsMatchReference() {
        var rng = TestRandom(7)
        let x = rng.array(10_000, range: 8)
        for op in 0..<3 {
            var r = x, f = x
            switch op {
            case 0: Reference.gelu(&r, count: x.count); Kernels.gelu(&f, count: x.count)
            case 1: Reference.silu(&r, count: x.count); Kernels.silu(&f, count: x.count)
            default: Reference.softmax(&r, count: 1000); Kernels.softmax(&f, count: 1000); r = Array(r[0..<1000]); f = Array(f[0..<1000])
            }
            #expect(maxAbsDiff(r, f) < 4e-6, "op \(op)")   // |x| ≤ 8: 8 × 5e-7 erf/exp error
        }
        // GELU/SiLU closed forms at a few points.
        var g: [Float] = [0, 1, -1, 3]
        Reference.gelu(&g, count: 4)
        #expect(abs(g[1] - 0.8413447) < 1e-6 && abs(g[2] + 0.1586553) < 1e-6 && g[0] == 0 && abs(g[3] - 2.9959502) < 1e-6)
        var up = rng.array(100), gate = rng.array(100, range: 5)
        var yr = [Float](repeating: 0, count: 100), yf = yr
        Reference.swiglu(gate: gate, up: up, count: 100, &yr)
        Kernels.swiglu(gate: gate, up: up, count: 100, &yf)
        #expect(maxAbsDiff(yr, yf) < 1e-6)
        Kernels.swiglu(gate: gate, up: up, count: 100, &up)   // aliasing y = up
        #expect(maxAbsDiff(up, yr) < 1e-6)
        _ = gate.removeLast()
        // Softmax with −∞ entries (masked keys) gives them 0.
        var s: [Float] = [1, -.infinity, 1]
        Kernels.softmax(&s, count: 3)
        #expect(s == [0.5, 0, 0.5])
    }

    @Test func ropeMatchesReferenceAndRotates() {
        var rng = TestRandom(11)
        let tokens = 5, heads = 3, headDim = 16, stride = 60, half = headDim / 2
        let x = rng.array(tokens * stride, range: 2)
        var cos = [Float](), sin = [Float]()
        for t in 0..<tokens { for j in 0..<half {
            let a = Double(t) * Reference.exp(-Double(j) / Double(half) * 9.21)
            cos.append(Float(Reference.exp(0) * cosApprox(a))); sin.append(Float(sinApprox(a)))
        } }
        let scale: [Float] = [1, 1, 1.01, 1.02, 1.5]
        var r = x, f = x
        Reference.ropeRotateHalf(&r, tokens: tokens, heads: heads, headDim: headDim, rowStride: stride, cos: cos, sin: sin, scale: scale)
        Kernels.ropeRotateHalf(&f, tokens: tokens, heads: heads, headDim: headDim, rowStride: stride, cos: cos, sin: sin, scale: scale)
        #expect(maxAbsDiff(r, f) < 1e-6)
        // Columns past heads·headDim are untouched; position 0 (cos 1, sin 0, scale 1) is the identity.
        #expect(Array(r[48..<60]) == Array(x[48..<60]))
        #expect(Array(r[0..<48]) == Array(x[0..<48]))
        // A rotation keeps each (j, j+half) pair's norm (times the scale).
        let t = 4, j = 3
        let before = x[t * stride + j] * x[t * stride + j] + x[t * stride + j + half] * x[t * stride + j + half]
        let after = r[t * stride + j] * r[t * stride + j] + r[t * stride + j + half] * r[t * stride + j + half]
        #expect(abs(after / (1.5 * 1.5) - before) < 1e-4)
    }

    @Test(arguments: [(10, 80, 16, 1), (11, 24, 8, 2), (7, 5, 3, 2)])
    func conv1dMatchesDirectConvolution(frames: Int, inC: Int, outC: Int, stride: Int) {
        var rng = TestRandom(UInt64(frames * 7 + inC))
        let conv = rng.array(outC * inC * 3)           // PyTorch layout [S, M, 3]
        let bias = rng.array(outC), x = rng.array(frames * inC)   // x time-major [frames × M]
        var w = [Float](repeating: 0, count: outC * 3 * inC)     // converter layout W[s, k·M+m] = conv[s, m, k]
        for s in 0..<outC { for m in 0..<inC { for k in 0..<3 { w[s * 3 * inC + k * inC + m] = conv[(s * inC + m) * 3 + k] } } }
        let outFrames = (frames - 1) / stride + 1
        var direct = [Float](repeating: 0, count: outFrames * outC)
        for t in 0..<outFrames { for s in 0..<outC {
            var acc = Double(bias[s])
            for m in 0..<inC { for k in 0..<3 {
                let src = t * stride + k - 1
                if src >= 0 && src < frames { acc += Double(conv[(s * inC + m) * 3 + k]) * Double(x[src * inC + m]) }
            } }
            direct[t * outC + s] = Float(acc)
        } }
        var yr = direct, yf = direct
        var scratch = [Float](repeating: 0, count: outFrames * 3 * inC)
        w.withUnsafeBytes { wb in
            let wm = WeightMatrix(type: .f32, rows: outC, cols: 3 * inC, base: wb.baseAddress!)
            Reference.conv1dK3(x, inFrames: frames, inChannels: inC, stride: stride, weight: wm, bias: bias, &yr)
            Kernels.conv1dK3(x, inFrames: frames, inChannels: inC, stride: stride, weight: wm, bias: bias, &yf, scratch: &scratch)
        }
        #expect(maxAbsDiff(yr, direct) < 1e-6)
        #expect(maxAbsDiff(yf, direct) < 1e-5)
        var pooled = [Float](repeating: 0, count: (frames / 2) * inC), pooledRef = pooled
        Kernels.avgPool2(x, frames: frames, channels: inC, &pooled)
        Reference.avgPool2(x, frames: frames, channels: inC, &pooledRef)
        #expect(pooled == pooledRef && pooled[0] == (x[0] + x[inC]) * 0.5)
    }

    /// Prefill-sized (5 queries: f16 widened per head) and decode-sized (1–3 queries: f16 read directly) cases.
    @Test(arguments: [(true, false, 5), (true, true, 5), (true, true, 1), (true, true, 3), (true, false, 1),
                      (false, false, 37), (false, true, 37)])
    func attentionMatchesReference(causal: Bool, f16: Bool, queries: Int) {
        var rng = TestRandom(causal ? 3 : 4)
        let heads = 3, headDim = 20, stride = heads * headDim, keyCount = 37   // headDim 20: SIMD8 body + tail
        let tokens = queries, first = causal ? keyCount - tokens : 0
        let q = rng.array(tokens * stride, range: 2)
        let k = rng.array(keyCount * stride, range: 2), v = rng.array(keyCount * stride)
        // f16 storage holds the rounded values; the reference reads the same storage.
        var k16 = k.map { Float16($0) }, v16 = v.map { Float16($0) }
        var k32 = k, v32 = v
        var yr = [Float](repeating: 0, count: tokens * stride), yf = yr
        k16.withUnsafeMutableBufferPointer { kb in v16.withUnsafeMutableBufferPointer { vb in
        k32.withUnsafeMutableBufferPointer { kf in v32.withUnsafeMutableBufferPointer { vf in
            let ks: KVStorage = f16 ? .f16(kb.baseAddress!) : .f32(kf.baseAddress!)
            let vs: KVStorage = f16 ? .f16(vb.baseAddress!) : .f32(vf.baseAddress!)
            Reference.attention(q: q, qStride: stride, tokens: tokens, firstPosition: first, keys: ks, values: vs,
                                kvStride: stride, keyCount: keyCount, heads: heads, headDim: headDim, scale: 0.25,
                                causal: causal, out: &yr, outStride: stride)
            Kernels.attention(q: q, qStride: stride, tokens: tokens, firstPosition: first, keys: ks, values: vs,
                              kvStride: stride, keyCount: keyCount, heads: heads, headDim: headDim, scale: 0.25,
                              causal: causal, out: &yf, outStride: stride)
        } } } }
        #expect(maxAbsDiff(yr, yf) < 2e-6)   // Float dot products of 16 terms + expf: ~1e-7 relative
        if causal && tokens > 1 {
            // The first query (position first) must ignore keys after it: changing the last key leaves it unchanged.
            var k2 = k; for i in 0..<stride { k2[(keyCount - 1) * stride + i] = 9 }
            var y2 = yr
            k2.withUnsafeMutableBufferPointer { kb in v32.withUnsafeMutableBufferPointer { vb in
                Reference.attention(q: q, qStride: stride, tokens: tokens, firstPosition: first, keys: .f32(kb.baseAddress!),
                                    values: .f32(vb.baseAddress!), kvStride: stride, keyCount: keyCount, heads: heads,
                                    headDim: headDim, scale: 0.25, causal: true, out: &y2, outStride: stride)
            } }
            if !f16 { #expect(Array(y2[0..<stride]) == Array(yr[0..<stride])) }
            #expect(Array(y2[(tokens - 1) * stride..<tokens * stride]) != Array(yr[(tokens - 1) * stride..<tokens * stride]))
        }
    }
}

/// cos/sin for the RoPE test tables via Taylor series (the kernels module has no libm; accuracy ~1e-12 for |a| ≤ 8).
func cosApprox(_ a: Double) -> Double { var s = 0.0, t = 1.0; for n in 0..<30 { s += t; t *= -a * a / Double((2 * n + 1) * (2 * n + 2)) }; return s }
func sinApprox(_ a: Double) -> Double { var s = 0.0, t = a; for n in 0..<30 { s += t; t *= -a * a / Double((2 * n + 2) * (2 * n + 3)) }; return s }
