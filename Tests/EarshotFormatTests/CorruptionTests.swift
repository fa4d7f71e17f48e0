// CorruptionTests: every damaged file of EarCorruptions is rejected with its specific EarError, at
// the stage it belongs to (open, blob read, verify) — no crash, no hang, no huge allocation (counts
// and sizes up to 2^64 are in the catalogue; the process would die or stall if any were trusted).
import Testing
import Foundation
import EarshotFormat
import EarshotTestSupport

@Test func catalogueHasAtLeast25Cases() {
    #expect(EarCorruptions.all.count >= 25)
    #expect(Set(EarCorruptions.all.map(\.name)).count == EarCorruptions.all.count)
}

@Test(arguments: EarCorruptions.all)
func corruptedFileIsRejected(_ corruption: EarCorruption) throws {
    let dir = try TemporaryDirectory()
    let good = try EarCorruptions.writeExample(in: dir.url)
    let bytes = EarBytes(Array(try Data(contentsOf: good)))
    let bad = dir.url.appendingPathComponent("bad.ear")
    try Data(corruption.damage(bytes)).write(to: bad)

    func check(_ what: String, _ body: () throws(EarError) -> Void) {
        do {
            try body()
            Issue.record("\(corruption.name): \(what) did not throw")
        } catch {
            #expect(corruption.matches(error), "\(corruption.name): \(what) threw the wrong error: \(error)")
            #expect(!error.description.contains("\n"), "one-line description")
        }
    }
    switch corruption.stage {
    case .open:
        check("EarFile(path:)") { () throws(EarError) in _ = try EarFile(path: bad.path) }
    case .blob(let name):
        let ear = try EarFile(path: bad.path)
        check("blob(named:)") { () throws(EarError) in _ = try ear.blob(named: name) }
        check("verify()") { () throws(EarError) in try ear.verify() }
    case .verify:
        let ear = try EarFile(path: bad.path)
        check("verify()") { () throws(EarError) in try ear.verify() }
    }
}

@Test func openingMissingFileOrDirectoryGivesIOError() throws {
    let dir = try TemporaryDirectory()
    #expect(throws: EarError.io(path: dir.path("none.ear"), operation: "open", errno: ENOENT)) {
        _ = try EarFile(path: dir.path("none.ear"))
    }
    #expect(throws: EarError.notRegularFile(path: dir.url.path, kind: "a directory")) {
        _ = try EarFile(path: dir.url.path)
    }
}
