// LineEditor: the interactive chat's input line on a terminal — left/right, Home/End (Ctrl-A/E), backspace,
// delete, Ctrl-U/Ctrl-K/Ctrl-W, up/down through the session's history, Ctrl-C to clear the line, Ctrl-D to
// leave on an empty line. Raw mode is on only while a line is read, so Ctrl-C during a reply is a signal
// (which stops the reply, see `Interrupts`). Not a terminal: plain `readLine`.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class LineEditor {
    private(set) var history: [String] = []
    private let maxHistory = 500

    /// The next line (nil at end of input). `prompt` is written to stderr.
    func readLine(prompt: String) -> String? {
        guard isatty(0) != 0, isatty(2) != 0 else { return Swift.readLine(strippingNewline: true) }
        var original = termios()
        guard tcgetattr(0, &original) == 0 else { return Swift.readLine(strippingNewline: true) }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(0, TCSAFLUSH, &raw)
        defer { tcsetattr(0, TCSAFLUSH, &original) }

        var line: [Character] = []
        var cursor = 0
        var historyIndex = history.count
        var draft: [Character] = []
        func redraw() {
            let text = String(line)
            let back = line.count - cursor
            var out = "\r\u{1b}[K" + prompt + text
            if back > 0 { out += "\u{1b}[\(back)D" }
            FileHandle.standardError.write(Data(out.utf8))
        }
        redraw()
        var pending: [UInt8] = []
        while true {
            var byte: UInt8 = 0
            let n = read(0, &byte, 1)
            if n <= 0 { FileHandle.standardError.write(Data("\n".utf8)); return line.isEmpty ? nil : String(line) }
            switch byte {
            case 13, 10:                                   // Enter
                FileHandle.standardError.write(Data("\n".utf8))
                let text = String(line)
                if !text.trimmingCharacters(in: .whitespaces).isEmpty, history.last != text {
                    history.append(text)
                    if history.count > maxHistory { history.removeFirst() }
                }
                return text
            case 4:                                        // Ctrl-D
                if line.isEmpty { FileHandle.standardError.write(Data("\n".utf8)); return nil }
                if cursor < line.count { line.remove(at: cursor) }
            case 3:                                        // Ctrl-C: drop the line
                FileHandle.standardError.write(Data("^C\n".utf8))
                line = []; cursor = 0; historyIndex = history.count
            case 1: cursor = 0                             // Ctrl-A
            case 5: cursor = line.count                    // Ctrl-E
            case 2: cursor = max(0, cursor - 1)            // Ctrl-B
            case 6: cursor = min(line.count, cursor + 1)   // Ctrl-F
            case 21: line.removeSubrange(0..<cursor); cursor = 0          // Ctrl-U
            case 11: line.removeSubrange(cursor...); cursor = line.count  // Ctrl-K
            case 23:                                       // Ctrl-W: the word before the cursor
                var start = cursor
                while start > 0 && line[start - 1] == " " { start -= 1 }
                while start > 0 && line[start - 1] != " " { start -= 1 }
                line.removeSubrange(start..<cursor); cursor = start
            case 127, 8:                                   // Backspace
                if cursor > 0 { line.remove(at: cursor - 1); cursor -= 1 }
            case 27:                                       // escape sequences: arrows, Home, End, Delete
                var seq: [UInt8] = []
                var b: UInt8 = 0
                if read(0, &b, 1) == 1 { seq.append(b) }
                if seq.first == 91 || seq.first == 79 {
                    while read(0, &b, 1) == 1 {
                        seq.append(b)
                        if (b >= 65 && b <= 90) || b == 126 || b >= 97 { break }
                    }
                }
                switch seq.dropFirst().map({ Character(UnicodeScalar($0)) }).map(String.init).joined() {
                case "A":                                  // up: older history
                    if historyIndex > 0 {
                        if historyIndex == history.count { draft = line }
                        historyIndex -= 1
                        line = Array(history[historyIndex]); cursor = line.count
                    }
                case "B":                                  // down: newer history
                    if historyIndex < history.count {
                        historyIndex += 1
                        line = historyIndex == history.count ? draft : Array(history[historyIndex]); cursor = line.count
                    }
                case "C": cursor = min(line.count, cursor + 1)
                case "D": cursor = max(0, cursor - 1)
                case "H", "1~", "7~": cursor = 0
                case "F", "4~", "8~": cursor = line.count
                case "3~": if cursor < line.count { line.remove(at: cursor) }
                default: break
                }
            default:
                guard byte >= 32 else { break }
                pending.append(byte)
                // Collect a whole UTF-8 character before inserting it.
                let expected = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                if pending.count == 1 && expected > 1 {
                    while pending.count < expected {
                        var b: UInt8 = 0
                        guard read(0, &b, 1) == 1 else { break }
                        pending.append(b)
                    }
                }
                for c in String(decoding: pending, as: UTF8.self) { line.insert(c, at: cursor); cursor += 1 }
                pending = []
            }
            redraw()
        }
    }
}

/// Ctrl-C during a chat reply: a SIGINT handler that only sets a flag the generation loop polls, so the
/// reply stops after the current token and the program goes on.
enum Interrupts {
    nonisolated(unsafe) static let flag: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        p.pointee = 0
        return p
    }()

    static func install() {
        _ = flag
        signal(SIGINT) { _ in Interrupts.flag.pointee = 1 }
    }

    /// Whether Ctrl-C was pressed since the last call (and clears it).
    static func take() -> Bool {
        let v = flag.pointee
        flag.pointee = 0
        return v != 0
    }
}
