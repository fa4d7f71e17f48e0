// NNAttentionTests: Kernels.attention at prefill/encoder sizes (many queries × many keys: the blocked
// online-softmax path) against the Double reference, causal and bidirectional, odd head sizes, f16 KV,
// strided q/out, a KV-cache prefix (firstPosition > 0) and sharp score distributions (many max rescales).
import Testing
@testable import EarshotKernels

@Suite struct NNAttentionTests {
    struct Case: Sendable, CustomStringConvertible {
        var causal: Bool, f16: Bool, tokens: Int, keyCount: Int, heads: Int, headDim: Int
        var range: Float = 1, scale: Float = 0.125
        /// Key/value heads (GQA when < heads); 0 = heads.
        var kvHeads = 0
        var kv: Int { kvHeads == 0 ? heads : kvHeads }
        var description: String {
            "\(causal ? "causal" : "bidir") \(f16 ? "f16" : "f32") \(tokens)q×\(keyCount)k \(heads)/\(kv)×\(headDim) range \(range)"
        }
    }

    static let cases: [Case] = [
        Case(causal: false, f16: false, tokens: 100, keyCount: 150, heads: 2, headDim: 64),   // partial tiles
        Case(causal: false, f16: true, tokens: 37, keyCount: 200, heads: 2, headDim: 64),
        Case(causal: true, f16: false, tokens: 70, keyCount: 70, heads: 2, headDim: 64),      // self-attention prefill
        Case(causal: true, f16: true, tokens: 33, keyCount: 130, heads: 2, headDim: 128),     // prefix in the cache
        Case(causal: true, f16: false, tokens: 19, keyCount: 50, heads: 3, headDim: 20),      // head dim not ×16
        Case(causal: false, f16: false, tokens: 16, keyCount: 64, heads: 1, headDim: 16),     // exactly one block/tile
        Case(causal: false, f16: false, tokens: 6, keyCount: 1, heads: 2, headDim: 8),        // a single key
        Case(causal: true, f16: false, tokens: 45, keyCount: 300, heads: 2, headDim: 32, range: 3, scale: 0.5),
        Case(causal: false, f16: true, tokens: 50, keyCount: 257, heads: 2, headDim: 64, range: 3, scale: 0.5),
        // Decode sizes (≤ 4 queries, enough work to split heads over threads: key-major head blocks, 5 heads = 3 + 2).
        Case(causal: true, f16: true, tokens: 1, keyCount: 300, heads: 5, headDim: 64),
        Case(causal: true, f16: false, tokens: 3, keyCount: 300, heads: 5, headDim: 64),
        Case(causal: false, f16: true, tokens: 2, keyCount: 260, heads: 7, headDim: 40, range: 3, scale: 0.5),
        // Grouped-query attention (query head h reads KV head h / (heads/kvHeads)): blocked prefill path …
        Case(causal: true, f16: true, tokens: 40, keyCount: 90, heads: 6, headDim: 32, kvHeads: 2),
        Case(causal: true, f16: false, tokens: 70, keyCount: 70, heads: 4, headDim: 16, kvHeads: 1),
        Case(causal: false, f16: false, tokens: 33, keyCount: 100, heads: 12, headDim: 64, range: 3, scale: 0.5, kvHeads: 2),
        // … and the decode (≤ 4 queries, key-major) path, with whole KV groups per thread and groups split.
        Case(causal: true, f16: true, tokens: 1, keyCount: 300, heads: 12, headDim: 64, kvHeads: 2),
        Case(causal: true, f16: false, tokens: 3, keyCount: 300, heads: 6, headDim: 64, kvHeads: 3),
        Case(causal: false, f16: true, tokens: 2, keyCount: 260, heads: 8, headDim: 32, range: 3, scale: 0.5, kvHeads: 1),
        Case(causal: true, f16: false, tokens: 1, keyCount: 5, heads: 4, headDim: 16, kvHeads: 2),       // single-thread
    ]

    /// Runs Reference and Kernels on the same data (f16 storage holds the rounded values both read).
    /// q and out are strided wider than heads·headDim (as in a packed qkv buffer).
    static func run(_ c: Case, keys kIn: [Float]? = nil) -> (ref: [Float], fast: [Float], keys: [Float]) {
        var rng = TestRandom(UInt64(c.tokens * 1000 + c.keyCount * 7 + c.headDim + 13 * c.kv))
        let width = c.heads * c.headDim, qStride = width + 5, kvStride = c.kv * c.headDim + 3, outStride = width + 2
        let first = c.causal ? c.keyCount - c.tokens : 0
        let q = rng.array(c.tokens * qStride, range: c.range)
        let kRandom = rng.array(c.keyCount * kvStride, range: c.range), k = kIn ?? kRandom
        let v = rng.array(c.keyCount * kvStride)
        var k16 = k.map { Float16($0) }, v16 = v.map { Float16($0) }
        var k32 = k, v32 = v
        var yr = [Float](repeating: 0, count: c.tokens * outStride), yf = yr
        k16.withUnsafeMutableBufferPointer { kb in v16.withUnsafeMutableBufferPointer { vb in
        k32.withUnsafeMutableBufferPointer { kf in v32.withUnsafeMutableBufferPointer { vf in
            let ks: KVStorage = c.f16 ? .f16(kb.baseAddress!) : .f32(kf.baseAddress!)
            let vs: KVStorage = c.f16 ? .f16(vb.baseAddress!) : .f32(vf.baseAddress!)
            Reference.attention(q: q, qStride: qStride, tokens: c.tokens, firstPosition: first, keys: ks, values: vs,
                                kvStride: kvStride, keyCount: c.keyCount, heads: c.heads, kvHeads: c.kv, headDim: c.headDim,
                                scale: c.scale, causal: c.causal, out: &yr, outStride: outStride)
            Kernels.attention(q: q, qStride: qStride, tokens: c.tokens, firstPosition: first, keys: ks, values: vs,
                              kvStride: kvStride, keyCount: c.keyCount, heads: c.heads, kvHeads: c.kv, headDim: c.headDim,
                              scale: c.scale, causal: c.causal, out: &yf, outStride: outStride)
        } } } }
        return (yr, yf, k)
    }

    /// Outputs are convex combinations of values in [−1, 1]. Float dot products over ≤ 128 terms and the
    /// polynomial exp give each softmax weight a relative error of ~1e-7·(1 + |score|); with |score| ≲ 1 the
    /// budget is 2e-6, with the sharp cases (|score| up to ~30) 1e-5. Columns past heads·headDim stay 0.
    @Test(arguments: cases)
    func blockedAttentionMatchesReference(_ c: Case) {
        let (yr, yf, _) = Self.run(c)
        #expect(maxAbsDiff(yr, yf) < (c.range > 1 ? 1e-5 : 2e-6))
        #expect(yf.allSatisfy { $0.isFinite })
        let width = c.heads * c.headDim, outStride = width + 2
        for t in 0..<c.tokens { #expect(yf[t * outStride + width] == 0 && yf[t * outStride + width + 1] == 0) }
    }

    /// GQA against plain multi-head attention on the same data with each KV head copied to every query head of
    /// its group (an independent statement of the mapping h → h / (heads/kvHeads)): the reference gives identical
    /// values, the fast paths (blocked and decode) agree within 1e-6.
    @Test(arguments: cases.filter { $0.kv != $0.heads })
    func groupedQueryHeadsReadTheirKVHead(_ c: Case) {
        var rng = TestRandom(UInt64(77 + c.tokens + c.keyCount))
        let hd = c.headDim, width = c.heads * hd, kvWidth = c.kv * hd, group = c.heads / c.kv
        let first = c.causal ? c.keyCount - c.tokens : 0
        let q = rng.array(c.tokens * width, range: c.range)
        var k = rng.array(c.keyCount * kvWidth, range: c.range), v = rng.array(c.keyCount * kvWidth)
        // Expanded: row p, head h = KV head h / group.
        var ke = [Float](repeating: 0, count: c.keyCount * width), ve = ke
        for p in 0..<c.keyCount { for h in 0..<c.heads { for d in 0..<hd {
            ke[p * width + h * hd + d] = k[p * kvWidth + (h / group) * hd + d]
            ve[p * width + h * hd + d] = v[p * kvWidth + (h / group) * hd + d]
        } } }
        var gqaRef = [Float](repeating: 0, count: c.tokens * width), mhaRef = gqaRef, gqaFast = gqaRef, mhaFast = gqaRef
        k.withUnsafeMutableBufferPointer { kb in v.withUnsafeMutableBufferPointer { vb in
        ke.withUnsafeMutableBufferPointer { keb in ve.withUnsafeMutableBufferPointer { veb in
            let ks = KVStorage.f32(kb.baseAddress!), vs = KVStorage.f32(vb.baseAddress!)
            let kes = KVStorage.f32(keb.baseAddress!), ves = KVStorage.f32(veb.baseAddress!)
            Reference.attention(q: q, qStride: width, tokens: c.tokens, firstPosition: first, keys: ks, values: vs, kvStride: kvWidth,
                                keyCount: c.keyCount, heads: c.heads, kvHeads: c.kv, headDim: hd, scale: c.scale, causal: c.causal,
                                out: &gqaRef, outStride: width)
            Reference.attention(q: q, qStride: width, tokens: c.tokens, firstPosition: first, keys: kes, values: ves, kvStride: width,
                                keyCount: c.keyCount, heads: c.heads, headDim: hd, scale: c.scale, causal: c.causal,
                                out: &mhaRef, outStride: width)
            Kernels.attention(q: q, qStride: width, tokens: c.tokens, firstPosition: first, keys: ks, values: vs, kvStride: kvWidth,
                              keyCount: c.keyCount, heads: c.heads, kvHeads: c.kv, headDim: hd, scale: c.scale, causal: c.causal,
                              out: &gqaFast, outStride: width)
            Kernels.attention(q: q, qStride: width, tokens: c.tokens, firstPosition: first, keys: kes, values: ves, kvStride: width,
                              keyCount: c.keyCount, heads: c.heads, headDim: hd, scale: c.scale, causal: c.causal,
                              out: &mhaFast, outStride: width)
        } } } }
        #expect(gqaRef == mhaRef)
        #expect(maxAbsDiff(gqaFast, mhaFast) < 1e-6)
        #expect(maxAbsDiff(gqaFast, gqaRef) < (c.range > 1 ? 1e-5 : 2e-6))
    }

    /// Causal masking: making the keys after the first query's position huge leaves that query's output
    /// bit-identical (masked scores contribute exact zeros) and changes the last query's output.
    @Test func causalMaskIgnoresLaterKeys() {
        let c = Case(causal: true, f16: false, tokens: 40, keyCount: 90, heads: 2, headDim: 32)
        let base = Self.run(c)
        let width = c.heads * c.headDim, kvStride = width + 3, outStride = width + 2
        let firstPos = c.keyCount - c.tokens
        var k = base.keys
        for j in (firstPos + 1)..<c.keyCount { for i in 0..<width { k[j * kvStride + i] = 50 } }
        let changed = Self.run(c, keys: k)
        #expect(Array(changed.fast[0..<width]) == Array(base.fast[0..<width]))
        let last = (c.tokens - 1) * outStride
        #expect(Array(changed.fast[last..<last + width]) != Array(base.fast[last..<last + width]))
        #expect(maxAbsDiff(changed.ref, changed.fast) < 1e-5)
    }

    /// The vectorized exp against the scalar one on [−90, 0] (softmax exponents): ≤ 2 ulp-ish relative,
    /// exactly 0 below −87 and for −∞ (masked scores).
    @Test func vectorExpMatchesScalar() {
        var worst: Float = 0
        var x: Float = -90
        while x <= 0 {
            var v = SIMD16<Float>()
            for i in 0..<16 { v[i] = x + Float(i) * 0.003 }
            let e = Kernels.exp16(v)
            for i in 0..<16 where v[i] <= 0 {
                if v[i] < -87 { #expect(e[i] == 0); continue }
                let r = Float(Reference.exp(Double(v[i])))
                worst = Swift.max(worst, abs(e[i] - r) / r)
            }
            x += 0.05
        }
        #expect(worst < 3e-7)
        #expect(Kernels.exp16(SIMD16(repeating: -.infinity)) == SIMD16<Float>())
        #expect(Kernels.exp16(SIMD16(repeating: 0)) == SIMD16(repeating: 1))
    }
}
