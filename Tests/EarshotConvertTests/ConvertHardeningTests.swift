// ConvertHardeningTests: issue #15 on the converter, each case a regression test.
//   - outputs: a FIFO, a directory, a device node (mknod as root), a symlink to an input, the checkpoint's
//     own files — never replaced, with or without --force (run as the user runs it: the CLI);
//   - inputs: a FIFO or directory where a checkpoint file should be is refused at once with words;
//   - content: NaN/Inf weights, bad mel filters, a bad epsilon, and empty / random / truncated /
//     duplicate-rank tokenizer ranks are refused, and nothing is left behind;
//   - the npz reader's 64-bit sizes and shapes cannot overflow.
import Foundation
import Testing
import EarshotConvert
import EarshotTestSupport

private func fileType(_ path: String) -> mode_t {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
}

private func convertCLI(_ args: [String]) throws -> CLIResult {
    try CLIRunner.run(args, executable: "earshot-convert", timeout: 120)
}

/// Converts `dir` into `out/x.ear` through the real file sink; returns the error, if any.
private func convertToFile(_ dir: URL, out: URL) -> ConvertError? {
    do throws(ConvertError) {
        let ckpt = try Checkpoint(directory: dir)
        _ = try Converter.convert(ckpt, options: ConvertOptions(recipe: try QuantRecipe(parsing: "q8")),
                                  to: try EarFileSink(path: out.appendingPathComponent("x.ear").path))
        return nil
    } catch { return error }
}

@Suite struct ConvertOutputRuleTests {
    @Test func specialFilesAndInputsAreNeverReplaced() throws {
        let ckpt = try scratchDirectory("rule-ckpt")
        let out = try scratchDirectory("rule-out")
        defer { cleanup(ckpt); cleanup(out) }
        try writeTinyCheckpoint(ckpt, vocab: 64)
        let shard = ckpt.appendingPathComponent("model.safetensors").path
        let shardBytes = try Data(contentsOf: URL(fileURLWithPath: shard))

        let fifo = out.appendingPathComponent("fifo.ear").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let directory = out.appendingPathComponent("dir.ear").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let linkToShard = out.appendingPathComponent("link.ear").path
        #expect(symlink(shard, linkToShard) == 0)
        var cases: [(path: String, reason: String)] = [
            (fifo, "it is a FIFO (named pipe), not a regular file"),
            (directory, "it is a directory, not a regular file"),
            (shard, "it is one of the checkpoint's files"),
            (ckpt.appendingPathComponent("config.json").path, "it is one of the checkpoint's files"),
            (linkToShard, "it is the same file as the input \(shard)"),
        ]
        let device = out.appendingPathComponent("null.ear").path
        if getuid() == 0, mknod(device, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 {   // a /dev/null twin
            cases.append((device, "it is a character device, not a regular file"))
        }
        for (path, reason) in cases {
            for force in [false, true] {
                let r = try convertCLI([ckpt.path, "-o", path, "-q"] + (force ? ["--force"] : []))
                #expect(r.exitCode == 1, "\(path): \(r)")
                #expect(r.stderrLines.count == 1 && r.stderr.contains("cannot write output \(path): \(reason)"), "\(path): \(r)")
            }
        }
        #expect(fileType(fifo) == S_IFIFO && fileType(directory) == S_IFDIR && fileType(linkToShard) == S_IFLNK)
        if cases.count == 6 { #expect(fileType(device) == S_IFCHR) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: shard)) == shardBytes)
        #expect(!listing(out).contains { $0.contains(".tmp-") } && !listing(ckpt).contains { $0.contains(".tmp-") })
    }
}

@Suite struct ConvertInputTests {
    /// A checkpoint where `name` is replaced by a FIFO: the CLI must refuse at once (it used to hang).
    @Test(arguments: ["config.json", "model.safetensors", "qwen.tiktoken", "mel_filters.npz", "generation_config.json"])
    func fifoInTheCheckpointIsRefused(name: String) throws {
        let ckpt = try scratchDirectory("fifo-in")
        defer { cleanup(ckpt) }
        try writeTinyCheckpoint(ckpt, vocab: 64)
        let path = ckpt.appendingPathComponent(name).path
        try FileManager.default.removeItem(atPath: path)
        #expect(mkfifo(path, 0o644) == 0)
        let out = try scratchDirectory("fifo-out")
        defer { cleanup(out) }
        let full = try CLIRunner.run([ckpt.path, "-q", "-o", out.appendingPathComponent("x.ear").path],
                                     executable: "earshot-convert", timeout: 30)
        #expect(!full.timedOut, "earshot-convert hung on a FIFO \(name)")
        #expect(full.exitCode == 1, "\(full)")
        #expect(full.stderr.contains("\(path): it is a FIFO (named pipe), not a regular file"), "\(full)")
        #expect(!full.stderr.contains("permission") && !full.stderr.contains("NSCocoaErrorDomain"), "\(full)")
        #expect(listing(out).isEmpty)
    }

    @Test func directoryWhereAFileBelongsIsNamed() throws {
        let ckpt = try scratchDirectory("dir-in")
        defer { cleanup(ckpt) }
        try writeTinyCheckpoint(ckpt, vocab: 64)
        let config = ckpt.appendingPathComponent("config.json")
        try FileManager.default.removeItem(at: config)
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: false)
        #expect(throws: ConvertError.unreadableFile(path: config.path, reason: "it is a directory, not a regular file")) {
            _ = try Checkpoint(directory: ckpt)
        }
    }
}

@Suite struct ConvertContentTests {
    /// Overwrites element `index` of tensor `name` of the single-file checkpoint with the bf16 bits `bits`.
    func poison(_ dir: URL, tensor name: String, element index: Int, bits: UInt16) throws {
        let path = dir.appendingPathComponent("model.safetensors").path
        let offset = try SafetensorsFile(path: path).tensors[name]!.fileOffset + 2 * index
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? h.close() }
        try h.seek(toOffset: UInt64(offset))
        h.write(Data([UInt8(bits & 0xFF), UInt8(bits >> 8)]))
    }

    @Test(arguments: [(UInt16(0x7FC0), "nan"), (UInt16(0x7F80), "inf"), (UInt16(0xFF80), "-inf")])
    func nonFiniteWeightsAreRefusedAndNothingIsWritten(bits: UInt16, text: String) throws {
        let ckpt = try scratchDirectory("nan-ckpt")
        let out = try scratchDirectory("nan-out")
        defer { cleanup(ckpt); cleanup(out) }
        try writeTinyCheckpoint(ckpt, vocab: 64)
        // transformer.h.1.mlp.w1.weight is [128, 128]; element 130 is row 1, column 2.
        try poison(ckpt, tensor: "transformer.h.1.mlp.w1.weight", element: 130, bits: bits)
        let error = convertToFile(ckpt, out: out)
        #expect(error == .nonFiniteWeight(tensor: "transformer.h.1.mlp.w1.weight", index: [1, 2], value: text))
        #expect(error?.description.contains("holds \(text) at index [1, 2]") == true)
        #expect(listing(out).isEmpty)
    }

    @Test(arguments: ["-1e-06", "0", "1.5"])
    func badEpsilonIsRefused(epsilon: String) throws {
        let ckpt = try scratchDirectory("eps")
        defer { cleanup(ckpt) }
        try writeTinyCheckpoint(ckpt, vocab: 64)
        try tinyConfigJSON(vocab: 64, epsilon: epsilon).write(to: ckpt.appendingPathComponent("config.json"))
        #expect { _ = try Checkpoint(directory: ckpt) } throws: { e in
            if case .unsupportedConfigValue("layer_norm_epsilon", _, _) = e as? ConvertError { return true } else { return false }
        }
    }

    /// Found by fuzz-safetensors: 2^24 layers passed the range check and made the converter list
    /// 134 million expected tensor names (minutes, gigabytes) before noticing they were missing.
    @Test func hugeLayerCountsAreRefusedAtOnce() throws {
        for (key, value) in [("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 16777216"),
                             ("\"n_layer\": 2", "\"n_layer\": 1025"), ("\"num_attention_heads\": 4", "\"num_attention_heads\": 65536")] {
            let config = String(decoding: tinyConfigJSON(vocab: 64), as: UTF8.self).replacingOccurrences(of: key, with: value)
            let started = Date()
            #expect { _ = try CheckpointConfig.parse(Data(config.utf8), path: "config.json") } throws: { e in
                if case .unsupportedConfigValue(_, _, let why) = e as? ConvertError { return why.contains("at most 1024") }
                return false
            }
            #expect(Date().timeIntervalSince(started) < 1)
        }
    }

    /// Each damaged rank file is refused before any tensor is converted, naming the file.
    @Test func badTokenizerRanksAreRefused() throws {
        let real = try Data(contentsOf: Fixtures.url("tokenizer/qwen.tiktoken"))
        let lines = String(decoding: real, as: UTF8.self).split(separator: "\n")
        let standIn = String(decoding: standInTiktoken(), as: UTF8.self)
        let cases: [(String, Data, String)] = [
            ("empty", Data(), "the file is empty"),
            ("random", Data((0..<4096).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }), "tiktoken rank file"),
            ("cut mid-line", standInTiktoken().prefix(700), "tiktoken rank file"),
            ("first 100 single bytes", Data(standIn.split(separator: "\n").prefix(100).joined(separator: "\n").utf8),
             "single byte 100 has no rank"),
            ("duplicate rank", Data((standIn + "QUI= 5\n").utf8), "rank 5 is missing, repeated"),
            ("duplicate token", Data((standIn + "QQ== 256\n").utf8), "already have a rank"),
            ("bad base64", Data(standIn.replacingOccurrences(of: "QQ== 65", with: "Q!== 65").utf8), "not valid base64"),
            ("real ranks cut at 1000 lines", Data((lines.prefix(1000).joined(separator: "\n") + "\n").utf8),
             "its 1000 ranks put <audio> at id 4520, but config.json says audio.audio_start_id = \(standInAudioStartID)"),
        ]
        for (label, bytes, reason) in cases {
            let ckpt = try scratchDirectory("tok")
            let out = try scratchDirectory("tok-out")
            defer { cleanup(ckpt); cleanup(out) }
            try writeTinyCheckpoint(ckpt, vocab: 64)
            try bytes.write(to: ckpt.appendingPathComponent("qwen.tiktoken"))
            let sink = MemorySink()
            let ckptValue = try Checkpoint(directory: ckpt)
            #expect(performing: { try Converter.convert(ckptValue, options: ConvertOptions(), to: sink) }, throws: { e in
                if !(e is ConvertError) || !"\(e)".contains(reason) { Issue.record("\(label): \(e)") }
                guard case .invalidTokenizer(let p, let why) = e as? ConvertError else { return false }
                return p.hasSuffix("qwen.tiktoken") && why.contains(reason)
            })
            #expect(sink.aborted && sink.tensors.isEmpty, "\(label)")
        }
    }

    @Test func badMelFiltersAreRefused() throws {
        let good = (0..<(80 * 201)).map { Float($0 % 7) * 0.001 }
        var nan = good; nan[201 * 3 + 5] = .nan
        var negative = good; negative[10] = -0.5
        var inf = good; inf[7] = .infinity
        for (values, reason) in [(nan, "weight [3, 5] is nan"), (negative, "weight [0, 10] is -0.5"), (inf, "weight [0, 7] is inf"),
                                 ([Float](repeating: 0, count: 80 * 201), "every weight is zero")] {
            let ckpt = try scratchDirectory("mel")
            defer { cleanup(ckpt) }
            try writeTinyCheckpoint(ckpt, vocab: 64)
            try StoredZip.npz(key: "mel_80", shape: [80, 201], values: values).write(to: ckpt.appendingPathComponent("mel_filters.npz"))
            let sink = MemorySink()
            let c = try Checkpoint(directory: ckpt)
            #expect(performing: { try Converter.convert(c, options: ConvertOptions(), to: sink) }, throws: { e in
                guard case .invalidMelFilters(_, let why) = e as? ConvertError else { return false }
                return why.contains(reason)
            })
            #expect(sink.aborted && sink.tensors.isEmpty)
        }
    }
}

@Suite struct NpzBoundsTests {
    @Test func hugeShapesAndZip64SizesAreErrorsNotCrashes() throws {
        // 2^24 ^ 4 overflows Int: must be "larger than the file", not a trap.
        let huge = StoredZip.npz(key: "mel_80", shapeText: "(16777216, 16777216, 16777216, 16777216)", values: [1, 2])
        #expect(performing: { try NpzReader.float32Array(huge, key: "mel_80", path: "x.npz") }, throws: { e in
            guard case .unreadableFile(_, let why) = e as? ConvertError else { return false }
            return why.contains("larger than the file")
        })
        // Zip64 extra field claiming a local header at 2^63 - 1.
        let zip64 = StoredZip.archive(name: "mel_80.npy", data: Data([1, 2, 3]), zip64LocalOffset: UInt64(Int64.max))
        #expect(performing: { try NpzReader.float32Array(zip64, key: "mel_80", path: "x.npz") }, throws: { e in
            guard case .unreadableFile(_, let why) = e as? ConvertError else { return false }
            return why.contains("bad local header")
        })
        // A correct small archive still reads.
        let ok = StoredZip.npz(key: "mel_80", shape: [2, 2], values: [1, 2, 3, 4])
        let array = try NpzReader.float32Array(ok, key: "mel_80", path: "x.npz")
        #expect(array.shape == [2, 2] && array.values == [1, 2, 3, 4])
    }
}

/// A minimal zip writer (stored members, CRC left zero: the reader does not check it) for npz tests.
enum StoredZip {
    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }

    static func npy(shapeText: String, values: [Float]) -> Data {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0] + le16(header.utf8.count) + Array(header.utf8)
        for v in values { out += le32(v.bitPattern) }
        return Data(out)
    }

    static func npz(key: String, shape: [Int], values: [Float]) -> Data {
        npz(key: key, shapeText: "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")"), values: values)
    }

    static func npz(key: String, shapeText: String, values: [Float]) -> Data {
        archive(name: key + ".npy", data: npy(shapeText: shapeText, values: values))
    }

    static func archive(name: String, data: Data, zip64LocalOffset: UInt64? = nil) -> Data {
        let n = Array(name.utf8)
        let size = UInt32(data.count)
        var out: [UInt8] = le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
            + le32(size) + le32(size) + le16(n.count) + le16(0) + n + [UInt8](data)
        let cd = out.count
        let extra: [UInt8] = zip64LocalOffset.map { le16(1) + le16(8) + le64($0) } ?? []
        out += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
            + le32(size) + le32(size) + le16(n.count) + le16(extra.count) + le16(0) + le16(0) + le16(0) + le32(0)
            + le32(zip64LocalOffset == nil ? 0 : 0xFFFF_FFFF) + n + extra
        let cdSize = out.count - cd
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(1) + le16(1) + le32(UInt32(cdSize)) + le32(UInt32(cd)) + le16(0)
        return Data(out)
    }
}
