// NameMapping: Hugging Face state-dict name → canonical `.ear` name and the conversion-time transform.
//
// Seam: the table is owned by EarshotModels (`TensorNames.swift`); until it lands this file carries the
// same table from the contract so the converter can be built and tested. Replace the body of
// `NameMapping.canonical` with a call into EarshotModels when it is available.

/// Transforms applied while converting (never at run time).
public enum TensorTransform: Sendable, Equatable {
    case none
    /// Conv1d [S, M, 3] → matmul [S, 3·M] with W[s, k·M + m] = conv[s, m, k] (im2col: tap-major).
    case convToMatmul
}

public enum NameMapping {
    /// The canonical name and transform for a Hugging Face tensor name (nil for names not in the table).
    public static func canonical(_ hf: String) -> (name: String, transform: TensorTransform)? {
        let direct: [String: String] = [
            "transformer.wte.weight": "token_embd.weight",
            "transformer.ln_f.weight": "output_norm.weight",
            "lm_head.weight": "output.weight",
            "transformer.audio.positional_embedding": "audio.pos_embd.weight",
            "transformer.audio.conv1.bias": "audio.conv1.bias",
            "transformer.audio.conv2.bias": "audio.conv2.bias",
            "transformer.audio.ln_post.weight": "audio.post_norm.weight",
            "transformer.audio.ln_post.bias": "audio.post_norm.bias",
            "transformer.audio.proj.weight": "audio.proj.weight",
            "transformer.audio.proj.bias": "audio.proj.bias",
            "transformer.audio.audio_bos_eos_token.weight": "audio.bos_eos.weight",
        ]
        if let n = direct[hf] { return (n, .none) }
        if hf == "transformer.audio.conv1.weight" { return ("audio.conv1.weight", .convToMatmul) }
        if hf == "transformer.audio.conv2.weight" { return ("audio.conv2.weight", .convToMatmul) }
        if let (l, rest) = layer(hf, prefix: "transformer.h.") {
            let map = [
                "ln_1.weight": "attn_norm.weight", "attn.c_attn.weight": "attn_qkv.weight",
                "attn.c_attn.bias": "attn_qkv.bias", "attn.c_proj.weight": "attn_output.weight",
                "ln_2.weight": "ffn_norm.weight", "mlp.w1.weight": "ffn_up.weight",
                "mlp.w2.weight": "ffn_gate.weight", "mlp.c_proj.weight": "ffn_down.weight",
            ]
            return map[rest].map { ("blk.\(l).\($0)", .none) }
        }
        if let (l, rest) = layer(hf, prefix: "transformer.audio.blocks.") {
            let map = [
                "attn_ln.weight": "attn_norm.weight", "attn_ln.bias": "attn_norm.bias",
                "attn.query.weight": "attn_q.weight", "attn.query.bias": "attn_q.bias",
                "attn.key.weight": "attn_k.weight",
                "attn.value.weight": "attn_v.weight", "attn.value.bias": "attn_v.bias",
                "attn.out.weight": "attn_output.weight", "attn.out.bias": "attn_output.bias",
                "mlp_ln.weight": "ffn_norm.weight", "mlp_ln.bias": "ffn_norm.bias",
                "mlp.0.weight": "ffn_up.weight", "mlp.0.bias": "ffn_up.bias",
                "mlp.2.weight": "ffn_down.weight", "mlp.2.bias": "ffn_down.bias",
            ]
            return map[rest].map { ("audio.blk.\(l).\($0)", .none) }
        }
        return nil
    }

    /// "transformer.h.12.attn.c_proj.weight" with prefix "transformer.h." → (12, "attn.c_proj.weight").
    private static func layer(_ name: String, prefix: String) -> (Int, String)? {
        guard name.hasPrefix(prefix) else { return nil }
        let tail = name.dropFirst(prefix.count)
        guard let dot = tail.firstIndex(of: "."), let l = Int(tail[..<dot]), l >= 0 else { return nil }
        return (l, String(tail[tail.index(after: dot)...]))
    }

    /// Shape after the transform.
    public static func outputShape(_ shape: [Int], _ t: TensorTransform) -> [Int] {
        switch t {
        case .none: return shape
        case .convToMatmul: return [shape[0], shape[1] * shape[2]]
        }
    }
}
