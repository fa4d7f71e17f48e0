// ONNXReaderTests: the protobuf/ONNX reader (Tools/EarshotConvert/ONNX) and the Silero VAD graph recogniser.
// Valid files are read field for field; every malformed input — truncation at any byte, random byte flips,
// lengths past the end, over-long varints, groups, nesting past the cap, tensors whose data disagree with
// their shape, external data — is a typed ConvertError naming what is wrong, never a crash. Graphs that are
// not Silero VAD v6 (another op, an If, a changed attribute, NaN weights) are refused by name.
import EarshotConvert
import EarshotModels
import EarshotTestSupport
import Foundation
import Testing

private let realPath = Fixtures.url("vad/silero_vad_v6.onnx").path
private let realBytes = [UInt8](try! Data(contentsOf: URL(fileURLWithPath: realPath)))

private func invalidReason(_ bytes: [UInt8], limits: ONNXLimits = .init()) -> String? {
    do { _ = try ONNXModel(bytes: bytes, path: "t.onnx", limits: limits); return nil } catch {
        guard case .invalidONNX(let p, let reason) = error, p == "t.onnx" else { return "wrong error \(error)" }
        return reason
    }
}

private func unsupportedReason(_ bytes: [UInt8]) -> String? {
    do { _ = try SileroVADGraph.extract(try ONNXModel(bytes: bytes, path: "t.onnx")); return nil } catch {
        guard case .unsupportedONNX(_, let reason) = error else { return "wrong error \(error)" }
        return reason
    }
}

/// Replaces every occurrence of `from` by `to` (same length).
private func patched(_ bytes: [UInt8], _ from: String, _ to: String) -> [UInt8] {
    let a = Array(from.utf8), b = Array(to.utf8)
    precondition(a.count == b.count)
    var out = bytes, i = 0, hits = 0
    while i + a.count <= out.count {
        if Array(out[i..<(i + a.count)]) == a { out.replaceSubrange(i..<(i + a.count), with: b); hits += 1; i += a.count } else { i += 1 }
    }
    precondition(hits > 0, "pattern \(from) not found")
    return out
}

/// A tiny valid model: x → Relu → y, one float initializer `w` [2, 3] in raw_data.
private func tinyModel(tensor: ((inout ProtobufWriter) -> Void)? = nil) -> [UInt8] {
    ProtobufWriter.model { g in
        g.message(1) { n in n.string(1, "x"); n.string(2, "y"); n.string(3, "relu"); n.string(4, "Relu") }
        g.string(2, "tiny")
        g.message(5, tensor ?? { t in
            t.packedInts(1, [2, 3]); t.int(2, 1); t.string(8, "w"); t.raw(9, ProtobufWriter.floatBytes([1, 2, 3, 4, 5, 6]))
        })
        g.message(11) { v in
            v.string(1, "x")
            v.message(2) { ty in ty.message(1) { tt in
                tt.int(1, 1)
                tt.message(2) { s in s.message(1) { $0.string(2, "N") }; s.message(1) { $0.int(1, 576) } }
            } }
        }
        g.message(12) { $0.string(1, "y") }
    }
}

@Suite struct ONNXReaderTests {
    @Test func readsTheRealFile() throws {
        let m = try ONNXModel(path: realPath)
        #expect(m.irVersion == 8 && m.producerName == "pytorch" && m.producerVersion == "2.8.0")
        #expect(m.opsets.count == 1 && m.opsets[0].version == 18)
        #expect(m.graph.nodes.count == 25 && m.graph.initializers.count == 24)
        #expect(m.graph.inputs.map(\.name) == ["input", "h", "c"] && m.graph.outputs.map(\.name) == ["speech_probs", "hn", "cn"])
        #expect(m.graph.inputs[0].dims! == [nil, 576] && m.graph.inputs[1].dims! == [1, 1, 128])
        let basis = try #require(m.graph.initializer("encoder.feature_extractor.forward_basis_buffer"))
        let basisValues = try m.floats(basis)
        #expect(basis.dims == [258, 1, 256] && basis.dataType == .float && basisValues.count == 258 * 256)
        let lstm = try #require(m.graph.nodes.first { $0.opType == "LSTM" })
        #expect(lstm.attribute("hidden_size")?.i == 128)
    }

    @Test func readsFieldsOfASyntheticModel() throws {
        let m = try ONNXModel(bytes: tinyModel(), path: "t.onnx")
        #expect(m.graph.name == "tiny" && m.graph.nodes[0].opType == "Relu" && m.graph.nodes[0].inputs == ["x"])
        #expect(try m.floats(m.graph.initializers[0]) == [1, 2, 3, 4, 5, 6])
        #expect(m.graph.inputs[0].elementType == 1 && m.graph.inputs[0].dims! == [nil, 576])
        // Unpacked repeated fields and typed float_data / int64_data are read too.
        let typed = try ONNXModel(bytes: tinyModel { t in
            t.int(1, 2); t.int(1, 3); t.int(2, 1); t.string(8, "w")
            for v: Float in [6, 5, 4] { t.float(4, v) }
            t.packedFloats(4, [3, 2, 1])
        }, path: "t.onnx")
        #expect(try typed.floats(typed.graph.initializers[0]) == [6, 5, 4, 3, 2, 1])
        let ints = try ONNXModel(bytes: tinyModel { t in t.packedInts(1, [3]); t.int(2, 7); t.packedInts(7, [-1, 0, Int64.max]) }, path: "t.onnx")
        #expect(try ints.integers(ints.graph.initializers[0]) == [-1, 0, Int64.max])
    }

    @Test func everyTruncationIsRefused() {
        // Every length up to 4 KB, then a spread through the file (including just before the end).
        var lengths = Array(0..<4096)
        lengths += stride(from: 4096, to: realBytes.count, by: 997)
        lengths += (realBytes.count - 64)..<realBytes.count
        for n in lengths {
            let bytes = Array(realBytes[0..<n])
            #expect(invalidReason(bytes) != nil, "truncated to \(n) bytes was accepted")
        }
    }

    @Test func randomByteFlipsNeverCrash() {
        var rng = UInt64(0x5EED_0F_0ACE)
        var refused = 0
        for _ in 0..<400 {
            var bytes = realBytes
            for _ in 0..<3 {
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                // Mostly in the first 3 KB (the graph structure), sometimes anywhere.
                let span = rng >> 63 == 0 ? 3000 : bytes.count
                let at = Int((rng >> 20) % UInt64(span))
                bytes[at] ^= UInt8(truncatingIfNeeded: rng >> 8) | 1
            }
            do { _ = try SileroVADGraph.extract(try ONNXModel(bytes: bytes, path: "t.onnx")) } catch {
                refused += 1
                #expect(!error.description.isEmpty)
            }
        }
        #expect(refused > 100)   // most flips in the structure are caught
    }

    @Test func malformedProtobufIsRefusedWithAReason() {
        func model(_ graph: [UInt8]) -> [UInt8] {
            var m = ProtobufWriter()
            m.int(1, 8)
            m.key(7, 2); m.varint(UInt64(graph.count)); m.bytes += graph
            m.message(8) { $0.int(2, 18) }
            return m.bytes
        }
        // A varint of 11 bytes.
        #expect(invalidReason([0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01])?.contains("varint") == true)
        // A length past the end of its message.
        var w = ProtobufWriter(); w.key(7, 2); w.varint(1_000_000); w.bytes += [1, 2, 3]
        #expect(invalidReason(w.bytes)?.contains("past the end") == true)
        // Deprecated groups and unknown wire types.
        #expect(invalidReason([0x0B, 0x0C])?.contains("group") == true)
        #expect(invalidReason([0x0E, 0x00])?.contains("wire type") == true)
        // Empty, text, no graph, no opset, unknown IR version.
        #expect(invalidReason([])?.contains("empty") == true)
        #expect(invalidReason(Array("not an onnx file at all".utf8)) != nil)
        #expect(invalidReason({ var m = ProtobufWriter(); m.int(1, 8); return m.bytes }())?.contains("no graph") == true)
        #expect(invalidReason({ var m = ProtobufWriter(); m.int(1, 8); m.message(7) { $0.string(2, "g") }; return m.bytes }())?.contains("opset") == true)
        #expect(invalidReason(ProtobufWriter.model(ir: 99) { $0.string(2, "g") })?.contains("ir_version") == true)
        // A string field that is not UTF-8.
        var g = ProtobufWriter(); g.raw(2, [0xFF, 0xFE])
        #expect(invalidReason(model(g.bytes))?.contains("UTF-8") == true)
        // The file-size cap.
        #expect(invalidReason(realBytes, limits: { var l = ONNXLimits(); l.maxFileBytes = 1 << 20; return l }())?.contains("MB") == true)
    }

    @Test func tensorsMustMatchTheirData() {
        func reason(_ t: @escaping (inout ProtobufWriter) -> Void) -> String { invalidReason(tinyModel(tensor: t)) ?? "accepted" }
        #expect(reason { t in t.packedInts(1, [2, 3]); t.int(2, 1); t.string(8, "w"); t.raw(9, [0, 0, 0, 0]) }.contains("raw_data has 4 bytes"))
        #expect(reason { t in t.packedInts(1, [2, 3]); t.int(2, 1); t.string(8, "w"); t.packedFloats(4, [1]) }.contains("1 float values"))
        #expect(reason { t in t.packedInts(1, [-2]); t.int(2, 1); t.string(8, "w") }.contains("out of range"))
        #expect(reason { t in t.packedInts(1, [1 << 30, 1 << 30, 1 << 30]); t.int(2, 1); t.string(8, "w") }.contains("too many elements"))
        #expect(reason { t in t.packedInts(1, [1]); t.int(2, 1); t.string(8, "w"); t.raw(4, [0, 0, 0, 0, 0]) }.contains("multiple of 4"))
        #expect(reason { t in t.packedInts(1, [1]); t.int(2, 99); t.string(8, "w") }.contains("data_type 99"))
        #expect(reason { t in t.packedInts(1, [1]); t.int(2, 1); t.string(8, "w"); t.int(14, 1) }.contains("external"))
        #expect(reason { t in t.packedInts(1, Array(repeating: 1, count: 17)); t.int(2, 1); t.string(8, "w") }.contains("more than 16"))
    }

    @Test func nestedGraphsAreCapped() {
        // If nodes nested in then_branch graphs, deeper than the cap of 8.
        func nested(_ depth: Int) -> (inout ProtobufWriter) -> Void {
            { g in
                g.message(1) { n in
                    n.string(4, "If")
                    if depth > 0 { n.message(5) { a in a.string(1, "then_branch"); a.int(20, 5); a.message(6, nested(depth - 1)) } }
                }
            }
        }
        #expect(invalidReason(ProtobufWriter.model(graph: nested(6))) == nil)
        #expect(invalidReason(ProtobufWriter.model(graph: nested(9)))?.contains("nested more than 8") == true)
        // An If at the top is read fine but is not the Silero graph this converter knows.
        #expect(unsupportedReason(ProtobufWriter.model(graph: nested(1)))?.contains("If") == true)
    }

    @Test func otherGraphsAreRefusedByName() {
        #expect(unsupportedReason(realBytes) == nil)
        #expect(unsupportedReason(patched(realBytes, "Sigmoid", "Sigmoix"))?.contains("expected a Sigmoid node") == true)
        #expect(unsupportedReason(patched(realBytes, "reflect", "reflecx"))?.contains("mode must be reflect") == true)
        #expect(unsupportedReason(patched(realBytes, "hidden_size", "hidden_sizz"))?.contains("hidden_sizz") == true)
        #expect(unsupportedReason(tinyModel())?.contains("3 inputs") == true)
        // hidden_size 128 → 129 (its varint 0x80 0x01 → 0x81 0x01): the weights no longer fit.
        var h = realBytes
        let key = Array("hidden_size".utf8)
        let at = (0..<(h.count - key.count)).first { Array(h[$0..<($0 + key.count)]) == key }!
        let v = (at..<(at + 40)).first { h[$0] == 0x80 && h[$0 + 1] == 0x01 }!
        h[v] = 0x81
        let hr = unsupportedReason(h)
        #expect(hr?.contains("must equal hidden_size 129") == true, "\(hr ?? "accepted")")
        // A NaN in the head bias (the last 4 bytes of its raw_data).
        let model = try! ONNXModel(bytes: realBytes, path: "t.onnx")
        let bias = model.graph.initializer("decoder.conv1d.bias")!.rawRange!
        var n = realBytes
        n.replaceSubrange(bias, with: ProtobufWriter.floatBytes([.nan]))
        #expect(unsupportedReason(n)?.contains("NaN") == true)
    }

    @Test func convertsToTheCanonicalTensors() throws {
        let c = try SileroVADGraph.load(path: realPath)
        #expect(c.config == .v6)
        #expect(c.tensors.map(\.name) == SileroVADTensorNames.all(.v6).map(\.name))
        #expect(c.tensors.map(\.shape) == SileroVADTensorNames.all(.v6).map(\.shape))
        // Transforms against the ONNX values: im2col conv, LSTM gates reordered (i, o, f, c → i, f, g, o), biases summed.
        let m = try ONNXModel(path: realPath)
        let conv = try m.floats(m.graph.initializer("encoder.conv_layers.1.weight")!)        // [64, 128, 3]
        let im = c.tensors.first { $0.name == "vad.enc.1.weight" }!.values                  // [64, 384]
        #expect(im[5 * 384 + 2 * 128 + 7] == conv[(5 * 128 + 7) * 3 + 2])
        let W = try m.floats(m.graph.initializer("onnx::LSTM_209")!), B = try m.floats(m.graph.initializer("onnx::LSTM_211")!)
        let wih = c.tensors.first { $0.name == "vad.lstm.weight_ih" }!.values, bias = c.tensors.first { $0.name == "vad.lstm.bias" }!.values
        for (dst, src) in [(0, 0), (1, 2), (2, 3), (3, 1)] {
            #expect(wih[(dst * 128 + 9) * 128 + 4] == W[(src * 128 + 9) * 128 + 4])
            #expect(bias[dst * 128 + 9] == B[src * 128 + 9] + B[512 + src * 128 + 9])
        }
        // The sink gets f32 tensors and the metadata the model reads back.
        let sink = WhisperMemorySink()
        _ = try SileroVADConverter.convert(c, source: "x.onnx", to: sink)
        #expect(sink.types.values.allSatisfy { $0 == .f32 } && sink.types.count == 14)
        #expect(sink.metadata.contains { $0.key == "general.architecture" && $0.value == .string("silero-vad") })
        #expect(sink.metadata.contains { $0.key == "silero.window_samples" && $0.value == .int(512) })
        #expect(sink.metadata.contains { $0.key == "silero.context_samples" && $0.value == .int(64) })
    }

    @Test func missingAndDirectoryInputsAreTyped() {
        #expect(throws: ConvertError.missingFile(path: "/nonexistent/x.onnx", what: "ONNX model")) { try ONNXModel(path: "/nonexistent/x.onnx") }
        #expect(throws: ConvertError.self) { try ONNXModel(path: FileManager.default.temporaryDirectory.path) }
    }
}
