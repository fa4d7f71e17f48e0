// Converter: checkpoint → sink, tensor by tensor, then blobs and metadata. Deterministic: the same
// checkpoint and options give the same bytes (no clock, no paths beyond the directory's own name).
import Foundation
import EarshotKernels

/// What to produce.
public struct ConvertOptions: Sendable {
    public var recipe: QuantRecipe
    public var overrides: [TypeOverride]
    /// Threads for quantizing rows (the output does not depend on it).
    public var threads: Int

    public init(recipe: QuantRecipe = .default, overrides: [TypeOverride] = [], threads: Int = 1) {
        self.recipe = recipe
        self.overrides = overrides
        self.threads = max(1, threads)
    }
}

/// Progress as the conversion runs (for a progress bar or log lines).
public enum ConvertEvent: Sendable {
    /// Tensor `index` (0-based) of `count` starts.
    case tensorStarted(index: Int, count: Int, name: String, type: WeightType)
    /// Source bytes converted so far, of `total`.
    case bytes(done: Int, total: Int)
    case tensorFinished(TensorReport)
    /// All tensors done; blobs and metadata are being written.
    case finishing
}

public enum Converter {
    public static let version = "0.1.0"

    /// Converts `checkpoint` into `sink`. On any error the sink is aborted (no output is left) and the
    /// error rethrown.
    public static func convert(_ checkpoint: Checkpoint, options: ConvertOptions, to sink: some ModelSink,
                               progress: (ConvertEvent) -> Void = { _ in }) throws(ConvertError) -> ConversionReport {
        do {
            return try run(checkpoint, options: options, sink: sink, progress: progress)
        } catch {
            sink.abort()
            throw error
        }
    }

    private static func run(_ checkpoint: Checkpoint, options: ConvertOptions, sink: some ModelSink,
                            progress: (ConvertEvent) -> Void) throws(ConvertError) -> ConversionReport {
        // Read the small files first so a missing tokenizer is reported before a long conversion.
        let blobs = try ConversionMetadata.blobs(checkpoint)
        let plan = try ConversionPlan.make(checkpoint, recipe: options.recipe, overrides: options.overrides)
        let total = plan.reduce(0) { $0 + $1.source.byteCount }
        var done = 0
        var report = ConversionReport(tensors: [], recipe: options.recipe.name, fileBytes: 0,
                                      kvBytesPerToken: 2 * checkpoint.config.numLayers * checkpoint.config.hiddenSize * 2)
        for (i, p) in plan.enumerated() {
            progress(.tensorStarted(index: i, count: plan.count, name: p.canonicalName, type: p.type))
            let file = checkpoint.shards[p.shard]!
            var error = TensorError(relativeRMSE: 0, maxAbs: 0)
            try sinkCall(sink) {
                try sink.addTensor(name: p.canonicalName, type: p.type, shape: p.shape, byteCount: p.outputBytes) { write in
                    error = try TensorEncoder.encode(
                        source: file.bytes(of: p.source), dtype: p.source.dtype, sourceShape: p.source.shape,
                        transform: p.transform, codec: RowCodec.forType(p.type), threads: options.threads, write: write,
                        release: { off, count in file.file.release(offset: p.source.fileOffset + off, count: count) },
                        progress: { n in done += n; progress(.bytes(done: done, total: total)) })
                }
            }
            let t = TensorReport(name: p.canonicalName, sourceName: p.sourceName, shape: p.shape, type: p.type,
                                 bytes: p.outputBytes, error: error)
            report.tensors.append(t)
            progress(.tensorFinished(t))
        }
        progress(.finishing)
        for (name, bytes) in blobs { try sinkCall(sink) { try sink.addBlob(name: name, bytes: bytes) } }
        let metadata = ConversionMetadata.keys(checkpoint, options: options, report: report)
        try sinkCall(sink) { report.fileBytes = try sink.finish(metadata: metadata) }
        return report
    }

    /// Runs a sink call, turning any non-ConvertError failure into `.writeFailed`.
    private static func sinkCall(_ sink: some ModelSink, _ body: () throws -> Void) throws(ConvertError) {
        do { try body() } catch let e as ConvertError { throw e } catch {
            throw .writeFailed(path: sink.outputDescription, reason: "\(error)")
        }
    }
}
