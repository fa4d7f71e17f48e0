// Test helpers for Silero VAD: the committed ONNX converted in-test, the goldens Tools/vad/make_vad_goldens.py
// made with onnxruntime / faster-whisper 1.2.1 (Tests/Fixtures/vad/goldens.json), clips decoded as both sides read them.
import EarshotAudio
import EarshotConvert
import EarshotModels
import EarshotTestSupport
import Foundation

struct VADGoldenSpan: Decodable, Equatable { let start: Int; let end: Int }

struct VADGoldenClip: Decodable {
    let file: String
    let samples: Int
    let pcm_sha256: String
    let probabilities: [Double]
    let timestamps_default: [VADGoldenSpan]
    let timestamps_batched: [VADGoldenSpan]
}

struct VADGoldenAssembled: Decodable {
    let order: [String]
    let gaps_seconds: [Double]
    let samples: Int
    let probabilities: [Double]
    let timestamps_default: [VADGoldenSpan]
    let timestamps_batched: [VADGoldenSpan]
}

struct VADGoldens: Decodable {
    let onnx_sha256: String
    let clips: [VADGoldenClip]
    let assembled: VADGoldenAssembled
}

enum SileroFixtures {
    static let onnxPath = Fixtures.url("vad/silero_vad_v6.onnx").path

    static let goldens: VADGoldens = {
        let data = try! Data(contentsOf: Fixtures.url("vad/goldens.json"))
        return try! JSONDecoder().decode(VADGoldens.self, from: data)
    }()

    /// The committed ONNX file converted in memory (the bytes a `.ear` would hold), and the model on them.
    static let model: SileroVAD = {
        let sink = WhisperMemorySink()
        _ = try! SileroVADConverter.convert(path: onnxPath, to: sink)
        let config = try! SileroVADConfig(metadata: configValues(sink.metadata))
        return try! SileroVAD(weights: sink.weights, config: config)   // keeps sink.weights alive
    }()

    static func configValues(_ m: [(key: String, value: MetaValue)]) -> [String: ConfigValue] {
        var out: [String: ConfigValue] = [:]
        for (k, v) in m {
            switch v {
            case .int(let i): out[k] = .int(i)
            case .double(let d): out[k] = .double(d)
            case .bool(let b): out[k] = .bool(b)
            case .string(let s): out[k] = .string(s)
            case .strings: break   // lists are not config values
            }
        }
        return out
    }

    /// Path of a golden clip ("jfk.wav" → Tests/Fixtures/audio/jfk.wav, "clips/x.wav" → Tests/Fixtures/vad/clips/x.wav).
    static func path(_ file: String) -> String {
        file.hasPrefix("clips/") ? Fixtures.url("vad/" + file).path : Fixtures.url("audio/" + file).path
    }

    /// A clip decoded as faster-whisper's decode_audio reads it (16 kHz, rounded to int16 / 32768).
    static func samples(_ file: String) throws -> [Float] {
        try AudioLoader.load(path(file)).samples
    }

    /// sha256 of the samples as int16 little-endian (the goldens' `pcm_sha256`).
    static func pcmSHA256(_ samples: [Float]) -> String {
        let pcm = samples.map { Int16(($0 * 32768).rounded()).littleEndian }
        return pcm.withUnsafeBytes { SHA256.hex($0) }
    }

    /// The golden "assembled" signal: the clips in order with zero gaps between them.
    static func assembled() throws -> [Float] {
        let a = goldens.assembled
        var out: [Float] = []
        for (k, name) in a.order.enumerated() {
            out += try samples(name)
            if k < a.gaps_seconds.count { out += [Float](repeating: 0, count: Int(a.gaps_seconds[k] * 16000)) }
        }
        return out
    }
}

/// max |a − b| and its index.
func maxAbsDifference(_ a: [Float], _ b: [Double]) -> (value: Double, index: Int) {
    var m = 0.0, at = -1
    for i in 0..<min(a.count, b.count) where abs(Double(a[i]) - b[i]) > m { m = abs(Double(a[i]) - b[i]); at = i }
    return (m, at)
}
