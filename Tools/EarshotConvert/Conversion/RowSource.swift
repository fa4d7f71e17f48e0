// RowSource: where the rows of one output tensor come from — a safetensors tensor (bf16/f16/f32, maybe a
// conv weight to reshape), a GGUF tensor (any ggml type), f32 values in memory, or several of these stacked
// (q, k, v fused into attn_qkv). The one conversion loop (Converter + TensorEncoder) reads f32 rows from it,
// or asks it to re-lay a row exactly into the output type (GGUF Q8_0 → q8, Q4_K → q4) when it can.
import EarshotKernels

/// Rows of one output tensor: `rows` × `cols` values, read in row chunks. Implementations only read mapped,
/// validated bytes, so they may be called from several threads at once for disjoint rows.
public protocol RowSource: Sendable {
    var rows: Int { get }
    var cols: Int { get }
    /// Source bytes of the whole tensor (for progress).
    var sourceBytes: Int { get }
    /// Rows r0 ..< r0+n as f32 into `out` [n × cols].
    func decode(rows r0: Int, count n: Int, into out: UnsafeMutablePointer<Float>)
    /// Whether rows can be re-laid into `type` without re-quantizing (some rows, for a stack of mixed parts).
    func canRelay(to type: WeightType) -> Bool
    /// Whether every row can (for the report: a tensor copied block for block).
    func relaysEveryRow(to type: WeightType) -> Bool
    /// Re-lays row r into `dst` (`type.rowBytes(cols:)` bytes); false when this row's values do not fit
    /// `type` exactly, and the caller quantizes the decoded row instead.
    func relay(row r: Int, to type: WeightType, into dst: UnsafeMutableRawPointer) -> Bool
    /// Lets the kernel drop the mapped pages of rows r0 ..< r0+n (already converted) from RSS.
    func release(rows r0: Int, count n: Int)
}

extension RowSource {
    public func canRelay(to type: WeightType) -> Bool { false }
    public func relaysEveryRow(to type: WeightType) -> Bool { canRelay(to: type) }
    public func relay(row r: Int, to type: WeightType, into dst: UnsafeMutableRawPointer) -> Bool { false }
    public func release(rows r0: Int, count n: Int) {}
}

/// A safetensors tensor, with the conv → matmul transform applied while decoding.
public struct SafetensorsRows: RowSource, @unchecked Sendable {
    let file: SafetensorsFile
    let tensor: SafetensorsTensor
    let transform: TensorTransform
    public let rows: Int
    public let cols: Int
    public var sourceBytes: Int { tensor.byteCount }

    public init(file: SafetensorsFile, tensor: SafetensorsTensor, transform: TensorTransform) {
        self.file = file
        self.tensor = tensor
        self.transform = transform
        let shape = NameMapping.outputShape(tensor.shape, transform)
        cols = shape.last ?? 1
        rows = shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *)
    }

    public func decode(rows r0: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        let size = tensor.dtype.byteSize
        let src = file.bytes(of: tensor)
        TensorEncoder.decodeRows(src.baseAddress! + r0 * cols * size, dtype: tensor.dtype, rows: n, cols: cols,
                                 transform: transform, sourceShape: tensor.shape, into: out)
    }

    public func release(rows r0: Int, count n: Int) {
        let rowBytes = cols * tensor.dtype.byteSize
        file.file.release(offset: tensor.fileOffset + r0 * rowBytes, count: n * rowBytes)
    }
}

/// f32 values already in memory (CTranslate2 tensors after their own mapping).
public struct ValueRows: RowSource {
    let values: [Float]
    public let rows: Int
    public let cols: Int
    public var sourceBytes: Int { 4 * values.count }

    public init(values: [Float], shape: [Int]) {
        self.values = values
        cols = shape.last ?? 1
        rows = shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *)
    }

    public func decode(rows r0: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        values.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + r0 * cols, count: n * cols) }
    }
}

/// Several sources with the same row length stacked row-wise (e.g. q, k, v → attn_qkv).
public struct StackedRows: RowSource {
    let parts: [any RowSource]
    public let rows: Int
    public let cols: Int
    public var sourceBytes: Int { parts.reduce(0) { $0 + $1.sourceBytes } }

    /// `parts` must be non-empty and share `cols` (the caller checks shapes first).
    public init(_ parts: [any RowSource]) {
        self.parts = parts
        cols = parts.first?.cols ?? 0
        rows = parts.reduce(0) { $0 + $1.rows }
    }

    /// (part index, row within it) of each row of the range, in runs.
    private func runs(_ r0: Int, _ n: Int, _ body: (any RowSource, Int, Int, Int) -> Void) {
        var r = r0, end = r0 + n, base = 0, done = 0
        for p in parts {
            let lo = max(r, base), hi = min(end, base + p.rows)
            if lo < hi { body(p, lo - base, hi - lo, done); done += hi - lo; r = hi }
            base += p.rows
            if r >= end { break }
        }
    }

    public func decode(rows r0: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        runs(r0, n) { p, start, count, done in p.decode(rows: start, count: count, into: out + done * cols) }
    }

    public func canRelay(to type: WeightType) -> Bool { parts.contains { $0.canRelay(to: type) } }
    public func relaysEveryRow(to type: WeightType) -> Bool { parts.allSatisfy { $0.relaysEveryRow(to: type) } }

    public func relay(row r: Int, to type: WeightType, into dst: UnsafeMutableRawPointer) -> Bool {
        var ok = false
        runs(r, 1) { p, start, _, _ in ok = p.canRelay(to: type) && p.relay(row: start, to: type, into: dst) }
        return ok
    }

    public func release(rows r0: Int, count n: Int) {
        runs(r0, n) { p, start, count, _ in p.release(rows: start, count: count) }
    }
}

/// Several one-row sources joined end to end into one row (e.g. q, k, v biases → attn_qkv.bias).
public struct JoinedRow: RowSource {
    let parts: [any RowSource]
    public var rows: Int { 1 }
    public let cols: Int
    public var sourceBytes: Int { parts.reduce(0) { $0 + $1.sourceBytes } }

    /// Every part must have exactly one row (the caller checks shapes first).
    public init(_ parts: [any RowSource]) {
        self.parts = parts
        cols = parts.reduce(0) { $0 + $1.cols }
    }

    public func decode(rows r0: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        var at = 0
        for p in parts { p.decode(rows: 0, count: 1, into: out + at); at += p.cols }
    }
}
