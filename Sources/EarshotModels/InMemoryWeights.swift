// InMemoryWeights: a WeightSource that owns its tensors in memory (tests, tools, converted tiny checkpoints).

import EarshotKernels

public final class InMemoryWeights: WeightSource, @unchecked Sendable {
    private var tensors: [String: TensorView] = [:]
    private var buffers: [UnsafeMutableRawPointer] = []

    public init() {}
    deinit { for b in buffers { b.deallocate() } }

    public func tensor(named name: String) -> TensorView? { tensors[name] }
    public var names: [String] { tensors.keys.sorted() }

    /// Adds a tensor from raw bytes already in `type`'s layout (rows × rowBytes(last dim)).
    public func add(_ name: String, shape: [Int], type: WeightType, bytes: UnsafeRawBufferPointer) throws(ModelError) {
        let expected = try byteCount(name, shape: shape, type: type)
        guard bytes.count == expected else {
            throw .badInput("tensor '\(name)': \(bytes.count) bytes for shape \(shape) as \(type), expected \(expected)")
        }
        store(name, shape: shape, type: type, count: expected) { if expected > 0 { $0.copyMemory(from: bytes.baseAddress!, byteCount: expected) } }
    }

    /// Adds f32 values.
    public func add(_ name: String, shape: [Int], values: [Float]) throws(ModelError) {
        let n = try byteCount(name, shape: shape, type: .f32)
        guard n == values.count * 4 else { throw .badInput("tensor '\(name)': \(values.count) values for shape \(shape)") }
        store(name, shape: shape, type: .f32, count: n) { p in values.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: n) } }
    }

    /// Adds bfloat16 bit patterns, stored as bf16 or f16, or widened exactly to f32 (bf16 → f32 is exact).
    public func add(_ name: String, shape: [Int], bf16Bits: [UInt16], as type: WeightType) throws(ModelError) {
        switch type {
        case .f32: try add(name, shape: shape, values: bf16Bits.map { Float(bitPattern: UInt32($0) << 16) })
        case .bf16, .f16:
            let n = try byteCount(name, shape: shape, type: type)
            guard n == bf16Bits.count * 2 else { throw .badInput("tensor '\(name)': \(bf16Bits.count) values for shape \(shape)") }
            let halves = type == .bf16 ? bf16Bits : bf16Bits.map { Float16(Float(bitPattern: UInt32($0) << 16)).bitPattern }
            store(name, shape: shape, type: type, count: n) { p in halves.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: n) } }
        case .q8, .q4:
            throw .unsupportedType(name: name, type: "\(type) (quantize with the kernels' quantizers, then add bytes)")
        }
    }

    private func byteCount(_ name: String, shape: [Int], type: WeightType) throws(ModelError) -> Int {
        let cols = shape.last ?? 1
        guard shape.allSatisfy({ $0 >= 0 }), let rb = type.rowBytes(cols: cols) else {
            throw .unsupportedType(name: name, type: "\(type) for shape \(shape)")
        }
        return shape.dropLast().reduce(1, *) * rb
    }

    private func store(_ name: String, shape: [Int], type: WeightType, count: Int, fill: (UnsafeMutableRawPointer) -> Void) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        fill(p)
        buffers.append(p)
        tensors[name] = TensorView(name: name, shape: shape, type: type, base: UnsafeRawPointer(p))
    }
}
