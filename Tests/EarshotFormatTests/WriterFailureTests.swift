// WriterFailureTests: the writer never leaves a partial file. Whatever goes wrong midway — a data
// source that throws, too few or too many bytes, bad input, an unwritable place, cancel(), or the
// writer dropped without finish() — neither the destination nor a temporary file remains, and a file
// already at the destination is left untouched.
import Testing
import Foundation
import EarshotFormat
import EarshotTestSupport

private struct SourceFailed: Error, Equatable {}

/// A writer with two finished tensors in it, so a failure happens "midway".
private func halfWrittenWriter(_ dir: TemporaryDirectory, name: String = "m.ear") throws -> EarWriter {
    let w = try EarWriter(path: dir.path(name), metadata: ["general.architecture": "test"])
    try w.addTensor(name: "a", shape: [256], f32: [Float](repeating: 1, count: 256))
    try w.addBlob(name: "cfg", bytes: Array("{}".utf8))
    #expect(dir.contents().contains { $0.hasPrefix(name + ".tmp-") })   // the temporary file exists while writing
    return w
}

@Test func throwingDataSourceMidTensorLeavesNoFile() throws {
    let dir = try TemporaryDirectory()
    let w = try halfWrittenWriter(dir)
    #expect(throws: SourceFailed()) {
        try w.addTensor(name: "big", dtype: .f32, shape: [1024, 1024]) { sink in
            try sink.write([UInt8](repeating: 7, count: 3 << 20))   // 3 MiB of 4 MiB, past the write buffer
            throw SourceFailed()
        }
    }
    #expect(dir.contents().isEmpty)
    #expect(!w.isOpen)
    #expect { try w.finish() } throws: { error in
        if case .writerClosed = error as? EarError { return true } else { return false }
    }
    #expect(dir.contents().isEmpty)
}

@Test func tooFewStreamedBytesLeavesNoFile() throws {
    let dir = try TemporaryDirectory()
    let w = try halfWrittenWriter(dir)
    #expect(throws: EarError.tensorDataSizeMismatch(tensor: "t", expected: 400, written: 399)) {
        try w.addTensor(name: "t", dtype: .f32, shape: [100]) { sink in try sink.write([UInt8](repeating: 0, count: 399)) }
    }
    #expect(dir.contents().isEmpty)
}

@Test func tooManyStreamedBytesLeavesNoFile() throws {
    let dir = try TemporaryDirectory()
    let w = try halfWrittenWriter(dir)
    #expect(throws: EarError.tensorDataSizeMismatch(tensor: "t", expected: 34, written: 40)) {
        try w.addTensor(name: "t", dtype: .q8, shape: [32]) { sink in
            try sink.write([UInt8](repeating: 0, count: 20))
            try sink.write([UInt8](repeating: 0, count: 20))
        }
    }
    #expect(dir.contents().isEmpty)
}

@Test func badInputsFailAndLeaveNoFile() throws {
    let cases: [(String, (EarWriter) throws -> Void, EarError)] = [
        ("wrong byte count", { try $0.addTensor(name: "x", dtype: .f16, shape: [4], bytes: [0, 0]) },
         .tensorDataSizeMismatch(tensor: "x", expected: 8, written: 2)),
        ("duplicate tensor", { try $0.addTensor(name: "a", shape: [1], f32: [0]) }, .duplicateName(kind: "tensor", name: "a")),
        ("duplicate blob", { try $0.addBlob(name: "cfg", bytes: []) }, .duplicateName(kind: "blob", name: "cfg")),
        ("bad q8 shape", { try $0.addTensor(name: "q", dtype: .q8, shape: [2, 40], bytes: []) },
         .invalidShape(tensor: "q", shape: [2, 40], reason: "q8 needs rank ≥ 1 and a last dimension that is a multiple of 32")),
        ("bad tensor name", { try $0.addTensor(name: "a b", shape: [1], f32: [0]) },
         .invalidInput(name: "a b", reason: "invalid tensor name: character ' ' (0x20) is not one of A-Z a-z 0-9 . _ - /")),
        ("non-finite metadata", { w in w.metadata["x.nan"] = .double(.nan); try w.finish() },
         .invalidMetadata(key: "x.nan", reason: "non-finite double nan cannot be stored")),
        ("bad metadata key", { w in w.metadata["bad key"] = 1; try w.finish() },
         .invalidMetadata(key: "bad key", reason: "invalid key: character ' ' (0x20) is not one of A-Z a-z 0-9 . _ - /")),
    ]
    for (label, action, expected) in cases {
        let dir = try TemporaryDirectory()
        let w = try halfWrittenWriter(dir)
        #expect(throws: expected, "\(label)") { try action(w) }
        #expect(dir.contents().isEmpty, "\(label)")
    }
}

@Test func droppedWriterLeavesNoFile() throws {
    let dir = try TemporaryDirectory()
    do { _ = try halfWrittenWriter(dir) }
    #expect(dir.contents().isEmpty)
}

@Test func cancelLeavesNoFile() throws {
    let dir = try TemporaryDirectory()
    let w = try halfWrittenWriter(dir)
    w.cancel()
    w.cancel()
    #expect(dir.contents().isEmpty)
}

@Test func unwritablePlacesFailCleanly() throws {
    let dir = try TemporaryDirectory()
    #expect(throws: EarError.outputDirectoryUnusable(path: dir.path("no/such/dir/m.ear"), directory: dir.path("no/such/dir"),
                                                     reason: "it does not exist")) {
        _ = try EarWriter(path: dir.path("no/such/dir/m.ear"))
    }
    _ = FileManager.default.createFile(atPath: dir.path("plain-file"), contents: Data([1]))
    #expect(throws: EarError.outputDirectoryUnusable(path: dir.path("plain-file/m.ear"), directory: dir.path("plain-file"),
                                                     reason: "it is a regular file, not a directory")) {
        _ = try EarWriter(path: dir.path("plain-file/m.ear"))
    }
    #expect(dir.contents() == ["plain-file"])
}

@Test func failedWriteKeepsTheExistingFile() throws {
    let dir = try TemporaryDirectory()
    try EarExample.write(path: dir.path("m.ear"))
    let before = try Data(contentsOf: URL(fileURLWithPath: dir.path("m.ear")))
    let w = try halfWrittenWriter(dir)
    #expect(throws: SourceFailed()) { try w.addTensor(name: "t", dtype: .u8, shape: [10]) { _ in throw SourceFailed() } }
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path("m.ear"))) == before)
    #expect(dir.contents() == ["m.ear"])
}

@Test func finishReplacesTheExistingFileAndClosesTheWriter() throws {
    let dir = try TemporaryDirectory()
    try EarExample.write(path: dir.path("m.ear"))
    let w = try halfWrittenWriter(dir)
    try w.finish()
    #expect(dir.contents() == ["m.ear"])
    #expect(try EarFile(path: dir.path("m.ear")).tensors.map(\.name) == ["a"])
    #expect { try w.addBlob(name: "late", bytes: []) } throws: { error in
        if case .writerClosed = error as? EarError { return true } else { return false }
    }
}
