// EarCorruptions: a catalogue of damaged .ear files for the format tests (each must fail with its
// specific EarError) and the CLI tests (`earshot inspect --verify` must exit 1 with a one-line reason).
//
// Every case starts from the example file (`EarExample.write`: 9 tensors example.f32 … example.q4 in
// that order, blobs config.json (zstd) and notes.txt (raw)) and patches bytes at offsets taken from
// Formats/EAR.md — deliberately not from the implementation's constants, so the spec is tested too.
import EarshotFormat
import Foundation

/// Where a corrupted file must be rejected.
public enum EarFailureStage: Sendable {
    /// `EarFile(path:)` throws.
    case open
    /// Opening succeeds; `blob(named:)` throws (and so does `verify()`).
    case blob(String)
    /// Opening succeeds; only `verify()` throws.
    case verify
}

public struct EarCorruption: Sendable, CustomStringConvertible {
    public let name: String
    public let stage: EarFailureStage
    /// Makes the damaged bytes from the good file's bytes.
    public let damage: @Sendable (EarBytes) -> [UInt8]
    /// True when the thrown error is the specific one this damage must cause.
    public let matches: @Sendable (EarError) -> Bool

    public var description: String { name }
}

/// A .ear file's bytes with field accessors at the offsets of Formats/EAR.md.
public struct EarBytes: Sendable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func u64(_ at: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
    }
    public func u32(_ at: Int) -> UInt32 { UInt32(truncatingIfNeeded: u64(at) & 0xFFFF_FFFF) }
    public mutating func setU64(_ at: Int, _ v: UInt64) { for i in 0..<8 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
    public mutating func setU32(_ at: Int, _ v: UInt32) { for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }

    // Header fields (EAR.md § Header).
    public var fileSize: Int { Int(u64(16)) }
    public var dataOffset: Int { Int(u64(24)) }
    public var dataSize: Int { Int(u64(32)) }
    public var metadataOffset: Int { Int(u64(40)) }
    public var metadataSize: Int { Int(u64(48)) }
    public var poolOffset: Int { Int(u64(56)) }
    public var blobTable: Int { Int(u64(72)) }
    public var tensorTable: Int { Int(u64(88)) }
    /// Start of tensor record `i` (112 bytes each) and blob record `i` (56 bytes each).
    public func tensor(_ i: Int) -> Int { tensorTable + 112 * i }
    public func blob(_ i: Int) -> Int { blobTable + 56 * i }
    /// Absolute offset of tensor `i`'s / blob `i`'s bytes.
    public func tensorData(_ i: Int) -> Int { Int(u64(tensor(i) + 80)) }
    public func blobData(_ i: Int) -> Int { Int(u64(blob(i) + 16)) }
    /// Recomputes the header's index checksum over [data_offset + data_size, file_size).
    public mutating func reseal() {
        let start = dataOffset + dataSize
        guard start <= bytes.count else { return }
        setU64(104, bytes[start...].withUnsafeBytes { XXH64.hash($0) })
    }

    /// Absolute offset of the first occurrence of `text` in the metadata JSON.
    public func metadataOffset(of text: String) -> Int {
        let needle = Array(text.utf8)
        let md = Array(bytes[metadataOffset..<(metadataOffset + metadataSize)])
        for i in 0...(md.count - needle.count) where Array(md[i..<(i + needle.count)]) == needle { return metadataOffset + i }
        preconditionFailure("'\(text)' not in metadata")
    }
}

public enum EarCorruptions {
    /// Writes the good example file into `directory` and returns its path.
    public static func writeExample(in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("example.ear")
        try EarExample.write(path: url.path)
        return url
    }

    private static func patched(_ f: @escaping @Sendable (inout EarBytes) -> Void) -> @Sendable (EarBytes) -> [UInt8] {
        { var e = $0; f(&e); return e.bytes }
    }

    /// Like `patched`, then recomputes the index checksum in the header (offset 104), as a buggy writer
    /// that produced a self-consistent but wrong table would: the damage must then be caught by the
    /// specific check, not by the checksum every open verifies.
    private static func resealed(_ f: @escaping @Sendable (inout EarBytes) -> Void) -> @Sendable (EarBytes) -> [UInt8] {
        { var e = $0; f(&e); e.reseal(); return e.bytes }
    }

    private static func truncated(_ length: @escaping @Sendable (EarBytes) -> Int) -> @Sendable (EarBytes) -> [UInt8] {
        { Array($0.bytes[0..<length($0)]) }
    }

    public static let all: [EarCorruption] = [
        // Truncation at each section boundary and inside sections.
        EarCorruption(name: "empty file", stage: .open, damage: truncated { _ in 0 },
                      matches: { $0 == .truncatedHeader(needed: 128, found: 0) }),
        EarCorruption(name: "truncated mid-header", stage: .open, damage: truncated { _ in 64 },
                      matches: { $0 == .truncatedHeader(needed: 128, found: 64) }),
        EarCorruption(name: "truncated after the header", stage: .open, damage: truncated { _ in 128 },
                      matches: { if case .fileSizeMismatch(_, 128) = $0 { return true } else { return false } }),
        EarCorruption(name: "truncated at the data region", stage: .open, damage: truncated { $0.dataOffset },
                      matches: { if case .fileSizeMismatch(_, 16384) = $0 { return true } else { return false } }),
        EarCorruption(name: "truncated mid-tensor", stage: .open, damage: truncated { $0.tensorData(0) + 100 },
                      matches: { if case .fileSizeMismatch(_, 16484) = $0 { return true } else { return false } }),
        EarCorruption(name: "truncated at the index", stage: .open, damage: truncated { $0.dataOffset + $0.dataSize },
                      matches: { if case .fileSizeMismatch(let e, let f) = $0 { return f < e } else { return false } }),
        EarCorruption(name: "truncated mid-tensor-table", stage: .open, damage: truncated { $0.tensor(4) + 7 },
                      matches: { if case .fileSizeMismatch(let e, let f) = $0 { return f < e } else { return false } }),
        EarCorruption(name: "trailing bytes", stage: .open, damage: { $0.bytes + [1, 2, 3] },
                      matches: { if case .fileSizeMismatch(let e, let f) = $0 { return f == e + 3 } else { return false } }),

        // Header.
        EarCorruption(name: "bad magic", stage: .open, damage: patched { $0.bytes[1] = UInt8(ascii: "X") },
                      matches: { if case .badMagic = $0 { return true } else { return false } }),
        EarCorruption(name: "GGUF file", stage: .open, damage: { Array("GGUF".utf8) + [3, 0, 0, 0] + Array($0.bytes[8...]) },
                      matches: { if case .badMagic = $0 { return $0.description.contains("GGUF") } else { return false } }),
        EarCorruption(name: "future version", stage: .open, damage: patched { $0.setU32(8, 2) },
                      matches: { $0 == .unsupportedVersion(found: 2, supported: 1)
                          && $0.description.contains("file format version 2 is newer than this earshot supports (1); upgrade") }),
        EarCorruption(name: "version 0", stage: .open, damage: patched { $0.setU32(8, 0) },
                      matches: { $0 == .unsupportedVersion(found: 0, supported: 1) }),
        EarCorruption(name: "wrong header size", stage: .open, damage: patched { $0.setU32(12, 64) },
                      matches: { $0 == .invalidHeaderField(field: "header_size", expected: "128", found: "64") }),
        EarCorruption(name: "nonzero reserved header bytes", stage: .open, damage: patched { $0.bytes[120] = 1 },
                      matches: { $0 == .nonzeroReserved(item: "the header") }),

        // Sections, counts and alignment.
        EarCorruption(name: "misaligned data region", stage: .open, damage: patched { $0.setU64(24, 8192) },
                      matches: { $0 == .misaligned(item: "data region", offset: 8192, alignment: 16384) }),
        EarCorruption(name: "data region past the end", stage: .open, damage: patched { $0.setU64(32, 1 << 40) },
                      matches: { if case .sectionOutOfBounds("data region", _, _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "metadata offset past the end", stage: .open, damage: patched { $0.setU64(40, 1 << 62) },
                      matches: { if case .sectionOutOfBounds("metadata", _, _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "metadata inside the data region", stage: .open, damage: patched { $0.setU64(40, UInt64($0.dataOffset)) },
                      matches: { if case .sectionOutOfBounds("metadata", _, _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "huge tensor count", stage: .open, damage: patched { $0.setU64(96, 1 << 40) },
                      matches: { $0 == .countTooLarge(field: "tensor_count", count: 1 << 40, limit: 1_000_000) }),
        EarCorruption(name: "tensor count larger than the file", stage: .open, damage: patched { $0.setU64(96, 999_999) },
                      matches: { if case .sectionOutOfBounds("tensor table", _, _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "huge blob count", stage: .open, damage: patched { $0.setU64(80, UInt64.max) },
                      matches: { $0 == .countTooLarge(field: "blob_count", count: UInt64.max, limit: 10_000) }),
        EarCorruption(name: "huge metadata size", stage: .open, damage: patched { $0.setU64(48, 1 << 50) },
                      matches: { $0 == .countTooLarge(field: "metadata_size", count: 1 << 50, limit: 16 << 20) }),
        EarCorruption(name: "misaligned tensor table", stage: .open, damage: patched { $0.setU64(88, UInt64($0.tensorTable - 4)) },
                      matches: { if case .misaligned("tensor table", _, 8) = $0 { return true } else { return false } }),
        EarCorruption(name: "overlapping sections", stage: .open, damage: patched { $0.setU64(40, UInt64($0.blobTable)) },
                      matches: { $0 == .sectionsOverlap(first: "metadata", second: "blob table") }),

        // Tensor records.
        EarCorruption(name: "tensor offset past the data region", stage: .open,
                      damage: patched { $0.setU64($0.tensor(8) + 80, UInt64($0.dataOffset + $0.dataSize)) },
                      matches: { if case .dataOutOfBounds("tensor 'example.q4'", _, _, _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "misaligned tensor", stage: .open,
                      damage: patched { $0.setU64($0.tensor(1) + 80, UInt64($0.tensorData(1) + 8)) },
                      matches: { if case .misaligned("tensor 'example.f16'", _, 64) = $0 { return true } else { return false } }),
        EarCorruption(name: "overlapping tensors", stage: .open,
                      damage: patched { $0.setU64($0.tensor(1) + 80, UInt64($0.tensorData(0))) },
                      matches: { $0 == .dataOverlap(first: "tensor 'example.f32'", second: "tensor 'example.f16'")
                          || $0 == .dataOverlap(first: "tensor 'example.f16'", second: "tensor 'example.f32'") }),
        EarCorruption(name: "tensor overlapping a blob", stage: .open,
                      damage: patched { $0.setU64($0.tensor(3) + 80, UInt64($0.blobData(0))) },  // example.i8, 16 bytes
                      matches: { if case .dataOverlap = $0 { return $0.description.contains("config.json") } else { return false } }),
        EarCorruption(name: "byte size mismatch", stage: .open,
                      damage: patched { $0.setU64($0.tensor(0) + 88, $0.u64($0.tensor(0) + 88) + 64) },
                      matches: { $0 == .sizeMismatch(tensor: "example.f32", expected: 1024, found: 1088) }),
        EarCorruption(name: "shape mismatch", stage: .open,
                      damage: patched { $0.setU64($0.tensor(0) + 16, 5) },   // [4, 64] → [5, 64]
                      matches: { $0 == .sizeMismatch(tensor: "example.f32", expected: 1280, found: 1024) }),
        EarCorruption(name: "q8 row not a multiple of 32", stage: .open,
                      damage: patched { $0.setU64($0.tensor(7) + 24, 48) },  // [2, 64] → [2, 48]
                      matches: { if case .invalidShape("example.q8", [2, 48], _) = $0 { return true } else { return false } }),
        EarCorruption(name: "rank over 8", stage: .open, damage: patched { $0.bytes[$0.tensor(0) + 9] = 9 },
                      matches: { if case .invalidShape("example.f32", _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "nonzero dimension past the rank", stage: .open, damage: patched { $0.setU64($0.tensor(0) + 16 + 8 * 5, 3) },
                      matches: { if case .invalidShape("example.f32", [4, 64], _) = $0 { return true } else { return false } }),
        EarCorruption(name: "dimension over Int.max", stage: .open, damage: patched { $0.setU64($0.tensor(0) + 16, UInt64.max) },
                      matches: { if case .invalidShape("example.f32", _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "shape whose size overflows", stage: .open,
                      damage: patched { $0.setU64($0.tensor(0) + 16, 1 << 61) },
                      matches: { if case .invalidShape("example.f32", _, let r) = $0 { return r.contains("overflow") } else { return false } }),
        EarCorruption(name: "unknown dtype", stage: .open, damage: patched { $0.bytes[$0.tensor(2) + 8] = 200 },
                      matches: { $0 == .unknownDType(tensor: "example.bf16", id: 200) }),
        EarCorruption(name: "reserved block dtype", stage: .open, damage: patched { $0.bytes[$0.tensor(2) + 8] = 18 },
                      matches: { $0 == .unknownDType(tensor: "example.bf16", id: 18) && $0.description.contains("upgrade") }),
        EarCorruption(name: "nonzero reserved tensor bytes", stage: .open, damage: patched { $0.bytes[$0.tensor(3) + 104] = 1 },
                      matches: { $0 == .nonzeroReserved(item: "tensor 'example.i8'") }),

        // Names.
        EarCorruption(name: "duplicate tensor names", stage: .open,
                      damage: patched { for k in 0..<8 { $0.bytes[$0.tensor(1) + k] = $0.bytes[$0.tensor(0) + k] } },
                      matches: { $0 == .duplicateName(kind: "tensor", name: "example.f32") }),
        EarCorruption(name: "invalid character in a name", stage: .open,
                      damage: patched { $0.bytes[$0.poolOffset + Int($0.u32($0.tensor(0))) + 7] = UInt8(ascii: " ") },
                      matches: { if case .invalidName("tensor", 0, "example f32", _) = $0 { return true } else { return false } }),
        EarCorruption(name: "empty name", stage: .open, damage: patched { $0.setU32($0.tensor(0) + 4, 0) },
                      matches: { if case .invalidName("tensor", 0, "", let r) = $0 { return r == "empty" } else { return false } }),
        EarCorruption(name: "name outside the string pool", stage: .open, damage: patched { $0.setU32($0.tensor(0) + 4, 0xFFFF_FFFF) },
                      matches: { if case .invalidName("tensor", 0, _, let r) = $0 { return r.contains("string pool") } else { return false } }),
        EarCorruption(name: "invalid UTF-8 in a name", stage: .open, damage: patched { $0.bytes[$0.poolOffset] = 0xFF },
                      matches: { $0 == .invalidUTF8(field: "name of blob #0") }),

        // Metadata.
        EarCorruption(name: "invalid UTF-8 in metadata", stage: .open,
                      damage: patched { $0.bytes[$0.metadataOffset(of: "synthetic")] = 0xC3 },
                      matches: { $0 == .invalidUTF8(field: "metadata") }),
        EarCorruption(name: "metadata not a JSON object", stage: .open, damage: patched { $0.bytes[$0.metadataOffset] = UInt8(ascii: "[") },
                      matches: { if case .invalidMetadata(nil, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "duplicate metadata keys", stage: .open,
                      damage: patched { e in
                          let at = e.metadataOffset(of: "example.labels")
                          for (k, b) in "general.source".utf8.enumerated() { e.bytes[at + k] = b }
                      },
                      matches: { $0 == .duplicateName(kind: "metadata key", name: "general.source") }),
        EarCorruption(name: "null metadata value", stage: .open,
                      damage: patched { e in
                          let at = e.metadataOffset(of: "true")
                          for (k, b) in "null".utf8.enumerated() { e.bytes[at + k] = b }
                      },
                      matches: { if case .invalidMetadata("example.use_bias", _) = $0 { return true } else { return false } }),

        // Blobs.
        EarCorruption(name: "unknown compression", stage: .open, damage: patched { $0.bytes[$0.blob(0) + 8] = 7 },
                      matches: { $0 == .unknownCompression(blob: "config.json", id: 7) }),
        EarCorruption(name: "raw blob with stored size != raw size", stage: .open,
                      damage: patched { $0.setU64($0.blob(1) + 32, $0.u64($0.blob(1) + 32) + 1) },
                      matches: { if case .invalidBlobSize("notes.txt", _) = $0 { return true } else { return false } }),
        EarCorruption(name: "blob raw size over the limit", stage: .open, damage: patched { $0.setU64($0.blob(0) + 32, 1 << 40) },
                      matches: { if case .invalidBlobSize("config.json", _) = $0 { return true } else { return false } }),
        EarCorruption(name: "blob past the data region", stage: .open,
                      damage: patched { $0.setU64($0.blob(1) + 24, 1 << 20); $0.setU64($0.blob(1) + 32, 1 << 20) },
                      matches: { if case .dataOutOfBounds("blob 'notes.txt'", _, _, _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "garbage zstd blob", stage: .blob("config.json"),
                      damage: patched { e in for k in 0..<16 { e.bytes[e.blobData(0) + k] = 0xA5 } },
                      matches: { if case .decompressionFailed("config.json", _) = $0 { return true } else { return false } }),
        EarCorruption(name: "zstd blob raw size mismatch", stage: .blob("config.json"),
                      damage: resealed { $0.setU64($0.blob(0) + 32, $0.u64($0.blob(0) + 32) + 5) },
                      matches: { if case .decompressedSizeMismatch("config.json", _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "blob checksum mismatch", stage: .blob("notes.txt"),
                      damage: patched { $0.bytes[$0.blobData(1)] ^= 0x20 },
                      matches: { if case .checksumMismatch("blob 'notes.txt'", _, _) = $0 { return true } else { return false } }),

        // Checksums (found only by verify()).
        EarCorruption(name: "tensor checksum mismatch", stage: .verify, damage: patched { $0.bytes[$0.tensorData(5) + 3] ^= 0x01 },
                      matches: { if case .checksumMismatch("tensor 'example.i32'", _, _) = $0 { return true } else { return false } }),
        // The index checksum is checked on every open (a changed metadata value must never load silently).
        EarCorruption(name: "index checksum mismatch", stage: .open,
                      damage: patched { $0.bytes[$0.metadataOffset(of: "synthetic")] = UInt8(ascii: "S") },
                      matches: { if case .checksumMismatch("index", _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "metadata number changed", stage: .open,
                      damage: patched { e in
                          // A digit of a numeric value (what `rope_base` 10000 → 90000 was in the issue).
                          let at = e.metadataOffset(of: "example.hidden_size\":") + "example.hidden_size\":".utf8.count
                          e.bytes[at] = e.bytes[at] == UInt8(ascii: "9") ? UInt8(ascii: "8") : UInt8(ascii: "9")
                      },
                      matches: { if case .checksumMismatch("index", _, _) = $0 { return true } else { return false } }),
        EarCorruption(name: "tensor record checksum field changed", stage: .open,
                      damage: patched { $0.bytes[$0.tensor(2) + 96] ^= 0x10 },
                      matches: { if case .checksumMismatch("index", _, _) = $0 { return true } else { return false } }),
    ]
}
