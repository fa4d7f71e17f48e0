// The tiny fixture checkpoint converted to real `.ear` files: every type verifies, values round-trip,
// metadata feeds the model's config, the same input gives the same bytes, failures leave no file.
import Foundation
import Testing
@testable import EarshotConvert
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTestSupport

@Suite(.serialized) final class EarOutputTests {
    /// The tiny fixture as an HF directory (80 MB), written per test and removed after it.
    let checkpointDir: URL

    init() throws {
        checkpointDir = try scratchDirectory("tiny-fixture")
        try writeTinyFixtureCheckpoint(checkpointDir, sharded: true)
    }

    deinit { cleanup(checkpointDir) }

    func convert(_ quant: String, to path: String) throws -> ConversionReport {
        let ckpt = try Checkpoint(directory: checkpointDir)
        return try Converter.convert(ckpt, options: ConvertOptions(recipe: try QuantRecipe(parsing: quant), threads: 2),
                                     to: try EarFileSink(path: path))
    }

    @Test(arguments: ["f32", "f16", "q8", "q4"])
    func convertsAndVerifies(_ quant: String) throws {
        let out = try scratchDirectory("ear-\(quant)")
        defer { cleanup(out) }
        let path = out.appendingPathComponent("tiny.\(quant).ear").path
        let report = try convert(quant, to: path)
        let ear = try EarFile(path: path)
        try ear.verify()
        #expect(ear.tensors.count == 59 && report.fileBytes == ear.fileSize)
        #expect(try ear.metadata.string("general.quantization") == quant)
        #expect(try ear.metadata.string("general.architecture") == "qwen-audio")

        // The model's own config reader accepts the metadata.
        var values: [String: ConfigValue] = [:]
        for key in ear.metadata.keys {
            switch ear.metadata[key]! {
            case .int(let v): values[key] = .int(Int(v))
            case .double(let v): values[key] = .double(v)
            case .bool(let v): values[key] = .bool(v)
            case .string(let v): values[key] = .string(v)
            case .array: break
            }
        }
        let config = try QwenAudioConfig(metadata: values)
        #expect(config.llm.hiddenSize == 128 && config.llm.vocabSize == 155947 && config.audio.nState == 64)
        #expect(config.llm.rmsNormEps == 1e-6)

        // Blobs: the tokenizer file and config verbatim, the npz filters [80 × 201].
        #expect(try ear.blob(named: "tokenizer.tiktoken") == [UInt8](try Data(contentsOf: Fixtures.url("tokenizer/qwen.tiktoken"))))
        #expect(try ear.blob(named: "config.json") == [UInt8](try Data(contentsOf: Fixtures.url("qwen-audio-tiny/config.json"))))
        #expect(try ear.blob(named: "mel_filters").count == 80 * 201 * 4)

        // Values: decode each tensor and compare with the fixture (bf16 → f32 exact).
        let tiny = TinyCheckpoint.fixture
        for t in ear.tensors {
            let hf = TensorNames.hf(canonical: t.name)!
            var ref = tiny[hf]!.bits.map { Float(bitPattern: UInt32($0) << 16) }
            if TensorNames.isConvWeight(canonical: t.name) {
                let s = tiny[hf]!.spec.shape
                ref = TensorNames.convWeightToMatrix(ref, outChannels: s[0], inChannels: s[1])
            }
            // The two [155947 × 128] tensors are checked on every 64th row (keeps the debug-mode test fast).
            let cols = t.shape.last ?? 1, rows = t.shape.count <= 1 ? 1 : t.shape.dropLast().reduce(1, *)
            let step = rows > 10_000 ? 64 : 1
            let decoded = decode(ear, t, rowStep: step)
            ref = stride(from: 0, to: rows, by: step).flatMap { r in ref[(r * cols)..<((r + 1) * cols)] }
            let type = WeightType(rawValue: try #require(dtypeIndex(t.dtype)))!
            var err: Float = 0, scale: Float = 0
            for i in ref.indices { err = max(err, abs(decoded[i] - ref[i])); scale = max(scale, abs(ref[i])) }
            // Budgets relative to the tensor's max |w|: f32 exact; f16 ≤ 2^-11 relative rounding (1e-3 leaves
            // room for values in f16's subnormal range); q8 ≤ half a step of amax/127 plus the f16 rounding of
            // the scale (4.5e-3); q4: half of the 15-level step over the range (2·max/15/2 ≈ 0.067) plus
            // the 6-bit quantization of sub-scales and mins, seen up to 0.129 — budget 0.15.
            let budget: Float = [.f32: 0, .f16: 1e-3, .q8: 4.5e-3, .q4: 0.15, .bf16: 0][type]!
            #expect(err <= budget * scale, "\(t.name) \(type): max error \(err) vs max |w| \(scale)")
            if type == .f32 { #expect(decoded == ref, "\(t.name)") }
        }
        // The stored error report agrees in kind: q4 rel. RMSE on these uniform weights ≈ 0.08, q8 ≈ 0.004.
        for t in report.tensors where t.type == .q4 || t.type == .q8 {
            #expect(t.error.relativeRMSE < (t.type == .q4 ? 0.12 : 0.01), "\(t.name) \(t.error.relativeRMSE)")
        }
    }

    @Test func convertingTwiceGivesIdenticalBytes() throws {
        let out = try scratchDirectory("ear-twice")
        defer { cleanup(out) }
        let a = out.appendingPathComponent("a.ear").path, b = out.appendingPathComponent("b.ear").path
        _ = try convert("q4m", to: a)
        let ckpt = try Checkpoint(directory: checkpointDir)
        _ = try Converter.convert(ckpt, options: ConvertOptions(recipe: .q4m, threads: 1), to: try EarFileSink(path: b))
        let da = try Data(contentsOf: URL(fileURLWithPath: a)), db = try Data(contentsOf: URL(fileURLWithPath: b))
        #expect(da.count > 1_000_000 && da == db)
    }

    @Test func unwritableOutputIsRefusedUpFront() throws {
        let out = try scratchDirectory("ear-unwritable")
        defer { cleanup(out) }
        let missingDir = out.appendingPathComponent("no/such/dir/x.ear").path
        #expect(performing: { try EarFileSink(path: missingDir) }, throws: { e in
            guard case .outputNotWritable(let p, let reason) = e as? ConvertError else { return false }
            return p == missingDir && reason.contains("does not exist")
        })
        let notADir = out.appendingPathComponent("file")
        try Data("x".utf8).write(to: notADir)
        let under = notADir.appendingPathComponent("x.ear").path
        #expect(throws: ConvertError.outputNotWritable(path: under, reason: "directory \(notADir.path): it is a regular file, not a directory")) {
            try EarFileSink(path: under)
        }
        #expect(throws: ConvertError.outputNotWritable(path: out.path, reason: "it is a directory, not a regular file (never replaced, even with --force)")) {
            try EarFileSink(path: out.path)
        }
        #expect(listing(out) == ["file"])
    }

    @Test func failedConversionLeavesNoFile() throws {
        let ckptDir = try scratchDirectory("ear-fail-ckpt")
        let out = try scratchDirectory("ear-fail-out")
        defer { cleanup(ckptDir); cleanup(out) }
        try writeTinyCheckpoint(ckptDir)
        try FileManager.default.removeItem(at: ckptDir.appendingPathComponent("qwen.tiktoken"))
        let path = out.appendingPathComponent("x.ear").path
        let sink = try EarFileSink(path: path)
        #expect(listing(out).count == 1)   // the writer's temporary file
        #expect(throws: ConvertError.self) { try Converter.convert(try Checkpoint(directory: ckptDir), options: ConvertOptions(), to: sink) }
        #expect(listing(out).isEmpty)

        // A sink failure part way (a tensor name the format refuses) also removes everything.
        final class FailingSink: ModelSink {
            let inner: EarFileSink
            var count = 0
            init(_ inner: EarFileSink) { self.inner = inner }
            var outputDescription: String { inner.outputDescription }
            func addTensor(name: String, type: WeightType, shape: [Int], byteCount: Int,
                           produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
                count += 1
                if count == 5 { throw CocoaError(.fileWriteOutOfSpace) }
                try inner.addTensor(name: name, type: type, shape: shape, byteCount: byteCount, produce: produce)
            }
            func addBlob(name: String, bytes: Data) throws { try inner.addBlob(name: name, bytes: bytes) }
            func finish(metadata: [(key: String, value: MetaValue)]) throws -> Int { try inner.finish(metadata: metadata) }
            func abort() { inner.abort() }
        }
        try writeTinyCheckpoint(ckptDir)
        #expect(performing: {
            try Converter.convert(try Checkpoint(directory: ckptDir), options: ConvertOptions(), to: FailingSink(try EarFileSink(path: path)))
        }, throws: { e in
            if case .writeFailed(let p, _) = e as? ConvertError { return p == path }
            return false
        })
        #expect(listing(out).isEmpty)
    }

    @Test func streamingConvTransformMatchesTheModelsTable() throws {
        // TensorEncoder's row-streamed transform against EarshotModels' whole-tensor one.
        let s = 3, m = 5
        let conv = (0..<(s * m * 3)).map { Float($0) }
        let bf16 = conv.map { UInt16($0.bitPattern >> 16) }
        var out = [Float](repeating: 0, count: conv.count)
        bf16.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { o in
                TensorEncoder.decodeRows(src.baseAddress!, dtype: .bf16, rows: s, cols: 3 * m, transform: .convToMatmul,
                                         sourceShape: [s, m, 3], into: o.baseAddress!)
            }
        }
        #expect(out == TensorNames.convWeightToMatrix(conv, outChannels: s, inChannels: m))
    }
}

/// Rows 0, rowStep, 2·rowStep, … of a tensor, decoded to f32.
func decode(_ ear: EarFile, _ t: TensorInfo, rowStep: Int = 1) -> [Float] {
    let cols = t.shape.last ?? 1, allRows = t.shape.count <= 1 ? 1 : t.shape.dropLast().reduce(1, *)
    let picked = Array(stride(from: 0, to: allRows, by: rowStep)), rows = picked.count
    let type = WeightType(rawValue: dtypeIndex(t.dtype)!)!
    let codec = RowCodec.forType(type)
    let rowBytes = type.rowBytes(cols: cols)!
    let raw = ear.bytes(of: t)
    var out = [Float](repeating: 0, count: rows * cols)
    out.withUnsafeMutableBufferPointer { o in
        for (i, r) in picked.enumerated() { codec.decode(raw.baseAddress! + r * rowBytes, cols, o.baseAddress! + i * cols) }
    }
    return out
}

/// EarDType → WeightType raw value (f32 0, f16 1, bf16 2, q8 3, q4 4).
func dtypeIndex(_ d: EarDType) -> UInt8? {
    switch d {
    case .f32: return WeightType.f32.rawValue
    case .f16: return WeightType.f16.rawValue
    case .bf16: return WeightType.bf16.rawValue
    case .q8: return WeightType.q8.rawValue
    case .q4: return WeightType.q4.rawValue
    default: return nil
    }
}
