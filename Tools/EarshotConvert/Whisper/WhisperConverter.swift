// WhisperConverter: a CTranslate2 Whisper model directory → any ModelSink (a `.ear` file, or memory for
// tests): canonical tensors (CTranslate2Whisper), storage types from a QuantRecipe, metadata
// (`general.architecture` = "whisper", `whisper.*` dims and decoding settings) and blobs (tokenizer.json,
// CTranslate2's config.json). Deterministic: same directory and options → same bytes.
//
// Types: norms, biases and position tables stay f32; `dec.token_embd.weight` (also the output projection)
// takes the recipe's token-embedding type; `audio.*` matrices the audio type; other `dec.*` matrices the
// LLM-linear type; rows whose length is not a multiple of 32 (conv1: 3·80 = 240) fall back to f16.
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTokenizer
import Foundation

public enum WhisperConverter {
    /// Blob names in a Whisper `.ear`.
    public static let tokenizerBlob = MetadataKeys.huggingFaceTokenizerBlob
    public static let configBlob = MetadataKeys.sourceConfigBlob

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
        let ckpt = try load(directory)
        var blobs: [(String, Data)] = []
        for name in [tokenizerBlob, configBlob] {
            let url = directory.appendingPathComponent(name)
            let what = name == tokenizerBlob ? "the Whisper tokenizer (tokenizer.json)" : "the CTranslate2 config (config.json)"
            blobs.append((name, try readWholeFile(url, what: what, limit: InputLimits.tokenizer)))
        }
        // The runtime builds its tokenizer from this blob: a file it cannot load is refused now.
        let tokenizerPath = directory.appendingPathComponent(tokenizerBlob).path
        do { _ = try WhisperTokenizer(tokenizerJSON: blobs[0].1, vocabularySize: ckpt.config.nVocab) } catch {
            throw .invalidTokenizer(path: tokenizerPath, reason: error.description)
        }
        do {
            return try convert(ckpt, blobs: blobs, options: options, to: sink, progress: progress)
        } catch {
            sink.abort()
            throw error
        }
    }

    /// Reads and maps the CTranslate2 model of `directory`.
    static func load(_ directory: URL) throws(ConvertError) -> WhisperCheckpoint {
        let modelPath = directory.appendingPathComponent("model.bin").path
        do { return try CTranslate2Whisper.load(directory: directory) } catch {
            switch error {
            case .missingFile(let p): throw .missingFile(path: p, what: "the CTranslate2 model")
            case .unreadable(let p, let reason): throw .unreadableFile(path: p, reason: reason)
            default: throw .unreadableFile(path: modelPath, reason: error.description)
            }
        }
    }

    /// Converts an already-mapped checkpoint (tests, tools) through the one conversion loop (`Converter`).
    public static func convert(_ ckpt: WhisperCheckpoint, blobs: [(String, Data)], options: ConvertOptions,
                               to sink: some ModelSink, progress: (ConvertEvent) -> Void = { _ in }) throws(ConvertError) -> ConversionReport {
        try Converter.convert(WhisperSource(checkpoint: ckpt, blobs: blobs), options: options, to: sink, progress: progress)
    }
}

/// A CTranslate2 Whisper model (already mapped to canonical f32 tensors) as a CheckpointSource.
public struct WhisperSource: CheckpointSource {
    public let checkpoint: WhisperCheckpoint
    public let blobList: [(String, Data)]

    public init(checkpoint: WhisperCheckpoint, blobs: [(String, Data)]) {
        self.checkpoint = checkpoint
        blobList = blobs
    }

    public func plan(recipe: QuantRecipe, overrides: [TypeOverride]) throws(ConvertError) -> [PlannedTensor] {
        checkpoint.tensors.map { t in
            PlannedTensor(sourceName: t.name, canonicalName: t.name, shape: t.shape,
                          type: WhisperConverter.type(canonicalName: t.name, shape: t.shape, recipe: recipe, overrides: overrides),
                          rows: ValueRows(values: t.values, shape: t.shape))
        }
    }

    public func blobs() throws(ConvertError) -> [(String, Data)] { blobList }

    public func metadata(options: ConvertOptions, report: ConversionReport) -> [(key: String, value: MetaValue)] {
        WhisperConverter.metadata(checkpoint, recipe: options.recipe)
    }

    public var kvBytesPerToken: Int { 2 * checkpoint.config.nTextLayer * checkpoint.config.nTextState * 4 }

    public var summary: String { "CTranslate2 Whisper model" }
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
        let ckpt = try load(directory)
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
