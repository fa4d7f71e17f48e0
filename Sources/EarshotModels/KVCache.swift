// KVCache: the LLM's keys (RoPE applied) and values for every layer, preallocated for `capacity` tokens,
// stored as f16 (default, half the memory) or f32. Also remembers the dynamic-NTK alpha fixed at prefill.
//   keys[l], values[l]: [capacity × P] (P = heads · headDim), row p = position p.
import EarshotKernels

public final class KVCache: @unchecked Sendable {
    public enum Precision: Sendable { case f16, f32 }

    public let precision: Precision
    public let capacity: Int
    public let layers: Int
    public let rowSize: Int
    /// Tokens stored so far (the next token's position).
    public internal(set) var length = 0
    /// NTK alpha chosen by the first prefill into this (empty) cache and reused until `reset()`.
    public internal(set) var ntkAlpha: Double = 1
    private let storage: UnsafeMutableRawPointer
    private let elementSize: Int

    public init(config: QwenLMConfig, capacity: Int, precision: Precision = .f16) {
        self.precision = precision
        self.capacity = max(capacity, 1)
        layers = config.numLayers
        rowSize = config.projectionSize
        elementSize = precision == .f16 ? 2 : 4
        let bytes = 2 * layers * self.capacity * rowSize * elementSize
        storage = .allocate(byteCount: bytes, alignment: 64)
    }
    deinit { storage.deallocate() }

    /// Bytes held by keys and values.
    public var byteCount: Int { 2 * layers * capacity * rowSize * elementSize }

    /// Forgets every token (the next prefill chooses a new NTK alpha).
    public func reset() { length = 0; ntkAlpha = 1 }

    /// Drops tokens after `count` (e.g. to re-run from a shared prefix). The NTK alpha is kept.
    public func truncate(to count: Int) { length = min(length, max(count, 0)) }

    func keys(_ layer: Int) -> KVStorage { view(2 * layer) }
    func values(_ layer: Int) -> KVStorage { view(2 * layer + 1) }

    private func view(_ slot: Int) -> KVStorage {
        let p = storage + slot * capacity * rowSize * elementSize
        switch precision {
        case .f16: return .f16(p.assumingMemoryBound(to: Float16.self))
        case .f32: return .f32(p.assumingMemoryBound(to: Float.self))
        }
    }
}
