// GGUFQwenSource: a GGUF file of architecture `qwen2` (Qwen2 / Qwen2.5) or `qwen` (Qwen-7B's text LLM) as a
// CheckpointSource: hyperparameters from the `<arch>.*` keys, every tensor name and shape checked against
// them (missing / unexpected all named), GGUF names mapped to canonical ones (Formats/tensor-names-gguf.md),
// qwen2's separate q/k/v weights and biases stacked into `attn_qkv` at conversion time (GQA: P + 2·KVP rows),
// a tied output stored once (no `output.weight`), and the tokenizer rebuilt as tiktoken ranks (GGUFTokenizer).
import EarshotKernels
import EarshotModels
import EarshotFormat
import Foundation

public final class GGUFQwenSource: CheckpointSource {
    public let file: GGUFFile
    public let architecture: String
    public let config: QwenLMConfig
    public let tokenizer: GGUFTokenizer
    /// Canonical name → source tensors (stacked in order) and their GGUF names.
    let layout: [(canonical: String, shape: [Int], parts: [GGUFTensor])]
    var path: String { file.path }

    /// True when `url` names a file that starts with the GGUF magic.
    public static func isGGUF(_ url: URL) -> Bool {
        // InputFile: a FIFO or device given as the input is not opened blocking (it would hang here).
        guard let (fd, size) = try? InputFile.open(url.path) else { return false }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        return size >= 4 && pread(fd, &magic, 4, 0) == 4 && magic == Array("GGUF".utf8)
    }

    public convenience init(path: String) throws(ConvertError) {
        try self.init(file: try GGUFFile(path: path))
    }

    public init(file: GGUFFile) throws(ConvertError) {
        self.file = file
        let path = file.path
        let arch = try file.string("general.architecture")
        guard arch == "qwen2" || arch == "qwen" else {
            throw .ggufInvalidField(path: path, field: "general.architecture",
                                    reason: "'\(arch)' is not supported (earshot-convert reads GGUF architectures qwen2 and qwen)")
        }
        architecture = arch
        let qwen2 = arch == "qwen2"
        func positive(_ key: String, _ v: Int) throws(ConvertError) -> Int {
            guard v > 0, v <= 1 << 24 else { throw .ggufInvalidField(path: path, field: key, reason: "\(v) is not between 1 and 2^24") }
            return v
        }
        let H = try positive("\(arch).embedding_length", try file.int("\(arch).embedding_length"))
        let L = try positive("\(arch).block_count", try file.int("\(arch).block_count"))
        let heads = try positive("\(arch).attention.head_count", try file.int("\(arch).attention.head_count"))
        let kvHeads = file.metadata["\(arch).attention.head_count_kv"] == nil
            ? heads : try positive("\(arch).attention.head_count_kv", try file.int("\(arch).attention.head_count_kv"))
        guard heads % kvHeads == 0 else {
            throw .ggufInvalidField(path: path, field: "\(arch).attention.head_count_kv", reason: "\(kvHeads) does not divide head_count \(heads)")
        }
        guard H % heads == 0 else {
            throw .ggufInvalidField(path: path, field: "\(arch).attention.head_count", reason: "\(heads) does not divide embedding_length \(H)")
        }
        let hd = H / heads
        if file.metadata["\(arch).attention.key_length"] != nil {
            let k = try file.int("\(arch).attention.key_length")
            guard k == hd else { throw .ggufInvalidField(path: path, field: "\(arch).attention.key_length", reason: "\(k), expected \(H)/\(heads) = \(hd)") }
        }
        guard hd % 2 == 0 else { throw .ggufInvalidField(path: path, field: "\(arch).attention.head_count", reason: "head dim \(hd) is odd (RoPE needs it even)") }
        let eps = try file.double("\(arch).attention.layer_norm_rms_epsilon")
        guard eps > 0, eps < 1 else { throw .ggufInvalidField(path: path, field: "\(arch).attention.layer_norm_rms_epsilon", reason: "\(eps) is not in (0, 1)") }
        let ropeBase = file.metadata["\(arch).rope.freq_base"] == nil ? 10_000 : try file.double("\(arch).rope.freq_base")
        guard ropeBase > 1, ropeBase.isFinite else { throw .ggufInvalidField(path: path, field: "\(arch).rope.freq_base", reason: "\(ropeBase) must be > 1") }
        if file.metadata["\(arch).rope.dimension_count"] != nil {
            let n = try file.int("\(arch).rope.dimension_count")
            guard n == hd else {
                throw .ggufInvalidField(path: path, field: "\(arch).rope.dimension_count", reason: "\(n): only full-head RoPE (\(hd)) is supported")
            }
        }
        if let scaling = file.metadata["\(arch).rope.scaling.type"], scaling != .string("none") {
            throw .ggufInvalidField(path: path, field: "\(arch).rope.scaling.type", reason: "RoPE scaling \(scaling) is not supported")
        }
        let context = try positive("\(arch).context_length", try file.int("\(arch).context_length"))

        guard let embd = file.tensorsByName["token_embd.weight"] else { throw .missingTensors(["token_embd.weight"]) }
        guard embd.ne.count == 2, embd.ne[0] == H else {
            throw .shapeMismatch(tensor: "token_embd.weight", expected: [-1, H], found: embd.shape)
        }
        let V = embd.ne[1]
        guard let up0 = file.tensorsByName["blk.0.ffn_up.weight"] else { throw .missingTensors(["blk.0.ffn_up.weight"]) }
        guard up0.ne.count == 2 else { throw .shapeMismatch(tensor: up0.name, expected: [-1, H], found: up0.shape) }
        let F = up0.ne[1]
        let ffKey = "\(arch).feed_forward_length", ff = try file.int(ffKey)
        guard ff == F || (!qwen2 && ff == 2 * F) else {
            throw .ggufInvalidField(path: path, field: ffKey, reason: "\(ff) disagrees with blk.0.ffn_up.weight (\(F) rows)")
        }
        let P = heads * hd, KVP = kvHeads * hd

        // Expected tensors (PyTorch-order shapes) and how they map.
        var tied = file.tensorsByName["output.weight"] == nil
        var expected: [(String, [Int])] = [("token_embd.weight", [V, H])]
        var layout: [(canonical: String, shape: [Int], parts: [String])] = [("token_embd.weight", [V, H], ["token_embd.weight"])]
        for l in 0..<L {
            let b = "blk.\(l)."
            func add(_ name: String, _ shape: [Int]) { expected.append((b + name, shape)); layout.append((b + name, shape, [b + name])) }
            add("attn_norm.weight", [H])
            if qwen2 {
                for (n, s) in [("attn_q.weight", [P, H]), ("attn_q.bias", [P]), ("attn_k.weight", [KVP, H]), ("attn_k.bias", [KVP]),
                               ("attn_v.weight", [KVP, H]), ("attn_v.bias", [KVP])] { expected.append((b + n, s)) }
                layout.append((b + "attn_qkv.weight", [P + 2 * KVP, H], [b + "attn_q.weight", b + "attn_k.weight", b + "attn_v.weight"]))
                layout.append((b + "attn_qkv.bias", [P + 2 * KVP], [b + "attn_q.bias", b + "attn_k.bias", b + "attn_v.bias"]))
            } else {
                add("attn_qkv.weight", [3 * P, H])
                add("attn_qkv.bias", [3 * P])
            }
            add("attn_output.weight", [H, P])
            add("ffn_norm.weight", [H])
            add("ffn_up.weight", [F, H])
            add("ffn_gate.weight", [F, H])
            add("ffn_down.weight", [H, F])
        }
        expected.append(("output_norm.weight", [H]))
        layout.append(("output_norm.weight", [H], ["output_norm.weight"]))
        if let out = file.tensorsByName["output.weight"] {
            expected.append(("output.weight", [V, H]))
            // A GGUF that stores the tied embedding twice: keep one copy.
            if out.type == embd.type, out.ne == embd.ne, file.bytes(of: out).elementsEqual(file.bytes(of: embd)) {
                tied = true
            } else {
                layout.append(("output.weight", [V, H], ["output.weight"]))
            }
        }
        let names = Set(expected.map(\.0))
        let missing = expected.map(\.0).filter { file.tensorsByName[$0] == nil }
        if !missing.isEmpty { throw .missingTensors(missing) }
        // rope_freqs would change the rotary angles; Qwen GGUFs do not have it.
        let extra = file.tensors.map(\.name).filter { !names.contains($0) }.sorted()
        if !extra.isEmpty { throw .unexpectedTensors(extra) }
        for (name, shape) in expected where file.tensorsByName[name]!.shape != shape {
            throw .shapeMismatch(tensor: name, expected: shape, found: file.tensorsByName[name]!.shape)
        }
        self.layout = layout.map { ($0.canonical, $0.shape, $0.parts.map { file.tensorsByName[$0]! }) }

        config = QwenLMConfig(hiddenSize: H, numLayers: L, numHeads: heads, headDim: hd, intermediateSize: 2 * F, vocabSize: V,
                              rmsNormEps: Float(eps), ropeBase: ropeBase, seqLength: context,
                              useDynamicNTK: !qwen2, useLognAttn: !qwen2, numKVHeads: kvHeads, tiedEmbeddings: tied)
        tokenizer = try GGUFTokenizer(file: file, vocabSize: V)
    }

    public func plan(recipe: QuantRecipe, overrides: [TypeOverride]) throws(ConvertError) -> [PlannedTensor] {
        layout.map { t in
            let sourceName = t.parts.map(\.name).joined(separator: "+")
            var cls = TensorClass.of(canonicalName: t.canonical, rank: t.shape.count)
            if t.canonical == TensorNames.tokenEmbedding && config.tiedEmbeddings { cls = .output }
            let type = recipe.type(class: cls, canonicalName: t.canonical, sourceName: sourceName,
                                   cols: t.shape.last ?? 1, overrides: overrides)
            let sources: [any RowSource] = t.parts.map { GGUFRows(file: file, tensor: $0) }
            let rows: any RowSource
            if sources.count == 1 { rows = sources[0] } else if t.shape.count == 1 { rows = JoinedRow(sources) } else { rows = StackedRows(sources) }
            return PlannedTensor(sourceName: sourceName, canonicalName: t.canonical, shape: t.shape, type: type, rows: rows)
        }
    }

    public func blobs() throws(ConvertError) -> [(String, Data)] {
        var out: [(String, Data)] = [(MetadataKeys.tokenizerBlob, tokenizer.tiktoken)]
        if let t = tokenizer.chatTemplate { out.append((MetadataKeys.chatTemplateBlob, Data(t.utf8))) }
        return out
    }

    public func metadata(options: ConvertOptions, report: ConversionReport) -> [(key: String, value: MetaValue)] {
        let c = config
        typealias K = MetadataKeys
        var m: [(key: String, value: MetaValue)] = [
            (K.architecture, .string(architecture)),
        ]
        if case .string(let name)? = file.metadata["general.name"] { m.append((K.name, .string(name))) }
        m += [
            (K.source, .string(URL(fileURLWithPath: path).lastPathComponent)),
            (K.converter, .string("earshot-convert \(Converter.version) (GGUF v\(file.version))")),
            (K.quantization, .string(options.recipe.name)),
            (K.hiddenSize, .int(c.hiddenSize)),
            (K.numLayers, .int(c.numLayers)),
            (K.numHeads, .int(c.numHeads)),
            (K.numKVHeads, .int(c.numKVHeads)),
            (K.headDim, .int(c.headDim)),
            (K.intermediateSize, .int(c.intermediateSize)),
            (K.vocabSize, .int(c.vocabSize)),
            (K.rmsNormEps, .double(Double(c.rmsNormEps))),
            (K.ropeBase, .double(c.ropeBase)),
            (K.seqLength, .int(c.seqLength)),
            (K.useDynamicNTK, .bool(c.useDynamicNTK)),
            (K.useLognAttn, .bool(c.useLognAttn)),
            (K.tiedEmbeddings, .bool(c.tiedEmbeddings)),
        ]
        m += tokenizer.metadata
        if !options.overrides.isEmpty {
            m.append(("general.quantization.overrides",
                      .string(options.overrides.map { "\($0.pattern)=\($0.type)" }.joined(separator: ","))))
        }
        m.append(("convert.bits_per_weight", .double((report.bitsPerWeight * 1000).rounded() / 1000)))
        m.append(("convert.relaid_tensors", .int(report.tensors.filter(\.relaid).count)))
        m.append(("convert.tensor_errors", .string(report.errorsJSON())))
        return m
    }

    public var kvBytesPerToken: Int { 2 * config.numLayers * config.kvProjectionSize * 2 }

    public var summary: String {
        let c = config
        let types = Dictionary(grouping: file.tensors, by: \.type.name).map { "\($0.key) ×\($0.value.count)" }.sorted().joined(separator: ", ")
        return "GGUF v\(file.version) \(architecture): \(c.numLayers) layers, hidden \(c.hiddenSize), FFN \(c.ffnDim), "
            + "\(c.numHeads)/\(c.numKVHeads) heads × \(c.headDim), vocab \(c.vocabSize), "
            + "\(c.tiedEmbeddings ? "tied" : "untied") output; \(types); tokenizer \(tokenizer.rankCount) ranks + \(tokenizer.specials.count) specials"
    }
}
