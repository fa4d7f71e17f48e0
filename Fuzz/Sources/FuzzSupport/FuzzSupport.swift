// FuzzSupport: what every harness shares: the libFuzzer entry (`FuzzMain.run`), a scratch file for
// parsers that only take paths (the input is written to a file in /dev/shm, a RAM file system, and
// re-opened each time), and the package root for fixtures.
import CFuzzerDriver
import Foundation

public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

public enum FuzzMain {
    /// Runs libFuzzer with the process's arguments and `callback`; never returns.
    public static func run(_ callback: FuzzCallback) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
    }

    /// The input as a buffer (empty when libFuzzer passes no bytes).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    }
}

/// A file the harness rewrites with each input (one per process; removed at exit).
public final class ScratchFile: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public init(suffix: String) {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        path = "\(dir)/earshot-fuzz-\(getpid())\(suffix)"
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        let p = strdup(path)!
        ScratchFile.toRemove = p
        atexit { if let p = ScratchFile.toRemove { unlink(p) } }
    }

    nonisolated(unsafe) static var toRemove: UnsafeMutablePointer<CChar>?

    /// Replaces the file's content with `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        _ = ftruncate(fd, 0)
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(done))
            precondition(n > 0, "cannot write \(path)")
            done += n
        }
    }
}

public enum FuzzFixtures {
    /// The main package's root (Fuzz/..).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}
