// SyntheticFullSizeEar: writes a full-size (Qwen-Audio 8.4 B) `.ear` with q4 matrices and constant bytes, for
// memory and speed measurements (values mean nothing). Opt-in: runs only with EARSHOT_SYNTHETIC_EAR=PATH
// (≈ 4.7 GB written). Then e.g.:
//   /usr/bin/time -v .build/debug/earshot run --model PATH --audio Tests/Fixtures/audio/music-31s.wav \
//       --prompt '<|startofanalysis|><|unknown|><|caption|><|en|><|notimestamps|><|caption_clotho|>' --max-tokens 1 --greedy
import Foundation
import Testing
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTestSupport

@Suite struct SyntheticFullSizeEar {
    @Test func writeFullSizeQ4() throws {
        guard let path = ProcessInfo.processInfo.environment["EARSHOT_SYNTHETIC_EAR"] else { return }
        // The real dims (HF Qwen/Qwen-Audio config.json) on top of the tiny config's keys.
        var cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("qwen-audio-tiny/config.json"))) as! [String: Any]
        cfg["hidden_size"] = 4096; cfg["num_attention_heads"] = 32; cfg["kv_channels"] = 128
        cfg["num_hidden_layers"] = 32; cfg["intermediate_size"] = 22016; cfg["layer_norm_epsilon"] = 1e-6
        var audio = cfg["audio"] as! [String: Any]
        audio["n_state"] = 1280; audio["n_head"] = 20; audio["n_layer"] = 32; audio["output_dim"] = 4096
        cfg["audio"] = audio
        let json = try JSONSerialization.data(withJSONObject: cfg)
        let config = try QwenAudioConfig(hfConfigJSON: json)
        var meta = EarMetadata()
        for (k, v) in config.metadata {
            switch v {
            case .int(let i): meta[k] = .int(Int64(i))
            case .double(let d): meta[k] = .double(d)
            case .bool(let b): meta[k] = .bool(b)
            case .string(let s): meta[k] = .string(s)
            }
        }
        let writer = try EarWriter(path: path, metadata: meta)
        let chunk = [UInt8](repeating: 0x11, count: 1 << 24)
        for spec in TinyCheckpoint.specs(try TinyCheckpoint.Dims(configJSON: json)) {
            let name = TensorNames.canonical(hf: spec.name)!
            let shape = TensorNames.convertedShape(canonical: name, hfShape: spec.shape)
            let dtype: EarDType = TensorNames.staysF32(canonical: name) ? .f32 : (shape.last! % 32 == 0 ? .q4 : .f16)
            let total = dtype.byteCount(shape: shape)!
            try writer.addTensor(name: name, dtype: dtype, shape: shape) { sink in
                var left = total
                while left > 0 {
                    let n = min(left, chunk.count)
                    try chunk.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                    left -= n
                }
            }
        }
        try writer.addBlob(name: "tokenizer.tiktoken", bytes: Array(Data(contentsOf: Fixtures.url("tokenizer/qwen.tiktoken"))), level: 1)
        try writer.addBlob(name: "mel_filters", bytes: Array(Data(contentsOf: Fixtures.url("audio/mel_filters_80.f32"))))
        try writer.addBlob(name: "config.json", bytes: Array(json))
        try writer.finish()
    }
}
