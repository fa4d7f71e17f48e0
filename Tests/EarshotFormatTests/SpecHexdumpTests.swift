// SpecHexdumpTests: the worked hexdump in Formats/EAR.md is exactly what the writer produces for the
// tiny example file (so the spec and the code cannot drift apart), and it opens and verifies.
import Testing
import Foundation
import EarshotFormat
import EarshotTestSupport

/// `xxd -a` rendering: 16 bytes per line, a single `*` for runs of all-zero lines after the first.
private func xxdAutoskip(_ bytes: [UInt8]) -> [String] {
    var lines: [String] = []
    var previousZero = false, starred = false
    for start in stride(from: 0, to: bytes.count, by: 16) {
        let row = Array(bytes[start..<min(start + 16, bytes.count)])
        let zero = row.count == 16 && row.allSatisfy { $0 == 0 }
        if zero && previousZero {
            if !starred { lines.append("*"); starred = true }
            continue
        }
        previousZero = zero
        starred = false
        let hex = stride(from: 0, to: row.count, by: 2).map { i in
            row[i..<min(i + 2, row.count)].map { b in
                let h = String(b, radix: 16); return h.count == 1 ? "0" + h : h
            }.joined()
        }.joined(separator: " ")
        let ascii = String(row.map { $0 >= 0x20 && $0 < 0x7F ? Character(Unicode.Scalar($0)) : "." })
        let off = String(start, radix: 16)
        lines.append(String(repeating: "0", count: 8 - off.count) + off + ": " + hex + "  " + ascii)
    }
    return lines
}

@Test func specHexdumpMatchesTheWriter() throws {
    let dir = try TemporaryDirectory()
    try EarExample.writeTiny(path: dir.path("tiny.ear"))
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir.path("tiny.ear"))))
    let spec = try String(contentsOf: CLIRunner.packageRoot.appendingPathComponent("Formats/EAR.md"), encoding: .utf8)
    // The first fenced block after the "Worked example" heading.
    let section = try #require(spec.range(of: "## Worked example"))
    let after = spec[section.upperBound...]
    let open = try #require(after.range(of: "```\n"))
    let close = try #require(after[open.upperBound...].range(of: "```"))
    let documented = after[open.upperBound..<close.lowerBound].split(separator: "\n").map(String.init)
    #expect(documented == xxdAutoskip(bytes))
    let ear = try EarFile(path: dir.path("tiny.ear"))
    try ear.verify()
    #expect(ear.fileSize == 16720)
}
