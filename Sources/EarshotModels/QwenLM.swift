// QwenLM: the Qwen LLM decoder — Qwen-Audio's QWen-7B (modeling_qwen.py `QWenModel` + `lm_head`) and the
// Qwen2 text models (modeling_qwen2.py `Qwen2ForCausalLM`) in one definition, for every weight type (the
// matrices are `WeightMatrix` views; `Kernels.matmul` handles each type).
//
//   x = embed(ids) with audio spans spliced over <audio> … </audio> (inclusive)        [T × H]
//   per layer:  u = RMSNorm(x);  qkv = attn_qkv(u) + bias  [T × (P + 2·KVP)]   (q | k | v; Qwen2's separate
//               q/k/v and their biases are stacked at conversion; KVP = P without GQA)
//               q, k ← rotate-half RoPE (dynamic-NTK base if enabled); q ·= logn(p) past seq_length (if enabled)
//               k, v → KV cache (kvHeads heads per row);  a = causal attention(q, cache)  [T × P]
//               (query head h reads KV head h / (heads/kvHeads));  x += attn_output(a)
//               u = RMSNorm(x);  x += down(up(u) ⊙ SiLU(gate(u)))      (gate = HF w2 / gate_proj, up = w1 / up_proj)
//   h = RMSNorm(x) (ln_f / norm);  logits = output · h   [V]   (output = token_embd when tied)
import EarshotKernels

public final class QwenLM: @unchecked Sendable {   // immutable after init
    struct Layer {
        let attnNorm: [Float]
        let qkv: WeightMatrix, qkvBias: [Float]   // [(P + 2·KVP) × H], [P + 2·KVP]
        let attnOut: WeightMatrix                  // [H × P]
        let ffnNorm: [Float]
        let up: WeightMatrix, gate: WeightMatrix   // [F × H]
        let down: WeightMatrix                     // [H × F]
    }

    public let config: QwenLMConfig
    let tokenEmbedding: WeightMatrix              // [V × H]
    let layers: [Layer]
    let outputNorm: [Float]
    let output: WeightMatrix                      // [V × H]; the token embedding itself when tied
    private let owner: AnyObject

    public init(config: QwenLMConfig, weights: some WeightSource) throws(ModelError) {
        try config.validate()
        let H = config.hiddenSize, P = config.projectionSize, F = config.ffnDim, V = config.vocabSize
        let QKV = config.qkvRows
        self.config = config
        owner = weights
        tokenEmbedding = try weights.matrix(TensorNames.tokenEmbedding, rows: V, cols: H)
        var layers: [Layer] = []
        for l in 0..<config.numLayers {
            func n(_ p: String) -> String { TensorNames.block(l, p) }
            layers.append(Layer(
                attnNorm: try weights.floats(n("attn_norm.weight"), shape: [H]),
                qkv: try weights.matrix(n("attn_qkv.weight"), rows: QKV, cols: H),
                qkvBias: try weights.floats(n("attn_qkv.bias"), shape: [QKV]),
                attnOut: try weights.matrix(n("attn_output.weight"), rows: H, cols: P),
                ffnNorm: try weights.floats(n("ffn_norm.weight"), shape: [H]),
                up: try weights.matrix(n("ffn_up.weight"), rows: F, cols: H),
                gate: try weights.matrix(n("ffn_gate.weight"), rows: F, cols: H),
                down: try weights.matrix(n("ffn_down.weight"), rows: H, cols: F)))
        }
        self.layers = layers
        outputNorm = try weights.floats(TensorNames.outputNorm, shape: [H])
        if config.tiedEmbeddings {
            guard weights.tensor(named: TensorNames.output) == nil else {
                throw .badConfig(key: MetadataKeys.tiedEmbeddings, reason: "true, but the file also has \(TensorNames.output)")
            }
            output = tokenEmbedding
        } else {
            output = try weights.matrix(TensorNames.output, rows: V, cols: H)
        }
    }

    /// Token embeddings [ids.count × H].
    public func embed(_ ids: [Int]) throws(ModelError) -> [Float] {
        let H = config.hiddenSize
        var x = [Float](repeating: 0, count: ids.count * H)
        for (t, id) in ids.enumerated() {
            guard id >= 0 && id < config.vocabSize else { throw .badInput("token id \(id) at \(t) is outside the vocabulary (\(config.vocabSize))") }
        }
        x.withUnsafeMutableBufferPointer { xb in
            for (t, id) in ids.enumerated() { Reference.dequantizeRow(tokenEmbedding, id, xb.baseAddress! + t * H) }
        }
        return x
    }

    /// Overwrites, for the j-th `<audio>` … `</audio>` pair of `ids` (in order), rows start…end inclusive of
    /// `x` [T × H] with `spans[j]` [(end−start+1) × H].
    public func splice(_ spans: [[Float]], into x: inout [Float], ids: [Int], audioStartId: Int) throws(ModelError) {
        let H = config.hiddenSize
        let starts = ids.indices.filter { ids[$0] == audioStartId }
        let ends = ids.indices.filter { ids[$0] == audioStartId + 1 }
        guard starts.count == ends.count, zip(starts, ends).allSatisfy({ $0 < $1 }) else {
            throw .badInput("\(starts.count) <audio> and \(ends.count) </audio> tokens do not pair up")
        }
        guard starts.count == spans.count else {
            throw .badInput("the prompt has \(starts.count) audio spans but \(spans.count) encoded audios were given")
        }
        for (j, (a, b)) in zip(starts, ends).enumerated() {
            let rows = b - a + 1
            guard spans[j].count == rows * H else {
                throw .badInput("audio \(j): the prompt reserves \(rows) tokens, the encoder gave \(spans[j].count / H)")
            }
            try splice(rows: spans[j][...], into: &x, at: a)
        }
    }

    /// Qwen2-Audio: overwrites the j-th maximal run of `audioTokenId` tokens of `ids` with `features[j]`
    /// [run length × H] (the processor repeats the token once per encoder output vector).
    public func splice(_ features: [[Float]], into x: inout [Float], ids: [Int], audioTokenId: Int) throws(ModelError) {
        let H = config.hiddenSize
        var runs: [(start: Int, count: Int)] = []
        for (t, id) in ids.enumerated() where id == audioTokenId {
            if let last = runs.last, last.start + last.count == t { runs[runs.count - 1].count += 1 } else { runs.append((t, 1)) }
        }
        guard runs.count == features.count else {
            throw .badInput("the prompt has \(runs.count) runs of audio tokens but \(features.count) encoded audios were given")
        }
        for (j, run) in runs.enumerated() {
            guard features[j].count == run.count * H else {
                throw .badInput("audio \(j): the prompt has \(run.count) audio tokens, the encoder gave \(features[j].count / H) vectors")
            }
            try splice(rows: features[j][...], into: &x, at: run.start)
        }
    }

    /// Overwrites whole rows of `x` [T × H] from row `row` on with `rows` (a multiple of H values that must
    /// fit): the one place audio vectors replace token embeddings.
    public func splice(rows: ArraySlice<Float>, into x: inout [Float], at row: Int) throws(ModelError) {
        let H = config.hiddenSize
        guard rows.count % H == 0, row >= 0, row * H + rows.count <= x.count else {
            throw .badInput("\(rows.count) values do not fit as rows of \(H) at row \(row) of \(x.count / H)")
        }
        x.replaceSubrange((row * H)..<(row * H + rows.count), with: rows)
    }

    /// Runs `x` [T × H] (embeddings of the next T tokens) through every layer, appending to `cache`.
    /// An empty cache fixes the NTK alpha from T. Returns the final-norm hidden states [T × H].
    /// `shouldStop` is asked before every layer (a long prefill is cut short there: `.stopped`, the cache
    /// keeping its length).
    public func forward(_ xIn: [Float], cache: KVCache, probe: Probe? = nil,
                        shouldStop: (() -> Bool)? = nil) throws(ModelError) -> [Float] {
        let H = config.hiddenSize, P = config.projectionSize, F = config.ffnDim
        let KVP = config.kvProjectionSize, QKV = config.qkvRows
        let heads = config.numHeads, kvHeads = config.numKVHeads, hd = config.headDim
        guard xIn.count % H == 0 else { throw .badInput("\(xIn.count) values are not whole rows of \(H)") }
        let T = xIn.count / H
        let start = cache.length
        guard start + T <= cache.capacity else { throw .contextFull(needed: start + T, capacity: cache.capacity) }
        guard cache.layers == config.numLayers, cache.rowSize == KVP else { throw .badInput("the KV cache was made for another model") }
        if start == 0 { cache.ntkAlpha = config.ntkAlpha(forPrefillLength: T) }
        let rope = RotaryTable(config: config, alpha: cache.ntkAlpha).tables(first: start, count: T)
        let logn: [Float]? = config.useLognAttn && start + T > config.seqLength
            ? (0..<T).map { config.lognFactor(position: start + $0) } : nil

        var x = xIn
        var u = [Float](repeating: 0, count: T * H)
        var qkv = [Float](repeating: 0, count: T * QKV)
        var att = [Float](repeating: 0, count: T * P)
        var o = [Float](repeating: 0, count: T * H)
        var up = [Float](repeating: 0, count: T * F), gate = up
        let scale = 1 / Float(hd).squareRoot()
        for (l, layer) in layers.enumerated() {
            if shouldStop?() == true { throw .stopped }
            Kernels.rmsNorm(x, weight: layer.attnNorm, eps: config.rmsNormEps, rows: T, dim: H, &u)
            Kernels.matmul(layer.qkv, u, tokens: T, &qkv)
            Kernels.addBias(&qkv, layer.qkvBias, rows: T, dim: QKV)
            qkv.withUnsafeMutableBufferPointer { b in
                let q = b.baseAddress!, k = q + P, v = k + KVP
                rope.cos.withUnsafeBufferPointer { c in rope.sin.withUnsafeBufferPointer { s in
                    Kernels.ropeRotateHalf(k, tokens: T, heads: kvHeads, headDim: hd, rowStride: QKV,
                                           cos: c.baseAddress!, sin: s.baseAddress!, scale: nil)
                    if let logn {
                        logn.withUnsafeBufferPointer { g in
                            Kernels.ropeRotateHalf(q, tokens: T, heads: heads, headDim: hd, rowStride: QKV,
                                                   cos: c.baseAddress!, sin: s.baseAddress!, scale: g.baseAddress!)
                        }
                    } else {
                        Kernels.ropeRotateHalf(q, tokens: T, heads: heads, headDim: hd, rowStride: QKV,
                                               cos: c.baseAddress!, sin: s.baseAddress!, scale: nil)
                    }
                } }
                let keys = cache.keys(l), values = cache.values(l)
                for t in 0..<T {
                    keys.store(k + t * QKV, count: KVP, at: (start + t) * KVP)
                    values.store(v + t * QKV, count: KVP, at: (start + t) * KVP)
                }
                Kernels.attention(q: q, qStride: QKV, tokens: T, firstPosition: start, keys: keys, values: values,
                                  kvStride: KVP, keyCount: start + T, heads: heads, kvHeads: kvHeads, headDim: hd,
                                  scale: scale, causal: true, out: &att, outStride: P)
            }
            Kernels.matmul(layer.attnOut, att, tokens: T, &o)
            accumulate(&x, o, count: T * H)
            Kernels.rmsNorm(x, weight: layer.ffnNorm, eps: config.rmsNormEps, rows: T, dim: H, &u)
            Kernels.matmul(layer.up, u, tokens: T, &up)
            Kernels.matmul(layer.gate, u, tokens: T, &gate)
            up.withUnsafeMutableBufferPointer { ub in
                Kernels.swiglu(gate: gate, up: UnsafePointer(ub.baseAddress!), count: T * F, ub.baseAddress!)
            }
            Kernels.matmul(layer.down, up, tokens: T, &o)
            accumulate(&x, o, count: T * H)
            emit(probe, "llm.h.\(l).out", [T, H], x)
        }
        cache.length = start + T
        Kernels.rmsNorm(x, weight: outputNorm, eps: config.rmsNormEps, rows: T, dim: H, &u)
        emit(probe, "llm.ln_f_out", [T, H], u)
        return u
    }

    /// Logits [rows × V] for hidden states `h` [rows × H] (after the final norm).
    public func logits(_ h: UnsafePointer<Float>, rows: Int = 1) -> [Float] {
        var y = [Float](repeating: 0, count: rows * config.vocabSize)
        Kernels.matmul(output, h, tokens: rows, &y)
        return y
    }

    /// Logits of the last of the hidden rows `h` [T × H].
    public func lastLogits(_ h: [Float]) -> [Float] {
        let H = config.hiddenSize
        return h.withUnsafeBufferPointer { logits($0.baseAddress! + (h.count / H - 1) * H) }
    }
}
