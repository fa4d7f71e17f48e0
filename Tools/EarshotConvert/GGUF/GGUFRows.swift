// GGUFRows: one GGUF tensor as a RowSource — rows dequantized by GGMLDequantize, or re-laid block for block
// by GGMLRelay when the output type carries exactly the same information (Q8_0 → q8, Q4_K → q4).
import EarshotKernels

public struct GGUFRows: RowSource, @unchecked Sendable {
    let file: GGUFFile
    let tensor: GGUFTensor
    public var rows: Int { tensor.rows }
    public var cols: Int { tensor.cols }
    public var sourceBytes: Int { tensor.byteCount }

    public init(file: GGUFFile, tensor: GGUFTensor) {
        self.file = file
        self.tensor = tensor
    }

    public func decode(rows r0: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        let base = file.bytes(of: tensor).baseAddress!, rb = tensor.rowBytes
        for r in 0..<n { GGMLDequantize.row(tensor.type, base + (r0 + r) * rb, cols: cols, out + r * cols) }
    }

    public func canRelay(to type: WeightType) -> Bool { GGMLRelay.canRelay(tensor.type, to: type, cols: cols) }

    public func relay(row r: Int, to type: WeightType, into dst: UnsafeMutableRawPointer) -> Bool {
        GGMLRelay.row(tensor.type, file.bytes(of: tensor).baseAddress! + r * tensor.rowBytes, cols: cols, to: type, dst)
    }

    public func release(rows r0: Int, count n: Int) {
        file.file.release(offset: tensor.fileOffset + r0 * tensor.rowBytes, count: n * tensor.rowBytes)
    }
}
