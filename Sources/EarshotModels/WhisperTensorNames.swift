// WhisperTensorNames: canonical `.ear` tensor names of a plain Whisper model (Formats/tensor-names-whisper.md).
// The encoder uses the `audio.*` names of the Qwen-Audio encoder (same architecture, no proj/bos_eos);
// the text decoder uses `dec.*` names defined here. `l` = layer index.

public enum WhisperTensorNames {
    // Decoder, whole model.
    public static let tokenEmbedding = "dec.token_embd.weight"       // [V, D]; also the output projection (tied)
    public static let positionEmbedding = "dec.pos_embd.weight"      // [nTextCtx, D]
    public static let outputNormWeight = "dec.output_norm.weight"    // [D] LayerNorm
    public static let outputNormBias = "dec.output_norm.bias"        // [D]

    /// `dec.blk.l.<part>` — parts: attn_norm.{weight,bias}, attn_q.{weight,bias}, attn_k.weight,
    /// attn_v.{weight,bias}, attn_output.{weight,bias}, cross_norm.{weight,bias}, cross_q.{weight,bias},
    /// cross_k.weight, cross_v.{weight,bias}, cross_output.{weight,bias}, ffn_norm.{weight,bias},
    /// ffn_up.{weight,bias} [4D, D], ffn_down.{weight,bias} [D, 4D].
    public static func decoder(_ layer: Int, _ part: String) -> String { "dec.blk.\(layer).\(part)" }

    // Encoder (shared with Qwen-Audio's audio encoder).
    public static let conv1Weight = "audio.conv1.weight"   // [S, 3·nMels] im2col: W[s, k·M + m] = conv[s, m, k]
    public static let conv1Bias = "audio.conv1.bias"       // [S]
    public static let conv2Weight = "audio.conv2.weight"   // [S, 3·S]
    public static let conv2Bias = "audio.conv2.bias"       // [S]
    public static let audioPositionEmbedding = "audio.pos_embd.weight"  // [nAudioCtx, S]
    public static let postNormWeight = "audio.post_norm.weight"         // [S]
    public static let postNormBias = "audio.post_norm.bias"             // [S]

    /// `audio.blk.l.<part>` — parts: attn_norm.{weight,bias}, attn_q.{weight,bias}, attn_k.weight,
    /// attn_v.{weight,bias}, attn_output.{weight,bias}, ffn_norm.{weight,bias}, ffn_up.{weight,bias},
    /// ffn_down.{weight,bias}.
    public static func encoder(_ layer: Int, _ part: String) -> String { "audio.blk.\(layer).\(part)" }

    /// Every canonical name of a model with these dimensions, in a stable order.
    public static func all(_ c: WhisperConfig) -> [String] {
        var names = [conv1Weight, conv1Bias, conv2Weight, conv2Bias, audioPositionEmbedding]
        let encParts = ["attn_norm.weight", "attn_norm.bias", "attn_q.weight", "attn_q.bias", "attn_k.weight",
                        "attn_v.weight", "attn_v.bias", "attn_output.weight", "attn_output.bias",
                        "ffn_norm.weight", "ffn_norm.bias", "ffn_up.weight", "ffn_up.bias",
                        "ffn_down.weight", "ffn_down.bias"]
        for l in 0..<c.nAudioLayer { names += encParts.map { encoder(l, $0) } }
        names += [postNormWeight, postNormBias, tokenEmbedding, positionEmbedding]
        let decParts = ["attn_norm.weight", "attn_norm.bias", "attn_q.weight", "attn_q.bias", "attn_k.weight",
                        "attn_v.weight", "attn_v.bias", "attn_output.weight", "attn_output.bias",
                        "cross_norm.weight", "cross_norm.bias", "cross_q.weight", "cross_q.bias", "cross_k.weight",
                        "cross_v.weight", "cross_v.bias", "cross_output.weight", "cross_output.bias",
                        "ffn_norm.weight", "ffn_norm.bias", "ffn_up.weight", "ffn_up.bias",
                        "ffn_down.weight", "ffn_down.bias"]
        for l in 0..<c.nTextLayer { names += decParts.map { decoder(l, $0) } }
        names += [outputNormWeight, outputNormBias]
        return names
    }
}
