// SileroVADConverter: a Silero VAD v6 ONNX file → any ModelSink (a `.ear` file, or memory for tests).
// Tensors stay f32 (the model is 0.3 M weights, 1.2 MB; parity with onnxruntime matters more than size);
// metadata: `general.architecture` = "silero-vad" and the `silero.*` keys of SileroVADConfig.
// Deterministic: the same ONNX file always gives the same bytes.
import EarshotKernels
import EarshotModels
import Foundation

public enum SileroVADConverter {
    /// True when `path` names an `.onnx` file (how `earshot-convert` picks this converter).
    public static func isONNXFile(_ path: String) -> Bool {
        path.lowercased().hasSuffix(".onnx")
    }

    /// Reads, recognises and converts the ONNX file at `path` into `sink`. On error the sink is aborted.
    public static func convert(path: String, to sink: some ModelSink) throws(ConvertError) -> ConversionReport {
        do {
            let ckpt = try SileroVADGraph.load(path: path)
            return try convert(ckpt, source: URL(fileURLWithPath: path).lastPathComponent, to: sink)
        } catch {
            sink.abort()
            throw error
        }
    }

    /// The metadata of a converted model.
    public static func metadata(_ ckpt: SileroVADCheckpoint, source: String) -> [(key: String, value: MetaValue)] {
        var m: [(key: String, value: MetaValue)] = [
            ("general.architecture", .string(SileroVADTensorNames.architecture)),
            ("general.source", .string(source)),
            ("general.source_producer", .string(ckpt.producer)),
            ("general.source_opset", .int(Int(ckpt.opset))),
            ("general.converter", .string("earshot-convert \(Converter.version) (ONNX)")),
            ("general.quantization", .string("f32")),
        ]
        for (k, v) in ckpt.config.metadata {
            switch v {
            case .int(let i): m.append((k, .int(i)))
            case .double(let d): m.append((k, .double(d)))
            case .bool(let b): m.append((k, .bool(b)))
            case .string(let s): m.append((k, .string(s)))
            }
        }
        return m
    }

    /// Writes an extracted model into `sink` (tests use an in-memory sink). Returns the per-tensor report.
    public static func convert(_ ckpt: SileroVADCheckpoint, source: String, to sink: some ModelSink) throws(ConvertError) -> ConversionReport {
        var report = ConversionReport(tensors: [], recipe: "f32", fileBytes: 0, kvBytesPerToken: 0)
        do {
            for t in ckpt.tensors {
                let bytes = t.values.count * 4
                try sink.addTensor(name: t.name, type: .f32, shape: t.shape, byteCount: bytes) { write in
                    try t.values.withUnsafeBytes { try write($0) }
                }
                report.tensors.append(TensorReport(name: t.name, sourceName: t.name, shape: t.shape, type: .f32, bytes: bytes,
                                                   error: TensorError(relativeRMSE: 0, maxAbs: 0)))
            }
            report.fileBytes = try sink.finish(metadata: metadata(ckpt, source: source))
        } catch let e as ConvertError {
            sink.abort()
            throw e
        } catch {
            sink.abort()
            throw .writeFailed(path: sink.outputDescription, reason: "\(error)")
        }
        return report
    }
}
