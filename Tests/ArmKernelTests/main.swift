// ArmKernelTests: the kernel test harness for aarch64 under QEMU (Embedded Swift; not a SwiftPM target).
// Built and run by Tools/arm-test.sh. Checks the portable path and, when HWCAP says the CPU has it, the
// dotprod path against Reference.matmul with the same error budgets as Tests/EarshotKernelsTests, plus
// quantize→dequantize bounds and byte-determinism. Prints "N passed, N failed"; exits 1 on any failure.
import EarshotKernels

@_extern(c, "getauxval") func c_getauxval(_ type: UInt) -> UInt
@_extern(c, "exit") func c_exit(_ code: Int32)
@_extern(c, "log") func c_log(_ x: Double) -> Double
@_extern(c, "cos") func c_cos(_ x: Double) -> Double

struct RNG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) * (1.0 / 9007199254740992.0) }
    mutating func gaussian() -> Float {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return Float((-2 * c_log(u1)).squareRoot() * c_cos(6.283185307179586 * u2))
    }
}

func values(_ n: Int, seed: UInt64, outlierEvery: Int = 97) -> [Float] {
    var r = RNG(state: seed)
    var v = [Float](repeating: 0, count: n)
    for i in 0..<n { let g = r.gaussian(); v[i] = i % outlierEvery == 13 ? g * 10 : g }
    return v
}

struct Harness {
    var passed = 0, failed = 0
    mutating func check(_ ok: Bool, _ what: String) {
        if ok { passed += 1 } else { failed += 1; print("FAIL " + what) }
    }
}

func quantize(_ type: WeightType, rows: Int, cols: Int, _ x: [Float]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: rows * type.rowBytes(cols: cols)!)
    x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBytes { o in
            do throws(KernelError) { try Quantizer.quantize(type, rows: rows, cols: cols, xp.baseAddress!, o.baseAddress!) } catch { print("quantize threw: " + error.message) }
        }
    }
    return out
}

func withMatrix<R>(_ type: WeightType, rows: Int, cols: Int, _ bytes: [UInt8], _ body: (WeightMatrix) -> R) -> R {
    bytes.withUnsafeBytes { body(WeightMatrix(type: type, rows: rows, cols: cols, base: $0.baseAddress!)) }
}

func dequantized(_ w: WeightMatrix) -> [Float] {
    var out = [Float](repeating: 0, count: w.rows * w.cols)
    out.withUnsafeMutableBufferPointer { o in for r in 0..<w.rows { Reference.dequantizeRow(w, r, o.baseAddress! + r * w.cols) } }
    return out
}

func matmul(_ w: WeightMatrix, _ x: [Float], _ tokens: Int, _ a: Kernels.Activations, _ p: KernelPath) -> [Float] {
    var y = [Float](repeating: .nan, count: tokens * w.rows)
    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
        Kernels.matmul(w, xp.baseAddress!, tokens: tokens, $0.baseAddress!, activations: a, path: p)
    } }
    return y
}

func relErr(_ a: [Float], _ b: [Float]) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<b.count { let d = Double(a[i]) - Double(b[i]); num += d * d; den += Double(b[i]) * Double(b[i]) }
    return (num / max(den, 1e-300)).squareRoot()
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    var m: Float = 0
    for i in 0..<a.count { let d = abs(a[i] - b[i]); if !(d <= m) { m = d.isNaN ? .infinity : d } }
    return m
}

/// The NN ops' fast paths (norms, activations, softmax, attention) against their references.
func checkNN(_ h: inout Harness) {
    let rows = 5, dim = 67
    let x = values(rows * dim, seed: 5, outlierEvery: 31)
    let w = values(dim, seed: 6), b = values(dim, seed: 7)
    var yf = [Float](repeating: 0, count: rows * dim), yr = yf
    Kernels.rmsNorm(x, weight: w, eps: 1e-6, rows: rows, dim: dim, &yf)
    Reference.rmsNorm(x, weight: w, eps: 1e-6, rows: rows, dim: dim, &yr)
    h.check(maxAbsDiff(yf, yr) < 1e-4, "rmsNorm fast vs reference")
    Kernels.layerNorm(x, weight: w, bias: b, eps: 1e-5, rows: rows, dim: dim, &yf)
    Reference.layerNorm(x, weight: w, bias: b, eps: 1e-5, rows: rows, dim: dim, &yr)
    h.check(maxAbsDiff(yf, yr) < 1e-4, "layerNorm fast vs reference")
    for (name, fast, ref) in [("gelu", Kernels.gelu, Reference.gelu), ("silu", Kernels.silu, Reference.silu),
                              ("softmax", Kernels.softmax, Reference.softmax)] as [(String, (UnsafeMutablePointer<Float>, Int) -> Void, (UnsafeMutablePointer<Float>, Int) -> Void)] {
        var a = x, r = x
        a.withUnsafeMutableBufferPointer { fast($0.baseAddress!, $0.count) }
        r.withUnsafeMutableBufferPointer { ref($0.baseAddress!, $0.count) }
        h.check(maxAbsDiff(a, r) < 1e-5, name + " fast vs reference")
    }
    // One LSTM step (Silero VAD's recurrence), H = 37 (not a multiple of the SIMD width), 10 steps.
    do {
        let H = 37
        let wl = values(4 * H * H, seed: 41).map { $0 * 0.3 }
        var hf = values(H, seed: 42), cf = values(H, seed: 43)
        var hr = hf, cr = cf
        var scratch = [Float](repeating: 0, count: 4 * H)
        var worst: Float = 0
        wl.withUnsafeBufferPointer { wp in
            let m = WeightMatrix(type: .f32, rows: 4 * H, cols: H, base: UnsafeRawPointer(wp.baseAddress!))
            for step in 0..<10 {
                let pre = values(4 * H, seed: UInt64(50 + step))
                Kernels.lstmStep(pre: pre, w: m, h: &hf, c: &cf, scratch: &scratch)
                Reference.lstmStep(pre: pre, w: m, h: &hr, c: &cr, scratch: &scratch)
                worst = Swift.max(worst, Swift.max(maxAbsDiff(hf, hr), maxAbsDiff(cf, cr)))
            }
        }
        h.check(worst < 1e-5, "lstmStep fast vs reference")
    }
    // Attention: blocked (≥ 4 queries) and row-wise (decode), causal and bidirectional, f32 and f16 KV.
    for (tokens, keys, causal) in [(1, 37, true), (3, 20, true), (19, 83, true), (21, 70, false)] {
        for useF16 in [false, true] {
            let heads = 3, hd = 16, stride = heads * hd
            let q = values(tokens * stride, seed: UInt64(tokens * 3 + keys))
            var k = values(keys * stride, seed: UInt64(keys)), v = values(keys * stride, seed: UInt64(keys + 1))
            var k16 = k.map { Float16($0) }, v16 = v.map { Float16($0) }
            if useF16 { for i in 0..<k.count { k[i] = Float(k16[i]); v[i] = Float(v16[i]) } }
            var of = [Float](repeating: 0, count: tokens * stride), orf = of
            let first = causal ? keys - tokens : 0
            k.withUnsafeMutableBufferPointer { kp in v.withUnsafeMutableBufferPointer { vp in
            k16.withUnsafeMutableBufferPointer { k16p in v16.withUnsafeMutableBufferPointer { v16p in
                let ks: KVStorage = useF16 ? .f16(k16p.baseAddress!) : .f32(kp.baseAddress!)
                let vs: KVStorage = useF16 ? .f16(v16p.baseAddress!) : .f32(vp.baseAddress!)
                Kernels.attention(q: q, qStride: stride, tokens: tokens, firstPosition: first, keys: ks, values: vs,
                                  kvStride: stride, keyCount: keys, heads: heads, headDim: hd, scale: 0.25,
                                  causal: causal, out: &of, outStride: stride)
                Reference.attention(q: q, qStride: stride, tokens: tokens, firstPosition: first, keys: ks, values: vs,
                                    kvStride: stride, keyCount: keys, heads: heads, headDim: hd, scale: 0.25,
                                    causal: causal, out: &orf, outStride: stride)
            } } } }
            h.check(maxAbsDiff(of, orf) < 1e-5, "attention t" + String(tokens) + " k" + String(keys)
                    + (causal ? " causal" : " bidirectional") + (useF16 ? " f16" : " f32") + " fast vs reference")
        }
    }
    // Grouped-query attention (6 query heads on 2 KV heads): blocked and decode paths.
    for (tokens, keys) in [(1, 41), (3, 30), (20, 64)] {
        let heads = 6, kvHeads = 2, hd = 16, qStride = heads * hd, kvStride = kvHeads * hd
        let q = values(tokens * qStride, seed: UInt64(tokens + 5 * keys))
        var k = values(keys * kvStride, seed: UInt64(keys + 7)), v = values(keys * kvStride, seed: UInt64(keys + 8))
        var of = [Float](repeating: 0, count: tokens * qStride), orf = of
        k.withUnsafeMutableBufferPointer { kp in v.withUnsafeMutableBufferPointer { vp in
            Kernels.attention(q: q, qStride: qStride, tokens: tokens, firstPosition: keys - tokens, keys: .f32(kp.baseAddress!),
                              values: .f32(vp.baseAddress!), kvStride: kvStride, keyCount: keys, heads: heads, kvHeads: kvHeads,
                              headDim: hd, scale: 0.25, causal: true, out: &of, outStride: qStride)
            Reference.attention(q: q, qStride: qStride, tokens: tokens, firstPosition: keys - tokens, keys: .f32(kp.baseAddress!),
                                values: .f32(vp.baseAddress!), kvStride: kvStride, keyCount: keys, heads: heads, kvHeads: kvHeads,
                                headDim: hd, scale: 0.25, causal: true, out: &orf, outStride: qStride)
        } }
        h.check(maxAbsDiff(of, orf) < 1e-5, "attention GQA 6/2 t" + String(tokens) + " k" + String(keys) + " fast vs reference")
    }
}

@main struct Main {
    static func main() {
        var h = Harness()
        let hasDotProd = (c_getauxval(16) & (1 << 20)) != 0   // AT_HWCAP, HWCAP_ASIMDDP
        var paths: [KernelPath] = [.portable]
        if hasDotProd { paths.append(.dotprod) }
        print("dotprod: " + (hasDotProd ? "yes" : "no") + ", default path: " + Kernels.path.name)

        // Quantize → dequantize error bounds and determinism.
        for cols in [32, 96, 288, 1280] {
            let x = values(4 * cols, seed: UInt64(cols))
            for (type, bound) in [(WeightType.q8, 0.02), (.q4, 0.12), (.bf16, 0.004), (.f16, 0.0005)] {
                let a = quantize(type, rows: 4, cols: cols, x), b = quantize(type, rows: 4, cols: cols, x)
                h.check(a == b, type.name + " byte-determinism cols " + String(cols))
                let e = withMatrix(type, rows: 4, cols: cols, a) { relErr(dequantized($0), x) }
                h.check(e < bound, type.name + " round-trip error " + String(e) + " cols " + String(cols))
            }
        }

        // Matmul: every path vs Reference, same budgets as the host tests.
        let quantShapes = [(1, 32, 1), (3, 64, 2), (5, 96, 1), (7, 160, 3), (9, 288, 4), (33, 384, 2), (19, 1248, 3),
                           (5, 512, 8), (70, 256, 13), (6, 96, 9), (3, 4096 + 256, 8)]  // token-lane GEMM tiles, row blocks, K slices
        let floatShapes = [(1, 1, 1), (3, 17, 2), (7, 100, 3), (19, 300, 2)]
        for p in paths {
            for type in [WeightType.q8, .q4, .f32, .f16, .bf16] {
                for (rows, cols, tokens) in (type == .q8 || type == .q4) ? quantShapes : floatShapes {
                    let tag = p.name + " " + type.name + " " + String(rows) + "x" + String(cols) + " t" + String(tokens)
                    let bytes = quantize(type, rows: rows, cols: cols, values(rows * cols, seed: UInt64(rows * 131 + cols)))
                    let x = values(tokens * cols, seed: UInt64(cols * 7 + tokens), outlierEvery: 53)
                    withMatrix(type, rows: rows, cols: cols, bytes) { w in
                        let wf = dequantized(w)
                        func absDot(_ r: Int, _ xs: [Float], _ t: Int) -> Float {
                            var s: Float = 0
                            for k in 0..<cols { s += abs(wf[r * cols + k] * xs[t * cols + k]) }
                            return s
                        }
                        let rf = matmul(w, x, tokens, .f32, .reference)
                        let yf = matmul(w, x, tokens, .f32, p)
                        var ok = true
                        for t in 0..<tokens { for r in 0..<rows where !(abs(yf[t * rows + r] - rf[t * rows + r]) <= 1e-5 * absDot(r, x, t) + 1e-6) { ok = false } }
                        h.check(ok, tag + " f32 activations")
                        guard type == .q8 || type == .q4 else { return }
                        let q = x.withUnsafeBufferPointer { QuantizedActivations($0.baseAddress!, tokens: tokens, cols: cols, withPairs: false, superBlocks: type == .q4) }
                        var xq = [Float](repeating: 0, count: tokens * cols)
                        for i in 0..<(tokens * cols) { xq[i] = q.scales[i / 32] * Float(q.codes[i]) }
                        let ri = matmul(w, xq, tokens, .f32, .reference)
                        let yi = matmul(w, x, tokens, .int8, p)
                        ok = true
                        for t in 0..<tokens { for r in 0..<rows where !(abs(yi[t * rows + r] - ri[t * rows + r]) <= 1e-5 * absDot(r, xq, t) + 1e-6) {
                            ok = false
                            let got: Float = yi[t * rows + r], want: Float = ri[t * rows + r]
                            print("  row \(r) token \(t): \(got) vs \(want)")
                        } }
                        h.check(ok, tag + " int8 activations")
                    }
                }
            }
        }

        // Embedding gather equals the reference decode.
        let eb = quantize(.q4, rows: 5, cols: 288, values(5 * 288, seed: 77))
        withMatrix(.q4, rows: 5, cols: 288, eb) { w in
            var out = [Float](repeating: 0, count: 2 * 288)
            var ok = true
            out.withUnsafeMutableBufferPointer { o in
                do throws(KernelError) { try Kernels.embed(w, rows: [4, 1], o.baseAddress!) } catch { ok = false }
            }
            let all = dequantized(w)
            for k in 0..<288 where out[k] != all[4 * 288 + k] || out[288 + k] != all[288 + k] { ok = false }
            h.check(ok, "embed q4 rows [4, 1]")
        }

        checkNN(&h)

        // The thread pool API runs every index (serially in Embedded).
        var seen = [Int](repeating: 0, count: 10)
        ThreadPool.shared.parallelFor(10) { i in seen[i] += 1 }
        h.check(seen.allSatisfy { $0 == 1 }, "ThreadPool.parallelFor covers 0..<10")

        print(String(h.passed) + " passed, " + String(h.failed) + " failed")
        if h.failed > 0 { c_exit(1) }
    }
}
