// WhisperTestHelpers: build Whisper models for tests — from a CTranslate2 directory through the real converter
// into memory (any recipe), or from random canonical tensors.
import EarshotConvert
import EarshotKernels
import EarshotModels
import Foundation

enum WhisperTestModel {
    /// CTranslate2 dir → WhisperConverter (recipe) → in-memory weights; the decoder and encoder built on them.
    static func load(_ dir: URL, recipe: QuantRecipe = .uniform(.f32, name: "f32"))
        throws -> (decoder: WhisperDecoder, encoder: AudioEncoder, sink: WhisperMemorySink, checkpoint: WhisperCheckpoint, report: ConversionReport) {
        let ckpt = try CTranslate2Whisper.load(directory: dir)
        let sink = WhisperMemorySink()
        let report = try WhisperConverter.convert(ckpt, blobs: [], options: ConvertOptions(recipe: recipe), to: sink)
        let c = ckpt.config
        let decoder = try WhisperDecoder(config: c, weights: sink.weights)
        let encoder = try AudioEncoder(config: .whisper(nMels: c.nMels, nCtx: c.nAudioCtx, nState: c.nAudioState,
                                                        nHead: c.nAudioHead, nLayer: c.nAudioLayer), weights: sink.weights)
        return (decoder, encoder, sink, ckpt, report)
    }
}

/// Random canonical tensors for a config (shapes from the names), values uniform in ±scale, seeded.
func randomWhisperWeights(_ c: WhisperConfig, seed: UInt64 = 1, reshape: [String: [Int]] = [:], drop: Set<String> = [])
    throws -> InMemoryWeights {
    var state = seed
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000
    }
    let s = c.nAudioState, d = c.nTextState, f = 4 * d
    let w = InMemoryWeights()
    for name in WhisperTensorNames.all(c) where !drop.contains(name) {
        var shape: [Int]
        switch name {
        case WhisperTensorNames.conv1Weight: shape = [s, 3 * c.nMels]
        case WhisperTensorNames.conv2Weight: shape = [s, 3 * s]
        case WhisperTensorNames.audioPositionEmbedding: shape = [c.nAudioCtx, s]
        case WhisperTensorNames.tokenEmbedding: shape = [c.nVocab, d]
        case WhisperTensorNames.positionEmbedding: shape = [c.nTextCtx, d]
        default:
            if name.hasSuffix("ffn_up.weight") { shape = [f, d] }
            else if name.hasSuffix("ffn_up.bias") { shape = [f] }
            else if name.hasSuffix("ffn_down.weight") { shape = [d, f] }
            else if name.hasSuffix(".weight") && !name.contains("norm") { shape = [d, d] }
            else { shape = [d] }
        }
        let n = shape.reduce(1, *)
        if let r = reshape[name] { shape = r }
        let isNormWeight = name.contains("norm.weight")
        try w.add(name, shape: shape, values: (0..<n).map { _ in isNormWeight ? 1 + 0.1 * next() : 0.3 * next() })
    }
    return w
}
