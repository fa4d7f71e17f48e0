// q4 quality against llama.cpp's own Q4_K on the same tensors: the fixtures hold f32 tensors and their
// ggml Q4_K quantize→dequantize made by quantize_row_q4_K_ref (Tools/q4k-reference/make-fixtures.sh).
import Testing
import Foundation
import EarshotKernels
import EarshotTestSupport

@Suite struct Q4QualityTests {
    @Test(arguments: ["q4k-gauss-outliers", "q4k-student-t4"])
    func atLeastGGMLQ4K(name: String) throws {
        let x = try floats("kernels/" + name + ".f32")
        let ggml = try floats("kernels/" + name + ".ggml-q4k.f32")
        #expect(x.count == ggml.count && x.count % 256 == 0)
        let ours = try OwnedMatrix(.q4, rows: x.count / 256, cols: 256, values: x).dequantized()
        let e = relativeRMSE(ours, x), g = relativeRMSE(ggml, x)
        // Same algorithm (a port of make_qkx2_quants + 6-bit scales): the error must not exceed ggml's
        // (measured ratio 1.000 on both tensors: gauss 0.0932, student-t 0.0860).
        #expect(e <= g * 1.0001, "q4 relative RMSE \(e) vs ggml Q4_K \(g)")
        // Measured: the decoded values are identical to ggml's (same search, same rounding); allow a few
        // differences for f32 rounding-order changes on other compilers.
        let same = zip(ours, ggml).filter { $0 == $1 }.count
        #expect(same >= x.count * 999 / 1000, "\(x.count - same) of \(x.count) values differ from ggml's")
        // And at 4.5 bits/weight like Q4_K: 144 bytes per 256 weights.
        #expect(WeightType.q4.rowBytes(cols: 256) == 144)
    }

    func floats(_ path: String) throws -> [Float] {
        let d = try Data(contentsOf: Fixtures.url(path))
        return d.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
