// Helpers shared by the kernel tests: a seeded RNG, random weight matrices, error metrics.
import EarshotKernels

/// SplitMix64: tiny, seeded, the same sequence everywhere.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Standard normal (Box–Muller).
    mutating func gaussian() -> Float {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self), u2 = Double.random(in: 0..<1, using: &self)
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

// libm without Foundation.
@_silgen_name("log") func _log(_ x: Double) -> Double
@_silgen_name("cos") func _cos(_ x: Double) -> Double

/// Gaussian values with a few large outliers (±8σ..±12σ), like real LLM weight rows.
func gaussianWithOutliers(_ n: Int, seed: UInt64, outlierEvery: Int = 97) -> [Float] {
    var rng = SeededRNG(seed: seed)
    return (0..<n).map { i in
        let g = rng.gaussian()
        return i % outlierEvery == 13 ? g * 10 : g
    }
}

/// Owns the bytes of a quantized matrix and hands out a WeightMatrix view.
final class OwnedMatrix {
    let type: WeightType, rows: Int, cols: Int
    let bytes: UnsafeMutableRawPointer
    let byteCount: Int
    init(_ type: WeightType, rows: Int, cols: Int, values: [Float]) throws {
        self.type = type; self.rows = rows; self.cols = cols
        byteCount = rows * type.rowBytes(cols: cols)!
        bytes = .allocate(byteCount: max(byteCount, 1), alignment: 64)
        try values.withUnsafeBufferPointer { try Quantizer.quantize(type, rows: rows, cols: cols, $0.baseAddress!, bytes) }
    }
    deinit { bytes.deallocate() }
    var matrix: WeightMatrix { WeightMatrix(type: type, rows: rows, cols: cols, base: UnsafeRawPointer(bytes)) }
    var data: [UInt8] { Array(UnsafeRawBufferPointer(start: bytes, count: byteCount)) }
    func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { Reference.dequantizeRow(matrix, r, o.baseAddress! + r * cols) }
        }
        return out
    }
}

/// ‖a − b‖ / ‖b‖ over all elements.
func relativeRMSE(_ a: [Float], _ b: [Float]) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<b.count { let d = Double(a[i]) - Double(b[i]); num += d * d; den += Double(b[i]) * Double(b[i]) }
    return (num / max(den, 1e-300)).squareRoot()
}
