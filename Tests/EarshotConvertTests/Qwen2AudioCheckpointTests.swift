// Qwen2AudioCheckpointTests: the converter's Qwen2-Audio input on copies of the tiny fixture checkpoint
// (Tests/Fixtures/qwen2-audio-tiny/a, Hub layout, 3 shards): config values it cannot run are refused with
// the key named, tensors that disagree with the config are refused, and transformers 5's own save layout
// (`model.audio_tower.*` …) converts to exactly the same tensors as the released layout.
import Foundation
import Testing
import EarshotConvert
import EarshotKernels
import EarshotModels
import EarshotTestSupport

@Suite struct Qwen2AudioCheckpointTests {
    /// A scratch copy of fixture variant `a`, with config.json edited by `edit`.
    static func copy(_ label: String, edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        let dir = try scratchDirectory(label)
        let src = Fixtures.url("qwen2-audio-tiny/a")
        for name in try FileManager.default.contentsOfDirectory(atPath: src.path) {
            try FileManager.default.copyItem(at: src.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let url = dir.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return dir
    }

    static func refusal(_ dir: URL) -> ConvertError? {
        do { _ = try Qwen2AudioCheckpoint(directory: dir); return nil } catch { return error }
    }

    static func setAudio(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
        { c in var a = c["audio_config"] as! [String: Any]; a[key] = value; c["audio_config"] = a }
    }
    static func setText(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
        { c in var t = c["text_config"] as! [String: Any]; t[key] = value; c["text_config"] = t }
    }

    @Test func refusesConfigValuesItCannotRun() throws {
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("audio_config.encoder_ffn_dim", Self.setAudio("encoder_ffn_dim", 100)),
            ("audio_config.activation_function", Self.setAudio("activation_function", "relu")),
            ("audio_config.scale_embedding", Self.setAudio("scale_embedding", true)),
            ("audio_token_index", { $0["audio_token_index"] = 398 }),
            ("text_config.use_sliding_window", Self.setText("use_sliding_window", true)),
            ("text_config.rope_parameters.rope_type", Self.setText("rope_parameters", ["rope_type": "yarn", "rope_theta": 10000.0])),
            ("text_config.rms_norm_eps", Self.setText("rms_norm_eps", 0)),
            ("text_config.num_attention_heads", Self.setText("num_attention_heads", 5)),
            ("text_config.num_hidden_layers", Self.setText("num_hidden_layers", 1_000_000)),
        ]
        for (key, edit) in cases {
            let dir = try Self.copy("q2a-config", edit: edit)
            defer { cleanup(dir) }
            let error = Self.refusal(dir)
            #expect(error != nil && "\(error!)".contains(key), "\(key): \(String(describing: error))")
        }
    }

    @Test func refusesTensorsThatDisagreeWithTheConfig() throws {
        let kv = try Self.copy("q2a-kv", edit: Self.setText("num_key_value_heads", 4))   // the file has 2
        defer { cleanup(kv) }
        guard case .shapeMismatch(let tensor, _, _)? = Self.refusal(kv) else { Issue.record("no shape refusal"); return }
        #expect(tensor.contains("k_proj"))
        let layers = try Self.copy("q2a-layers", edit: Self.setText("num_hidden_layers", 3))
        defer { cleanup(layers) }
        guard case .missingTensors(let names)? = Self.refusal(layers) else { Issue.record("no missing-tensor refusal"); return }
        #expect(names.contains("language_model.model.layers.2.input_layernorm.weight"))
    }

    @Test func refusesATokenizerThatMisplacesTheAudioTokens() throws {
        let dir = try Self.copy("q2a-tok", edit: { $0["audio_token_index"] = 389 })   // the tokenizer has <|AUDIO|> at 390
        defer { cleanup(dir) }
        guard case .invalidTokenizer(_, let reason)? = Self.refusal(dir) else { Issue.record("no tokenizer refusal"); return }
        #expect(reason.contains("<|AUDIO|>") && reason.contains("389"))
        let gap = try Self.copy("q2a-gap")
        defer { cleanup(gap) }
        let url = gap.appendingPathComponent("tokenizer_config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var added = config["added_tokens_decoder"] as! [String: Any]
        added["395"] = added.removeValue(forKey: "392")
        config["added_tokens_decoder"] = added
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        guard case .invalidTokenizer(_, let why)? = Self.refusal(gap) else { Issue.record("no gap refusal"); return }
        #expect(why.contains("without a gap"))
    }

    /// Rewrites every shard header and the index with transformers 5's key names.
    static func toTransformers5(_ dir: URL) throws {
        func rename(_ k: String) -> String {
            if k == "language_model.lm_head.weight" { return "lm_head.weight" }
            if k.hasPrefix("language_model.model.") { return "model.language_model." + k.dropFirst("language_model.model.".count) }
            if k == "__metadata__" { return k }
            return "model." + k
        }
        let indexURL = dir.appendingPathComponent("model.safetensors.index.json")
        var index = try JSONSerialization.jsonObject(with: Data(contentsOf: indexURL)) as! [String: Any]
        let map = index["weight_map"] as! [String: String]
        index["weight_map"] = Dictionary(uniqueKeysWithValues: map.map { (rename($0.key), $0.value) })
        try JSONSerialization.data(withJSONObject: index).write(to: indexURL)
        for shard in Set(map.values) {
            let url = dir.appendingPathComponent(shard)
            let bytes = try Data(contentsOf: url)
            let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as! [String: Any]
            var json = try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: header.map { (rename($0.key), $0.value) }))
            while json.count % 8 != 0 { json.append(0x20) }
            var out = Data((0..<8).map { UInt8((json.count >> (8 * $0)) & 0xff) })
            out.append(json)
            out.append(bytes.subdata(in: (8 + n)..<bytes.count))
            try out.write(to: url)
        }
    }

    @Test func transformers5LayoutConvertsToTheSameTensors() throws {
        let hub = try Self.copy("q2a-hub"), v5 = try Self.copy("q2a-v5")
        defer { cleanup(hub); cleanup(v5) }
        try Self.toTransformers5(v5)
        let a = WhisperMemorySink(), b = WhisperMemorySink()
        let options = ConvertOptions(recipe: try QuantRecipe(parsing: "q8"))
        _ = try Converter.convert(try Qwen2AudioCheckpoint(directory: hub), options: options, to: a)
        _ = try Converter.convert(try Qwen2AudioCheckpoint(directory: v5), options: options, to: b)
        let names = a.weights.names
        #expect(names.count == 58 && names == b.weights.names)
        func bytes(_ t: EarshotModels.TensorView?) -> [UInt8] {
            guard let t, let row = t.type.rowBytes(cols: t.shape.last ?? 1) else { return [] }
            let count = row * (t.shape.count <= 1 ? 1 : t.shape.dropLast().reduce(1, *))
            return Array(UnsafeRawBufferPointer(start: t.base, count: count))
        }
        for name in names {
            #expect(a.weights.tensor(named: name)?.shape == b.weights.tensor(named: name)?.shape)
            #expect(bytes(a.weights.tensor(named: name)) == bytes(b.weights.tensor(named: name)), "\(name)")
        }
    }
}
