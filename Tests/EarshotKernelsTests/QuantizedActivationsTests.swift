// QuantizedActivations tests: the SIMD quantizer against a scalar statement of its definition (per 32 or per
// 256-value span: d = amax/127, code = round-half-even(x·127/amax) clamped to ±127, NaN → 0, sums d·Σcode),
// and both token-lane views (vnni16: u8 code + 128 in 16 lanes; sdot4: s8 codes in 4 lanes; zero-scale padding).
import Testing
import EarshotKernels

@Suite struct QuantizedActivationsTests {
    /// The scalar definition of one span's codes and scale.
    func expected(_ x: ArraySlice<Float>) -> (codes: [Int8], d: Float) {
        let amax = x.reduce(Float(0)) { max($0, abs($1)) }
        let inv: Float = amax > 0 && amax.isFinite ? 127 / amax : 0
        let codes = x.map { v -> Int8 in
            let r = (v * inv).rounded(.toNearestOrEven)
            return r.isNaN ? 0 : Int8(max(-127, min(127, r)))
        }
        return (codes, inv == 0 ? 0 : amax / 127)
    }

    static let inputs: [(String, [Float])] = {
        var special = gaussianWithOutliers(3 * 288, seed: 11, outlierEvery: 17)
        special[5] = .nan; special[40] = .infinity; special[300] = 0.5; special[301] = -0.5
        for i in 64..<96 { special[i] = 0 }  // an all-zero block
        return [("gaussian", gaussianWithOutliers(3 * 288, seed: 10, outlierEvery: 29)), ("special values", special)]
    }()

    /// The portable scalar quantizer and this CPU's vector one (AVX-512), if it has one.
    static let paths: [KernelPath] = KernelPath.bestForThisCPU == .avx512 ? [.portable, .avx512] : [.portable]

    @Test(arguments: [false, true], paths) func codesScalesAndSumsMatchTheDefinition(superBlocks: Bool, path: KernelPath) {
        for (name, x) in Self.inputs {
            let tokens = 3, cols = 288, nb = cols / 32, span = superBlocks ? 256 : 32
            let q = x.withUnsafeBufferPointer { QuantizedActivations($0.baseAddress!, tokens: tokens, cols: cols, withPairs: false, superBlocks: superBlocks, path: path) }
            for t in 0..<tokens {
                var s = 0
                while s < cols {
                    let e = min(cols, s + span)
                    let (codes, d) = expected(x[(t * cols + s)..<(t * cols + e)])
                    for k in s..<e { #expect(q.codes[t * cols + k] == codes[k - s], "\(name) token \(t) value \(k)") }
                    for b in (s / 32)..<(e / 32) {
                        #expect(q.scales[t * nb + b] == d, "\(name) token \(t) block \(b) scale")
                        let sum = codes[(b * 32 - s)..<(b * 32 - s + 32)].reduce(Int32(0)) { $0 + Int32($1) }
                        #expect(q.sums[t * nb + b] == d * Float(sum), "\(name) token \(t) block \(b) sum")
                    }
                    s = e
                }
            }
        }
    }

    @Test(arguments: [TokenLaneLayout.vnni16, .sdot4]) func tokenLanesHoldEachTokensCodes(layout: TokenLaneLayout) {
        // vnni16: 16 lanes, u8 = code + 128; sdot4: 4 lanes, the s8 code itself. 21 tokens leave padding lanes.
        let tokens = 21, cols = 96, nb = cols / 32, width = layout.lanes
        let x = gaussianWithOutliers(tokens * cols, seed: 12, outlierEvery: 31)
        let q = x.withUnsafeBufferPointer { QuantizedActivations($0.baseAddress!, tokens: tokens, cols: cols, withPairs: false, tokenLanes: layout) }
        guard let lanes = q.lanes, let laneScales = q.laneScales, let laneSums = q.laneSums else { Issue.record("no token lanes"); return }
        let offset = layout == .vnni16 ? 128 : 0
        for g in 0..<((tokens + width - 1) / width) { for i in 0..<width {
            let t = g * width + i
            for k in 0..<cols {
                let byte = lanes.load(fromByteOffset: g * width * cols + 4 * width * (k / 4) + 4 * i + k % 4, as: UInt8.self)
                let want = UInt8(truncatingIfNeeded: (t < tokens ? Int(q.codes[t * cols + k]) : 0) + offset)
                #expect(byte == want, "group \(g) lane \(i) value \(k)")
            }
            for b in 0..<nb {
                #expect(laneScales[(g * nb + b) * width + i] == (t < tokens ? q.scales[t * nb + b] : 0))
                #expect(laneSums[(g * nb + b) * width + i] == (t < tokens ? q.sums[t * nb + b] : 0))
            }
        } }
    }
}
