// ConvertError: every way a conversion can be refused, each carrying the offending name or value.
import Foundation

/// Errors thrown by `EarshotConvert`. Each case names the file, tensor or option at fault and prints a
/// sentence a user can act on (`description`).
public enum ConvertError: Error, Equatable, CustomStringConvertible, Sendable {
    // MARK: checkpoint directory and files

    /// The checkpoint directory does not exist or is not a directory.
    case checkpointNotFound(path: String)
    /// A file the checkpoint must contain is missing (`what` says what it is for).
    case missingFile(path: String, what: String)
    /// A file exists but could not be opened, sized or mapped.
    case unreadableFile(path: String, reason: String)

    // MARK: config.json

    /// `config.json` is not valid JSON or a field has the wrong type.
    case invalidConfig(path: String, reason: String)
    /// The checkpoint is not a Qwen-Audio one: names the architectures and model_type found.
    case unsupportedArchitecture(found: String)
    /// A config value is out of range or inconsistent (e.g. heads × head_dim ≠ hidden_size).
    case unsupportedConfigValue(key: String, value: String, reason: String)

    // MARK: safetensors

    /// A shard is shorter than its 8-byte header length, or the header length points past the end.
    case safetensorsHeaderTruncated(path: String, headerLength: UInt64, fileSize: Int)
    /// The header is not a JSON object of tensor entries.
    case safetensorsInvalidHeader(path: String, reason: String)
    /// A tensor has a dtype string other than BF16, F16 and F32.
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// A tensor entry's shape or data_offsets are malformed or inconsistent with its dtype.
    case invalidTensorEntry(path: String, tensor: String, reason: String)
    /// The data region is shorter (truncated download) or longer than the tensors the header lists.
    case shardSizeMismatch(path: String, expectedDataBytes: Int, actualDataBytes: Int)

    // MARK: sharded checkpoints

    /// `model.safetensors.index.json` is not a valid index.
    case invalidIndex(path: String, reason: String)
    /// The index names a shard file that is not in the directory (`tensorCount` tensors point to it).
    case indexNamesMissingShard(shard: String, tensorCount: Int, exampleTensor: String)
    /// The index says a tensor lives in a shard whose header does not contain it.
    case tensorNotInShard(tensor: String, shard: String)
    /// A shard holds a tensor the index does not list (or lists in another shard).
    case tensorNotInIndex(tensor: String, shard: String)

    // MARK: tensor set

    /// Tensors the config requires are absent (all names listed).
    case missingTensors([String])
    /// Tensors are present that a Qwen-Audio checkpoint does not have (all names listed).
    case unexpectedTensors([String])
    /// A tensor's shape disagrees with the config.
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    /// A weight is NaN or ±infinity (`index`: its position, row-major in the checkpoint's shape;
    /// `value`: "nan", "inf" or "-inf"). Found while encoding, before the output is published.
    case nonFiniteWeight(tensor: String, index: [Int], value: String)

    // MARK: tokenizer and mel filters

    /// The tokenizer file (qwen.tiktoken, tokenizer.json) is not one the runtime can load, or does not
    /// fit the config (its `<audio>` id must be `audio.audio_start_id`).
    case invalidTokenizer(path: String, reason: String)
    /// The mel filterbank holds a NaN, an infinity or a negative weight, or is all zero.
    case invalidMelFilters(path: String, reason: String)

    // MARK: GGUF

    /// The file does not start with the GGUF magic (`reason` says what it looks like instead).
    case ggufNotGGUF(path: String, reason: String)
    /// The GGUF version is not 2 or 3 (v1 had 32-bit counts; a byte-swapped version is a big-endian file).
    case ggufUnsupportedVersion(path: String, version: UInt32)
    /// A read of `size` bytes for `field` at `offset` runs past the end of the file (`fileSize` bytes).
    case ggufTruncated(path: String, field: String, offset: Int, size: UInt64, fileSize: Int)
    /// A count or length read from the file is above its limit (`limit`: the sane cap or what the file can hold).
    case ggufCountTooLarge(path: String, field: String, count: UInt64, limit: UInt64)
    /// A header field is malformed: bad UTF-8, unknown value type, duplicate key, bad alignment, …
    case ggufInvalidField(path: String, field: String, reason: String)
    /// A tensor entry is malformed: dims, offset, alignment, bytes past the end, overlap, duplicate name.
    case ggufInvalidTensor(path: String, tensor: String, reason: String)
    /// A tensor's ggml type is unknown or has no dequantizer here (`type` is the ggml name or id).
    case ggufUnsupportedTensorType(path: String, tensor: String, type: String)
    /// A metadata key the architecture needs is absent.
    case ggufMissingKey(path: String, key: String)
    /// A metadata key has the wrong value type (`expected` vs `found`).
    case ggufWrongKeyType(path: String, key: String, expected: String, found: String)
    /// The tokenizer in the metadata cannot be turned into Earshot's tiktoken ranks.
    case ggufBadTokenizer(path: String, reason: String)

    // MARK: ONNX (Tools/EarshotConvert/ONNX)

    /// The file is not well-formed ONNX protobuf (truncated, a length past the end, a limit exceeded …).
    case invalidONNX(path: String, reason: String)
    /// The ONNX file is well formed but not a graph this converter knows (names the node or tensor at fault).
    case unsupportedONNX(path: String, reason: String)

    // MARK: options

    /// `--quant` is not f32, f16, q8, q4 or a known recipe name.
    case invalidQuant(String)
    /// A `--keep PATTERN=TYPE` override could not be parsed.
    case invalidOverride(String, reason: String)

    // MARK: output

    /// The output file cannot be created (directory missing, read-only, or it is a directory).
    case outputNotWritable(path: String, reason: String)
    /// Writing the output failed part way (nothing is left behind).
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .checkpointNotFound(let path):
            return "checkpoint directory not found: \(path)"
        case .missingFile(let path, let what):
            return "missing \(what): \(path)"
        case .unreadableFile(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .invalidConfig(let path, let reason):
            return "invalid config \(path): \(reason)"
        case .unsupportedArchitecture(let found):
            return "not a Qwen-Audio checkpoint: found \(found); expected architectures [\"QWenLMHeadModel\"] "
                + "with an \"audio\" sub-config (Qwen/Qwen-Audio or Qwen/Qwen-Audio-Chat)"
        case .unsupportedConfigValue(let key, let value, let reason):
            return "unsupported config value \(key) = \(value): \(reason)"
        case .safetensorsHeaderTruncated(let path, let headerLength, let fileSize):
            return "truncated safetensors file \(path): header of \(headerLength) bytes does not fit in \(fileSize) bytes"
        case .safetensorsInvalidHeader(let path, let reason):
            return "invalid safetensors header in \(path): \(reason)"
        case .unsupportedDType(let path, let tensor, let dtype):
            return "tensor \(tensor) in \(path) has dtype \(dtype); only BF16, F16 and F32 are supported"
        case .invalidTensorEntry(let path, let tensor, let reason):
            return "tensor \(tensor) in \(path): \(reason)"
        case .shardSizeMismatch(let path, let expected, let actual):
            if actual < expected {
                return "truncated safetensors file \(path): its tensors need \(expected) data bytes but only \(actual) are there "
                    + "(incomplete download?)"
            }
            return "safetensors file \(path) has \(actual - expected) bytes after its last tensor (\(expected) expected)"
        case .invalidIndex(let path, let reason):
            return "invalid index \(path): \(reason)"
        case .indexNamesMissingShard(let shard, let count, let example):
            return "the index names shard \(shard) (holding \(count) tensors, e.g. \(example)) but that file is missing"
        case .tensorNotInShard(let tensor, let shard):
            return "the index puts tensor \(tensor) in \(shard), but that shard does not contain it"
        case .tensorNotInIndex(let tensor, let shard):
            return "shard \(shard) contains tensor \(tensor), which the index does not assign to it"
        case .missingTensors(let names):
            return "checkpoint is missing \(names.count) tensor(s): " + Self.list(names)
        case .unexpectedTensors(let names):
            return "checkpoint has \(names.count) unexpected tensor(s): " + Self.list(names)
        case .shapeMismatch(let tensor, let expected, let found):
            return "tensor \(tensor) has shape \(found), config says \(expected)"
        case .nonFiniteWeight(let tensor, let index, let value):
            return "tensor \(tensor) holds \(value) at index \(index): the checkpoint is damaged (nothing was written)"
        case .invalidTokenizer(let path, let reason):
            return "invalid tokenizer \(path): \(reason)"
        case .invalidMelFilters(let path, let reason):
            return "invalid mel filters \(path): \(reason)"
        case .ggufNotGGUF(let path, let reason):
            return "\(path) is not a GGUF file: \(reason)"
        case .ggufUnsupportedVersion(let path, let version):
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                return "\(path) is a big-endian GGUF (version \(version.byteSwapped)); only little-endian GGUF files are supported"
            }
            return "\(path): GGUF version \(version) is not supported (this reader handles versions 2 and 3)"
        case .ggufTruncated(let path, let field, let offset, let size, let fileSize):
            return "truncated GGUF file \(path): \(field) needs \(size) bytes at offset \(offset), the file has \(fileSize) bytes"
        case .ggufCountTooLarge(let path, let field, let count, let limit):
            return "GGUF file \(path): \(field) is \(count), more than the limit \(limit)"
        case .ggufInvalidField(let path, let field, let reason):
            return "GGUF file \(path): \(field): \(reason)"
        case .ggufInvalidTensor(let path, let tensor, let reason):
            return "GGUF file \(path): tensor \(tensor): \(reason)"
        case .ggufUnsupportedTensorType(let path, let tensor, let type):
            return "GGUF file \(path): tensor \(tensor) has ggml type \(type), which earshot-convert cannot read "
                + "(supported: \(GGMLType.supportedNames))"
        case .ggufMissingKey(let path, let key):
            return "GGUF file \(path) has no metadata key \(key)"
        case .ggufWrongKeyType(let path, let key, let expected, let found):
            return "GGUF file \(path): metadata key \(key) is \(found), expected \(expected)"
        case .ggufBadTokenizer(let path, let reason):
            return "GGUF file \(path): tokenizer: \(reason)"

        case .invalidONNX(let path, let reason):
            return "invalid ONNX file \(path): \(reason)"
        case .unsupportedONNX(let path, let reason):
            return "unsupported ONNX model \(path): \(reason)"
        case .invalidQuant(let value):
            return "unknown --quant \(value); use f32, f16, q8, q4 or a recipe (\(QuantRecipe.recipeNames.joined(separator: ", ")))"
        case .invalidOverride(let value, let reason):
            return "invalid --keep \(value): \(reason)"
        case .outputNotWritable(let path, let reason):
            return "cannot write output \(path): \(reason)"
        case .writeFailed(let path, let reason):
            return "writing \(path) failed: \(reason)"
        }
    }

    private static func list(_ names: [String]) -> String {
        let shown = names.prefix(12).joined(separator: ", ")
        return names.count > 12 ? shown + ", … (\(names.count - 12) more)" : shown
    }
}
