// EarIndex: parses and validates everything in a .ear file except checksums: header, section bounds,
// counts, names, metadata, blob and tensor tables, alignment and overlaps. It works on any byte
// buffer (the reader passes its mmap), reads no offset or size before checking it, and allocates only
// in proportion to counts already checked against the file's size and the limits in `Layout`.

struct EarIndex {
    var formatVersion: UInt32
    var fileSize: Int
    var dataOffset: Int
    var dataSize: Int
    var indexChecksum: UInt64
    var metadata: EarMetadata
    var blobs: [BlobInfo]
    var tensors: [TensorInfo]

    /// The index region [dataOffset + dataSize, fileSize), covered by `indexChecksum`.
    var indexRange: Range<Int> { (dataOffset + dataSize)..<fileSize }

    static func parse(_ file: UnsafeRawBufferPointer) throws(EarError) -> EarIndex {
        let size = file.count
        // Magic first (on what there is), so a short non-.ear file is reported as such, not as truncated.
        let magic = Array(file[0..<min(8, size)])
        guard magic == Array(Layout.magic[0..<magic.count]) else { throw .badMagic(found: magic) }
        guard size >= Layout.headerSize else { throw .truncatedHeader(needed: Layout.headerSize, found: size) }
        let version: UInt32 = file.le(Layout.H.version)
        guard version == Layout.version else { throw .unsupportedVersion(found: version, supported: Layout.version) }
        let headerSize: UInt32 = file.le(Layout.H.headerSize)
        guard headerSize == UInt32(Layout.headerSize) else {
            throw .invalidHeaderField(field: "header_size", expected: "\(Layout.headerSize)", found: "\(headerSize)")
        }
        let recordedSize: UInt64 = file.le(Layout.H.fileSize)
        guard recordedSize == UInt64(size) else { throw .fileSizeMismatch(expected: recordedSize, found: UInt64(size)) }
        guard file[Layout.H.reserved..<Layout.headerSize].allSatisfy({ $0 == 0 }) else {
            throw .nonzeroReserved(item: "the header")
        }
        let fileSize = UInt64(size)

        // Data region.
        let dataOffset: UInt64 = file.le(Layout.H.dataOffset)
        let dataSize: UInt64 = file.le(Layout.H.dataSize)
        guard dataOffset >= UInt64(Layout.headerSize), dataOffset <= fileSize, dataSize <= fileSize - dataOffset else {
            throw .sectionOutOfBounds(section: "data region", offset: dataOffset, size: dataSize, fileSize: fileSize)
        }
        guard dataOffset % UInt64(Layout.dataAlignment) == 0 else {
            throw .misaligned(item: "data region", offset: dataOffset, alignment: UInt64(Layout.dataAlignment))
        }
        let dataEnd = dataOffset + dataSize

        // Counts and sizes, before any of them sizes an allocation or a loop.
        let metadataSize: UInt64 = file.le(Layout.H.metadataSize)
        let poolSize: UInt64 = file.le(Layout.H.stringPoolSize)
        let blobCount: UInt64 = file.le(Layout.H.blobCount)
        let tensorCount: UInt64 = file.le(Layout.H.tensorCount)
        guard metadataSize <= Layout.maxMetadataSize else {
            throw .countTooLarge(field: "metadata_size", count: metadataSize, limit: Layout.maxMetadataSize)
        }
        guard poolSize <= Layout.maxStringPoolSize else {
            throw .countTooLarge(field: "string_pool_size", count: poolSize, limit: Layout.maxStringPoolSize)
        }
        guard blobCount <= Layout.maxBlobCount else {
            throw .countTooLarge(field: "blob_count", count: blobCount, limit: Layout.maxBlobCount)
        }
        guard tensorCount <= Layout.maxTensorCount else {
            throw .countTooLarge(field: "tensor_count", count: tensorCount, limit: Layout.maxTensorCount)
        }

        // Index sections: inside [dataEnd, fileSize), tables 8-aligned, pairwise disjoint.
        struct Section { let name: String; let offset: UInt64; let size: UInt64 }
        let sections = [
            Section(name: "metadata", offset: file.le(Layout.H.metadataOffset), size: metadataSize),
            Section(name: "string pool", offset: file.le(Layout.H.stringPoolOffset), size: poolSize),
            Section(name: "blob table", offset: file.le(Layout.H.blobTableOffset), size: blobCount * UInt64(Layout.blobRecordSize)),
            Section(name: "tensor table", offset: file.le(Layout.H.tensorTableOffset), size: tensorCount * UInt64(Layout.tensorRecordSize)),
        ]
        for s in sections {
            guard s.offset >= dataEnd, s.offset <= fileSize, s.size <= fileSize - s.offset else {
                throw .sectionOutOfBounds(section: s.name, offset: s.offset, size: s.size, fileSize: fileSize)
            }
            if s.name.hasSuffix("table"), s.offset % UInt64(Layout.tableAlignment) != 0 {
                throw .misaligned(item: s.name, offset: s.offset, alignment: UInt64(Layout.tableAlignment))
            }
        }
        for i in 0..<sections.count {
            for j in (i + 1)..<sections.count {
                let a = sections[i], b = sections[j]
                if a.size > 0, b.size > 0, a.offset < b.offset + b.size, b.offset < a.offset + a.size {
                    throw .sectionsOverlap(first: a.name, second: b.name)
                }
            }
        }

        // Metadata.
        let mdStart = Int(sections[0].offset)
        let mdBytes = Array(file[mdStart..<(mdStart + Int(metadataSize))])
        guard String(validating: mdBytes, as: UTF8.self) != nil else { throw .invalidUTF8(field: "metadata") }
        let metadata = try MetadataJSON.parse(mdBytes)

        let pool = UnsafeRawBufferPointer(rebasing: file[Int(sections[1].offset)..<Int(sections[1].offset + poolSize)])
        func name(_ record: Int, kind: String, index: Int) throws(EarError) -> String {
            let off: UInt32 = file.le(record + 0)
            let len: UInt32 = file.le(record + 4)
            guard UInt64(off) + UInt64(len) <= UInt64(pool.count) else {
                throw .invalidName(kind: kind, index: index, name: "",
                                   reason: "bytes [\(off), \(UInt64(off) + UInt64(len))) lie outside the string pool (\(pool.count) bytes)")
            }
            let bytes = pool[Int(off)..<Int(off + len)]
            guard let s = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8(field: "name of \(kind) #\(index)") }
            if let reason = NameRules.problem(s) { throw .invalidName(kind: kind, index: index, name: s, reason: reason) }
            return s
        }
        func checkPlacement(_ item: String, offset: UInt64, size: UInt64) throws(EarError) {
            guard offset % UInt64(Layout.tensorAlignment) == 0 else {
                throw .misaligned(item: item, offset: offset, alignment: UInt64(Layout.tensorAlignment))
            }
            guard offset >= dataOffset, offset <= dataEnd, size <= dataEnd - offset else {
                throw .dataOutOfBounds(item: item, offset: offset, size: size, regionStart: dataOffset, regionEnd: dataEnd)
            }
        }

        // Blob table.
        var blobs: [BlobInfo] = []
        blobs.reserveCapacity(Int(blobCount))
        var blobNames = Set<String>()
        for i in 0..<Int(blobCount) {
            let r = Int(sections[2].offset) + i * Layout.blobRecordSize
            let blobName = try name(r, kind: "blob", index: i)
            guard blobNames.insert(blobName).inserted else { throw .duplicateName(kind: "blob", name: blobName) }
            let compressionID: UInt8 = file.le(r + Layout.B.compression)
            guard let compression = EarCompression(rawValue: compressionID) else {
                throw .unknownCompression(blob: blobName, id: compressionID)
            }
            guard file[(r + Layout.B.reserved1)..<(r + Layout.B.offset)].allSatisfy({ $0 == 0 }),
                  file.le(r + Layout.B.reserved2, as: UInt64.self) == 0 else {
                throw .nonzeroReserved(item: "blob '\(blobName)'")
            }
            let offset: UInt64 = file.le(r + Layout.B.offset)
            let stored: UInt64 = file.le(r + Layout.B.storedSize)
            let raw: UInt64 = file.le(r + Layout.B.rawSize)
            try checkPlacement("blob '\(blobName)'", offset: offset, size: stored)
            guard raw <= Layout.maxBlobRawSize else {
                throw .invalidBlobSize(blob: blobName, reason: "raw size \(raw) is over the limit \(Layout.maxBlobRawSize)")
            }
            if compression == .raw, raw != stored {
                throw .invalidBlobSize(blob: blobName, reason: "uncompressed blob has stored size \(stored) but raw size \(raw)")
            }
            blobs.append(BlobInfo(name: blobName, compression: compression, offset: Int(offset), storedSize: Int(stored),
                                  rawSize: Int(raw), checksum: file.le(r + Layout.B.checksum)))
        }

        // Tensor table.
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(Int(tensorCount))
        var tensorNames = Set<String>()
        for i in 0..<Int(tensorCount) {
            let r = Int(sections[3].offset) + i * Layout.tensorRecordSize
            let tensorName = try name(r, kind: "tensor", index: i)
            guard tensorNames.insert(tensorName).inserted else { throw .duplicateName(kind: "tensor", name: tensorName) }
            let dtypeID: UInt8 = file.le(r + Layout.T.dtype)
            guard let dtype = EarDType(rawValue: dtypeID) else { throw .unknownDType(tensor: tensorName, id: dtypeID) }
            guard file[(r + Layout.T.reserved1)..<(r + Layout.T.dims)].allSatisfy({ $0 == 0 }),
                  file.le(r + Layout.T.reserved2, as: UInt64.self) == 0 else {
                throw .nonzeroReserved(item: "tensor '\(tensorName)'")
            }
            let rank = Int(file.le(r + Layout.T.rank, as: UInt8.self))
            let dims: [UInt64] = (0..<Layout.maxRank).map { file.le(r + Layout.T.dims + 8 * $0) }
            guard rank <= Layout.maxRank else {
                throw .invalidShape(tensor: tensorName, shape: dims, reason: "rank \(rank) is over the maximum \(Layout.maxRank)")
            }
            let shape64 = Array(dims[0..<rank])
            guard dims[rank...].allSatisfy({ $0 == 0 }) else {
                throw .invalidShape(tensor: tensorName, shape: shape64, reason: "dimensions past rank \(rank) are not zero")
            }
            guard shape64.allSatisfy({ $0 <= UInt64(Int.max) }) else {
                throw .invalidShape(tensor: tensorName, shape: shape64, reason: "a dimension does not fit in a signed 64-bit integer")
            }
            let shape = shape64.map { Int($0) }
            guard let expected = dtype.byteCount(shape: shape) else {
                let reason = dtype.isQuantized && (shape.last.map { $0 % 32 != 0 } ?? true)
                    ? "\(dtype) needs rank ≥ 1 and a last dimension that is a multiple of 32"
                    : "its byte size overflows"
                throw .invalidShape(tensor: tensorName, shape: shape64, reason: reason)
            }
            let byteCount: UInt64 = file.le(r + Layout.T.byteCount)
            guard byteCount == UInt64(expected) else {
                throw .sizeMismatch(tensor: tensorName, expected: UInt64(expected), found: byteCount)
            }
            let offset: UInt64 = file.le(r + Layout.T.offset)
            try checkPlacement("tensor '\(tensorName)'", offset: offset, size: byteCount)
            tensors.append(TensorInfo(name: tensorName, dtype: dtype, shape: shape, offset: Int(offset),
                                      byteCount: expected, checksum: file.le(r + Layout.T.checksum)))
        }

        // No two tensors/blobs share a byte.
        var spans = tensors.filter { $0.byteCount > 0 }.map { (start: $0.offset, end: $0.offset + $0.byteCount, item: "tensor '\($0.name)'") }
        spans += blobs.filter { $0.storedSize > 0 }.map { (start: $0.offset, end: $0.offset + $0.storedSize, item: "blob '\($0.name)'") }
        spans.sort { $0.start < $1.start }
        for k in spans.indices.dropFirst() where spans[k].start < spans[k - 1].end {
            throw .dataOverlap(first: spans[k - 1].item, second: spans[k].item)
        }

        return EarIndex(formatVersion: version, fileSize: size, dataOffset: Int(dataOffset), dataSize: Int(dataSize),
                        indexChecksum: file.le(Layout.H.indexChecksum), metadata: metadata, blobs: blobs, tensors: tensors)
    }
}
