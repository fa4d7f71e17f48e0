// EarWeights: the model's WeightSource over an opened, memory-mapped `.ear` file — tensors are viewed in
// place (zero-copy); the model keeps this object (and so the mapping) alive. Also reads the model config
// from the file's metadata. No I/O of its own: the file was opened and validated by `EarFile`.
import EarshotFormat
import EarshotKernels

public final class EarWeights: WeightSource, @unchecked Sendable {   // immutable after init
    public let file: EarFile

    public init(file: EarFile) { self.file = file }

    /// Opens, maps and validates `path`.
    public convenience init(path: String) throws(EarError) { self.init(file: try EarFile(path: path)) }

    /// The tensor, or nil when the file has none of that name (or it is an integer tensor, which no model
    /// reads as weights). Offsets and sizes were validated when the file was opened.
    public func tensor(named name: String) -> TensorView? {
        guard file.hasTensor(named: name), let info = try? file.tensor(named: name),
              let type = EarWeights.weightType(info.dtype) else { return nil }
        return TensorView(name: name, shape: info.shape, type: type, base: file.bytes(of: info).baseAddress!)
    }

    /// The kernels' weight type of a file dtype (nil for integer tensors, which the model never reads).
    public static func weightType(_ d: EarDType) -> WeightType? {
        switch d {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .q8: return .q8
        case .q4: return .q4
        case .i8, .u8, .i32, .i64: return nil
        }
    }

    /// The metadata as model config values (arrays are skipped; the model reads only scalars).
    public var configValues: [String: ConfigValue] {
        var out: [String: ConfigValue] = [:]
        for (k, v) in file.metadata.values {
            switch v {
            case .int(let i): out[k] = .int(Int(i))
            case .double(let d): out[k] = .double(d)
            case .bool(let b): out[k] = .bool(b)
            case .string(let s): out[k] = .string(s)
            case .array: break
            }
        }
        return out
    }

    /// Qwen-Audio config from the metadata keys (`qwen.*`, `audio.*`).
    public func qwenAudioConfig() throws(ModelError) -> QwenAudioConfig { try QwenAudioConfig(metadata: configValues) }
}
