// TinyModelFiles: the regenerated tiny checkpoint under canonical names, in any weight type, as an
// in-memory WeightSource or written as a `.ear` file (what the converter will produce), for the model tests.
import Foundation
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTestSupport

enum TinyModelFiles {
    struct Tensor { let name: String; let shape: [Int]; let type: WeightType; let bytes: [UInt8] }

    /// Every tensor: norms, biases, pos_embd and bos_eos as f32; matrices as `matrixType` (q8/q4 need
    /// cols % 32 == 0 — conv1 with 3·80 = 240 columns falls back to bf16, as a converter recipe would).
    static func tensors(matrixType: WeightType) throws -> [Tensor] {
        var out: [Tensor] = []
        for t in TinyCheckpoint.fixture.tensors {
            guard let name = TensorNames.canonical(hf: t.spec.name) else { throw ModelError.missingTensor(t.spec.name) }
            var bits = t.bits
            if TensorNames.isConvWeight(canonical: name) {
                bits = TensorNames.convWeightToMatrix(bits, outChannels: t.spec.shape[0], inChannels: t.spec.shape[1])
            }
            let shape = TensorNames.convertedShape(canonical: name, hfShape: t.spec.shape)
            var type = TensorNames.staysF32(canonical: name) ? WeightType.f32 : matrixType
            let cols = shape.last!
            if type.rowBytes(cols: cols) == nil { type = .bf16 }
            let values = bits.map { Float(bitPattern: UInt32($0) << 16) }
            let rows = values.count / cols
            var bytes = [UInt8](repeating: 0, count: rows * type.rowBytes(cols: cols)!)
            try values.withUnsafeBufferPointer { v in
                try bytes.withUnsafeMutableBytes { b in
                    try Quantizer.quantize(type, rows: rows, cols: cols, v.baseAddress!, b.baseAddress!)
                }
            }
            out.append(Tensor(name: name, shape: shape, type: type, bytes: bytes))
        }
        return out
    }

    static func weights(matrixType: WeightType) throws -> InMemoryWeights {
        let w = InMemoryWeights()
        for t in try tensors(matrixType: matrixType) {
            try t.bytes.withUnsafeBytes { try w.add(t.name, shape: t.shape, type: t.type, bytes: $0) }
        }
        return w
    }

    static func earType(_ t: WeightType) -> EarDType {
        switch t { case .f32: return .f32; case .f16: return .f16; case .bf16: return .bf16; case .q8: return .q8; case .q4: return .q4 }
    }

    /// Writes a complete tiny `.ear` (metadata, tensors, tokenizer + mel-filter + config blobs) to `path`.
    static func writeEar(to path: String, matrixType: WeightType) throws {
        var meta = EarMetadata()
        for (k, v) in Golden.config.metadata {
            switch v {
            case .int(let i): meta[k] = .int(Int64(i))
            case .double(let d): meta[k] = .double(d)
            case .bool(let b): meta[k] = .bool(b)
            case .string(let s): meta[k] = .string(s)
            }
        }
        let writer = try EarWriter(path: path, metadata: meta)
        for t in try tensors(matrixType: matrixType) {
            try writer.addTensor(name: t.name, dtype: earType(t.type), shape: t.shape, bytes: t.bytes)
        }
        try writer.addBlob(name: "tokenizer.tiktoken", bytes: Array(Data(contentsOf: Fixtures.url("tokenizer/qwen.tiktoken"))), level: 1)
        try writer.addBlob(name: "mel_filters", bytes: Array(Data(contentsOf: Fixtures.url("audio/mel_filters_80.f32"))))
        try writer.addBlob(name: "config.json", bytes: Array(Data(contentsOf: Fixtures.url("qwen-audio-tiny/config.json"))))
        try writer.addBlob(name: "generation_config.json",
                           bytes: Array(Data(contentsOf: Fixtures.url("qwen-audio-tiny/generation_config.json"))))
        try writer.finish()
    }
}
