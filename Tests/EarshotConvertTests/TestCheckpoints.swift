// Helpers: small Qwen-Audio checkpoint directories for converter tests, and an in-memory sink.
import Foundation
import EarshotConvert
import EarshotKernels
import EarshotTestSupport

/// A Qwen-Audio config.json with the tiny fixture's dimensions (vocab configurable to keep tests fast).
/// `audioStartId` 3776 = 256 + 3520: `<audio>` after the 256 ranks of `standInTiktoken()` (the converter
/// checks that the tokenizer puts `<audio>` where the config says).
func tinyConfigJSON(vocab: Int = 1024, architectures: String = "\"QWenLMHeadModel\"", audio: Bool = true,
                    modelType: String = "qwen", audioStartId: Int = standInAudioStartID, epsilon: String = "1e-06") -> Data {
    let audioPart = audio ? """
      ,"audio": {"n_mels": 80, "n_ctx": 1500, "n_state": 64, "n_head": 4, "n_layer": 2, "output_dim": 128,
                 "avg_pool": true, "add_audio_bos_eos_token": true, "audio_start_id": \(audioStartId)}
    """ : ""
    return Data("""
    {"architectures": [\(architectures)], "model_type": "\(modelType)", "hidden_size": 128, "num_attention_heads": 4,
     "kv_channels": 32, "intermediate_size": 256, "num_hidden_layers": 2, "vocab_size": \(vocab),
     "layer_norm_epsilon": \(epsilon), "rotary_emb_base": 10000, "rotary_pct": 1.0, "seq_length": 2048,
     "no_bias": true, "tie_word_embeddings": false, "use_dynamic_ntk": true, "use_logn_attn": true,
     "torch_dtype": "bfloat16"\(audioPart)}
    """.utf8)
}

/// The smallest valid byte-level rank file: the 256 single bytes, ranks 0 ..< 256.
func standInTiktoken() -> Data {
    Data((0..<256).map { "\(Data([UInt8($0)]).base64EncodedString()) \($0)\n" }.joined().utf8)
}

/// `<audio>`'s id with the stand-in ranks (256 ranks + 3520 specials before it).
let standInAudioStartID = 256 + 3520

/// A fresh empty directory under the system temp dir, removed by `cleanup`.
func scratchDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-convert-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func cleanup(_ url: URL) { try? FileManager.default.removeItem(at: url) }

/// Writes a complete synthetic checkpoint (tiny dims) into `dir`. `sharded` splits it into shards of
/// ~200 kB plus lm_head alone, with an index. Adds a stand-in qwen.tiktoken and the real mel_filters.npz.
@discardableResult
func writeTinyCheckpoint(_ dir: URL, vocab: Int = 1024, sharded: Bool = false) throws -> [String] {
    let config = tinyConfigJSON(vocab: vocab)
    let parsed = try CheckpointConfig.parse(config, path: "config.json")
    let tensors = CheckpointLayout.expectedTensors(parsed).map { ($0.name, $0.shape) }
    let tiktoken = dir.appendingPathComponent("qwen.tiktoken.src")
    try standInTiktoken().write(to: tiktoken)
    let generation = dir.appendingPathComponent("generation_config.json.src")
    try Data(#"{"chat_format": "raw", "top_p": 0.8}"#.utf8).write(to: generation)
    defer { try? FileManager.default.removeItem(at: tiktoken); try? FileManager.default.removeItem(at: generation) }
    return try SyntheticCheckpoint.write(
        directory: dir, configJSON: config, tensors: tensors,
        maxShardBytes: sharded ? 200_000 : nil, aloneInLastShard: sharded ? "lm_head.weight" : nil,
        files: ["qwen.tiktoken": tiktoken, "generation_config.json": generation, "mel_filters.npz": Fixtures.url("convert/mel_filters.npz")])
}

/// Records what the converter writes (for tests that need no file).
final class MemorySink: ModelSink {
    struct Tensor { let type: WeightType; let shape: [Int]; let bytes: [UInt8] }
    var tensors: [String: Tensor] = [:]
    var order: [String] = []
    var blobs: [String: Data] = [:]
    var metadata: [(key: String, value: MetaValue)] = []
    var finished = false, aborted = false
    var outputDescription: String { "memory" }

    func addTensor(name: String, type: WeightType, shape: [Int], byteCount: Int,
                   produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        var bytes: [UInt8] = []
        try produce { bytes.append(contentsOf: $0) }
        precondition(bytes.count == byteCount)
        tensors[name] = Tensor(type: type, shape: shape, bytes: bytes)
        order.append(name)
    }

    func addBlob(name: String, bytes: Data) throws { blobs[name] = bytes }

    func finish(metadata: [(key: String, value: MetaValue)]) throws -> Int {
        self.metadata = metadata
        finished = true
        return tensors.values.reduce(0) { $0 + $1.bytes.count }
    }

    func abort() { aborted = true }

    func floats(_ name: String) -> [Float] {
        let t = tensors[name]!
        let cols = t.shape.last!, rows = t.shape.dropLast().reduce(1, *)
        var out = [Float](repeating: 0, count: rows * cols)
        let codec = RowCodec.forType(t.type)
        let rowBytes = t.type.rowBytes(cols: cols)!
        t.bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<rows { codec.decode(raw.baseAddress! + r * rowBytes, cols, o.baseAddress! + r * cols) }
            }
        }
        return out
    }
}

/// The values of a bf16 tensor of a checkpoint, as f32.
func sourceFloats(_ ckpt: Checkpoint, _ name: String) -> [Float] {
    let entry = ckpt.tensors.first { $0.expected.name == name }!
    let bytes = ckpt.shards[entry.shard]!.bytes(of: entry.tensor)
    return (0..<(bytes.count / 2)).map { i in
        Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
    }
}

/// The tiny fixture checkpoint (TinyCheckpoint, seed 9: bit-exact with the goldens' weights) written as a
/// Hugging Face directory with our safetensors writer, sharded like the release when `sharded`.
func writeTinyFixtureCheckpoint(_ dir: URL, sharded: Bool = false) throws {
    let tiny = TinyCheckpoint.fixture
    let assets: [String: URL] = [
        "config.json": Fixtures.url("qwen-audio-tiny/config.json"),
        "generation_config.json": Fixtures.url("qwen-audio-tiny/generation_config.json"),
        "qwen.tiktoken": Fixtures.url("tokenizer/qwen.tiktoken"),
        "mel_filters.npz": Fixtures.url("convert/mel_filters.npz"),
    ]
    for (name, src) in assets { try Data(contentsOf: src).write(to: dir.appendingPathComponent(name)) }
    let tensors = tiny.tensors.map { t in
        (entry: SafetensorsEntry(name: t.spec.name, dtype: "BF16", shape: t.spec.shape),
         data: t.bits.withUnsafeBytes { Data($0) })
    }
    if !sharded {
        try SafetensorsWriter.write(url: dir.appendingPathComponent("model.safetensors"), tensors: tensors)
        return
    }
    // Two shards: lm_head alone in the second, as in the release's last shard.
    let groups = [tensors.filter { $0.entry.name != "lm_head.weight" }, tensors.filter { $0.entry.name == "lm_head.weight" }]
    var map: [String] = []
    for (i, g) in groups.enumerated() {
        let file = "model-0000\(i + 1)-of-00002.safetensors"
        try SafetensorsWriter.write(url: dir.appendingPathComponent(file), tensors: g)
        map += g.map { "\"\($0.entry.name)\": \"\(file)\"" }
    }
    try Data("{\"metadata\": {}, \"weight_map\": {\(map.joined(separator: ", "))}}".utf8)
        .write(to: dir.appendingPathComponent(Checkpoint.indexFileName))
}

/// Names of the files in a directory (to check nothing partial is left behind).
func listing(_ dir: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
}
