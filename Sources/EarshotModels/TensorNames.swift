// TensorNames: the canonical tensor names of `.ear` files, their mapping from Hugging Face Qwen-Audio
// state-dict keys, and the one conversion-time transform (conv weights [S, M, 3] → [S, 3·M]).
// Pure functions: the converter and the model both use them.

public enum TensorNames {
    // LLM
    public static let tokenEmbedding = "token_embd.weight"      // [V, H]
    public static let outputNorm = "output_norm.weight"         // [H]
    public static let output = "output.weight"                  // [V, H] untied lm_head
    public static func block(_ l: Int, _ part: String) -> String { "blk.\(l).\(part)" }
    // Audio encoder (prefix "audio." for Qwen-Audio; a plain Whisper file may use another prefix)
    public static func audio(_ part: String, prefix: String = "audio.") -> String { prefix + part }
    public static func audioBlock(_ l: Int, _ part: String, prefix: String = "audio.") -> String { "\(prefix)blk.\(l).\(part)" }

    /// HF suffix after `transformer.h.{l}.` → canonical suffix after `blk.{l}.`.
    public static let llmBlockTable: [(hf: String, canonical: String)] = [
        ("ln_1.weight", "attn_norm.weight"),
        ("attn.c_attn.weight", "attn_qkv.weight"), ("attn.c_attn.bias", "attn_qkv.bias"),
        ("attn.c_proj.weight", "attn_output.weight"),
        ("ln_2.weight", "ffn_norm.weight"),
        ("mlp.w1.weight", "ffn_up.weight"),          // plain branch
        ("mlp.w2.weight", "ffn_gate.weight"),        // SiLU branch
        ("mlp.c_proj.weight", "ffn_down.weight"),
    ]
    /// HF suffix after `transformer.audio.blocks.{l}.` → canonical suffix after `audio.blk.{l}.`.
    public static let audioBlockTable: [(hf: String, canonical: String)] = [
        ("attn_ln.weight", "attn_norm.weight"), ("attn_ln.bias", "attn_norm.bias"),
        ("attn.query.weight", "attn_q.weight"), ("attn.query.bias", "attn_q.bias"),
        ("attn.key.weight", "attn_k.weight"),
        ("attn.value.weight", "attn_v.weight"), ("attn.value.bias", "attn_v.bias"),
        ("attn.out.weight", "attn_output.weight"), ("attn.out.bias", "attn_output.bias"),
        ("mlp_ln.weight", "ffn_norm.weight"), ("mlp_ln.bias", "ffn_norm.bias"),
        ("mlp.0.weight", "ffn_up.weight"), ("mlp.0.bias", "ffn_up.bias"),
        ("mlp.2.weight", "ffn_down.weight"), ("mlp.2.bias", "ffn_down.bias"),
    ]
    /// Whole-name HF → canonical pairs outside the blocks.
    public static let globalTable: [(hf: String, canonical: String)] = [
        ("transformer.wte.weight", tokenEmbedding),
        ("transformer.ln_f.weight", outputNorm),
        ("lm_head.weight", output),
        ("transformer.audio.positional_embedding", "audio.pos_embd.weight"),
        ("transformer.audio.conv1.weight", "audio.conv1.weight"), ("transformer.audio.conv1.bias", "audio.conv1.bias"),
        ("transformer.audio.conv2.weight", "audio.conv2.weight"), ("transformer.audio.conv2.bias", "audio.conv2.bias"),
        ("transformer.audio.ln_post.weight", "audio.post_norm.weight"), ("transformer.audio.ln_post.bias", "audio.post_norm.bias"),
        ("transformer.audio.proj.weight", "audio.proj.weight"), ("transformer.audio.proj.bias", "audio.proj.bias"),
        ("transformer.audio.audio_bos_eos_token.weight", "audio.bos_eos.weight"),
    ]

    /// The canonical name of a Hugging Face Qwen-Audio state-dict key, or nil when it is not a stored weight
    /// the model uses (e.g. `inv_freq`, `masked_bias`).
    public static func canonical(hf name: String) -> String? {
        if let g = globalTable.first(where: { $0.hf == name }) { return g.canonical }
        if let (l, rest) = splitLayer(name, prefix: "transformer.h."),
           let e = llmBlockTable.first(where: { $0.hf == rest }) { return block(l, e.canonical) }
        if let (l, rest) = splitLayer(name, prefix: "transformer.audio.blocks."),
           let e = audioBlockTable.first(where: { $0.hf == rest }) { return audioBlock(l, e.canonical) }
        return nil
    }

    /// The Hugging Face key of a canonical name (inverse of `canonical(hf:)`).
    public static func hf(canonical name: String) -> String? {
        if let g = globalTable.first(where: { $0.canonical == name }) { return g.hf }
        if let (l, rest) = splitLayer(name, prefix: "blk."),
           let e = llmBlockTable.first(where: { $0.canonical == rest }) { return "transformer.h.\(l).\(e.hf)" }
        if let (l, rest) = splitLayer(name, prefix: "audio.blk."),
           let e = audioBlockTable.first(where: { $0.canonical == rest }) { return "transformer.audio.blocks.\(l).\(e.hf)" }
        return nil
    }

    /// True for the conv weights that the converter reshapes with `convWeightToMatrix`.
    public static func isConvWeight(canonical name: String) -> Bool {
        name.hasSuffix("conv1.weight") || name.hasSuffix("conv2.weight")
    }

    /// True for tensors that stay f32 in `.ear` files whatever the weight type: norms, biases, positional
    /// embedding and the audio bos/eos vectors (1-D tensors and these two embeddings).
    public static func staysF32(canonical name: String) -> Bool {
        name.hasSuffix(".bias") || name.hasSuffix("norm.weight") || name.hasSuffix("pos_embd.weight")
            || name.hasSuffix("bos_eos.weight")
    }

    /// Conv1d weight [S, M, 3] (PyTorch, row-major) → matrix [S, 3·M] with W[s, k·M + m] = conv[s, m, k]
    /// (im2col order: input column = tap k, channel m). Works on any element type (f32 values, bf16 bits …).
    public static func convWeightToMatrix<T>(_ conv: [T], outChannels s: Int, inChannels m: Int) -> [T] {
        precondition(conv.count == s * m * 3, "convWeightToMatrix: \(conv.count) values for [\(s), \(m), 3]")
        var out = conv
        for o in 0..<s {
            for c in 0..<m {
                for k in 0..<3 { out[o * 3 * m + k * m + c] = conv[(o * m + c) * 3 + k] }
            }
        }
        return out
    }

    /// Shape after the conversion-time transform: [S, M, 3] → [S, 3·M]; other shapes unchanged.
    public static func convertedShape(canonical name: String, hfShape: [Int]) -> [Int] {
        if isConvWeight(canonical: name), hfShape.count == 3, hfShape[2] == 3 { return [hfShape[0], 3 * hfShape[1]] }
        return hfShape
    }

    private static func splitLayer(_ name: String, prefix: String) -> (Int, String)? {
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let l = Int(rest[..<dot]), l >= 0 else { return nil }
        return (l, String(rest[rest.index(after: dot)...]))
    }
}
