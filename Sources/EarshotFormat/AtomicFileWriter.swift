// AtomicFileWriter: writes one output file so that it appears complete or not at all, under the
// OutputPath rule (never replaces a device, directory or FIFO; replaces a regular file only with
// `overwrite`; never an input):
//   - the bytes go to `<target>.tmp-<pid>-<random>` next to the target (O_EXCL: never clobbers);
//   - `commit()` fsyncs, checks the rule again, moves the file into place (rename when replacing is
//     allowed, link + unlink otherwise, so a file that appeared meanwhile is not replaced) and fsyncs
//     the directory;
//   - any error, `cancel()`, or dropping the writer deletes the temporary file; so does an interrupting
//     signal when the executable called `EarWriter.deleteTemporaryFilesOnSignals()`.
// A full disk (ENOSPC, EDQUOT) is reported as `.noSpace`, a directory that cannot take the file as
// `.outputDirectoryUnusable`; other failures as `.io` naming the destination.
//
// For a small output in one piece: `try AtomicFileWriter.write(bytes, to: path, overwrite: force)`.
// EarWriter streams a model through one of these.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class AtomicFileWriter {
    public let destination: OutputDestination
    /// The temporary file being written (removed on failure, moved to `destination.target` by `commit()`).
    public let temporaryPath: String
    /// Bytes written so far (`write(_:)` appends; `write(_:at:)` does not move this).
    public private(set) var size = 0

    private var fd: Int32 = -1
    private var state: State = .open
    private var registrySlot: Int?
    private enum State { case open, closed, committed, abandoned }

    /// Checks `path` against the rule and creates the temporary file. `inputs`: files (or directories,
    /// standing for their files) the output must not be. `permissions` are masked by the umask.
    public init(path: String, overwrite: Bool, inputs: [String] = [], permissions: mode_t = 0o644) throws(EarError) {
        destination = try OutputPath.check(path, overwrite: overwrite, inputs: inputs)
        var candidate = ""
        var fd: Int32 = -1
        var slot: Int? = nil
        var code: Int32 = 0
        for _ in 0..<8 {   // a random suffix; O_EXCL never clobbers; retry on the rare collision
            candidate = "\(destination.target).tmp-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
            slot = TemporaryFileRegistry.register(candidate)   // before creating: a signal right after still cleans up
            fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
            code = errno
            if fd >= 0 { break }
            TemporaryFileRegistry.unregister(slot)
            slot = nil
            if code != EEXIST { break }
        }
        temporaryPath = candidate
        guard fd >= 0 else { throw AtomicFileWriter.createError(code, destination: destination) }
        self.fd = fd
        registrySlot = slot
    }

    deinit { cancel() }

    /// True until `commit()`, `cancel()` or an error.
    public var isOpen: Bool { state == .open || state == .closed }

    /// Appends `bytes`. On failure the temporary file is removed and the writer is closed.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(EarError) {
        try guarded { () throws(EarError) in
            try requireOpenDescriptor()
            var done = 0
            while done < bytes.count {
                let n = sysWrite(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw writeError(errno)
                }
                done += n
            }
            size += bytes.count
        }
    }

    public func write(_ bytes: [UInt8]) throws(EarError) {
        try withBytes(bytes) { (b) throws(EarError) in try write(b) }
    }

    /// Writes `bytes` at `offset` (e.g. a header reserved at the start).
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(EarError) {
        try guarded { () throws(EarError) in
            try requireOpenDescriptor()
            var done = 0
            while done < bytes.count {
                let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw writeError(errno)
                }
                done += n
            }
        }
    }

    /// Makes the temporary file durable and closes it (it can then be re-read for validation at
    /// `temporaryPath`); no more writes. `commit()` does this itself if needed.
    public func closeTemporary() throws(EarError) {
        try guarded { () throws(EarError) in
            guard state == .open else { return }
            guard fsync(fd) == 0 else { throw writeError(errno, operation: "fsync") }
            let r = close(fd)
            let e = errno
            fd = -1
            state = .closed
            guard r == 0 else { throw writeError(e, operation: "close") }
        }
    }

    /// Moves the finished file into place (checking the rule once more) and makes the move durable.
    public func commit() throws(EarError) {
        try closeTemporary()
        try guarded { () throws(EarError) in
            let d = destination
            var st = stat()
            if lstat(d.target, &st) == 0 {
                try OutputPath.checkExisting(st, path: d.path, overwrite: d.overwrite, inputs: d.inputIdentities, target: d.target)
            }
            if d.overwrite {
                guard rename(temporaryPath, d.target) == 0 else { throw writeError(errno, operation: "rename") }
            } else if link(temporaryPath, d.target) == 0 {
                _ = unlink(temporaryPath)          // link + unlink: fails instead of replacing a file that appeared
            } else {
                let e = errno
                if e == EEXIST { throw EarError.outputExists(path: d.path) }
                // File systems without hard links: the check above is the best we can do.
                guard e == EPERM || e == EOPNOTSUPP || e == EXDEV, rename(temporaryPath, d.target) == 0 else {
                    throw writeError(e, operation: "rename")
                }
            }
            state = .committed
            TemporaryFileRegistry.unregister(registrySlot)
            registrySlot = nil
            syncDirectory()
        }
    }

    /// Abandons the file: closes and deletes the temporary file. Safe to call more than once.
    public func cancel() {
        guard state == .open || state == .closed else { return }
        if fd >= 0 { close(fd); fd = -1 }
        _ = unlink(temporaryPath)
        TemporaryFileRegistry.unregister(registrySlot)
        registrySlot = nil
        state = .abandoned
    }

    /// Writes `bytes` as the whole content of `path`, atomically, under the rule. Leaves no partial file.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String, overwrite: Bool,
                             inputs: [String] = [], permissions: mode_t = 0o644) throws(EarError) {
        let w = try AtomicFileWriter(path: path, overwrite: overwrite, inputs: inputs, permissions: permissions)
        try w.write(bytes)
        try w.commit()
    }

    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool,
                             inputs: [String] = [], permissions: mode_t = 0o644) throws(EarError) {
        try withBytes(bytes) { (b) throws(EarError) in
            try write(b, to: path, overwrite: overwrite, inputs: inputs, permissions: permissions)
        }
    }

    // MARK: Plumbing

    private func guarded(_ body: () throws(EarError) -> Void) throws(EarError) {
        guard isOpen else { throw .writerClosed(reason: state == .committed ? "'\(destination.path)' is already written"
                                                                             : "an earlier error removed the file") }
        do { try body() } catch {
            cancel()
            throw error
        }
    }

    private func requireOpenDescriptor() throws(EarError) {
        guard state == .open, fd >= 0 else { throw .writerClosed(reason: "the temporary file is already closed") }
    }

    private func writeError(_ code: Int32, operation: String = "write") -> EarError {
        if code == ENOSPC || code == EDQUOT { return .noSpace(path: destination.path) }
        return .io(path: destination.path, operation: operation, errno: code)
    }

    private static func createError(_ code: Int32, destination d: OutputDestination) -> EarError {
        let dir = OutputPath.directory(of: d.target)
        switch code {
        case ENOSPC, EDQUOT: return .noSpace(path: d.path)
        case EACCES, EPERM, EROFS, ENOENT, ENOTDIR:
            return .outputDirectoryUnusable(path: d.path, directory: dir, reason: String(cString: strerror(code)))
        default: return .io(path: d.path, operation: "create", errno: code)
        }
    }

    /// Makes the rename durable (best effort: some file systems refuse fsync on directories).
    private func syncDirectory() {
        let dfd = open(OutputPath.directory(of: destination.target), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}

#if canImport(Glibc)
private func sysWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Glibc.write(fd, p, n) }
#elseif canImport(Darwin)
private func sysWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Darwin.write(fd, p, n) }
#endif
