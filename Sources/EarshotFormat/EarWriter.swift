// EarWriter: writes a .ear file in one pass, streaming tensor data (nothing is held in memory but
// the small index), and never leaves a partial file at the destination. The file itself is an
// AtomicFileWriter, so the OutputPath rule applies (a device, directory or FIFO is never replaced; an
// existing regular file only with `overwrite`; never one of `inputs`):
//   - everything goes to `<path>.tmp-<pid>-<random>` in the same directory (so the final rename is atomic);
//   - `finish()` writes the index and header, fsyncs, re-opens the result with the validating reader,
//     moves it to `path` and fsyncs the directory;
//   - any error (bad input, I/O failure, a full disk, a throwing data source), `cancel()`, or dropping the
//     writer without `finish()` deletes the temporary file; the writer is closed afterwards.
// Executables may call `EarWriter.deleteTemporaryFilesOnSignals()` so Ctrl-C/SIGTERM also clean up;
// only a hard kill (SIGKILL, power loss) can then leave a `*.ear.tmp-*` file, never a partial `path`.
//
// Usage:
//   let w = try EarWriter(path: "model.ear", metadata: ["general.architecture": "qwen-audio"])
//   try w.addTensor(name: "output_norm.weight", dtype: .f32, shape: [4096], bytes: buf)
//   try w.addTensor(name: "output.weight", dtype: .q4, shape: [V, H]) { sink in
//       for row in rows { try sink.write(row) }            // streamed; size checked at the end
//   }
//   try w.addBlob(name: "config.json", bytes: json)       // zstd by default
//   try w.finish()
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class EarWriter {
    /// Where the finished file goes.
    public let path: String
    /// The temporary file being written (removed on failure, renamed to `path` on success).
    public let temporaryPath: String
    /// Metadata written by `finish()`; may be changed until then.
    public var metadata: EarMetadata

    private enum State { case open, finished, failed(String) }
    private var state: State = .open
    private let file: AtomicFileWriter
    private var position = 0            // bytes written so far (logical, including the buffer)
    private var buffer: [UInt8] = []
    private static let bufferCapacity = 1 << 20
    private var tensors: [TensorInfo] = []
    private var blobs: [BlobInfo] = []
    private var names = Set<String>()  // "t:" / "b:" prefixed, to check duplicates per kind

    /// Checks `path` against the OutputPath rule, creates the temporary file next to it and reserves the
    /// header. `overwrite`: replace a regular file already there (the converter passes `--force`);
    /// `inputs`: files or directories the output must not be.
    public init(path: String, metadata: EarMetadata = EarMetadata(), overwrite: Bool = true,
                inputs: [String] = []) throws(EarError) {
        self.path = path
        self.metadata = metadata
        file = try AtomicFileWriter(path: path, overwrite: overwrite, inputs: inputs)
        temporaryPath = file.temporaryPath
        buffer.reserveCapacity(EarWriter.bufferCapacity)
        do {
            // Header placeholder and padding up to the data region (rewritten by finish()).
            try append([UInt8](repeating: 0, count: Layout.dataAlignment))
        } catch {
            abandon(error.description)
            throw error
        }
    }

    deinit {
        if case .open = state { abandon("dropped without finish()") }
    }

    /// True until `finish()`, `cancel()` or an error closes the writer.
    public var isOpen: Bool { if case .open = state { return true } else { return false } }

    // MARK: Tensors

    /// Adds a tensor whose bytes are all in memory.
    public func addTensor(name: String, dtype: EarDType, shape: [Int], bytes: UnsafeRawBufferPointer) throws(EarError) {
        try guarded { () throws(EarError) in
            let expected = try beginTensor(name: name, dtype: dtype, shape: shape)
            guard bytes.count == expected else {
                throw EarError.tensorDataSizeMismatch(tensor: name, expected: UInt64(expected), written: UInt64(bytes.count))
            }
            let offset = position
            try append(bytes)
            tensors.append(TensorInfo(name: name, dtype: dtype, shape: shape, offset: offset, byteCount: expected,
                                      checksum: XXH64.hash(bytes)))
        }
    }

    public func addTensor(name: String, dtype: EarDType, shape: [Int], bytes: [UInt8]) throws(EarError) {
        try withBytes(bytes) { (b) throws(EarError) in try addTensor(name: name, dtype: dtype, shape: shape, bytes: b) }
    }

    /// Adds an f32 tensor from values.
    public func addTensor(name: String, shape: [Int], f32 values: [Float]) throws(EarError) {
        let le = values.map { $0.bitPattern.littleEndian }
        try withBytes(le) { (b) throws(EarError) in try addTensor(name: name, dtype: .f32, shape: shape, bytes: b) }
    }

    /// Adds a tensor whose bytes `produce` streams into the sink in any number of chunks. If `produce`
    /// throws, or delivers a different number of bytes than dtype and shape need, the writer removes
    /// its file, closes, and rethrows.
    public func addTensor(name: String, dtype: EarDType, shape: [Int],
                          produce: (EarTensorSink) throws -> Void) throws {
        guard case .open = state else { throw closedError() }
        do {
            let expected = try beginTensor(name: name, dtype: dtype, shape: shape)
            let sink = EarTensorSink(writer: self, name: name, expected: expected)
            let offset = position
            defer { sink.writer = nil }
            try produce(sink)
            guard case .open = state else { throw closedError() }   // a sink write failed and was swallowed
            guard sink.written == expected else {
                throw EarError.tensorDataSizeMismatch(tensor: name, expected: UInt64(expected), written: UInt64(sink.written))
            }
            tensors.append(TensorInfo(name: name, dtype: dtype, shape: shape, offset: offset, byteCount: expected,
                                      checksum: sink.hash.digest()))
        } catch {
            if case .open = state { abandon("\(error)") }
            throw error
        }
    }

    /// Validates a new tensor, aligns the file to 64 bytes and returns its byte size.
    private func beginTensor(name: String, dtype: EarDType, shape: [Int]) throws(EarError) -> Int {
        if let reason = NameRules.problem(name) { throw .invalidInput(name: name, reason: "invalid tensor name: \(reason)") }
        guard !names.contains("t:" + name) else { throw .duplicateName(kind: "tensor", name: name) }
        guard shape.count <= Layout.maxRank else {
            throw .invalidInput(name: name, reason: "rank \(shape.count) is over the maximum \(Layout.maxRank)")
        }
        guard let expected = dtype.byteCount(shape: shape) else {
            throw .invalidShape(tensor: name, shape: shape.map { UInt64(bitPattern: Int64($0)) },
                                reason: dtype.isQuantized ? "\(dtype) needs rank ≥ 1 and a last dimension that is a multiple of 32"
                                                          : "negative dimension or size overflow")
        }
        guard tensors.count < Int(Layout.maxTensorCount) else {
            throw .invalidInput(name: name, reason: "more than \(Layout.maxTensorCount) tensors")
        }
        names.insert("t:" + name)
        try padTo(Layout.tensorAlignment)
        return expected
    }

    // MARK: Blobs

    /// Adds a named byte string, zstd-compressed by default (`level` 1…22).
    public func addBlob(name: String, bytes: [UInt8], compression: EarCompression = .zstd, level: Int32 = 19) throws(EarError) {
        try guarded { () throws(EarError) in
            if let reason = NameRules.problem(name) { throw EarError.invalidInput(name: name, reason: "invalid blob name: \(reason)") }
            guard !names.contains("b:" + name) else { throw EarError.duplicateName(kind: "blob", name: name) }
            guard UInt64(bytes.count) <= Layout.maxBlobRawSize else {
                throw EarError.invalidInput(name: name, reason: "blob of \(bytes.count) bytes is over the limit \(Layout.maxBlobRawSize)")
            }
            guard blobs.count < Int(Layout.maxBlobCount) else {
                throw EarError.invalidInput(name: name, reason: "more than \(Layout.maxBlobCount) blobs")
            }
            names.insert("b:" + name)
            let stored = compression == .zstd ? try Zstd.compress(bytes, level: level, blob: name) : bytes
            try padTo(Layout.tensorAlignment)
            let offset = position
            try withBytes(stored) { (b) throws(EarError) in try append(b) }
            blobs.append(BlobInfo(name: name, compression: compression, offset: offset, storedSize: stored.count,
                                  rawSize: bytes.count, checksum: XXH64.hash(bytes)))
        }
    }

    // MARK: Finishing

    /// Writes the index and header, makes the file durable and moves it to `path` (replacing a regular
    /// file there if `overwrite` was given). The result is re-read with the validating reader before the
    /// rename. Returns the file's size in bytes.
    @discardableResult
    public func finish() throws(EarError) -> Int {
        var fileSize = 0
        try guarded { () throws(EarError) in
            for key in metadata.keys {
                if let reason = NameRules.problem(key) { throw EarError.invalidMetadata(key: key, reason: "invalid key: \(reason)") }
                if let reason = MetadataJSON.problem(metadata[key]!) { throw EarError.invalidMetadata(key: key, reason: reason) }
            }
            try padTo(Layout.tensorAlignment)
            let dataEnd = position
            let (index, header) = try buildIndex(dataEnd: dataEnd)
            try withBytes(index) { (b) throws(EarError) in try append(b) }
            try flush()
            try withBytes(header) { (b) throws(EarError) in try file.write(b, at: 0) }
            try file.closeTemporary()
            fileSize = try EarFile(path: temporaryPath).fileSize  // never publish a file our own reader rejects
            try file.commit()
            state = .finished
        }
        return fileSize
    }

    /// Abandons the file: closes and deletes the temporary file. Safe to call more than once.
    public func cancel() {
        if case .open = state { abandon("cancelled") }
    }

    /// Metadata, string pool and tables, and the header that points at them.
    private func buildIndex(dataEnd: Int) throws(EarError) -> (index: [UInt8], header: [UInt8]) {
        var index: [UInt8] = []
        let metadataBytes = Array(MetadataJSON.serialize(metadata).utf8)
        guard UInt64(metadataBytes.count) <= Layout.maxMetadataSize else {
            throw .invalidMetadata(key: nil, reason: "\(metadataBytes.count) bytes of JSON, over the limit \(Layout.maxMetadataSize)")
        }
        index += metadataBytes
        let metadataOffset = dataEnd

        let poolOffset = dataEnd + index.count
        var pool: [UInt8] = []
        var nameRefs: [(UInt32, UInt32)] = []
        for n in blobs.map(\.name) + tensors.map(\.name) {
            nameRefs.append((UInt32(pool.count), UInt32(n.utf8.count)))
            pool += Array(n.utf8)
        }
        index += pool

        index.padTo(Layout.alignUp(dataEnd + index.count, Layout.tableAlignment) - dataEnd)
        let blobTableOffset = dataEnd + index.count
        for (i, b) in blobs.enumerated() {
            var r: [UInt8] = []
            r.appendLE(nameRefs[i].0); r.appendLE(nameRefs[i].1)
            r.appendLE(b.compression.rawValue); r.padTo(Layout.B.offset)
            r.appendLE(UInt64(b.offset)); r.appendLE(UInt64(b.storedSize)); r.appendLE(UInt64(b.rawSize))
            r.appendLE(b.checksum); r.appendLE(UInt64(0))
            assert(r.count == Layout.blobRecordSize)
            index += r
        }
        let tensorTableOffset = dataEnd + index.count
        for (i, t) in tensors.enumerated() {
            var r: [UInt8] = []
            let ref = nameRefs[blobs.count + i]
            r.appendLE(ref.0); r.appendLE(ref.1)
            r.appendLE(t.dtype.rawValue); r.appendLE(UInt8(t.shape.count)); r.padTo(Layout.T.dims)
            for d in 0..<Layout.maxRank { r.appendLE(UInt64(d < t.shape.count ? t.shape[d] : 0)) }
            r.appendLE(UInt64(t.offset)); r.appendLE(UInt64(t.byteCount)); r.appendLE(t.checksum); r.appendLE(UInt64(0))
            assert(r.count == Layout.tensorRecordSize)
            index += r
        }

        var h: [UInt8] = Layout.magic
        h.appendLE(Layout.version)
        h.appendLE(UInt32(Layout.headerSize))
        h.appendLE(UInt64(dataEnd + index.count))                 // file_size
        h.appendLE(UInt64(Layout.dataAlignment))                  // data_offset
        h.appendLE(UInt64(dataEnd - Layout.dataAlignment))        // data_size
        h.appendLE(UInt64(metadataOffset)); h.appendLE(UInt64(metadataBytes.count))
        h.appendLE(UInt64(poolOffset)); h.appendLE(UInt64(pool.count))
        h.appendLE(UInt64(blobTableOffset)); h.appendLE(UInt64(blobs.count))
        h.appendLE(UInt64(tensorTableOffset)); h.appendLE(UInt64(tensors.count))
        h.appendLE(XXH64.hash(index))                             // index_checksum
        h.padTo(Layout.headerSize)
        return (index, h)
    }

    // MARK: Plumbing

    /// Runs `body`; on any error removes the file, closes the writer and rethrows.
    private func guarded(_ body: () throws(EarError) -> Void) throws(EarError) {
        guard case .open = state else { throw closedError() }
        do {
            try body()
        } catch {
            if case .open = state { abandon(error.description) }
            throw error
        }
    }

    private func closedError() -> EarError {
        switch state {
        case .open: return .writerClosed(reason: "open")
        case .finished: return .writerClosed(reason: "finish() already wrote '\(path)'")
        case .failed(let why): return .writerClosed(reason: "an earlier error removed the file (\(why))")
        }
    }

    fileprivate func abandon(_ reason: String) {
        file.cancel()
        state = .failed(reason)
    }

    fileprivate func append(_ bytes: UnsafeRawBufferPointer) throws(EarError) {
        if buffer.count + bytes.count > EarWriter.bufferCapacity { try flush() }
        if bytes.count >= EarWriter.bufferCapacity {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
        position += bytes.count
    }

    private func append(_ bytes: [UInt8]) throws(EarError) {
        try withBytes(bytes) { (b) throws(EarError) in try append(b) }
    }

    private func padTo(_ alignment: Int) throws(EarError) {
        let pad = Layout.alignUp(position, alignment) - position
        if pad > 0 { try append([UInt8](repeating: 0, count: pad)) }
    }

    private func flush() throws(EarError) {
        guard !buffer.isEmpty else { return }
        try withBytes(buffer) { (b) throws(EarError) in try writeAll(b) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(EarError) {
        try file.write(bytes)
    }
}

/// Receives one streamed tensor's bytes (only inside the `produce` closure of `addTensor`).
public final class EarTensorSink {
    fileprivate weak var writer: EarWriter?
    fileprivate let name: String
    fileprivate let expected: Int
    fileprivate var hash = XXH64()
    /// Bytes received so far.
    public private(set) var written = 0

    fileprivate init(writer: EarWriter, name: String, expected: Int) {
        self.writer = writer
        self.name = name
        self.expected = expected
    }

    /// Bytes still expected.
    public var remaining: Int { expected - written }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(EarError) {
        guard let writer else { throw .writerClosed(reason: "the sink of tensor '\(name)' was used outside its closure") }
        guard bytes.count <= expected - written else {
            throw .tensorDataSizeMismatch(tensor: name, expected: UInt64(expected), written: UInt64(written + bytes.count))
        }
        do {
            try writer.append(bytes)
        } catch {
            writer.abandon(error.description)   // even if the producer swallows the error, the file is gone
            throw error
        }
        hash.update(bytes)
        written += bytes.count
    }

    public func write(_ bytes: [UInt8]) throws(EarError) {
        try withBytes(bytes) { (b) throws(EarError) in try write(b) }
    }
}
