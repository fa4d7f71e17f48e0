// TinyWhisperEar: a tiny random Whisper `.ear` with the real front end (80 mel bins, 30 s windows, 1500
// encoder positions) and tiny.en's real tokenizer (Tests/Fixtures/whisper/tokenizer.json, 51864 ids), but a
// 16-wide, 1-layer model: hermetic tests drive the whole Whisper pipeline (long-form loop, clamping, flags,
// the CLI and library on the Whisper family) without downloaded weights. Its text is noise, by design.
// Written with the same names, metadata keys and blobs as earshot-convert's CTranslate2 path, once per process.
import EarshotFormat
import EarshotModels
import Foundation

public enum TinyWhisperEar {
    /// The path of the tiny random Whisper model (f32), made on first use.
    public static func path() throws -> String { try shared.get() }

    static let width = 16, layers = 1, heads = 2, ffn = 64, vocab = 51864, mels = 80, audioCtx = 1500, textCtx = 448

    private static let shared = MadeOnce("earshot-tiny-whisper") { dir in
        let path = dir.appendingPathComponent("tiny-random-whisper.ear").path
        try write(to: path)
        return path
    }

    /// Writes the model to `path`.
    public static func write(to path: String, seed: UInt64 = 7, dropMetadata: Set<String> = [], architecture: String = "whisper") throws {
        let d = width
        var state = seed
        func next() -> Float {   // SplitMix64 → uniform in [-1, 1)
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(z >> 40) / Float(1 << 23) - 1
        }
        let metadata: EarMetadata = [
            "general.architecture": "whisper", "general.converter": "EarshotTestSupport.TinyWhisperEar",
            "general.quantization": "f32",
            "whisper.n_mels": .int(Int64(mels)), "whisper.n_audio_ctx": .int(Int64(audioCtx)),
            "whisper.n_audio_state": .int(Int64(d)), "whisper.n_audio_head": .int(Int64(heads)),
            "whisper.n_audio_layer": .int(Int64(layers)), "whisper.n_vocab": .int(Int64(vocab)),
            "whisper.n_text_ctx": .int(Int64(textCtx)), "whisper.n_text_state": .int(Int64(d)),
            "whisper.n_text_head": .int(Int64(heads)), "whisper.n_text_layer": .int(Int64(layers)),
            "whisper.suppress_ids": "[1,2,7,8,9,10,14,25,26,27,28,29,31,58,59,60,61,62,63,90,91,92,93,50358,50359,50360,50361]",
            "whisper.suppress_ids_begin": "[220,50256]",
        ]
        var meta = metadata
        for k in dropMetadata { meta[k] = nil }
        meta["general.architecture"] = .string(architecture)
        let w = try EarWriter(path: path, metadata: meta)
        func tensor(_ name: String, _ shape: [Int], scale: Float = 0.3, constant: Float? = nil) throws {
            let n = shape.reduce(1, *)
            try w.addTensor(name: name, shape: shape, f32: (0..<n).map { _ in constant ?? next() * scale })
        }
        func block(_ p: String, cross: Bool) throws {
            try tensor(p + "attn_norm.weight", [d], constant: 1); try tensor(p + "attn_norm.bias", [d], constant: 0)
            for m in ["attn_q", "attn_k", "attn_v", "attn_output"] { try tensor(p + m + ".weight", [d, d]) }
            for b in ["attn_q", "attn_v", "attn_output"] { try tensor(p + b + ".bias", [d], scale: 0.05) }
            if cross {
                try tensor(p + "cross_norm.weight", [d], constant: 1); try tensor(p + "cross_norm.bias", [d], constant: 0)
                for m in ["cross_q", "cross_k", "cross_v", "cross_output"] { try tensor(p + m + ".weight", [d, d]) }
                for b in ["cross_q", "cross_v", "cross_output"] { try tensor(p + b + ".bias", [d], scale: 0.05) }
            }
            try tensor(p + "ffn_norm.weight", [d], constant: 1); try tensor(p + "ffn_norm.bias", [d], constant: 0)
            try tensor(p + "ffn_up.weight", [ffn, d]); try tensor(p + "ffn_up.bias", [ffn], scale: 0.05)
            try tensor(p + "ffn_down.weight", [d, ffn]); try tensor(p + "ffn_down.bias", [d], scale: 0.05)
        }
        try tensor("audio.conv1.weight", [d, mels * 3], scale: 0.1); try tensor("audio.conv1.bias", [d], scale: 0.05)
        try tensor("audio.conv2.weight", [d, d * 3], scale: 0.2); try tensor("audio.conv2.bias", [d], scale: 0.05)
        try tensor("audio.pos_embd.weight", [audioCtx, d], scale: 0.1)
        for l in 0..<layers { try block("audio.blk.\(l).", cross: false) }
        try tensor("audio.post_norm.weight", [d], constant: 1); try tensor("audio.post_norm.bias", [d], constant: 0)
        try tensor("dec.token_embd.weight", [vocab, d])
        try tensor("dec.pos_embd.weight", [textCtx, d], scale: 0.1)
        for l in 0..<layers { try block("dec.blk.\(l).", cross: true) }
        try tensor("dec.output_norm.weight", [d], constant: 1); try tensor("dec.output_norm.bias", [d], constant: 0)
        let tokenizer = try Data(contentsOf: Fixtures.url("whisper/tokenizer.json"))
        try w.addBlob(name: MetadataKeys.huggingFaceTokenizerBlob, bytes: [UInt8](tokenizer))
        try w.addBlob(name: MetadataKeys.sourceConfigBlob, bytes: Array(#"{"alignment_heads": [[0, 1]], "lang_ids": []}"#.utf8))
        _ = try w.finish()
    }
}
