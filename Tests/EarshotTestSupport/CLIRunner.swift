// CLIRunner: runs a built executable of this package (`earshot`, `earshot-convert`) from a test and
// captures its exit code, stdout and stderr.
//
// Where the executable is found, first match wins:
//   1. the environment variable EARSHOT_BIN_DIR (a directory holding the executables), if set;
//   2. the directory of the running test bundle (`swift test` puts `earshot` next to
//      `EarshotPackageTests.xctest` in `.build/<triple>/debug/`);
//   3. `.build/debug/` and `.build/release/` under the package root (found from this file's path).
// Output goes to temporary files (not pipes), so a chatty child never blocks on a full pipe.
import Foundation

/// What one run of an executable did.
public struct CLIResult: Sendable, CustomStringConvertible {
    /// The process exit status (or 128 + signal number when it was killed by a signal).
    public let exitCode: Int32
    /// Everything written to standard output, decoded as UTF-8 (invalid bytes replaced).
    public let stdout: String
    /// Everything written to standard error, decoded as UTF-8 (invalid bytes replaced).
    public let stderr: String
    /// True when the process was killed because it ran past the timeout.
    public let timedOut: Bool

    /// Non-empty lines of stderr (handy for "exactly one line of reason" checks).
    public var stderrLines: [String] {
        stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    public var description: String {
        "exit \(exitCode)\(timedOut ? " (timed out)" : "")\n--- stdout ---\n\(stdout)--- stderr ---\n\(stderr)"
    }
}

/// Errors of the runner itself (not of the program it runs).
public enum CLIRunnerError: Error, CustomStringConvertible {
    /// No executable of that name was found in any of the searched directories.
    case executableNotFound(name: String, searched: [String])
    /// The process could not be started.
    case launchFailed(name: String, reason: String)

    public var description: String {
        switch self {
        case .executableNotFound(let name, let searched):
            return "executable '\(name)' not found (build it with `swift build`); searched: \(searched.joined(separator: ", "))"
        case .launchFailed(let name, let reason):
            return "could not launch '\(name)': \(reason)"
        }
    }
}

public enum CLIRunner {
    /// The package root (two levels above `Tests/EarshotTestSupport/`).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Directories searched for executables, in order.
    public static var searchDirectories: [URL] {
        var dirs: [URL] = []
        if let env = ProcessInfo.processInfo.environment["EARSHOT_BIN_DIR"], !env.isEmpty {
            dirs.append(URL(fileURLWithPath: env))
        }
        // The running test binary: .build/<triple>/debug/EarshotPackageTests.xctest (Linux: a file;
        // macOS: a bundle whose parent holds the products).
        let selfPath = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var probe = selfPath.deletingLastPathComponent()
        for _ in 0..<4 {
            dirs.append(probe)
            if probe.pathExtension == "xctest" { dirs.append(probe.deletingLastPathComponent()) }
            probe = probe.deletingLastPathComponent()
        }
        dirs.append(packageRoot.appendingPathComponent(".build/debug"))
        dirs.append(packageRoot.appendingPathComponent(".build/release"))
        return dirs
    }

    /// The path of a built executable of this package, e.g. `try CLIRunner.executable("earshot")`.
    public static func executable(_ name: String = "earshot") throws -> URL {
        let fm = FileManager.default
        let dirs = searchDirectories
        for dir in dirs {
            let candidate = dir.appendingPathComponent(name)
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: candidate.path, isDirectory: &isDir), !isDir.boolValue,
               fm.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        throw CLIRunnerError.executableNotFound(name: name, searched: dirs.map(\.path))
    }

    /// Runs `name` with `arguments` and waits for it (at most `timeout` seconds, then it is killed and
    /// `timedOut` is set). `stdin` is fed from /dev/null unless `input` is given.
    public static func run(_ arguments: [String], executable name: String = "earshot",
                           input: Data? = nil, environment: [String: String] = [:],
                           currentDirectory: URL? = nil, timeout: TimeInterval = 120) throws -> CLIResult {
        try run(program: try executable(name), arguments, input: input, environment: environment,
                currentDirectory: currentDirectory, timeout: timeout)
    }

    /// Runs any program (e.g. `/bin/bash` wrapping `earshot` with `ulimit`) the same way.
    public static func run(program exe: URL, _ arguments: [String], input: Data? = nil,
                           environment: [String: String] = [:], currentDirectory: URL? = nil,
                           timeout: TimeInterval = 120) throws -> CLIResult {
        let name = exe.lastPathComponent
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("earshot-cli-\(UUID().uuidString)")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        let inURL = scratch.appendingPathComponent("stdin")
        _ = fm.createFile(atPath: outURL.path, contents: nil)
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        _ = fm.createFile(atPath: inURL.path, contents: input ?? Data())

        let process = Process()
        process.executableURL = exe
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        let inHandle = try FileHandle(forReadingFrom: inURL)
        defer { try? outHandle.close(); try? errHandle.close(); try? inHandle.close() }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle

        do { try process.run() } catch {
            throw CLIRunnerError.launchFailed(name: name, reason: "\(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()

        let code: Int32 = process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
        let out = readAll(outURL), err = readAll(errURL)
        return CLIResult(exitCode: code,
                         stdout: String(decoding: out, as: UTF8.self),
                         stderr: String(decoding: err, as: UTF8.self),
                         timedOut: timedOut)
    }

    /// The file's bytes, read with read(2): Foundation's `Data(contentsOf:)` leaks its buffer for files that
    /// are empty or still being written (LeakSanitizer reports it under `Tools/sanitize.sh`).
    static func readAll(_ url: URL) -> Data {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return Data() }
        defer { close(fd) }
        var data = Data(), chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return data
    }
}
