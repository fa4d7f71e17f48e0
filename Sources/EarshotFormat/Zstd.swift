// Zstd: one-shot compression and bounded decompression of blobs through the system libzstd (CZstd).
import CZstd

enum Zstd {
    /// Largest ratio of decompressed to compressed bytes a zstd frame can reach.
    static let maxExpansion = 32_768

    /// Compresses `bytes` at `level` (1…22; 19 is a good default for small blobs written once).
    static func compress(_ bytes: [UInt8], level: Int32, blob: String) throws(EarError) -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                ZSTD_compress(dst.baseAddress, bound, src.baseAddress, src.count, level)
            }
        }
        if ZSTD_isError(n) != 0 {
            throw .compressionFailed(blob: blob, reason: String(cString: ZSTD_getErrorName(n)))
        }
        out.removeSubrange(n...)
        return out
    }

    /// Decompresses a single zstd frame that must expand to exactly `rawSize` bytes. Allocates at most
    /// `rawSize` (already checked against the reader's limit), whatever the frame header claims.
    static func decompress(_ src: UnsafeRawBufferPointer, rawSize: Int, blob: String) throws(EarError) -> [UInt8] {
        // No zstd frame expands by more than 32768× (a 128 KiB RLE block costs at least 4 bytes), so a
        // raw size beyond that cannot be right: refuse before allocating it.
        guard rawSize <= src.count * Zstd.maxExpansion else {
            throw .invalidBlobSize(blob: blob, reason: "raw size \(rawSize) cannot come from \(src.count) compressed bytes")
        }
        let declared = ZSTD_getFrameContentSize(src.baseAddress, src.count)
        // ZSTD_CONTENTSIZE_ERROR = (0ULL - 2), ZSTD_CONTENTSIZE_UNKNOWN = (0ULL - 1)
        if declared == UInt64.max - 1 {
            throw .decompressionFailed(blob: blob, reason: "not a zstd frame")
        }
        if declared != UInt64.max, declared != UInt64(rawSize) {
            throw .decompressedSizeMismatch(blob: blob, expected: UInt64(rawSize), found: declared)
        }
        // One spare byte lets us notice a frame that expands to more than rawSize.
        var out = [UInt8](repeating: 0, count: rawSize + 1)
        let n = out.withUnsafeMutableBytes { dst in
            ZSTD_decompress(dst.baseAddress, dst.count, src.baseAddress, src.count)
        }
        if ZSTD_isError(n) != 0 {
            let name = String(cString: ZSTD_getErrorName(n))
            // zstd_errors.h is not in the module map; the error's name is stable ("Destination buffer is too small").
            if name.contains("too small") {
                throw .decompressedSizeMismatch(blob: blob, expected: UInt64(rawSize), found: UInt64(rawSize) + 1)
            }
            throw .decompressionFailed(blob: blob, reason: name)
        }
        if n != rawSize {
            throw .decompressedSizeMismatch(blob: blob, expected: UInt64(rawSize), found: UInt64(n))
        }
        out.removeLast()
        return out
    }
}
