// WhisperTensors: how a Whisper model receives its weights — a name → typed view lookup (zero-copy over a
// memory-mapped file), plus an owning store used by tests and by conversion-time runs from f32 arrays.
import EarshotKernels

/// A typed view of one tensor: `shape` (row-major), storage `type`, bytes at `base` (valid while used).
public struct WhisperTensorView: @unchecked Sendable {
    public let shape: [Int]
    public let type: WeightType
    public let base: UnsafeRawPointer

    public init(shape: [Int], type: WeightType, base: UnsafeRawPointer) {
        self.shape = shape
        self.type = type
        self.base = base
    }
}

/// Looks tensors up by canonical name.
public typealias WhisperTensorLookup = (String) -> WhisperTensorView?

/// Owns tensor bytes in memory. Matrices (rank 2, except embeddings) can be stored as f32, f16 or bf16
/// (quantized types arrive with the quantizers); vectors and position embeddings stay f32.
public final class WhisperTensorStore: @unchecked Sendable {
    private var views: [String: WhisperTensorView] = [:]
    private var buffers: [UnsafeMutableRawPointer] = []

    /// `tensors`: (name, shape, f32 values). `matrixType` applies to rank-2 tensors except position embeddings.
    public init(tensors: [(name: String, shape: [Int], values: [Float])], matrixType: WeightType = .f32) {
        for t in tensors {
            let isMatrix = t.shape.count == 2 && !t.name.hasSuffix("pos_embd.weight")
            let type: WeightType = isMatrix ? matrixType : .f32
            precondition(type == .f32 || type == .f16 || type == .bf16, "WhisperTensorStore: quantized types need the quantizers")
            let n = t.values.count
            let bytes = type == .f32 ? 4 * n : 2 * n
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
            for i in 0..<n {
                switch type {
                case .f32: p.storeBytes(of: t.values[i], toByteOffset: 4 * i, as: Float.self)
                case .f16: p.storeBytes(of: Float16(t.values[i]).bitPattern, toByteOffset: 2 * i, as: UInt16.self)
                default:   // bf16, round to nearest even
                    let bits = t.values[i].bitPattern
                    let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
                    p.storeBytes(of: UInt16(truncatingIfNeeded: rounded), toByteOffset: 2 * i, as: UInt16.self)
                }
            }
            buffers.append(p)
            views[t.name] = WhisperTensorView(shape: t.shape, type: type, base: UnsafeRawPointer(p))
        }
    }

    deinit { for b in buffers { b.deallocate() } }

    public func view(_ name: String) -> WhisperTensorView? { views[name] }

    public var lookup: WhisperTensorLookup { { [self] in self.views[$0] } }
}

/// Shape-checked accessors shared by the encoder and decoder loaders.
enum WhisperTensorReader {
    static func matrix(_ lookup: WhisperTensorLookup, _ name: String, rows: Int, cols: Int) throws(WhisperError) -> WeightMatrix {
        guard let v = lookup(name) else { throw .missingTensor(name) }
        guard v.shape == [rows, cols] else { throw .badShape(name: name, expected: [rows, cols], actual: v.shape) }
        guard v.type.rowBytes(cols: cols) != nil else { throw .badType(name: name, type: "\(v.type) with \(cols) columns") }
        return WeightMatrix(type: v.type, rows: rows, cols: cols, base: v.base)
    }

    /// A vector or small table, widened to f32 (f32, f16, bf16 accepted).
    static func floats(_ lookup: WhisperTensorLookup, _ name: String, shape: [Int]) throws(WhisperError) -> [Float] {
        guard let v = lookup(name) else { throw .missingTensor(name) }
        guard v.shape == shape else { throw .badShape(name: name, expected: shape, actual: v.shape) }
        let n = shape.reduce(1, *)
        switch v.type {
        case .f32:
            return Array(UnsafeBufferPointer(start: v.base.assumingMemoryBound(to: Float.self), count: n))
        case .f16:
            return (0..<n).map { Float(Float16(bitPattern: v.base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
        case .bf16:
            return (0..<n).map { Float(bitPattern: UInt32(v.base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) << 16) }
        case .q8, .q4:
            throw .badType(name: name, type: "\(v.type)")
        }
    }
}
