// LSTMStepTests: Kernels.lstmStep (SIMD dot + polynomial exp) against Reference.lstmStep (Double), and the
// reference against a step computed by hand. Budgets per assertion.
import Testing
@testable import EarshotKernels

@Suite struct LSTMStepTests {
    @Test(arguments: [1, 3, 16, 128, 130])
    func fastMatchesReferenceOverManySteps(hidden H: Int) {
        var rng = TestRandom(UInt64(H) * 31 + 7)
        let w = rng.array(4 * H * H, range: 0.6)
        var hr = rng.array(H), cr = rng.array(H, range: 2)
        var hf = hr, cf = cr
        var scratch = [Float](repeating: 0, count: 4 * H)
        var worst: Float = 0
        w.withUnsafeBytes { wb in
            let m = WeightMatrix(type: .f32, rows: 4 * H, cols: H, base: wb.baseAddress!)
            for _ in 0..<50 {
                let pre = rng.array(4 * H, range: 4)
                Reference.lstmStep(pre: pre, w: m, h: &hr, c: &cr, scratch: &scratch)
                Kernels.lstmStep(pre: pre, w: m, h: &hf, c: &cf, scratch: &scratch)
                worst = max(worst, maxAbsDiff(hr, hf), maxAbsDiff(cr, cf))
            }
        }
        // Float dot of ≤ 130 terms + expf (≤ 2 ulp) per gate, carried over 50 steps (gates contract): ≲ 1e-6.
        #expect(worst < 5e-6, "H \(H): max |Δ| \(worst)")
    }

    @Test func referenceIsTheLSTMDefinition() {
        // H = 1: W_hh rows (i, f, g, o) = 0.5, -1, 2, 0.25; h = 0.4, c = -0.3; pre = 0.1, 0.2, -0.3, 0.4.
        let w: [Float] = [0.5, -1, 2, 0.25]
        var h: [Float] = [0.4], c: [Float] = [-0.3]
        var scratch = [Float](repeating: 0, count: 4)
        w.withUnsafeBytes { wb in
            Reference.lstmStep(pre: [0.1, 0.2, -0.3, 0.4], w: WeightMatrix(type: .f32, rows: 4, cols: 1, base: wb.baseAddress!),
                               h: &h, c: &c, scratch: &scratch)
        }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + Reference.exp(-x)) }
        func tanh(_ x: Double) -> Double { (Reference.exp(2 * x) - 1) / (Reference.exp(2 * x) + 1) }
        let i = sigmoid(0.1 + 0.2), f = sigmoid(0.2 - 0.4), g = tanh(-0.3 + 0.8), o = sigmoid(0.4 + 0.1)
        let cWant = f * -0.3 + i * g
        #expect(abs(Double(c[0]) - cWant) < 1e-7)
        #expect(abs(Double(h[0]) - o * tanh(cWant)) < 1e-7)
    }
}
