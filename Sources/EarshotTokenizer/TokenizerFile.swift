// TokenizerFile: reads a tokenizer file (qwen.tiktoken, tokenizer.json) the safe way: only a regular
// file (a FIFO is opened with O_NONBLOCK and refused, so `--tokenizer` pointing at a pipe cannot hang;
// /dev/zero or a directory is refused with a message saying what it is, not "permission denied" or a
// Foundation error code), at most `limit` bytes, checked before anything is allocated.
// Twin of EarshotFormat's InputFile (this module imports nothing of ours).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum TokenizerFileReader {
    /// Largest tokenizer file accepted (Qwen's ranks are 2.5 MB, Whisper's tokenizer.json 2.1 MB).
    static let limit = 64 << 20

    /// The whole file, or `.unreadableFile(path, reason)` naming what is wrong in words.
    static func read(_ path: String, limit: Int = TokenizerFileReader.limit) throws(TokenizerError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw .unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadableFile(path: path, reason: "it is \(kind(st.st_mode)), not a regular file")
        }
        let size = Int(st.st_size)
        guard size <= limit else {
            throw .unreadableFile(path: path, reason: "it is \(size) bytes, more than the \(limit) accepted for a tokenizer file")
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = out.withUnsafeMutableBytes { b in sysRead(fd, b.baseAddress! + done, size - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadableFile(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            done += n
        }
        if done < size { out.removeSubrange(done...) }
        return out
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }
}

#if canImport(Glibc)
private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { Glibc.read(fd, p, n) }
#elseif canImport(Darwin)
private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { Darwin.read(fd, p, n) }
#endif
