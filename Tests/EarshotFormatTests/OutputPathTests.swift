// OutputPathTests: the one output rule (OutputPath, AtomicFileWriter, EarWriter) on real file-system
// entries in a temporary directory: a FIFO, a directory, a character device (mknod when root, else
// /dev/null itself, only checked, never written), symbolic links, inputs given as outputs; and the
// atomic whole-file helper, which leaves no partial file.
import Testing
import Foundation
import EarshotFormat
import EarshotTestSupport

private func fileType(_ path: String) -> mode_t {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
}

private func bytes(_ path: String) -> [UInt8]? { (try? Data(contentsOf: URL(fileURLWithPath: path))).map { [UInt8]($0) } }

@Test func fifoIsNeverReplaced() throws {
    let dir = try TemporaryDirectory()
    let fifo = dir.path("out.ear")
    #expect(mkfifo(fifo, 0o644) == 0)
    for overwrite in [false, true] {
        #expect(throws: EarError.outputNotRegularFile(path: fifo, kind: "a FIFO (named pipe)")) {
            _ = try EarWriter(path: fifo, overwrite: overwrite)
        }
        #expect(throws: EarError.outputNotRegularFile(path: fifo, kind: "a FIFO (named pipe)")) {
            try AtomicFileWriter.write([1, 2, 3], to: fifo, overwrite: overwrite)
        }
    }
    #expect(fileType(fifo) == S_IFIFO)
    #expect(dir.contents() == ["out.ear"])
}

@Test func directoryIsNeverReplaced() throws {
    let dir = try TemporaryDirectory()
    let sub = dir.path("models")
    try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
    #expect(throws: EarError.outputNotRegularFile(path: sub, kind: "a directory")) {
        try AtomicFileWriter.write([1], to: sub, overwrite: true)
    }
    #expect(throws: EarError.outputNotRegularFile(path: sub + "/", kind: "a directory")) {
        try AtomicFileWriter.write([1], to: sub + "/", overwrite: true)
    }
    #expect(fileType(sub) == S_IFDIR)
    #expect(dir.contents() == ["models"])
    let error = EarError.outputNotRegularFile(path: sub, kind: "a directory")
    #expect(error.description == "refusing to write '\(sub)': it is a directory, not a regular file (never replaced, even with --force)")
}

@Test func characterDeviceIsNeverReplaced() throws {
    let dir = try TemporaryDirectory()
    let node = dir.path("null")
    // makedev(1, 3) = /dev/null's numbers; only root may mknod a device.
    if getuid() == 0, mknod(node, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 {
        #expect(throws: EarError.outputNotRegularFile(path: node, kind: "a character device")) {
            try AtomicFileWriter.write([1, 2], to: node, overwrite: true)
        }
        #expect(throws: EarError.outputNotRegularFile(path: node, kind: "a character device")) {
            _ = try EarWriter(path: node, overwrite: true)
        }
        #expect(fileType(node) == S_IFCHR)
        #expect(dir.contents() == ["null"])
    }
    // Stand-in where mknod is not allowed (and a check anyway): the rule on /dev/null itself. Only the
    // check runs, nothing is created: it throws before any file is opened.
    #expect(throws: EarError.outputNotRegularFile(path: "/dev/null", kind: "a character device")) {
        _ = try OutputPath.check("/dev/null", overwrite: true)
    }
    #expect(fileType("/dev/null") == S_IFCHR)
}

@Test func symbolicLinksAreFollowed() throws {
    let dir = try TemporaryDirectory()
    let target = dir.path("real.bin"), link = dir.path("link.bin")
    try Data([9, 9]).write(to: URL(fileURLWithPath: target))
    #expect(symlink("real.bin", link) == 0)
    // A link to a regular file is a regular file: refused without overwrite, written through with it.
    #expect(throws: EarError.outputExists(path: link)) { try AtomicFileWriter.write([1, 2, 3], to: link, overwrite: false) }
    try AtomicFileWriter.write([1, 2, 3], to: link, overwrite: true)
    #expect(fileType(link) == S_IFLNK)
    #expect(bytes(target) == [1, 2, 3])
    #expect(dir.contents() == ["link.bin", "real.bin"])

    // A link to a FIFO is a FIFO; a dangling link is refused.
    let fifo = dir.path("pipe"), toFifo = dir.path("to-pipe"), dangling = dir.path("dangling")
    #expect(mkfifo(fifo, 0o644) == 0)
    #expect(symlink(fifo, toFifo) == 0)
    #expect(throws: EarError.outputNotRegularFile(path: toFifo, kind: "a FIFO (named pipe)")) {
        try AtomicFileWriter.write([1], to: toFifo, overwrite: true)
    }
    #expect(symlink("missing.bin", dangling) == 0)
    #expect { try AtomicFileWriter.write([1], to: dangling, overwrite: true) } throws: { error in
        if case .outputNotRegularFile(dangling, let kind) = error as? EarError { return kind.contains("symbolic link") }
        return false
    }
    #expect(dir.contents() == ["dangling", "link.bin", "pipe", "real.bin", "to-pipe"])
}

@Test func inputsAreNeverOutputs() throws {
    let dir = try TemporaryDirectory()
    let ckpt = dir.path("ckpt")
    try FileManager.default.createDirectory(atPath: ckpt, withIntermediateDirectories: false)
    let shard = ckpt + "/model.safetensors"
    try Data([7, 7, 7]).write(to: URL(fileURLWithPath: shard))
    // The input file itself, another spelling of it, a hard link to it, a symlink to it.
    #expect(link(shard, dir.path("hard")) == 0)
    #expect(symlink(shard, dir.path("soft")) == 0)
    for out in [shard, ckpt + "/../ckpt/model.safetensors", dir.path("hard"), dir.path("soft")] {
        #expect(throws: EarError.outputIsInput(path: out, input: shard), "\(out)") {
            _ = try EarWriter(path: out, overwrite: true, inputs: [shard])
        }
        // The checkpoint directory as the input stands for every file in it.
        #expect(throws: EarError.outputIsInput(path: out, input: ckpt + "/model.safetensors"), "\(out)") {
            try AtomicFileWriter.write([1], to: out, overwrite: true, inputs: [ckpt])
        }
    }
    #expect(bytes(shard) == [7, 7, 7])
    // Earlier outputs in the checkpoint directory, and new files there, may be written.
    try Data([1]).write(to: URL(fileURLWithPath: ckpt + "/old.q8.ear"))
    try AtomicFileWriter.write([2], to: ckpt + "/old.q8.ear", overwrite: true, inputs: [ckpt])
    try AtomicFileWriter.write([3], to: ckpt + "/new.bin", overwrite: false, inputs: [ckpt])
    #expect(bytes(ckpt + "/old.q8.ear") == [2] && bytes(ckpt + "/new.bin") == [3])
    #expect(try FileManager.default.contentsOfDirectory(atPath: ckpt).sorted() == ["model.safetensors", "new.bin", "old.q8.ear"])
}

@Test func atomicWriteReplacesOnlyWithOverwriteAndLeavesNothingBehind() throws {
    let dir = try TemporaryDirectory()
    let out = dir.path("mel.f32")
    try AtomicFileWriter.write([1, 2, 3, 4], to: out, overwrite: false)
    #expect(bytes(out) == [1, 2, 3, 4])
    #expect(throws: EarError.outputExists(path: out)) { try AtomicFileWriter.write([5], to: out, overwrite: false) }
    #expect(bytes(out) == [1, 2, 3, 4])
    try AtomicFileWriter.write([5], to: out, overwrite: true)
    #expect(bytes(out) == [5])
    #expect(dir.contents() == ["mel.f32"])

    // A file that appears while the writer works is not replaced without overwrite (link, not rename).
    let late = dir.path("late.bin")
    let w = try AtomicFileWriter(path: late, overwrite: false)
    try w.write([1, 1])
    try Data([8]).write(to: URL(fileURLWithPath: late))
    #expect(throws: EarError.outputExists(path: late)) { try w.commit() }
    #expect(bytes(late) == [8])
    #expect(dir.contents() == ["late.bin", "mel.f32"])

    // Dropping or cancelling a writer removes its temporary file.
    do {
        let dropped = try AtomicFileWriter(path: dir.path("dropped"), overwrite: false)
        try dropped.write([1])
        #expect(dir.contents().contains { $0.hasPrefix("dropped.tmp-") })
    }
    #expect(dir.contents() == ["late.bin", "mel.f32"])
}

@Test func unusableDirectoriesAreNamed() throws {
    let dir = try TemporaryDirectory()
    #expect(throws: EarError.outputDirectoryUnusable(path: dir.path("none/x"), directory: dir.path("none"), reason: "it does not exist")) {
        try AtomicFileWriter.write([1], to: dir.path("none/x"), overwrite: true)
    }
    if getuid() != 0 {   // root may write anywhere; the read-only file system case is in FaultAndDiskTests
        let locked = dir.path("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        chmod(locked, 0o555)
        defer { chmod(locked, 0o755) }
        #expect { try AtomicFileWriter.write([1], to: locked + "/x", overwrite: true) } throws: { error in
            if case .outputDirectoryUnusable(_, locked, _) = error as? EarError { return true } else { return false }
        }
    }
    #expect(EarError.noSpace(path: "m.ear").description == "cannot write 'm.ear': no space left on the device (nothing was written)")
}
