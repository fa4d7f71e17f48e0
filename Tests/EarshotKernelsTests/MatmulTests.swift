// Matmul tests: every fast path (portable SIMD, and this CPU's native level) against Reference.matmul on
// random shapes, odd row counts and column tails, for every weight type and both activation modes.
import Testing
import EarshotKernels

@Suite struct MatmulTests {
    /// Paths to check on this machine: portable always, plus the CPU's own level if it differs.
    static let paths: [KernelPath] = KernelPath.bestForThisCPU == .portable ? [.portable] : [.portable, KernelPath.bestForThisCPU]

    /// (rows, cols, tokens): odd rows, every q4 chunk kind (128/64/32 tails, short super-blocks), odd float cols.
    static let quantShapes: [(Int, Int, Int)] = [(1, 32, 1), (3, 64, 2), (5, 96, 1), (7, 160, 3), (17, 256, 1),
                                                 (9, 288, 4), (33, 384, 2), (6, 544, 5), (19, 1024 + 224, 3), (41, 4096, 1),
                                                 (5, 512, 10), (2, 256, 8), (3, 768, 17), (3, 2048 + 1088, 9), (2, 2560, 8), (9, 4096 + 256, 2),  // GEMM tiles, K slices, leftovers
                                                 (70, 96, 40), (5, 4096 + 160, 20), (66, 288, 33), (13, 512, 16),
                                                 (70, 256, 40), (5, 4096 + 512, 20),  // token-lane GEMM: odd groups, row blocks, slices, odd blocks
                                                 (13, 1792, 1), (5, 2560, 3), (3, 11008, 1)]  // q4 matvec: header groups of 4 super-blocks + a partial group
    static let floatShapes: [(Int, Int, Int)] = [(1, 1, 1), (3, 17, 2), (5, 33, 1), (7, 100, 3), (33, 257, 2), (19, 1280, 4), (17, 4144, 2)]

    struct Case: CustomTestStringConvertible, Sendable {
        let type: WeightType, rows: Int, cols: Int, tokens: Int, path: KernelPath
        var testDescription: String { type.name + " " + String(rows) + "x" + String(cols) + " t" + String(tokens) + " " + path.name }
    }

    static var cases: [Case] {
        var c: [Case] = []
        for p in paths {
            for t in [WeightType.q8, .q4] { for (r, k, n) in quantShapes { c.append(Case(type: t, rows: r, cols: k, tokens: n, path: p)) } }
            for t in [WeightType.f32, .f16, .bf16] { for (r, k, n) in floatShapes { c.append(Case(type: t, rows: r, cols: k, tokens: n, path: p)) } }
        }
        return c
    }

    @Test(arguments: cases)
    func fastPathMatchesReference(c: Case) throws {
        let seed = UInt64(c.rows * 7919 + c.cols * 31 + c.tokens) &+ UInt64(c.type.rawValue)
        let m = try OwnedMatrix(c.type, rows: c.rows, cols: c.cols, values: gaussianWithOutliers(c.rows * c.cols, seed: seed))
        let x = gaussianWithOutliers(c.tokens * c.cols, seed: seed &+ 1, outlierEvery: 53)
        let w = m.dequantized()

        // f32 activations (plain types; parity path for q8/q4): same math as the reference up to f32
        // accumulation order → |err| ≤ 1e-5·Σ|w·x| (K ≤ 4096 terms, a few ulps each, with slack).
        let yf = run(m.matrix, x, c.tokens, .f32, c.path)
        let rf = reference(m.matrix, x, c.tokens)
        for t in 0..<c.tokens { for r in 0..<c.rows {
            let bound = 1e-5 * absDot(w, r, x, t, c.cols) + 1e-6
            #expect(abs(yf[t * c.rows + r] - rf[t * c.rows + r]) <= bound, "f32-activation path, row \(r) token \(t)")
        } }

        guard c.type == .q8 || c.type == .q4 else { return }
        // int8 activations: the kernel must equal the reference applied to the *quantized* activations
        // x̃ = d·code (exact integer dot, f32 scaling/accumulation) → same 1e-5·Σ|w·x̃| budget.
        let xq = quantizedActivations(x, c.tokens, c.cols, superBlocks: c.type == .q4)
        let yi = run(m.matrix, x, c.tokens, .int8, c.path)
        let ri = reference(m.matrix, xq, c.tokens)
        for t in 0..<c.tokens { for r in 0..<c.rows {
            let bound = 1e-5 * absDot(w, r, xq, t, c.cols) + 1e-6
            #expect(abs(yi[t * c.rows + r] - ri[t * c.rows + r]) <= bound, "int8 path, row \(r) token \(t)")
            // And against the unquantized x: |Δx| ≤ d/2 per element → |err| ≤ Σ|w|·d/2 (+ the f32 budget).
            var qbound = 1e-5 * absDot(w, r, x, t, c.cols) + 1e-6
            for k in 0..<c.cols { qbound += abs(w[r * c.cols + k]) * abs(x[t * c.cols + k] - xq[t * c.cols + k]) }
            #expect(abs(yi[t * c.rows + r] - rf[t * c.rows + r]) <= Float(qbound) * 1.001 + 1e-5)
        } }
    }

    @Test func referencePathIsReference() throws {
        // path: .reference must give the reference's bytes exactly.
        let m = try OwnedMatrix(.q4, rows: 5, cols: 288, values: gaussianWithOutliers(5 * 288, seed: 1))
        let x = gaussianWithOutliers(2 * 288, seed: 2)
        #expect(run(m.matrix, x, 2, .int8, .reference) == reference(m.matrix, x, 2))
    }

    @Test func unsupportedPathFallsBackToPortable() throws {
        // Asking for the other architecture's level runs the portable kernels (same results).
        let m = try OwnedMatrix(.q8, rows: 9, cols: 256, values: gaussianWithOutliers(9 * 256, seed: 4))
        let x = gaussianWithOutliers(256, seed: 5)
        let other: KernelPath = KernelPath.bestForThisCPU == .dotprod ? .avx512 : .dotprod
        #expect(run(m.matrix, x, 1, .int8, other) == run(m.matrix, x, 1, .int8, .portable))
    }

    // MARK: helpers

    func run(_ w: WeightMatrix, _ x: [Float], _ tokens: Int, _ a: Kernels.Activations, _ p: KernelPath) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * w.rows)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
            Kernels.matmul(w, xp.baseAddress!, tokens: tokens, $0.baseAddress!, activations: a, path: p)
        } }
        return y
    }

    func reference(_ w: WeightMatrix, _ x: [Float], _ tokens: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * w.rows)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Reference.matmul(w, xp.baseAddress!, tokens: tokens, $0.baseAddress!) } }
        return y
    }

    func quantizedActivations(_ x: [Float], _ tokens: Int, _ cols: Int, superBlocks: Bool) -> [Float] {
        let q = x.withUnsafeBufferPointer { QuantizedActivations($0.baseAddress!, tokens: tokens, cols: cols, withPairs: false, superBlocks: superBlocks) }
        return (0..<(tokens * cols)).map { i in q.scales[i / 32] * Float(q.codes[i]) }
    }

    func absDot(_ w: [Float], _ r: Int, _ x: [Float], _ t: Int, _ cols: Int) -> Float {
        var s: Float = 0
        for k in 0..<cols { s += abs(w[r * cols + k] * x[t * cols + k]) }
        return s
    }
}
