// Quantizer tests: row sizes, quantize→dequantize error bounds, byte-determinism, edge values.
import Testing
import EarshotKernels

@Suite struct QuantizeTests {
    static let colsList = [32, 64, 96, 128, 160, 256, 288, 384, 512, 1280, 4096 + 96]

    @Test(arguments: [WeightType.q8, .q4], colsList)
    func writesExactlyRowBytes(type: WeightType, cols: Int) throws {
        // Quantize into a buffer with a guard region filled with 0xA5; nothing past rowBytes may change.
        let rb = type.rowBytes(cols: cols)!
        let x = gaussianWithOutliers(cols, seed: UInt64(cols))
        var buf = [UInt8](repeating: 0xA5, count: rb + 64)
        try x.withUnsafeBufferPointer { xp in
            try buf.withUnsafeMutableBytes { try Quantizer.quantizeRow(type, xp.baseAddress!, cols: cols, $0.baseAddress!) }
        }
        #expect(buf[rb...].allSatisfy { $0 == 0xA5 })
    }

    @Test(arguments: colsList)
    func q8ErrorWithinHalfStep(cols: Int) throws {
        // Each value is within half a quantization step (d/2, plus f32 rounding) of the original.
        let x = gaussianWithOutliers(cols, seed: 7 &+ UInt64(cols))
        let m = try OwnedMatrix(.q8, rows: 1, cols: cols, values: x)
        let y = m.dequantized()
        for b in 0..<(cols / 32) {
            let amax = x[(32 * b)..<(32 * b + 32)].map(abs).max()!
            let step = amax / 127 * 1.001  // f16 rounding of d moves it by ≤ 2^-11 relative
            for i in (32 * b)..<(32 * b + 32) { #expect(abs(y[i] - x[i]) <= step / 2 + 1e-6) }
        }
        // ≈ 1.0–1.3% measured: a 10σ outlier in a block widens its step to ~30σ/127 (uniform error step/√12).
        #expect(relativeRMSE(y, x) < 0.02)
    }

    @Test(arguments: colsList)
    func q4RelativeErrorBound(cols: Int) throws {
        // Q4_K-class error on Gaussian weights with outliers: ggml Q4_K gives ≈ 0.09–0.10 relative RMSE here.
        let x = gaussianWithOutliers(cols * 8, seed: 11 &+ UInt64(cols))
        let m = try OwnedMatrix(.q4, rows: 8, cols: cols, values: x)
        let err = relativeRMSE(m.dequantized(), x)
        #expect(err < 0.12, "q4 relative RMSE \(err)")
    }

    @Test(arguments: [WeightType.f32, .f16, .bf16, .q8, .q4])
    func byteDeterministic(type: WeightType) throws {
        // Same input → same bytes, twice in a row and from a copy of the input.
        let x = gaussianWithOutliers(3 * 544, seed: 3)
        let a = try OwnedMatrix(type, rows: 3, cols: 544, values: x)
        let b = try OwnedMatrix(type, rows: 3, cols: 544, values: Array(x))
        #expect(a.data == b.data)
    }

    @Test func plainTypesRoundTrip() throws {
        // f32 exact; f16 within 2^-11 relative; bf16 within 2^-8 relative (round to nearest even).
        let x = gaussianWithOutliers(300, seed: 5)
        #expect(try OwnedMatrix(.f32, rows: 3, cols: 100, values: x).dequantized() == x)
        for (t, rel) in [(WeightType.f16, Float(1) / 2048), (.bf16, Float(1) / 256)] {
            let y = try OwnedMatrix(t, rows: 3, cols: 100, values: x).dequantized()
            for i in 0..<x.count { #expect(abs(y[i] - x[i]) <= abs(x[i]) * rel) }
        }
        #expect(Quantizer.bf16Bits(1.00390625) == 0x3F80)   // tie → even
        #expect(Quantizer.bf16Bits(1.01171875) == 0x3F82)   // tie → even (up)
    }

    @Test func zeroAndConstantBlocks() throws {
        // All-zero rows decode to exact zeros; a constant positive row decodes within one q4 step.
        let z = [Float](repeating: 0, count: 256)
        for t in [WeightType.q8, .q4] { #expect(try OwnedMatrix(t, rows: 1, cols: 256, values: z).dequantized() == z) }
        let c = [Float](repeating: 0.5, count: 256)
        let y = try OwnedMatrix(.q4, rows: 1, cols: 256, values: c).dequantized()
        #expect(y.allSatisfy { abs($0 - 0.5) < 0.5 / 15 })
    }

    @Test func rejectsBadColumns() {
        var out = [UInt8](repeating: 0, count: 64)
        let x = [Float](repeating: 1, count: 33)
        #expect(throws: KernelError.columnsNotMultiple(type: .q4, cols: 33, multiple: 32)) {
            try x.withUnsafeBufferPointer { xp in
                try out.withUnsafeMutableBytes { try Quantizer.quantizeRow(.q4, xp.baseAddress!, cols: 33, $0.baseAddress!) }
            }
        }
    }

    @Test(arguments: [WeightType.f16, .q8, .q4])
    func embedGathersRows(type: WeightType) throws {
        // embed(rows:) equals the reference row decode, in the order asked, repeats allowed.
        let m = try OwnedMatrix(type, rows: 7, cols: 96, values: gaussianWithOutliers(7 * 96, seed: 9))
        let all = m.dequantized()
        let ids = [6, 0, 3, 3]
        var out = [Float](repeating: .nan, count: ids.count * 96)
        try out.withUnsafeMutableBufferPointer { try Kernels.embed(m.matrix, rows: ids, $0.baseAddress!) }
        for (i, r) in ids.enumerated() { #expect(Array(out[(i * 96)..<(i * 96 + 96)]) == Array(all[(r * 96)..<(r * 96 + 96)])) }
        #expect(throws: KernelError.rowOutOfRange(row: 7, rows: 7)) {
            try out.withUnsafeMutableBufferPointer { try Kernels.embed(m.matrix, rows: [1, 7], $0.baseAddress!) }
        }
    }
}
