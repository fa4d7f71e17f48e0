// EarFileSink: the ModelSink that writes a `.ear` file through EarshotFormat's streaming EarWriter.
// The writer works in a temporary file next to the destination and renames it only when complete, so
// a failed or cancelled conversion leaves no file at `path`.
import Foundation
import EarshotFormat
import EarshotKernels

public final class EarFileSink: ModelSink {
    public let path: String
    public var outputDescription: String { path }
    private let writer: EarWriter

    /// Opens the output (creating its temporary file), so an unwritable path fails before any work.
    public init(path: String) throws(ConvertError) {
        self.path = path
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw .outputNotWritable(path: path, reason: "it is a directory")
        }
        do {
            writer = try EarWriter(path: path)
        } catch {
            if case .io(_, _, let code) = error {
                throw .outputNotWritable(path: path, reason: String(cString: strerror(code)))
            }
            throw .outputNotWritable(path: path, reason: error.description)
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
        for (key, value) in metadata {
            switch value {
            case .string(let s): writer.metadata[key] = .string(s)
            case .int(let i): writer.metadata[key] = .int(Int64(i))
            case .double(let d): writer.metadata[key] = .double(d)
            case .bool(let b): writer.metadata[key] = .bool(b)
            case .strings(let a): writer.metadata[key] = .array(a.map { .string($0) })
            }
        }
        try writer.finish()
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? Int) ?? 0
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
