// WeightSource: how a model gets its tensors — by canonical name, as typed zero-copy views.
// A `.ear` file (memory-mapped, in the Earshot library) and `InMemoryWeights` (tests, tools) implement it.
// The model checks every shape against its config when it is built and names the tensor when one is off.
import EarshotKernels

/// One stored tensor: its shape and bytes in place. `type` uses the kernels' weight types; plain f32/f16/bf16
/// tensors are row-major, q8/q4 rows follow Formats/quant-blocks.md.
public struct TensorView: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public let type: WeightType
    public let base: UnsafeRawPointer

    public init(name: String, shape: [Int], type: WeightType, base: UnsafeRawPointer) {
        self.name = name; self.shape = shape; self.type = type; self.base = base
    }
}

/// A provider of tensors by canonical name. Sources are classes: the model keeps its source alive
/// (its views point into the source's memory).
public protocol WeightSource: AnyObject {
    /// The tensor with this canonical name, or nil when the source has none.
    func tensor(named name: String) -> TensorView?
}

extension WeightSource {
    func require(_ name: String, shape: [Int]) throws(ModelError) -> TensorView {
        guard let t = tensor(named: name) else { throw .missingTensor(name) }
        guard t.shape == shape else { throw .shapeMismatch(name: name, expected: shape, actual: t.shape) }
        return t
    }

    /// A [rows × cols] matrix of any weight type, viewed in place.
    public func matrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> WeightMatrix {
        let t = try require(name, shape: [rows, cols])
        guard t.type.rowBytes(cols: cols) != nil else { throw .unsupportedType(name: name, type: "\(t.type) with \(cols) columns") }
        return WeightMatrix(type: t.type, rows: rows, cols: cols, base: t.base)
    }

    /// A tensor of `shape` as f32 values (copied; converted from f16/bf16). For norms, biases and small tables.
    public func floats(_ name: String, shape: [Int]) throws(ModelError) -> [Float] {
        let t = try require(name, shape: shape)
        let n = shape.reduce(1, *)
        switch t.type {
        case .f32: return Array(UnsafeBufferPointer(start: t.base.assumingMemoryBound(to: Float.self), count: n))
        case .f16, .bf16:
            let cols = shape.last ?? 1
            let m = WeightMatrix(type: t.type, rows: n / max(cols, 1), cols: cols, base: t.base)
            var out = [Float](repeating: 0, count: n)
            out.withUnsafeMutableBufferPointer { b in
                for r in 0..<m.rows { Reference.dequantizeRow(m, r, b.baseAddress! + r * cols) }
            }
            return out
        case .q8, .q4: throw .unsupportedType(name: name, type: "\(t.type) (must be f32, f16 or bf16)")
        }
    }
}
