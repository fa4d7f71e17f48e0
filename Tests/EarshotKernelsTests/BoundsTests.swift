// Bounds tests: kernels never read past the end of a weight matrix. The matrix is placed so its last byte
// is the last byte before a PROT_NONE page (as the last tensor of a memory-mapped file may be); an
// over-read crashes the test process.
import Testing
import Glibc
import EarshotKernels

@Suite struct BoundsTests {
    static let shapes: [(WeightType, Int, Int, Int)] = [
        (.q8, 5, 1280, 1), (.q8, 5, 1280, 9), (.q8, 3, 96, 2), (.q8, 9, 4096 + 256, 1),
        (.q4, 5, 1280, 1), (.q4, 5, 1280, 9), (.q4, 3, 288, 2), (.q4, 9, 4096 + 256, 1),
        (.f32, 3, 33, 2), (.f16, 3, 33, 2), (.bf16, 3, 47, 9),
    ]

    @Test(arguments: [KernelPath.portable, KernelPath.bestForThisCPU])
    func noReadPastTheLastRow(path: KernelPath) throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        for (type, rows, cols, tokens) in Self.shapes {
            let bytes = rows * type.rowBytes(cols: cols)!
            let span = (bytes + page - 1) / page * page
            guard let base = mmap(nil, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  base != MAP_FAILED else { Issue.record("mmap failed"); return }
            defer { munmap(base, span + page) }
            #expect(mprotect(base + span, page, PROT_NONE) == 0)
            let start = base + (span - bytes)
            let values = gaussianWithOutliers(rows * cols, seed: UInt64(cols))
            try values.withUnsafeBufferPointer { try Quantizer.quantize(type, rows: rows, cols: cols, $0.baseAddress!, start) }
            let w = WeightMatrix(type: type, rows: rows, cols: cols, base: UnsafeRawPointer(start))
            let x = gaussianWithOutliers(tokens * cols, seed: 3)
            var y = [Float](repeating: .nan, count: tokens * rows)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                Kernels.matmul(w, xp.baseAddress!, tokens: tokens, $0.baseAddress!, activations: .int8, path: path)
            } }
            #expect(y.allSatisfy { $0.isFinite })
        }
    }
}
