// Converter: the one conversion loop — any CheckpointSource → sink, tensor by tensor, then blobs and
// metadata. Deterministic: the same input and options give the same bytes (no clock, no paths beyond the
// input's own name).
import Foundation
import EarshotFormat
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
    public static let version = "0.2.0"

    /// Converts `source` into `sink`. On any error the sink is aborted (no output is left) and the error
    /// rethrown.
    public static func convert(_ source: some CheckpointSource, options: ConvertOptions, to sink: some ModelSink,
                               progress: (ConvertEvent) -> Void = { _ in }) throws(ConvertError) -> ConversionReport {
        do {
            return try run(source, options: options, sink: sink, progress: progress)
        } catch {
            sink.abort()
            throw error
        }
    }

    private static func run(_ source: some CheckpointSource, options: ConvertOptions, sink: some ModelSink,
                            progress: (ConvertEvent) -> Void) throws(ConvertError) -> ConversionReport {
        // Read the small things first so a missing tokenizer is reported before a long conversion.
        let blobs = try source.blobs()
        let plan = try source.plan(recipe: options.recipe, overrides: options.overrides)
        let total = plan.reduce(0) { $0 + $1.sourceBytes }
        var done = 0
        var report = ConversionReport(tensors: [], recipe: options.recipe.name, fileBytes: 0,
                                      kvBytesPerToken: source.kvBytesPerToken)
        for (i, p) in plan.enumerated() {
            progress(.tensorStarted(index: i, count: plan.count, name: p.canonicalName, type: p.type))
            var error = TensorError(relativeRMSE: 0, maxAbs: 0)
            try sinkCall(sink) {
                try sink.addTensor(name: p.canonicalName, type: p.type, shape: p.shape, byteCount: p.outputBytes) { write in
                    error = try TensorEncoder.encode(
                        source: p.rows, codec: RowCodec.forType(p.type), name: p.sourceName, threads: options.threads, write: write,
                        progress: { n in done += n; progress(.bytes(done: done, total: total)) })
                }
            }
            let t = TensorReport(name: p.canonicalName, sourceName: p.sourceName, shape: p.shape, type: p.type,
                                 bytes: p.outputBytes, error: error, relaid: p.isRelaid)
            report.tensors.append(t)
            progress(.tensorFinished(t))
        }
        progress(.finishing)
        for (name, bytes) in blobs { try sinkCall(sink) { try sink.addBlob(name: name, bytes: bytes) } }
        let metadata = source.metadata(options: options, report: report)
        try sinkCall(sink) { report.fileBytes = try sink.finish(metadata: metadata) }
        return report
    }

    /// Runs a sink call, turning any non-ConvertError failure into `.writeFailed` (a full disk and the
    /// output rule into their own sentences).
    private static func sinkCall(_ sink: some ModelSink, _ body: () throws -> Void) throws(ConvertError) {
        do { try body() } catch let e as ConvertError { throw e } catch let e as EarError {
            throw ConvertError(writing: sink.outputDescription, e)
        } catch {
            throw .writeFailed(path: sink.outputDescription, reason: "\(error)")
        }
    }
}
