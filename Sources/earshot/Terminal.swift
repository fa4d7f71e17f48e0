// Terminal: what the CLI prints and how — results on stdout (line-buffered even into a pipe, so
// `earshot chat --json | consumer` sees each line at once), messages on stderr, and a progress line
// with an ETA that redraws itself when stderr is a terminal.
import CEarshotShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-line error for stderr and exit status 1.
struct CLIFailure: Error, CustomStringConvertible {
    let command: String
    let message: String
    var description: String { "earshot \(command): \(message)" }
}

/// Prints to stderr (clearing a progress line first).
func printError(_ s: String) {
    Progress.clear()
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Writes to stdout immediately (streamed tokens, segments).
func writeOut(_ s: String) {
    Progress.clear()
    earshot_write_stdout(s)
}

enum Terminal {
    /// Line-buffered stdout, also when it is a pipe or a file.
    static func configure() {
        earshot_line_buffer_stdout()
    }

    static var stderrIsTerminal: Bool { isatty(2) != 0 }
}

/// The progress line: "[ 42%] 1:23 of 3:17 of audio, ETA 0:51" redrawn in place on a terminal.
enum Progress {
    nonisolated(unsafe) static var shown = false
    nonisolated(unsafe) static var enabled = false
    nonisolated(unsafe) static var started = 0.0
    nonisolated(unsafe) static var label = ""

    static func start(_ what: String, enabled on: Bool) {
        enabled = on && Terminal.stderrIsTerminal
        label = what
        started = Date().timeIntervalSince1970
    }

    static func update(seconds: Double, total: Double?) {
        guard enabled else { return }
        var line = label.isEmpty ? "" : label + ": "
        if let total, total > 0 {
            let f = min(max(seconds / total, 0), 1)
            line += String(format: "[%3d%%] ", Int(f * 100)) + clock(seconds) + " of " + clock(total) + " of audio"
            let elapsed = Date().timeIntervalSince1970 - started
            if f > 0.01 && f < 1 { line += ", ETA " + clock(elapsed * (1 - f) / f) }
        } else {
            line += clock(seconds) + " of audio"
        }
        FileHandle.standardError.write(Data(("\r\u{1b}[K" + line).utf8))
        shown = true
    }

    static func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1b}[K".utf8))
        shown = false
    }

    static func clock(_ s: Double) -> String {
        let t = max(0, Int(s.rounded()))
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
