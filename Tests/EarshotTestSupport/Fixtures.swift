// Shared test helpers: where the committed fixtures live.
import Foundation

public enum Fixtures {
    /// `Tests/Fixtures`, found from this source file's location (works from any working directory).
    public static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static func url(_ relativePath: String) -> URL {
        directory.appendingPathComponent(relativePath)
    }
}
