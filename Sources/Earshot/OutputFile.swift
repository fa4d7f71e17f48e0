// OutputFile: the library's small-file I/O rules. Writes are atomic (a temporary file beside the target,
// fsync, rename) and refuse a target that exists and is not a regular file (a device node, a FIFO, a
// directory), so nothing can replace /dev/null or leave half a file; a full disk is reported by name.
// Reads open only regular files and never more than a stated limit.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum OutputFile {
    /// Writes `bytes` to `path` atomically.
    /// - Throws: `.output` naming the path and why (not a regular file, unwritable directory, full disk).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(EarshotError) {
        func fail(_ reason: String) -> EarshotError { .output(path: path, reason: reason) }
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFREG else {
                throw fail("it exists and is not a regular file (\(kind(st.st_mode))); refusing to replace it")
            }
        } else if errno != ENOENT {
            throw fail(String(cString: strerror(errno)))
        }
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let tmp = ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent(".\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("cannot create a file in '\(dir.isEmpty ? "." : dir)' (\(String(cString: strerror(errno))))") }
        var written = 0
        var failure: String?
        bytes.withUnsafeBytes { b in
            while written < b.count {
                let n = write(fd, b.baseAddress! + written, b.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno == ENOSPC ? "the disk is full" : String(cString: strerror(errno))
                    return
                }
                written += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = errno == ENOSPC ? "the disk is full" : String(cString: strerror(errno)) }
        if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(tmp)
            throw fail(failure)
        }
        if rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw fail(reason)
        }
    }

    /// The bytes of a regular file of at most `limit` bytes.
    static func readRegularFile(_ path: String, limit: Int) throws(EarshotError) -> [UInt8] {
        func fail(_ reason: String) -> EarshotError { .sessionFile(path: path, reason: reason) }
        var st = stat()
        guard stat(path, &st) == 0 else { throw fail(errno == ENOENT ? "no such file" : String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw fail("not a regular file (\(kind(st.st_mode)))") }
        guard Int(st.st_size) <= limit else { throw fail("it is \(st.st_size) bytes, more than any session of this model can be (\(limit))") }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw fail(String(cString: strerror(errno))) }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 { if errno == EINTR { continue }; throw fail(String(cString: strerror(errno))) }
            if n == 0 { break }
            done += n
        }
        guard done == out.count else { throw fail("it changed while being read") }
        return out
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }
}
