// GoldenSupport: reading the reference goldens (safetensors of f32/i64 tensors + manifest.json), the trimmed
// mels, and building the tiny model from the regenerated checkpoint (HF names → canonical, conv transform).
import Foundation
import EarshotKernels
import EarshotModels
import EarshotTestSupport

/// A minimal safetensors reader for the golden files (F32 and I64 tensors only).
struct GoldenFile {
    struct Entry { let dtype: String; let shape: [Int]; let range: Range<Int> }
    let data: Data
    let entries: [String: Entry]
    let dataStart: Int

    init(_ relativePath: String) throws {
        data = try Data(contentsOf: Fixtures.url(relativePath))
        let headerLength = Int(data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: data[8..<(8 + headerLength)]) as! [String: Any]
        dataStart = 8 + headerLength
        var e: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            let d = value as! [String: Any]
            let off = d["data_offsets"] as! [Int]
            e[name] = Entry(dtype: d["dtype"] as! String, shape: d["shape"] as! [Int], range: off[0]..<off[1])
        }
        entries = e
    }

    func floats(_ name: String) -> [Float] {
        let e = entries[name]!
        precondition(e.dtype == "F32", "\(name) is \(e.dtype)")
        return data.withUnsafeBytes { b in
            (0..<(e.range.count / 4)).map { b.loadUnaligned(fromByteOffset: dataStart + e.range.lowerBound + 4 * $0, as: Float.self) }
        }
    }

    func ints(_ name: String) -> [Int] {
        let e = entries[name]!
        precondition(e.dtype == "I64", "\(name) is \(e.dtype)")
        return data.withUnsafeBytes { b in
            (0..<(e.range.count / 8)).map { Int(b.loadUnaligned(fromByteOffset: dataStart + e.range.lowerBound + 8 * $0, as: Int64.self)) }
        }
    }

    func shape(_ name: String) -> [Int] { entries[name]!.shape }
}

enum Golden {
    nonisolated(unsafe) static let manifest: [String: Any] = {
        let d = try! Data(contentsOf: Fixtures.url("qwen-audio-tiny/goldens/manifest.json"))
        return try! JSONSerialization.jsonObject(with: d) as! [String: Any]
    }()

    static func run(_ name: String) -> [String: Any] { (manifest["runs"] as! [String: Any])[name] as! [String: Any] }

    static let config: QwenAudioConfig = try! QwenAudioConfig(
        hfConfigJSON: Data(contentsOf: Fixtures.url("qwen-audio-tiny/config.json")))

    static let f32Model: QwenAudioModel = try! QwenAudioModel(config: config, weights: TinyModelFiles.weights(matrixType: .f32))
    static let bf16Model: QwenAudioModel = try! QwenAudioModel(config: config, weights: TinyModelFiles.weights(matrixType: .bf16))

    /// Trimmed official mels (Tools/fixtures/trim_mels.py): [80 × frames_stored], with their mel_len.
    static let mels: [String: AudioEncoder.Mel] = {
        let d = try! Data(contentsOf: Fixtures.url("qwen-audio-tiny/mel/index.json"))
        var out: [String: AudioEncoder.Mel] = [:]
        for rec in try! JSONSerialization.jsonObject(with: d) as! [[String: Any]] {
            let file = (rec["audio_file"] as! String).split(separator: "/").last!
            let raw = try! Data(contentsOf: Fixtures.url("qwen-audio-tiny/mel/\(file).mel.f32"))
            let values = raw.withUnsafeBytes { b in (0..<(raw.count / 4)).map { b.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
            out["audio/" + file] = AudioEncoder.Mel(values: values, frames: rec["frames_stored"] as! Int, melLength: rec["mel_len"] as! Int)
        }
        return out
    }()

    static func mels(for urls: [String]) -> [AudioEncoder.Mel] { urls.map { mels[$0]! } }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count)")
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i])) }
    return m
}

/// [rows × cols] → [cols × rows].
func transpose(_ a: [Float], rows: Int, cols: Int) -> [Float] {
    var out = [Float](repeating: 0, count: a.count)
    for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = a[r * cols + c] } }
    return out
}

extension QwenAudioModel {
    /// The tests' reference decode: prefill, then argmax tokens (stops after a `stopIds` token). The product
    /// decodes through the library's one generation loop; this plain loop checks the model alone.
    func greedy(ids: [Int], mels: [AudioEncoder.Mel] = [], maxTokens: Int, stopIds: Set<Int> = [],
                cache: KVCache, batchedAudio: Bool = true) throws -> [Int] {
        var logits = try prefill(ids: ids, mels: mels, cache: cache, batchedAudio: batchedAudio)
        var out: [Int] = []
        while out.count < maxTokens {
            let next = QwenAudioModel.argmax(logits)
            out.append(next)
            if stopIds.contains(next) || out.count == maxTokens { break }
            logits = try decodeStep(id: next, cache: cache)
        }
        return out
    }

    /// Index of the largest value (the first one on ties).
    static func argmax(_ v: [Float]) -> Int {
        var best = 0
        for i in 1..<v.count where v[i] > v[best] { best = i }
        return best
    }
}

extension QwenTextModel {
    /// The tests' reference decode (see `QwenAudioModel.greedy`): generated ids and the prompt's last logits.
    func greedy(ids: [Int], maxTokens: Int, stopIds: Set<Int> = [], cache: KVCache) throws -> (ids: [Int], promptLogits: [Float]) {
        let first = try prefill(ids: ids, cache: cache)
        var logits = first
        var out: [Int] = []
        while out.count < maxTokens {
            let next = QwenAudioModel.argmax(logits)
            out.append(next)
            if stopIds.contains(next) || out.count == maxTokens { break }
            logits = try decodeStep(id: next, cache: cache)
        }
        return (out, first)
    }
}
