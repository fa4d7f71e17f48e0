// ConversionPlan: for every output tensor, its canonical name, output shape, storage type and rows — and the
// CheckpointSource protocol that every input format (Hugging Face Qwen-Audio safetensors, GGUF, CTranslate2
// Whisper) implements, so one conversion loop (Converter) serves them all.
import Foundation
import EarshotKernels

/// What happens to one tensor.
public struct PlannedTensor: Sendable {
    /// The name in the source (HF state-dict key, GGUF tensor name(s), CTranslate2 variable).
    public let sourceName: String
    public let canonicalName: String
    /// Shape in the `.ear` file (conv weights become 2-D, fused tensors stack their parts).
    public let shape: [Int]
    public let type: WeightType
    /// Where the rows come from.
    public let rows: any RowSource

    public init(sourceName: String, canonicalName: String, shape: [Int], type: WeightType, rows: any RowSource) {
        self.sourceName = sourceName
        self.canonicalName = canonicalName
        self.shape = shape
        self.type = type
        self.rows = rows
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var rowCount: Int { shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *) }
    public var cols: Int { shape.last ?? 1 }
    /// Bytes in the output file.
    public var outputBytes: Int { rowCount * type.rowBytes(cols: cols)! }
    /// Source bytes read to make it.
    public var sourceBytes: Int { rows.sourceBytes }
    /// True when every row is copied block for block from the source (no re-quantization).
    public var isRelaid: Bool { rows.relaysEveryRow(to: type) && type != .f32 }
}

/// A validated input model, ready to convert: its planned tensors, blobs and metadata.
public protocol CheckpointSource {
    /// Every output tensor in file order, with storage types from `recipe` and `overrides`.
    func plan(recipe: QuantRecipe, overrides: [TypeOverride]) throws(ConvertError) -> [PlannedTensor]
    /// Named non-weight blobs (tokenizer, configs, …), read before any tensor is converted.
    func blobs() throws(ConvertError) -> [(String, Data)]
    /// Every metadata key, in a fixed order (the report carries the per-tensor errors).
    func metadata(options: ConvertOptions, report: ConversionReport) -> [(key: String, value: MetaValue)]
    /// KV-cache bytes per token position at run time (f16 keys and values of every layer), for the report.
    var kvBytesPerToken: Int { get }
    /// A one-line description for `--dry-run` ("Qwen-Audio checkpoint", "GGUF qwen2 …").
    var summary: String { get }
}

public enum ConversionPlan {
    /// Plans every tensor of a Qwen-Audio `checkpoint` in state-dict order.
    public static func make(_ checkpoint: Checkpoint, recipe: QuantRecipe, overrides: [TypeOverride]) throws(ConvertError) -> [PlannedTensor] {
        try checkpoint.plan(recipe: recipe, overrides: overrides)
    }
}

extension Checkpoint: CheckpointSource {
    public func plan(recipe: QuantRecipe, overrides: [TypeOverride]) throws(ConvertError) -> [PlannedTensor] {
        var out: [PlannedTensor] = []
        for (expected, shard, tensor) in tensors {
            guard let (canonical, transform) = NameMapping.canonical(expected.name) else {
                throw .unexpectedTensors([expected.name])   // cannot happen for tensors of CheckpointLayout
            }
            let shape = NameMapping.outputShape(tensor.shape, transform)
            let type = recipe.type(canonicalName: canonical, sourceName: expected.name, rank: shape.count,
                                   cols: shape.last ?? 1, overrides: overrides)
            out.append(PlannedTensor(sourceName: expected.name, canonicalName: canonical, shape: shape, type: type,
                                     rows: SafetensorsRows(file: shards[shard]!, tensor: tensor, transform: transform)))
        }
        return out
    }

    public func blobs() throws(ConvertError) -> [(String, Data)] { try ConversionMetadata.blobs(self) }

    public func metadata(options: ConvertOptions, report: ConversionReport) -> [(key: String, value: MetaValue)] {
        ConversionMetadata.keys(self, options: options, report: report)
    }

    public var kvBytesPerToken: Int { 2 * config.numLayers * config.hiddenSize * 2 }

    public var summary: String { "Qwen-Audio checkpoint \(directory.standardizedFileURL.lastPathComponent)" }
}
