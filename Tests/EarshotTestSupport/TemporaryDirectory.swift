// TemporaryDirectory: a fresh directory under the system temp dir, removed when the value is dropped.
import Foundation

public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL

    public init(_ label: String = "earshot-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Names of the entries in the directory, sorted.
    public func contents() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    deinit {
        // Restore write permission in case a test removed it, then delete.
        chmod(url.path, 0o755)
        try? FileManager.default.removeItem(at: url)
    }
}
