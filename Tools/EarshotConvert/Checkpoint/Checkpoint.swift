// Checkpoint: a Hugging Face Qwen-Audio checkpoint directory, opened and fully validated.
//
// Accepts `model.safetensors` alone or `model.safetensors.index.json` + the shards it names. Checks, in
// order: config.json (architecture, values), every shard header, index ↔ shard agreement, the tensor set
// against the config (missing / unexpected, all named), every shape.
import EarshotFormat
import Foundation

/// An opened checkpoint: config, raw config bytes, and every tensor located in its mapped shard.
public final class Checkpoint: @unchecked Sendable {
    public static let indexFileName = "model.safetensors.index.json"
    public static let singleFileName = "model.safetensors"

    public let directory: URL
    public let config: CheckpointConfig
    public let configBytes: Data
    /// Shard file names in the order they are read (sorted).
    public let shardNames: [String]
    public let shards: [String: SafetensorsFile]
    /// Expected tensors in state-dict order, each with the shard holding it.
    public let tensors: [(expected: ExpectedTensor, shard: String, tensor: SafetensorsTensor)]

    public init(directory: URL) throws(ConvertError) {
        self.directory = directory
        let configURL = directory.appendingPathComponent("config.json")
        configBytes = try Checkpoint.readConfig(directory)
        config = try CheckpointConfig.parse(configBytes, path: configURL.path)

        let shards = try Checkpoint.openShards(directory)
        self.shards = shards
        shardNames = shards.keys.sorted()

        tensors = try Checkpoint.locate(CheckpointLayout.expectedTensors(config), in: shards)
    }

    /// Every expected tensor located in its shard, in `expected` order; missing, unexpected (all named) and
    /// wrongly shaped tensors are refused.
    static func locate(_ expected: [ExpectedTensor], in shards: [String: SafetensorsFile]) throws(ConvertError)
        -> [(expected: ExpectedTensor, shard: String, tensor: SafetensorsTensor)] {
        var located: [String: (shard: String, tensor: SafetensorsTensor)] = [:]
        for (shard, file) in shards { for (name, t) in file.tensors { located[name] = (shard, t) } }
        let expectedNames = Set(expected.map(\.name))
        let missing = expected.map(\.name).filter { located[$0] == nil }
        if !missing.isEmpty { throw .missingTensors(missing) }
        let extra = located.keys.filter { !expectedNames.contains($0) }.sorted()
        if !extra.isEmpty { throw .unexpectedTensors(extra) }
        var list: [(expected: ExpectedTensor, shard: String, tensor: SafetensorsTensor)] = []
        for e in expected {
            let (shard, t) = located[e.name]!
            guard t.shape == e.shape else { throw .shapeMismatch(tensor: e.name, expected: e.shape, found: t.shape) }
            list.append((e, shard, t))
        }
        return list
    }

    /// The config.json bytes of a Hugging Face checkpoint directory (which must exist and be a directory).
    static func readConfig(_ directory: URL) throws(ConvertError) -> Data {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw .checkpointNotFound(path: directory.path)
        }
        return try readWholeFile(directory.appendingPathComponent("config.json"), what: "config.json (model hyperparameters)",
                                 limit: InputLimits.jsonConfig)
    }

    /// Maps every shard of a Hugging Face checkpoint directory: `model.safetensors` alone, or the shards that
    /// `model.safetensors.index.json` names, with index ↔ shard agreement checked both ways.
    static func openShards(_ directory: URL) throws(ConvertError) -> [String: SafetensorsFile] {
        // Which shard holds which tensor.
        let indexURL = directory.appendingPathComponent(Self.indexFileName)
        var weightMap: [String: String]? = nil
        if FileManager.default.fileExists(atPath: indexURL.path) {
            weightMap = try Self.parseIndex(try readWholeFile(indexURL, what: "shard index", limit: InputLimits.shardIndex), path: indexURL.path)
        }
        var shards: [String: SafetensorsFile] = [:]
        if let weightMap {
            var countPerShard: [String: (count: Int, example: String)] = [:]
            for (tensor, shard) in weightMap.sorted(by: { $0.key < $1.key }) {
                let old = countPerShard[shard]
                countPerShard[shard] = ((old?.count ?? 0) + 1, old?.example ?? tensor)
            }
            for (shard, info) in countPerShard.sorted(by: { $0.key < $1.key }) {
                let url = directory.appendingPathComponent(shard)
                guard FileManager.default.fileExists(atPath: url.path) else {
                    throw .indexNamesMissingShard(shard: shard, tensorCount: info.count, exampleTensor: info.example)
                }
                shards[shard] = try SafetensorsFile(path: url.path)
            }
            for (tensor, shard) in weightMap.sorted(by: { $0.key < $1.key }) where shards[shard]?.tensors[tensor] == nil {
                throw .tensorNotInShard(tensor: tensor, shard: shard)
            }
            for (shard, file) in shards.sorted(by: { $0.key < $1.key }) {
                for name in file.tensors.keys.sorted() where weightMap[name] != shard {
                    throw .tensorNotInIndex(tensor: name, shard: shard)
                }
            }
        } else {
            let url = directory.appendingPathComponent(Self.singleFileName)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw .missingFile(path: url.path, what: "weights (\(Self.singleFileName) or \(Self.indexFileName) with its shards)")
            }
            shards[Self.singleFileName] = try SafetensorsFile(path: url.path)
        }
        return shards
    }

    /// Reads an optional file in the checkpoint directory (nil when absent), at most `limit` bytes.
    public func optionalFile(_ name: String, limit: Int = InputLimits.jsonConfig) throws(ConvertError) -> Data? {
        let url = directory.appendingPathComponent(name)
        var st = stat()
        guard lstat(url.path, &st) == 0 else { return nil }   // absent (a dangling link is read and reported)
        return try readWholeFile(url, what: name, limit: limit)
    }

    /// Total bytes of all tensors as stored in the checkpoint.
    public var sourceBytes: Int { tensors.reduce(0) { $0 + $1.tensor.byteCount } }

    /// `{"metadata": {...}, "weight_map": {tensor: shard}}` → weight_map, with every entry checked.
    static func parseIndex(_ data: Data, path: String) throws(ConvertError) -> [String: String] {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw .invalidIndex(path: path, reason: "not valid JSON")
        }
        guard let root = object as? [String: Any], let map = root["weight_map"] as? [String: Any] else {
            throw .invalidIndex(path: path, reason: "no \"weight_map\" object")
        }
        var out: [String: String] = [:]
        for (tensor, value) in map {
            guard let shard = value as? String else {
                throw .invalidIndex(path: path, reason: "weight_map[\(tensor)] is not a file name")
            }
            guard !shard.isEmpty, !shard.contains("/"), shard != ".", shard != ".." else {
                throw .invalidIndex(path: path, reason: "weight_map[\(tensor)] = \"\(shard)\" is not a plain file name in the checkpoint directory")
            }
            out[tensor] = shard
        }
        return out
    }
}

/// Size caps for the small files of a checkpoint (real ones are 1 kB–5 MB), checked before reading.
public enum InputLimits {
    public static let jsonConfig = 16 << 20         // config.json, generation_config.json
    public static let shardIndex = 64 << 20         // model.safetensors.index.json (≈ 30 kB for 9 shards)
    public static let tokenizer = 64 << 20          // qwen.tiktoken (2.5 MB), tokenizer.json (2.1 MB)
    public static let melFilters = 64 << 20         // mel_filters.npz (≈ 60 kB)
}

/// The whole content of a small regular file (never blocks on a FIFO, refuses devices and directories,
/// at most `limit` bytes), with a typed error naming it.
func readWholeFile(_ url: URL, what: String, limit: Int) throws(ConvertError) -> Data {
    do { return Data(try InputFile.read(url.path, limit: limit)) } catch {
        throw ConvertError(reading: url.path, what: what, error)
    }
}

extension ConvertError {
    /// An input file error of EarshotFormat (InputFile) as the converter reports it.
    init(reading path: String, what: String, _ error: EarError) {
        switch error {
        case .io(_, "open", ENOENT): self = .missingFile(path: path, what: what)
        case .io(_, _, let code): self = .unreadableFile(path: path, reason: String(cString: strerror(code)))
        case .notRegularFile(_, let kind): self = .unreadableFile(path: path, reason: "it is \(kind), not a regular file")
        case .fileTooLarge(_, let size, let limit):
            self = .unreadableFile(path: path, reason: "\(size) bytes is more than the \(limit) accepted for \(what)")
        default: self = .unreadableFile(path: path, reason: error.description)
        }
    }
}
