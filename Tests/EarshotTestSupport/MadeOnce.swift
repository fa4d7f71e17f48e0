// MadeOnce: a test model file made on first use, once per test process (thread-safe; a failure is kept and
// rethrown to every caller), with the directory it lives in removed at exit.
import Foundation

final class MadeOnce: @unchecked Sendable {   // `result` guarded by `lock`
    private let lock = NSLock()
    private var result: Result<String, any Error>?
    private let make: (URL) throws -> String
    private let prefix: String

    /// `make` receives a fresh directory to write in and returns the file's path.
    init(_ prefix: String, make: @escaping (URL) throws -> String) {
        self.prefix = prefix
        self.make = make
    }

    func get() throws -> String {
        lock.lock(); defer { lock.unlock() }
        if result == nil {
            result = Result {
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(getpid())-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                MadeOnce.removeAtExit(dir)
                return try make(dir)
            }
        }
        return try result!.get()
    }

    nonisolated(unsafe) private static var directories: [URL] = []
    private static let directoriesLock = NSLock()

    private static func removeAtExit(_ dir: URL) {
        directoriesLock.lock(); defer { directoriesLock.unlock() }
        if directories.isEmpty {
            atexit {
                MadeOnce.directoriesLock.lock(); defer { MadeOnce.directoriesLock.unlock() }
                for d in MadeOnce.directories { try? FileManager.default.removeItem(at: d) }
            }
        }
        directories.append(dir)
    }
}
