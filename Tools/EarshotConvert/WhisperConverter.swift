// WhisperConverter: a CTranslate2 Whisper model directory → any ModelSink (a `.ear` file, or memory for
// tests): canonical tensors (CTranslate2Whisper), storage types from a QuantRecipe, metadata
// (`general.architecture` = "whisper", `whisper.*` dims and decoding settings) and blobs (tokenizer.json,
// CTranslate2's config.json). Deterministic: same directory and options → same bytes.
//
// Types: norms, biases and position tables stay f32; `dec.token_embd.weight` (also the output projection)
// takes the recipe's token-embedding type; `audio.*` matrices the audio type; other `dec.*` matrices the
// LLM-linear type; rows whose length is not a multiple of 32 (conv1: 3·80 = 240) fall back to f16.
import EarshotKernels
import EarshotModels
import Foundation

public enum WhisperConverter {
    /// Blob names in a Whisper `.ear`.
    public static let tokenizerBlob = "tokenizer.json"
    public static let configBlob = "config.json"

    /// True when `directory` holds a CTranslate2 model (`model.bin`).
    public static func isCTranslate2Directory(_ directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.bin").path)
    }

    /// The storage type of one canonical Whisper tensor.
    public static func type(canonicalName n: String, shape: [Int], recipe: QuantRecipe, overrides: [TypeOverride]) -> WeightType {
        let isVector = shape.count < 2 || n.hasSuffix(".bias") || n.hasSuffix("norm.weight") || n.hasSuffix("pos_embd.weight")
        if isVector { return .f32 }
        var t: WeightType
        if n == WhisperTensorNames.tokenEmbedding || n == "dec.output.weight" { t = recipe.tokenEmbedding }
        else if n.hasPrefix("audio.") { t = recipe.audioLinear }
        else { t = recipe.llmLinear }
        for o in overrides where o.matches(n) { t = o.type }
        if t.rowBytes(cols: shape.last ?? 1) == nil { t = .f16 }
        return t
    }

    /// Metadata keys of a converted Whisper model.
    public static func metadata(_ ckpt: WhisperCheckpoint, recipe: QuantRecipe) -> [(key: String, value: MetaValue)] {
        func list(_ a: [Int]) -> MetaValue { .string("[" + a.map(String.init).joined(separator: ",") + "]") }
        var m: [(key: String, value: MetaValue)] = [("general.architecture", .string("whisper")),
                                                   ("general.converter", .string("earshot-convert \(Converter.version) (CTranslate2)")),
                                                   ("general.quantization", .string(recipe.name))]
        for (k, v) in ckpt.config.metadata { m.append((k, .int(v))) }
        m.append(("whisper.suppress_ids", list(ckpt.generation.suppressIds)))
        m.append(("whisper.suppress_ids_begin", list(ckpt.generation.suppressIdsBegin)))
        return m
    }

    /// Reads `directory` (model.bin, config.json, tokenizer.json) and converts it into `sink`. On error the
    /// sink is aborted. Returns the per-tensor report (types, sizes, quantization error).
    public static func convert(directory: URL, options: ConvertOptions, to sink: some ModelSink,
                               progress: (ConvertEvent) -> Void = { _ in }) throws(ConvertError) -> ConversionReport {
        let modelPath = directory.appendingPathComponent("model.bin").path
        let ckpt: WhisperCheckpoint
        do { ckpt = try CTranslate2Whisper.load(directory: directory) } catch {
            throw .unreadableFile(path: modelPath, reason: error.description)
        }
        var blobs: [(String, Data)] = []
        for name in [tokenizerBlob, configBlob] {
            let url = directory.appendingPathComponent(name)
            guard let bytes = try? Data(contentsOf: url) else {
                throw .missingFile(path: url.path, what: name == tokenizerBlob ? "the Whisper tokenizer" : "the CTranslate2 config")
            }
            blobs.append((name, bytes))
        }
        do {
            return try convert(ckpt, blobs: blobs, options: options, to: sink, progress: progress)
        } catch {
            sink.abort()
            throw error
        }
    }

    /// Converts an already-mapped checkpoint (tests, tools).
    public static func convert(_ ckpt: WhisperCheckpoint, blobs: [(String, Data)], options: ConvertOptions,
                               to sink: some ModelSink, progress: (ConvertEvent) -> Void = { _ in }) throws(ConvertError) -> ConversionReport {
        let c = ckpt.config
        var report = ConversionReport(tensors: [], recipe: options.recipe.name, fileBytes: 0,
                                      kvBytesPerToken: 2 * c.nTextLayer * c.nTextState * 4)
        let total = ckpt.tensors.reduce(0) { $0 + 4 * $1.values.count }
        var done = 0
        for (i, t) in ckpt.tensors.enumerated() {
            let type = Self.type(canonicalName: t.name, shape: t.shape, recipe: options.recipe, overrides: options.overrides)
            progress(.tensorStarted(index: i, count: ckpt.tensors.count, name: t.name, type: type))
            let cols = t.shape.last ?? 1
            let rows = t.values.count / max(cols, 1)
            let rowBytes = type.rowBytes(cols: cols)!
            let codec = RowCodec.forType(type)
            var encoded = [UInt8](repeating: 0, count: rows * rowBytes)
            var err2 = 0.0, ref2 = 0.0, maxAbs = 0.0
            var back = [Float](repeating: 0, count: cols)
            t.values.withUnsafeBufferPointer { src in
                encoded.withUnsafeMutableBytes { dst in
                    back.withUnsafeMutableBufferPointer { b in
                        for r in 0..<rows {
                            let s = src.baseAddress! + r * cols, d = dst.baseAddress! + r * rowBytes
                            codec.encode(s, cols, d)
                            codec.decode(UnsafeRawPointer(d), cols, b.baseAddress!)
                            for k in 0..<cols {
                                let e = Double(b[k]) - Double(s[k])
                                err2 += e * e; ref2 += Double(s[k]) * Double(s[k]); maxAbs = max(maxAbs, abs(e))
                            }
                        }
                    }
                }
            }
            do {
                try sink.addTensor(name: t.name, type: type, shape: t.shape, byteCount: encoded.count) { write in
                    try encoded.withUnsafeBytes { try write($0) }
                }
            } catch let e as ConvertError { throw e } catch {
                throw .writeFailed(path: sink.outputDescription, reason: "\(error)")
            }
            done += 4 * t.values.count
            progress(.bytes(done: done, total: total))
            let tr = TensorReport(name: t.name, sourceName: t.name, shape: t.shape, type: type, bytes: encoded.count,
                                  error: TensorError(relativeRMSE: ref2 > 0 ? (err2 / ref2).squareRoot() : 0, maxAbs: maxAbs))
            report.tensors.append(tr)
            progress(.tensorFinished(tr))
        }
        progress(.finishing)
        do {
            for (name, bytes) in blobs { try sink.addBlob(name: name, bytes: bytes) }
            report.fileBytes = try sink.finish(metadata: metadata(ckpt, recipe: options.recipe))
        } catch let e as ConvertError { throw e } catch {
            throw .writeFailed(path: sink.outputDescription, reason: "\(error)")
        }
        return report
    }
}

/// A ModelSink that keeps the converted model in memory as an `InMemoryWeights` source (tests and tools run
/// the converted bytes directly, exactly as they would come out of a `.ear` file).
public final class WhisperMemorySink: ModelSink {
    public let weights = InMemoryWeights()
    public private(set) var blobs: [String: Data] = [:]
    public private(set) var metadata: [(key: String, value: MetaValue)] = []
    public private(set) var types: [String: WeightType] = [:]
    public var outputDescription: String { "memory" }

    public init() {}

    public func addTensor(name: String, type: WeightType, shape: [Int], byteCount: Int,
                          produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(byteCount)
        try produce { bytes += $0 }
        var failure: ModelError? = nil
        bytes.withUnsafeBytes { raw in
            do { try weights.add(name, shape: shape, type: type, bytes: raw) } catch let e as ModelError { failure = e } catch { failure = .badInput("\(error)") }
        }
        if let failure { throw failure }
        types[name] = type
    }

    public func addBlob(name: String, bytes: Data) throws { blobs[name] = bytes }

    public func finish(metadata: [(key: String, value: MetaValue)]) throws -> Int {
        self.metadata = metadata
        return 0
    }

    public func abort() {}
}

extension WhisperConverter {
    /// The `--dry-run` text for a CTranslate2 Whisper directory: one line per tensor (unless `quiet`) and a summary.
    public static func plan(directory: URL, recipe: QuantRecipe, overrides: [TypeOverride], quiet: Bool) throws(ConvertError) -> String {
        let ckpt: WhisperCheckpoint
        do { ckpt = try CTranslate2Whisper.load(directory: directory) } catch {
            throw .unreadableFile(path: directory.appendingPathComponent("model.bin").path, reason: error.description)
        }
        var lines: [String] = []
        var bytes = 0, params = 0
        for t in ckpt.tensors {
            let type = Self.type(canonicalName: t.name, shape: t.shape, recipe: recipe, overrides: overrides)
            bytes += type.rowBytes(cols: t.shape.last ?? 1)! * (t.values.count / max(t.shape.last ?? 1, 1))
            params += t.values.count
            if !quiet { lines.append("\(t.name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(type)  \(t.shape)") }
        }
        let c = ckpt.config
        lines.append("CTranslate2 Whisper model OK: \(ckpt.tensors.count) tensors, \(params) weights (encoder \(c.nAudioLayer)×\(c.nAudioState), "
            + "decoder \(c.nTextLayer)×\(c.nTextState), vocabulary \(c.nVocab)); recipe \(recipe.name) → \(bytes) bytes of tensors")
        return lines.joined(separator: "\n")
    }
}
