// TensorEncoder: one checkpoint tensor → its `.ear` bytes, streamed in row chunks, with its error measured.
//
// Per chunk of rows: RowSource → f32 rows [n × cols] (transforms applied) → RowCodec.encode (or an exact
// block re-lay) into a chunk buffer → decode again → error against the f32 rows → `write(chunk)`.
// The source pages of each chunk are released as soon as it is done, so RSS stays at a few MB per
// tensor whatever its size. NaN/±inf weights are caught by the error sums already computed (Σw² stops
// being finite): no extra pass over the data; only then is the chunk searched for the offending index,
// and the conversion stops before the chunk is written.
import Dispatch
import EarshotKernels

/// Quantization error of one tensor against its source values.
public struct TensorError: Sendable, Equatable {
    /// sqrt(Σ(ŵ − w)² / Σw²); 0 when the tensor is exactly representable (or all zero).
    public var relativeRMSE: Double
    /// max |ŵ − w|.
    public var maxAbs: Double
}

/// Buffers shared by the row groups of one chunk; each group touches only its own rows.
private struct SharedPointers: @unchecked Sendable {
    let f32: UnsafeMutablePointer<Float>
    let out: UnsafeMutableRawPointer
    let part: UnsafeMutablePointer<ErrorAccumulator>
}

struct ErrorAccumulator {
    var sumSquaredDiff = 0.0
    var sumSquaredRef = 0.0
    var maxAbs: Float = 0

    mutating func add(reference: UnsafePointer<Float>, decoded: UnsafePointer<Float>, count: Int) {
        var sd = 0.0, sr = 0.0
        var m = maxAbs
        for i in 0..<count {
            let r = reference[i], d = decoded[i] - r
            sd += Double(d * d)
            sr += Double(r * r)
            let a = abs(d)
            if a > m || a.isNaN { m = a }
        }
        sumSquaredDiff += sd
        sumSquaredRef += sr
        maxAbs = m
    }

    mutating func merge(_ o: ErrorAccumulator) {
        sumSquaredDiff += o.sumSquaredDiff
        sumSquaredRef += o.sumSquaredRef
        if o.maxAbs > maxAbs || o.maxAbs.isNaN { maxAbs = o.maxAbs }
    }

    var result: TensorError {
        TensorError(relativeRMSE: sumSquaredRef > 0 ? (sumSquaredDiff / sumSquaredRef).squareRoot() : (sumSquaredDiff > 0 ? .infinity : 0),
                    maxAbs: Double(maxAbs))
    }
}

enum TensorEncoder {
    /// Rows converted per chunk: about 1 M weights.
    static func chunkRows(cols: Int) -> Int { max(1, (1 << 20) / max(cols, 1)) }

    /// Encodes the rows of `source` and hands the encoded rows (rowBytes each, in order) to `write` chunk by
    /// chunk; returns the error against the source values. Rows the source can re-lay exactly into the codec's
    /// type (GGUF Q8_0 → q8, Q4_K → q4) are copied block by block; the others are quantized from f32.
    /// `progress(n)` is called with source bytes done; converted source pages are released as it goes.
    /// Throws `ConvertError.nonFiniteWeight` (naming `name` and the [row, col] of the value in the output's
    /// row layout) for a NaN or infinite weight, before the chunk holding it is written.
    static func encode(source: some RowSource, codec: RowCodec, name: String = "", threads: Int = 1,
                       write: (UnsafeRawBufferPointer) throws -> Void, progress: (Int) -> Void) throws -> TensorError {
        let rows = source.rows, cols = source.cols
        let rowBytes = codec.type.rowBytes(cols: cols)!
        let relay = source.canRelay(to: codec.type)
        let chunk = chunkRows(cols: cols)
        let f32 = UnsafeMutablePointer<Float>.allocate(capacity: chunk * cols)
        let out = UnsafeMutableRawPointer.allocate(byteCount: max(1, chunk * rowBytes), alignment: 64)
        defer { f32.deallocate(); out.deallocate() }
        // Rows are encoded in fixed groups (independent of the thread count) whose error sums are added in
        // group order, so the report — like the bytes — does not depend on how many threads ran.
        let groupRows = max(1, (1 << 16) / max(cols, 1))
        let bytesPerRow = Double(source.sourceBytes) / Double(max(rows, 1))
        var acc = ErrorAccumulator()
        var r0 = 0, reported = 0
        while r0 < rows {
            let n = min(chunk, rows - r0)
            let groups = (n + groupRows - 1) / groupRows
            var partial = [ErrorAccumulator](repeating: ErrorAccumulator(), count: groups)
            partial.withUnsafeMutableBufferPointer { part in
                let ptrs = SharedPointers(f32: f32, out: out, part: part.baseAddress!)
                let first = r0
                let work: @Sendable (Int) -> Void = { g in
                    let f32 = ptrs.f32, out = ptrs.out, partBase = ptrs.part
                    let g0 = g * groupRows, gn = min(groupRows, n - g0)
                    let back = UnsafeMutablePointer<Float>.allocate(capacity: cols)
                    defer { back.deallocate() }
                    source.decode(rows: first + g0, count: gn, into: f32 + g0 * cols)
                    var a = ErrorAccumulator()
                    for r in g0..<(g0 + gn) {
                        let dst = out + r * rowBytes
                        if !(relay && source.relay(row: first + r, to: codec.type, into: dst)) {
                            codec.encode(f32 + r * cols, cols, dst)
                        }
                        codec.decode(dst, cols, back)
                        a.add(reference: f32 + r * cols, decoded: back, count: cols)
                    }
                    partBase[g] = a
                }
                if threads > 1 && groups > 1 {
                    DispatchQueue.concurrentPerform(iterations: groups, execute: work)
                } else {
                    for g in 0..<groups { work(g) }
                }
            }
            for p in partial { acc.merge(p) }
            if !acc.sumSquaredRef.isFinite, let k = (0..<(n * cols)).first(where: { !f32[$0].isFinite }) {
                throw ConvertError.nonFiniteWeight(tensor: name, index: [r0 + k / cols, k % cols], value: "\(f32[k])")
            }
            try write(UnsafeRawBufferPointer(start: out, count: n * rowBytes))
            source.release(rows: r0, count: n)
            r0 += n
            let doneBytes = Int((Double(r0) * bytesPerRow).rounded())
            progress(doneBytes - reported)
            reported = doneBytes
        }
        return acc.result
    }

    /// Source rows → f32. For `.convToMatmul` a source row s is conv[s, m, k] (index m·3 + k) and the
    /// output row is W[s, k·M + m].
    static func decodeRows(_ src: UnsafeRawPointer, dtype: SafetensorsDType, rows: Int, cols: Int,
                           transform: TensorTransform, sourceShape: [Int], into out: UnsafeMutablePointer<Float>) {
        let n = rows * cols
        switch transform {
        case .none:
            decodeValues(src, dtype: dtype, count: n, into: out)
        case .convToMatmul:
            let m = sourceShape[1], k = sourceShape[2]
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: cols)
            defer { tmp.deallocate() }
            for r in 0..<rows {
                decodeValues(src + r * cols * dtype.byteSize, dtype: dtype, count: cols, into: tmp)
                let o = out + r * cols
                for mi in 0..<m { for ki in 0..<k { o[ki * m + mi] = tmp[mi * k + ki] } }
            }
        }
    }

    @inline(__always) static func decodeValues(_ src: UnsafeRawPointer, dtype: SafetensorsDType, count: Int,
                                               into out: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .bf16:
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            }
        case .f16:
            for i in 0..<count {
                out[i] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
            }
        case .f32:
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        }
    }
}
