// EarError: every way reading or writing a .ear file can fail. Each case names the file section,
// tensor, blob or metadata key at fault and carries the expected and found values.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum EarError: Error, Equatable, Sendable, CustomStringConvertible {
    // MARK: I/O

    /// A system call failed (`operation` is e.g. "open", "mmap", "write", "rename"; `errno` its code).
    case io(path: String, operation: String, errno: Int32)
    /// An input path is not a regular file (`kind`: "a directory", "a FIFO (named pipe)", "a character
    /// device", …). Refused at once: reading a FIFO or a device would block or never end.
    case notRegularFile(path: String, kind: String)
    /// An input file is larger than the reader accepts for its kind (checked before reading).
    case fileTooLarge(path: String, size: UInt64, limit: UInt64)

    // MARK: Output files (OutputPath, AtomicFileWriter)

    /// A regular file exists at the output path and overwriting was not asked for (`--force`).
    case outputExists(path: String)
    /// The output path names something that is not a regular file (a device, a directory, a FIFO, a
    /// socket, a dangling symbolic link); it is never replaced, not even with `--force`.
    case outputNotRegularFile(path: String, kind: String)
    /// The output path is one of the inputs (the same file as `input`).
    case outputIsInput(path: String, input: String)
    /// The directory the output goes into does not exist, is not a directory or is not writable.
    case outputDirectoryUnusable(path: String, directory: String, reason: String)
    /// The device holding the output is full (ENOSPC) or the quota is exhausted (EDQUOT). Nothing was
    /// left behind.
    case noSpace(path: String)

    // MARK: Header

    /// The file is shorter than the fixed-size header (`found` bytes, `needed` required).
    case truncatedHeader(needed: Int, found: Int)
    /// The first 8 bytes are not the .ear magic. `found` holds them (hint given for GGUF/safetensors).
    case badMagic(found: [UInt8])
    /// The file's format version is not one this reader understands.
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// The file's length differs from the length the header records (truncated copy or trailing bytes).
    case fileSizeMismatch(expected: UInt64, found: UInt64)
    /// A fixed header field has a value this version forbids (e.g. header_size, a reserved field).
    case invalidHeaderField(field: String, expected: String, found: String)
    /// Reserved bytes of `item` (the header, a tensor or blob record) are not zero.
    case nonzeroReserved(item: String)

    // MARK: Layout

    /// A section (`"metadata"`, `"blob table"`, `"tensor table"`, `"string pool"`, `"data region"`) lies
    /// (partly) outside the file or outside where this version allows it.
    case sectionOutOfBounds(section: String, offset: UInt64, size: UInt64, fileSize: UInt64)
    /// Two index sections overlap each other.
    case sectionsOverlap(first: String, second: String)
    /// A count read from the header exceeds what this reader accepts or what the file can hold.
    case countTooLarge(field: String, count: UInt64, limit: UInt64)
    /// `item` (a section, tensor or blob) starts at an offset that is not a multiple of `alignment`.
    case misaligned(item: String, offset: UInt64, alignment: UInt64)
    /// A tensor's or blob's bytes lie (partly) outside the data region.
    case dataOutOfBounds(item: String, offset: UInt64, size: UInt64, regionStart: UInt64, regionEnd: UInt64)
    /// The bytes of two tensors/blobs overlap.
    case dataOverlap(first: String, second: String)

    // MARK: Names and metadata

    /// A tensor/blob name is empty, too long, out of the string pool, or uses characters outside
    /// `[A-Za-z0-9._/-]`. `kind` is "tensor" or "blob", `index` its position in its table.
    case invalidName(kind: String, index: Int, name: String, reason: String)
    /// Bytes that must be UTF-8 (a name, the metadata) are not.
    case invalidUTF8(field: String)
    /// Two tensors (or two blobs, or two metadata keys) share a name.
    case duplicateName(kind: String, name: String)
    /// The metadata is not a JSON object of the allowed shape (`key` is nil for whole-document errors).
    case invalidMetadata(key: String?, reason: String)

    // MARK: Tensors

    /// A tensor's dtype id is not known to this reader (ids 7–63 are reserved for future types).
    case unknownDType(tensor: String, id: UInt8)
    /// A tensor's shape is invalid for its dtype (rank > 8, nonzero unused dims, last dim not a multiple
    /// of 32 for q8/q4, size overflow).
    case invalidShape(tensor: String, shape: [UInt64], reason: String)
    /// A tensor's recorded byte size differs from the size its dtype and shape imply.
    case sizeMismatch(tensor: String, expected: UInt64, found: UInt64)
    /// A typed view was asked for a tensor of another dtype.
    case dtypeMismatch(tensor: String, expected: EarDType, found: EarDType)

    // MARK: Blobs

    /// A blob's compression id is not known (0 = raw, 1 = zstd).
    case unknownCompression(blob: String, id: UInt8)
    /// A blob's decompressed size is over the reader's limit, or stored/raw sizes are inconsistent.
    case invalidBlobSize(blob: String, reason: String)
    /// zstd rejected a blob's stored bytes.
    case decompressionFailed(blob: String, reason: String)
    /// zstd produced a different number of bytes than the blob table says.
    case decompressedSizeMismatch(blob: String, expected: UInt64, found: UInt64)
    /// zstd failed while compressing a blob (writer).
    case compressionFailed(blob: String, reason: String)

    // MARK: Checksums

    /// The XXH64 of `item`'s bytes differs from the recorded one (`item` is "tensor 'x'", "blob 'y'"
    /// or "index").
    case checksumMismatch(item: String, expected: UInt64, found: UInt64)

    // MARK: Lookups

    /// No tensor of that name in the file.
    case tensorNotFound(name: String)
    /// No blob of that name in the file.
    case blobNotFound(name: String)
    /// No metadata key of that name.
    case metadataKeyNotFound(key: String)
    /// A metadata value exists but has another type than the one asked for.
    case metadataTypeMismatch(key: String, expected: String, found: String)

    // MARK: Writer

    /// The writer was given a tensor/blob/metadata it cannot store (`reason` explains).
    case invalidInput(name: String, reason: String)
    /// A streamed tensor received a different number of bytes than its dtype and shape need.
    case tensorDataSizeMismatch(tensor: String, expected: UInt64, written: UInt64)
    /// The writer was used after `finish()`, `cancel()` or an earlier error (which removed the file).
    case writerClosed(reason: String)

    public var description: String {
        switch self {
        case .io(let path, let op, let code):
            return "\(op) '\(path)' failed: \(String(cString: strerror(code))) (errno \(code))"
        case .notRegularFile(let path, let kind):
            return "'\(path)' is \(kind), not a regular file"
        case .fileTooLarge(let path, let size, let limit):
            return "'\(path)' is \(size) bytes, more than the \(limit) bytes accepted for it"
        case .outputExists(let path):
            return "'\(path)' already exists (use --force to overwrite it)"
        case .outputNotRegularFile(let path, let kind):
            return "refusing to write '\(path)': it is \(kind), not a regular file (never replaced, even with --force)"
        case .outputIsInput(let path, let input):
            return input == path ? "refusing to write '\(path)': it is one of the input files"
                                 : "refusing to write '\(path)': it is the same file as the input '\(input)'"
        case .outputDirectoryUnusable(let path, let directory, let reason):
            if directory.isEmpty { return "cannot write '\(path)': \(reason)" }
            return "cannot write '\(path)': its directory '\(directory)' cannot take the file (\(reason))"
        case .noSpace(let path):
            return "cannot write '\(path)': no space left on the device (nothing was written)"
        case .truncatedHeader(let needed, let found):
            return "file is truncated: \(found) bytes, but the .ear header alone needs \(needed)"
        case .badMagic(let found):
            let hex = found.map { String($0, radix: 16).leftPadded(2) }.joined(separator: " ")
            var hint = ""
            if found.starts(with: Array("GGUF".utf8)) { hint = " (this is a GGUF file; convert the original checkpoint with earshot-convert)" }
            else if found.count >= 8, found[7] == 0, found[0] != 0 { hint = " (this looks like a safetensors file; convert it with earshot-convert)" }
            return "not an .ear file: magic bytes are [\(hex)], expected [89 45 41 52 0d 0a 1a 0a] (\"\\x89EAR\\r\\n\\x1a\\n\")\(hint)"
        case .unsupportedVersion(let found, let supported):
            if found == 0 { return "invalid .ear format version 0 (this earshot supports version \(supported))" }
            if found > supported {
                return "file format version \(found) is newer than this earshot supports (\(supported)); upgrade earshot"
            }
            return "file format version \(found) is not supported by this earshot (it reads version \(supported)); re-convert the model"
        case .fileSizeMismatch(let expected, let found):
            if found < expected {
                return "file is truncated: header says \(expected) bytes, file has \(found) (incomplete download or copy?)"
            }
            return "file has \(found - expected) unexpected trailing bytes: header says \(expected) bytes, file has \(found)"
        case .invalidHeaderField(let field, let expected, let found):
            return "invalid header field \(field): expected \(expected), found \(found)"
        case .nonzeroReserved(let item):
            return "reserved bytes of \(item) are not zero (written by a newer or broken writer?)"
        case .sectionOutOfBounds(let section, let offset, let size, let fileSize):
            return "\(section) [offset \(offset), \(size) bytes] lies outside its allowed place in the file (file size \(fileSize))"
        case .sectionsOverlap(let a, let b):
            return "sections \(a) and \(b) overlap"
        case .countTooLarge(let field, let count, let limit):
            return "\(field) is \(count), more than the limit \(limit)"
        case .misaligned(let item, let offset, let alignment):
            return "\(item) starts at offset \(offset), which is not a multiple of \(alignment)"
        case .dataOutOfBounds(let item, let offset, let size, let start, let end):
            return "\(item) [offset \(offset), \(size) bytes] lies outside the data region [\(start), \(end))"
        case .dataOverlap(let a, let b):
            return "the bytes of \(a) and \(b) overlap"
        case .invalidName(let kind, let index, let name, let reason):
            return "\(kind) #\(index) has an invalid name '\(name)': \(reason)"
        case .invalidUTF8(let field):
            return "\(field) is not valid UTF-8"
        case .duplicateName(let kind, let name):
            return "duplicate \(kind) name '\(name)'"
        case .invalidMetadata(let key, let reason):
            if let key { return "metadata key '\(key)': \(reason)" }
            return "invalid metadata: \(reason)"
        case .unknownDType(let tensor, let id):
            let reserved = EarDType.reservedIDs.contains(id) ? " (reserved for a future type; upgrade earshot)" : ""
            return "tensor '\(tensor)' has unknown dtype id \(id)\(reserved)"
        case .invalidShape(let tensor, let shape, let reason):
            return "tensor '\(tensor)' has invalid shape \(shape): \(reason)"
        case .sizeMismatch(let tensor, let expected, let found):
            return "tensor '\(tensor)' records \(found) bytes, but its dtype and shape need \(expected)"
        case .dtypeMismatch(let tensor, let expected, let found):
            return "tensor '\(tensor)' is \(found), expected \(expected)"
        case .unknownCompression(let blob, let id):
            return "blob '\(blob)' has unknown compression id \(id) (0 = raw, 1 = zstd)"
        case .invalidBlobSize(let blob, let reason):
            return "blob '\(blob)': \(reason)"
        case .decompressionFailed(let blob, let reason):
            return "blob '\(blob)' failed to decompress: \(reason)"
        case .decompressedSizeMismatch(let blob, let expected, let found):
            return "blob '\(blob)' decompressed to \(found) bytes, expected \(expected)"
        case .compressionFailed(let blob, let reason):
            return "blob '\(blob)' failed to compress: \(reason)"
        case .checksumMismatch(let item, let expected, let found):
            if item == "index" {
                return "checksum mismatch in the index (metadata and tensor table): expected \(hex64(expected)), found \(hex64(found)) "
                    + "(the file is corrupted or was edited after conversion; re-convert or re-download it)"
            }
            return "checksum mismatch in \(item): expected \(hex64(expected)), found \(hex64(found)) (file is corrupted)"
        case .tensorNotFound(let name):
            return "no tensor named '\(name)' in the file"
        case .blobNotFound(let name):
            return "no blob named '\(name)' in the file"
        case .metadataKeyNotFound(let key):
            return "metadata key '\(key)' is missing"
        case .metadataTypeMismatch(let key, let expected, let found):
            return "metadata key '\(key)' is a \(found), expected a \(expected)"
        case .invalidInput(let name, let reason):
            return "cannot write '\(name)': \(reason)"
        case .tensorDataSizeMismatch(let tensor, let expected, let written):
            return "tensor '\(tensor)' received \(written) bytes of data, expected \(expected)"
        case .writerClosed(let reason):
            return "the .ear writer is closed: \(reason)"
        }
    }
}

/// "0x" + 16 hex digits.
func hex64(_ v: UInt64) -> String { "0x" + String(v, radix: 16).leftPadded(16) }

extension String {
    /// Pads with leading zeros to `width` characters.
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
