// InputFile: the one way executables and readers open an input file. It never blocks (a FIFO is opened
// with O_NONBLOCK, so a named pipe given as a model, a shard or a config cannot hang the process), it
// refuses everything that is not a regular file with a message naming what the path is (directory,
// FIFO, character device, …), and small files are read whole under a size cap so that a huge or
// endless file cannot make the reader allocate without bound. The audio front end does the same check
// (EarshotAudio/AudioFile.swift); the tokenizer module has its twin (EarshotTokenizer/TokenizerFile.swift).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum InputFile {
    /// What a file-system entry is, for messages: "a directory", "a FIFO (named pipe)", … ("a regular
    /// file" for S_IFREG).
    public static func kind(ofMode mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    /// Opens `path` read-only (close-on-exec). Throws `.io` (missing, unreadable) or `.notRegularFile`.
    /// Returns the descriptor (blocking mode, the caller closes it) and the file's size.
    public static func open(_ path: String) throws(EarError) -> (fd: Int32, size: Int) {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, for ever.
        let fd = sysOpen(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw .io(path: path, operation: "stat", errno: e)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .notRegularFile(path: path, kind: kind(ofMode: st.st_mode))
        }
        // Back to blocking reads (O_NONBLOCK has no effect on regular files, but keep the descriptor plain).
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return (fd, Int(st.st_size))
    }

    /// The whole content of the regular file `path`, at most `limit` bytes (else `.fileTooLarge`, before
    /// anything is allocated). Reads the size the file had when opened (a file growing meanwhile is read
    /// up to that size; one shrinking gives what is left).
    public static func read(_ path: String, limit: Int) throws(EarError) -> [UInt8] {
        let (fd, size) = try open(path)
        defer { close(fd) }
        guard size <= limit else { throw .fileTooLarge(path: path, size: UInt64(size), limit: UInt64(limit)) }
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = out.withUnsafeMutableBytes { b in sysRead(fd, b.baseAddress! + done, size - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        if done < size { out.removeSubrange(done...) }
        return out
    }
}

#if canImport(Glibc)
private func sysOpen(_ path: String, _ flags: Int32) -> Int32 { Glibc.open(path, flags) }
private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { Glibc.read(fd, p, n) }
#elseif canImport(Darwin)
private func sysOpen(_ path: String, _ flags: Int32) -> Int32 { Darwin.open(path, flags) }
private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { Darwin.read(fd, p, n) }
#endif
