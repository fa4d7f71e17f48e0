// EarFileSink: the ModelSink that writes a `.ear` file through EarshotFormat's streaming EarWriter.
// The writer works in a temporary file next to the destination and renames it only when complete, so
// a failed or cancelled conversion leaves no file at `path`; EarshotFormat's OutputPath rule decides what
// may be replaced (never a device, directory or FIFO; a regular file only with `overwrite`; never an
// input: pass the checkpoint directory).
import Foundation
import EarshotFormat
import EarshotKernels

public final class EarFileSink: ModelSink {
    public let path: String
    public var outputDescription: String { path }
    private let writer: EarWriter

    /// Opens the output (checking the rule and creating the temporary file), so an unwritable or
    /// forbidden path fails before any work. `inputs`: files or directories the output must not be.
    public init(path: String, overwrite: Bool = true, inputs: [String] = []) throws(ConvertError) {
        self.path = path
        do {
            writer = try EarWriter(path: path, overwrite: overwrite, inputs: inputs)
        } catch {
            throw ConvertError(writing: path, error)
        }
    }

    public func addTensor(name: String, type: WeightType, shape: [Int], byteCount: Int,
                          produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        try writer.addTensor(name: name, dtype: Self.dtype(type), shape: shape) { sink in
            try produce { bytes in try sink.write(bytes) }
        }
    }

    public func addBlob(name: String, bytes: Data) throws {
        try writer.addBlob(name: name, bytes: [UInt8](bytes))
    }

    public func finish(metadata: [(key: String, value: MetaValue)]) throws -> Int {
        do { return try finishWriter(metadata) } catch let e as EarError { throw ConvertError(writing: path, e) }
    }

    private func finishWriter(_ metadata: [(key: String, value: MetaValue)]) throws -> Int {
        for (key, value) in metadata {
            switch value {
            case .string(let s): writer.metadata[key] = .string(s)
            case .int(let i): writer.metadata[key] = .int(Int64(i))
            case .double(let d): writer.metadata[key] = .double(d)
            case .bool(let b): writer.metadata[key] = .bool(b)
            case .strings(let a): writer.metadata[key] = .array(a.map { .string($0) })
            }
        }
        return try writer.finish()
    }

    public func abort() { writer.cancel() }

    static func dtype(_ t: WeightType) -> EarDType {
        switch t {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .q8: return .q8
        case .q4: return .q4
        }
    }
}

extension ConvertError {
    /// An output error of EarshotFormat as the converter reports it (one sentence naming the path).
    init(writing path: String, _ error: EarError) {
        switch error {
        case .outputExists: self = .outputNotWritable(path: path, reason: "file exists (use --force to overwrite)")
        case .outputNotRegularFile(_, let kind):
            self = .outputNotWritable(path: path, reason: "it is \(kind), not a regular file (never replaced, even with --force)")
        case .outputIsInput(_, let input):
            self = .outputNotWritable(path: path, reason: input == path ? "it is one of the checkpoint's files"
                                                                        : "it is the same file as the input \(input)")
        case .outputDirectoryUnusable(_, let dir, let reason):
            self = .outputNotWritable(path: path, reason: dir.isEmpty ? reason : "directory \(dir): \(reason)")
        case .noSpace: self = .writeFailed(path: path, reason: "no space left on the device (nothing was written)")
        case .io(_, "create", let code): self = .outputNotWritable(path: path, reason: String(cString: strerror(code)))
        case .io(_, let op, let code): self = .writeFailed(path: path, reason: "\(op): \(String(cString: strerror(code)))")
        default: self = .writeFailed(path: path, reason: error.description)
        }
    }
}
