// EarFile: a .ear file opened for reading. The whole file is mapped read-only and fully validated
// (EarIndex: every offset, size and count; then the index checksum, so a changed metadata value or
// tensor record is refused on every open) before the initializer returns; tensor bytes are then used in
// place (zero-copy) for as long as the EarFile lives. Tensor and blob checksums (the bulk of the file)
// are checked on demand with `verify()`. Only regular files are opened (a FIFO or a device is refused at
// once, never waited on), and the mapping is registered with MappedFileFaults so an executable that
// installed it reports a file truncated under it in one line instead of dying of SIGBUS.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class EarFile: @unchecked Sendable {  // immutable after init; the mapping is read-only
    public let path: String
    public let formatVersion: UInt32
    public let fileSize: Int
    public let metadata: EarMetadata
    /// Tensors in table order.
    public let tensors: [TensorInfo]
    /// Blobs in table order.
    public let blobs: [BlobInfo]
    /// The data region [dataOffset, dataOffset + dataSize) (dataOffset is a multiple of 16 KiB).
    public let dataOffset: Int
    public let dataSize: Int
    /// XXH64 of the index region recorded in the header.
    public let indexChecksum: UInt64

    /// The whole file, mapped read-only.
    public let mapping: UnsafeRawBufferPointer
    private let index: EarIndex
    private let tensorsByName: [String: Int]
    private let blobsByName: [String: Int]
    private let faultToken: Int?

    /// The newest format version this build reads (and the one it writes).
    public static let supportedVersion: UInt32 = Layout.version

    /// Opens, maps and validates `path`. Throws the first problem found, naming the field at fault.
    public init(path: String) throws(EarError) {
        self.path = path
        let (fd, size) = try InputFile.open(path)
        defer { close(fd) }
        guard size >= Layout.headerSize else {
            // Too small to map usefully: validate the few bytes there are (magic, then "truncated").
            var head = [UInt8](repeating: 0, count: size)
            let n = size == 0 ? 0 : read(fd, &head, size)
            guard n == size else { throw .io(path: path, operation: "read", errno: errno) }
            _ = try withBytes(head) { (b) throws(EarError) in try EarIndex.parse(b) }
            throw .truncatedHeader(needed: Layout.headerSize, found: size)
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .io(path: path, operation: "mmap", errno: errno)
        }
        let mapping = UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: size)
        let token = MappedFileFaults.register(base: UnsafeRawPointer(base), count: size, path: path)
        let index: EarIndex
        do {
            index = try EarIndex.parse(mapping)
            try EarFile.checkIndexChecksum(index, mapping)
        } catch {
            MappedFileFaults.unregister(token)
            munmap(base, size)
            throw error
        }
        faultToken = token
        self.mapping = mapping
        self.index = index
        formatVersion = index.formatVersion
        fileSize = index.fileSize
        metadata = index.metadata
        tensors = index.tensors
        blobs = index.blobs
        dataOffset = index.dataOffset
        dataSize = index.dataSize
        indexChecksum = index.indexChecksum
        tensorsByName = Dictionary(uniqueKeysWithValues: index.tensors.enumerated().map { ($1.name, $0) })
        blobsByName = Dictionary(uniqueKeysWithValues: index.blobs.enumerated().map { ($1.name, $0) })
    }

    deinit {
        MappedFileFaults.unregister(faultToken)
        munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count)
    }

    // MARK: Tensors

    public func tensor(named name: String) throws(EarError) -> TensorInfo {
        guard let i = tensorsByName[name] else { throw .tensorNotFound(name: name) }
        return tensors[i]
    }

    public func hasTensor(named name: String) -> Bool { tensorsByName[name] != nil }

    /// The tensor's bytes, in place in the mapping (valid while this EarFile lives).
    public func bytes(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensor.offset >= 0 && tensor.byteCount >= 0 && tensor.offset + tensor.byteCount <= mapping.count,
                     "EarFile.bytes(of:): tensor '\(tensor.name)' is not from this file")
        return UnsafeRawBufferPointer(rebasing: mapping[tensor.offset..<(tensor.offset + tensor.byteCount)])
    }

    public func bytes(named name: String) throws(EarError) -> UnsafeRawBufferPointer {
        bytes(of: try tensor(named: name))
    }

    /// An f32 tensor's values in place (valid while this EarFile lives). Throws if it is not f32.
    public func f32(named name: String) throws(EarError) -> UnsafeBufferPointer<Float> {
        let t = try tensor(named: name)
        guard t.dtype == .f32 else { throw .dtypeMismatch(tensor: name, expected: .f32, found: t.dtype) }
        // Offsets are 64-byte aligned and the mapping is page-aligned, so the cast is aligned.
        return bytes(of: t).bindMemory(to: Float.self)
    }

    // MARK: Blobs

    public func blobInfo(named name: String) throws(EarError) -> BlobInfo {
        guard let i = blobsByName[name] else { throw .blobNotFound(name: name) }
        return blobs[i]
    }

    public func hasBlob(named name: String) -> Bool { blobsByName[name] != nil }

    /// The blob's raw bytes (decompressed if needed). Its size and checksum are always checked
    /// (blobs are small and copied anyway).
    public func blob(named name: String) throws(EarError) -> [UInt8] {
        try blob(try blobInfo(named: name))
    }

    public func blob(_ info: BlobInfo) throws(EarError) -> [UInt8] {
        let stored = UnsafeRawBufferPointer(rebasing: mapping[info.offset..<(info.offset + info.storedSize)])
        let raw: [UInt8]
        switch info.compression {
        case .raw: raw = Array(stored)
        case .zstd: raw = try Zstd.decompress(stored, rawSize: info.rawSize, blob: info.name)
        }
        let sum = XXH64.hash(raw)
        guard sum == info.checksum else { throw .checksumMismatch(item: "blob '\(info.name)'", expected: info.checksum, found: sum) }
        return raw
    }

    // MARK: Checksums

    /// Checks one tensor's checksum.
    public func verify(tensor: TensorInfo) throws(EarError) {
        let sum = XXH64.hash(bytes(of: tensor))
        guard sum == tensor.checksum else {
            throw .checksumMismatch(item: "tensor '\(tensor.name)'", expected: tensor.checksum, found: sum)
        }
    }

    /// Checks the index region's checksum (already done by every open; kept for `verify()`).
    public func verifyIndex() throws(EarError) {
        try EarFile.checkIndexChecksum(index, mapping)
    }

    /// The index region (metadata, string pool, blob and tensor tables: a few kB to ~100 kB) against the
    /// header's XXH64. Cheap enough for every open; catches an edited metadata value or tensor record
    /// that still parses.
    static func checkIndexChecksum(_ index: EarIndex, _ file: UnsafeRawBufferPointer) throws(EarError) {
        let sum = XXH64.hash(UnsafeRawBufferPointer(rebasing: file[index.indexRange]))
        guard sum == index.indexChecksum else {
            throw .checksumMismatch(item: "index", expected: index.indexChecksum, found: sum)
        }
    }

    /// Checks every checksum: every blob (after decompression), every tensor, then the index. `progress`
    /// is called after each item with (bytes checked so far, total bytes).
    public func verify(progress: ((Int, Int) -> Void)? = nil) throws(EarError) {
        let total = index.indexRange.count + blobs.reduce(0) { $0 + $1.storedSize } + tensors.reduce(0) { $0 + $1.byteCount }
        var done = 0
        // Whole-file sequential read: ask the kernel to read ahead and map in large batches.
        _ = madvise(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count, MADV_SEQUENTIAL)
        _ = madvise(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count, MADV_WILLNEED)
        defer { _ = madvise(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count, MADV_NORMAL) }
        for b in blobs {
            _ = try blob(b)
            done += b.storedSize
            progress?(done, total)
        }
        for t in tensors {
            try verify(tensor: t)
            done += t.byteCount
            progress?(done, total)
        }
        // Last, so that a damaged table entry is reported by the specific item it breaks, if any.
        try verifyIndex()
        progress?(total, total)
    }
}
