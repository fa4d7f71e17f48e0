// KVCache: the LLM's keys (RoPE applied) and values for every layer, preallocated for `capacity` tokens,
// stored as f16 (default, half the memory) or f32. Also remembers the dynamic-NTK alpha fixed at prefill.
//   keys[l], values[l]: [capacity × KVP] (KVP = kvHeads · headDim: only the key/value heads, fewer than the
//   query heads with GQA), row p = position p.
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
        rowSize = config.kvProjectionSize
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

    /// Bytes of one stored row (one position of one layer's keys or values).
    public var rowBytes: Int { rowSize * elementSize }
    /// Key/value slots: 2 per layer (slot 2l = keys of layer l, 2l + 1 = its values).
    public var slotCount: Int { 2 * layers }

    /// The raw rows 0..<count of `slot` (for saving a session). count ≤ length.
    public func rawRows(slot: Int, count: Int) -> UnsafeRawBufferPointer {
        precondition(slot >= 0 && slot < slotCount && count >= 0 && count <= length)
        return UnsafeRawBufferPointer(start: storage + slot * capacity * rowBytes, count: count * rowBytes)
    }

    /// Overwrites rows 0..<(bytes.count / rowBytes) of `slot` (for restoring a session); call
    /// `restore(length:ntkAlpha:)` after every slot is filled.
    public func writeRawRows(slot: Int, _ bytes: UnsafeRawBufferPointer) {
        precondition(slot >= 0 && slot < slotCount && bytes.count % rowBytes == 0 && bytes.count / rowBytes <= capacity)
        if let b = bytes.baseAddress { (storage + slot * capacity * rowBytes).copyMemory(from: b, byteCount: bytes.count) }
    }

    /// Sets the stored length and NTK alpha after `writeRawRows`.
    public func restore(length: Int, ntkAlpha: Double) {
        precondition(length >= 0 && length <= capacity)
        self.length = length
        self.ntkAlpha = ntkAlpha
    }

    /// Copies every stored row, the length and the alpha into `other` (same model and precision, capacity ≥ length).
    public func copy(into other: KVCache) {
        precondition(other.precision == precision && other.slotCount == slotCount && other.rowSize == rowSize && other.capacity >= length)
        for s in 0..<slotCount { other.writeRawRows(slot: s, rawRows(slot: s, count: length)) }
        other.restore(length: length, ntkAlpha: ntkAlpha)
    }

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
