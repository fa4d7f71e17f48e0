// CheckpointLayout: every tensor a Hugging Face Qwen-Audio checkpoint stores, with its shape from the config.
//
// Names are the state-dict keys (spec §2–§3, fixtures README §3.1 "Tensor list for any config"):
// H = hidden_size, P = heads × kv_channels, F = intermediate_size / 2, V = vocab_size,
// S, M, C, D = audio n_state, n_mels, n_ctx, output_dim. Not stored: inv_freq, logn_tensor, masked_bias.

/// One expected checkpoint tensor.
public struct ExpectedTensor: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
}

public enum CheckpointLayout {
    /// Every stored tensor in state-dict order (embedding, LLM blocks, ln_f, audio encoder, lm_head).
    public static func expectedTensors(_ c: CheckpointConfig) -> [ExpectedTensor] {
        let H = c.hiddenSize, P = c.projectionSize, F = c.ffnSize, V = c.vocabSize
        let S = c.nState, M = c.nMels, C = c.nCtx, D = c.outputDim
        var out: [ExpectedTensor] = []
        func add(_ name: String, _ shape: [Int]) { out.append(ExpectedTensor(name: name, shape: shape)) }

        add("transformer.wte.weight", [V, H])
        for l in 0..<c.numLayers {
            let p = "transformer.h.\(l)."
            add(p + "ln_1.weight", [H])
            add(p + "attn.c_attn.weight", [3 * P, H])
            add(p + "attn.c_attn.bias", [3 * P])
            add(p + "attn.c_proj.weight", [P, H])
            add(p + "ln_2.weight", [H])
            add(p + "mlp.w1.weight", [F, H])
            add(p + "mlp.w2.weight", [F, H])
            add(p + "mlp.c_proj.weight", [H, F])
        }
        add("transformer.ln_f.weight", [H])
        let a = "transformer.audio."
        add(a + "positional_embedding", [C, S])
        add(a + "conv1.weight", [S, M, 3])
        add(a + "conv1.bias", [S])
        add(a + "conv2.weight", [S, S, 3])
        add(a + "conv2.bias", [S])
        for l in 0..<c.nLayer {
            let b = a + "blocks.\(l)."
            add(b + "attn_ln.weight", [S])
            add(b + "attn_ln.bias", [S])
            add(b + "attn.query.weight", [S, S])
            add(b + "attn.query.bias", [S])
            add(b + "attn.key.weight", [S, S])
            add(b + "attn.value.weight", [S, S])
            add(b + "attn.value.bias", [S])
            add(b + "attn.out.weight", [S, S])
            add(b + "attn.out.bias", [S])
            add(b + "mlp_ln.weight", [S])
            add(b + "mlp_ln.bias", [S])
            add(b + "mlp.0.weight", [4 * S, S])
            add(b + "mlp.0.bias", [4 * S])
            add(b + "mlp.2.weight", [S, 4 * S])
            add(b + "mlp.2.bias", [S])
        }
        add(a + "ln_post.weight", [S])
        add(a + "ln_post.bias", [S])
        add(a + "proj.weight", [D, S])
        add(a + "proj.bias", [D])
        add(a + "audio_bos_eos_token.weight", [2, D])
        add("lm_head.weight", [V, H])
        return out
    }
}
