// MappedFile: a whole file mapped read-only, with a way to drop pages already used from RSS.
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

    public init(path: String) throws(ConvertError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            if errno == ENOENT { throw .missingFile(path: path, what: "file") }
            throw .unreadableFile(path: path, reason: reason)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw .unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadableFile(path: path, reason: "not a regular file")
        }
        size = Int(st.st_size)
        if size == 0 {
            base = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw .unreadableFile(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
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
