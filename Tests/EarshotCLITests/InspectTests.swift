// InspectTests: `earshot inspect` on a good file prints header, metadata, blobs, the tensor table and
// totals (exit 0); on every damaged file of EarCorruptions it exits 1 with exactly one line on stderr.
import Testing
import Foundation
import EarshotFormat
import EarshotTestSupport

@Test func inspectPrintsTheTablesOfAGoodFile() throws {
    let dir = try TemporaryDirectory()
    let file = try EarCorruptions.writeExample(in: dir.url)
    let r = try CLIRunner.run(["inspect", "--verify", file.path])
    #expect(r.exitCode == 0, "\(r)")
    #expect(r.stderr.isEmpty, "\(r)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    // One table row per tensor: name, dtype, shape, size, offset.
    let ear = try EarFile(path: file.path)
    for t in ear.tensors {
        let row = lines.first { $0.hasPrefix("  \(t.name) ") }
        #expect(row != nil, "no row for \(t.name)\n\(r.stdout)")
        if let row {
            let cells = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            #expect(cells[1] == t.dtype.name)
            #expect(row.contains(t.shapeDescription))
            #expect(cells.last == String(t.offset))
        }
    }
    #expect(lines.contains { $0.hasPrefix("  general.architecture") && $0.hasSuffix("= \"example\"") })
    #expect(lines.contains { $0.hasPrefix("  config.json") && $0.contains("zstd") })
    #expect(lines.contains { $0.hasPrefix("  q4 ") && $0.hasSuffix("4.50") })   // bits/weight of [2 × 256] q4
    #expect(lines.contains { $0.hasPrefix("  q8 ") && $0.hasSuffix("8.50") })
    #expect(lines.contains { $0.hasPrefix("verify: OK") })
}

@Test func inspectJSONIsParseableAndComplete() throws {
    let dir = try TemporaryDirectory()
    let file = try EarCorruptions.writeExample(in: dir.url)
    let r = try CLIRunner.run(["inspect", "--json", "--verify", file.path])
    #expect(r.exitCode == 0, "\(r)")
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    let tensors = json?["tensors"] as? [[String: Any]]
    #expect(tensors?.count == 9)
    #expect(tensors?.first?["name"] as? String == "example.f32")
    #expect(tensors?.first?["shape"] as? [Int] == [4, 64])
    #expect((json?["metadata"] as? [String: Any])?["example.hidden_size"] as? Int == 64)
    #expect(json?["verified"] as? Bool == true)
}

@Test(arguments: EarCorruptions.all)
func inspectRejectsCorruptedFile(_ corruption: EarCorruption) throws {
    let dir = try TemporaryDirectory()
    let good = try EarCorruptions.writeExample(in: dir.url)
    let bad = dir.url.appendingPathComponent("bad.ear")
    try Data(corruption.damage(EarBytes(Array(try Data(contentsOf: good))))).write(to: bad)
    let r = try CLIRunner.run(["inspect", "--verify", bad.path], timeout: 60)
    #expect(r.exitCode == 1, "\(corruption.name): \(r)")
    #expect(!r.timedOut)
    #expect(r.stderrLines.count == 1, "\(corruption.name): \(r)")
    #expect(r.stderr.hasPrefix("earshot inspect: \(bad.path): "), "\(r)")
    #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"))
}

@Test func inspectOfAMissingFileFailsWithOneLine() throws {
    let r = try CLIRunner.run(["inspect", "/nonexistent/model.ear"])
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stderrLines == ["earshot inspect: /nonexistent/model.ear: open '/nonexistent/model.ear' failed: No such file or directory (errno 2)"])
}

@Test func inspectHelpHasExamples() throws {
    let r = try CLIRunner.run(["inspect", "--help"])
    #expect(r.exitCode == 0)
    #expect(r.stdout.contains("earshot inspect --verify"))
    #expect(r.stdout.contains("--json"))
}

@Test func benchWriteExampleWritesAValidFile() throws {
    let dir = try TemporaryDirectory()
    let r = try CLIRunner.run(["write-example", dir.path("x.ear")], executable: "earshot-bench")
    #expect(r.exitCode == 0, "\(r)")
    let ear = try EarFile(path: dir.path("x.ear"))
    try ear.verify()
    #expect(ear.tensors.count == 9)
    let bad = try CLIRunner.run(["write-example", dir.path("missing-dir/x.ear")], executable: "earshot-bench")
    #expect(bad.exitCode == 1)
    #expect(bad.stderrLines.count == 1, "\(bad)")
    #expect(dir.contents() == ["x.ear"])
}
