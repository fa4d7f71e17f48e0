// InputFileTests: only regular files are opened. A FIFO is refused at once (opening one for reading would
// wait for a writer for ever: the test would hang), as are directories and devices, with a message that
// says what the path is; small files are read whole only under their size cap.
import Testing
import Foundation
import EarshotFormat
import EarshotTestSupport

@Test func fifoModelIsRefusedAtOnce() throws {
    let dir = try TemporaryDirectory()
    let fifo = dir.path("model.ear")
    #expect(mkfifo(fifo, 0o644) == 0)
    let started = Date()
    #expect(throws: EarError.notRegularFile(path: fifo, kind: "a FIFO (named pipe)")) { _ = try EarFile(path: fifo) }
    #expect(throws: EarError.notRegularFile(path: fifo, kind: "a FIFO (named pipe)")) { _ = try InputFile.read(fifo, limit: 100) }
    #expect(Date().timeIntervalSince(started) < 5)
    #expect(EarError.notRegularFile(path: fifo, kind: "a FIFO (named pipe)").description
            == "'\(fifo)' is a FIFO (named pipe), not a regular file")
}

@Test func devicesAndDirectoriesAreRefused() throws {
    let dir = try TemporaryDirectory()
    for device in ["/dev/zero", "/dev/null"] {
        #expect(throws: EarError.notRegularFile(path: device, kind: "a character device")) { _ = try EarFile(path: device) }
        #expect(throws: EarError.notRegularFile(path: device, kind: "a character device")) { _ = try InputFile.read(device, limit: 1 << 20) }
    }
    #expect(throws: EarError.notRegularFile(path: dir.url.path, kind: "a directory")) { _ = try InputFile.read(dir.url.path, limit: 10) }
}

@Test func smallFilesAreReadUnderTheirCap() throws {
    let dir = try TemporaryDirectory()
    let path = dir.path("config.json")
    try Data(repeating: 0x20, count: 1000).write(to: URL(fileURLWithPath: path))
    #expect(try InputFile.read(path, limit: 1000).count == 1000)
    #expect(throws: EarError.fileTooLarge(path: path, size: 1000, limit: 999)) { _ = try InputFile.read(path, limit: 999) }
    try Data().write(to: URL(fileURLWithPath: path))
    #expect(try InputFile.read(path, limit: 10).isEmpty)
    #expect(throws: EarError.io(path: dir.path("none"), operation: "open", errno: ENOENT)) { _ = try InputFile.read(dir.path("none"), limit: 10) }
}
