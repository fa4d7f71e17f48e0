// MappedFile: a whole regular file mapped read-only (a FIFO or device is refused at once, never waited
// on), with a way to drop pages already used from RSS. The mapping is registered with MappedFileFaults, so
// a shard truncated while the converter streams it ends in one line naming it, not in SIGBUS.
import EarshotFormat
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of one file. Pages are loaded on first touch; `release(_:)` tells the kernel
/// a byte range is no longer needed so streaming through a 2 GB shard does not keep it resident.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    /// Start of the mapping (nil for an empty file).
    public let base: UnsafeRawPointer?
    private let faultToken: Int?

    /// Maps `path`; `what` names the file in the fault message ("checkpoint file", "CTranslate2 model").
    public init(path: String, what: String = "checkpoint file") throws(ConvertError) {
        self.path = path
        let fd: Int32
        do { (fd, size) = try InputFile.open(path) } catch { throw ConvertError(reading: path, what: what, error) }
        defer { close(fd) }
        if size == 0 {
            base = nil
            faultToken = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw .unreadableFile(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(p)
        faultToken = MappedFileFaults.register(base: UnsafeRawPointer(p), count: size, path: path, what: what)
    }

    deinit {
        MappedFileFaults.unregister(faultToken)
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// Bytes [offset, offset + count) as a buffer. The caller has validated the range.
    public func bytes(offset: Int, count: Int) -> UnsafeRawBufferPointer {
        precondition(offset >= 0 && count >= 0 && offset + count <= size, "MappedFile: range outside the file")
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: count)
    }

    /// Drops the whole pages inside [offset, offset + count) from this process's resident set. The data
    /// stay in the page cache and are read again if touched; this only keeps RSS bounded while streaming.
    public func release(offset: Int, count: Int) {
        guard let base, count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page
        let end = min(size, offset + count) / page * page
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }
}
