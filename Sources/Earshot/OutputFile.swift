// OutputFile: the library's small-file I/O rules. Writes are atomic (a temporary file beside the target,
// fsync, rename) and refuse a target that exists and is not a regular file (a device node, a FIFO, a
// directory), so nothing can replace /dev/null or leave half a file; a full disk is reported by name.
// Reads open only regular files and never more than a stated limit.
import EarshotFormat
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum OutputFile {
    /// Writes `bytes` to `path` atomically.
    /// - Throws: `.output` naming the path and why (not a regular file, unwritable directory, full disk).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(EarshotError) {
        // EarshotFormat's AtomicFileWriter is the one output rule (Docs/hardening.md): temp file beside the
        // target, fsync, rename, directory fsync; never a device, FIFO, directory or socket; cleaned up on
        // signals. Library outputs replace an existing regular file (like every `-o` of the peers).
        func fail(_ reason: String) -> EarshotError { .output(path: path, reason: reason) }
        do {
            let writer = try AtomicFileWriter(path: path, overwrite: true)
            try writer.write(bytes)
            try writer.commit()
        } catch {
            switch error {
            case .outputNotRegularFile(_, let kind): throw fail("it is \(kind), not a regular file; refusing to replace it")
            case .outputIsInput: throw fail("it is one of the input files")
            case .outputDirectoryUnusable(_, let directory, let reason):
                throw fail(directory.isEmpty ? reason : "its directory '\(directory)' cannot take the file (\(reason))")
            case .noSpace: throw fail("the disk is full (nothing was written)")
            default: throw fail(error.description)
            }
        }
    }

    /// The bytes of a regular file of at most `limit` bytes.
    static func readRegularFile(_ path: String, limit: Int) throws(EarshotError) -> [UInt8] {
        func fail(_ reason: String) -> EarshotError { .sessionFile(path: path, reason: reason) }
        do { return try InputFile.read(path, limit: limit) } catch {
            switch error {
            case .io(_, _, let code): throw fail(code == ENOENT ? "no such file" : String(cString: strerror(code)))
            case .notRegularFile(_, let kind): throw fail("not a regular file (\(kind))")
            case .fileTooLarge(_, let size, let limit): throw fail("it is \(size) bytes, more than any session of this model can be (\(limit))")
            default: throw fail("\(error)")
            }
        }
    }
}
