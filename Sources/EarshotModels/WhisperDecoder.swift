// WhisperDecoder: Whisper's text decoder (pre-LN transformer: masked self-attention with a KV cache,
// cross-attention over the encoder output with K/V precomputed once per audio window, GELU MLP, final
// LayerNorm, logits through the tied token embedding). Search (greedy, beam, fallback) is the library's generation
// loop (Sources/Earshot/Generation/Decoding.swift) with Whisper's rules (Sources/Earshot/Engines/WhisperEngine.swift).
//
// Shapes: D = nTextState, H = nTextHead, dh = D / H, A = nAudioCtx, V = nVocab, T = nTextCtx.
import EarshotKernels

/// Weights of one decoder block (names: Formats/tensor-names-whisper.md, `dec.blk.l.*`).
struct WhisperDecoderBlock {
    let attnNormW: [Float], attnNormB: [Float]           // [D]
    let q: WeightMatrix, k: WeightMatrix, v: WeightMatrix, o: WeightMatrix   // [D, D]
    let qB: [Float], vB: [Float], oB: [Float]            // [D]
    let crossNormW: [Float], crossNormB: [Float]
    let crossQ: WeightMatrix, crossK: WeightMatrix, crossV: WeightMatrix, crossO: WeightMatrix
    let crossQB: [Float], crossVB: [Float], crossOB: [Float]
    let ffnNormW: [Float], ffnNormB: [Float]
    let up: WeightMatrix, upB: [Float]                   // [F, D], [F]
    let down: WeightMatrix, downB: [Float]               // [D, F], [D]
}

/// Cross-attention keys and values of one audio window, per layer: [A × D] each.
public struct WhisperCrossCache: Sendable {
    public let keys: [[Float]]
    public let values: [[Float]]
    public let count: Int
}

/// Self-attention KV cache of one hypothesis: per layer [T × D] keys and values, `length` rows used.
public struct WhisperDecoderState: Sendable {
    public internal(set) var keys: [[Float]]
    public internal(set) var values: [[Float]]
    public internal(set) var length: Int = 0

    init(layers: Int, capacity: Int, width: Int) {
        keys = Array(repeating: [Float](repeating: 0, count: capacity * width), count: layers)
        values = keys
    }
}

public final class WhisperDecoder: @unchecked Sendable {
    public let config: WhisperConfig
    let blocks: [WhisperDecoderBlock]
    let tokenEmbedding: WeightMatrix      // [V, D]
    let outputProjection: WeightMatrix    // [V, D] (the embedding unless untied)
    let positions: [Float]                // [T × D]
    let outNormW: [Float], outNormB: [Float]
    /// The weight source (kept alive: the matrices are views into it).
    let owner: AnyObject

    /// Builds the decoder from canonical tensors (`dec.*`, Formats/tensor-names-whisper.md); every shape is
    /// checked against `config`.
    public init(config c: WhisperConfig, weights: some WeightSource) throws(ModelError) {
        let d = c.nTextState
        guard c.nTextHead > 0, d % c.nTextHead == 0 else {
            throw .badConfig(key: "whisper.n_text_head", reason: "\(c.nTextHead) does not divide n_text_state \(d)")
        }
        config = c
        owner = weights
        typealias N = WhisperTensorNames
        tokenEmbedding = try weights.matrix(N.tokenEmbedding, rows: c.nVocab, cols: d)
        outputProjection = weights.tensor(named: "dec.output.weight") != nil
            ? try weights.matrix("dec.output.weight", rows: c.nVocab, cols: d) : tokenEmbedding
        positions = try weights.floats(N.positionEmbedding, shape: [c.nTextCtx, d])
        outNormW = try weights.floats(N.outputNormWeight, shape: [d])
        outNormB = try weights.floats(N.outputNormBias, shape: [d])
        guard let upView = weights.tensor(named: N.decoder(0, "ffn_up.weight")), upView.shape.count == 2 else {
            throw .missingTensor(N.decoder(0, "ffn_up.weight"))
        }
        let f = upView.shape[0]
        var blocks: [WhisperDecoderBlock] = []
        for l in 0..<c.nTextLayer {
            func m(_ p: String, _ rows: Int, _ cols: Int) throws(ModelError) -> WeightMatrix {
                try weights.matrix(N.decoder(l, p), rows: rows, cols: cols)
            }
            func vec(_ p: String, _ n: Int) throws(ModelError) -> [Float] { try weights.floats(N.decoder(l, p), shape: [n]) }
            blocks.append(WhisperDecoderBlock(
                attnNormW: try vec("attn_norm.weight", d), attnNormB: try vec("attn_norm.bias", d),
                q: try m("attn_q.weight", d, d), k: try m("attn_k.weight", d, d), v: try m("attn_v.weight", d, d),
                o: try m("attn_output.weight", d, d),
                qB: try vec("attn_q.bias", d), vB: try vec("attn_v.bias", d), oB: try vec("attn_output.bias", d),
                crossNormW: try vec("cross_norm.weight", d), crossNormB: try vec("cross_norm.bias", d),
                crossQ: try m("cross_q.weight", d, d), crossK: try m("cross_k.weight", d, d),
                crossV: try m("cross_v.weight", d, d), crossO: try m("cross_output.weight", d, d),
                crossQB: try vec("cross_q.bias", d), crossVB: try vec("cross_v.bias", d), crossOB: try vec("cross_output.bias", d),
                ffnNormW: try vec("ffn_norm.weight", d), ffnNormB: try vec("ffn_norm.bias", d),
                up: try m("ffn_up.weight", f, d), upB: try vec("ffn_up.bias", f),
                down: try m("ffn_down.weight", d, f), downB: try vec("ffn_down.bias", d)))
        }
        self.blocks = blocks
    }

    /// An empty KV cache for one hypothesis.
    public func makeState() -> WhisperDecoderState {
        WhisperDecoderState(layers: config.nTextLayer, capacity: config.nTextCtx, width: config.nTextState)
    }

    /// Cross-attention K/V from the encoder output `audio` [A × D] (after the encoder's post LayerNorm).
    public func crossCache(audio: [Float]) throws(ModelError) -> WhisperCrossCache {
        let d = config.nTextState
        guard audio.count % d == 0, audio.count > 0 else {
            throw .badInput("Whisper encoder output has \(audio.count) values, not a multiple of \(d)")
        }
        let a = audio.count / d
        var keys: [[Float]] = [], values: [[Float]] = []
        for b in blocks {
            var k = [Float](repeating: 0, count: a * d), v = k
            Kernels.matmul(b.crossK, audio, tokens: a, &k)
            Kernels.matmul(b.crossV, audio, tokens: a, &v)
            Kernels.addBias(&v, b.crossVB, rows: a, dim: d)
            keys.append(k)
            values.append(v)
        }
        return WhisperCrossCache(keys: keys, values: values, count: a)
    }

    /// Runs `rows` tokens through the decoder. Row i appends token `rows[i].token` to
    /// `states[rows[i].state]` (rows of one state in order, so a prompt is several rows of state 0) and
    /// attends causally to that state's cache. Returns logits [rows.count × V] for rows with `wantLogits`
    /// (in row order), so a prompt prefill only pays the vocabulary projection for its last row.
    /// `crossQueries`, when given, sees each layer's cross-attention queries [n × D] (before the attention):
    /// word timestamps read the alignment heads' scores from them.
    public func forward(rows: [(state: Int, token: Int)], states: inout [WhisperDecoderState],
                        cross: WhisperCrossCache, wantLogits: [Bool],
                        crossQueries: ((_ layer: Int, _ q: UnsafeBufferPointer<Float>) -> Void)? = nil) throws(ModelError) -> [[Float]] {
        let d = config.nTextState, h = config.nTextHead, dh = d / h, n = rows.count
        let scale = 1 / Float(dh).squareRoot()
        guard wantLogits.count == n else { throw .badInput("wantLogits has \(wantLogits.count) entries for \(n) rows") }
        // Positions of each row in its state.
        var pos = [Int](repeating: 0, count: n)
        var next = states.map(\.length)
        for (i, r) in rows.enumerated() {
            guard r.state >= 0 && r.state < states.count else { throw .badInput("row \(i) names state \(r.state) of \(states.count)") }
            guard r.token >= 0 && r.token < config.nVocab else { throw .badInput("token id \(r.token) outside the vocabulary of \(config.nVocab)") }
            pos[i] = next[r.state]
            next[r.state] += 1
            guard pos[i] < config.nTextCtx else { throw .contextFull(needed: pos[i] + 1, capacity: config.nTextCtx) }
        }

        // x [n × D] = token embedding + position embedding.
        var x = [Float](repeating: 0, count: n * d)
        x.withUnsafeMutableBufferPointer { xb in
            for (i, r) in rows.enumerated() {
                Reference.dequantizeRow(tokenEmbedding, r.token, xb.baseAddress! + i * d)
                for j in 0..<d { xb[i * d + j] += positions[pos[i] * d + j] }
            }
        }
        var hbuf = [Float](repeating: 0, count: n * d)
        var q = hbuf, k = hbuf, v = hbuf, att = hbuf, proj = hbuf
        let f = blocks.first?.up.rows ?? 4 * d
        var mid = [Float](repeating: 0, count: n * f)

        for (l, b) in blocks.enumerated() {
            // Self-attention: append this step's keys/values to each row's cache, attend to positions ≤ its own.
            Kernels.layerNorm(x, weight: b.attnNormW, bias: b.attnNormB, eps: 1e-5, rows: n, dim: d, &hbuf)
            Kernels.matmul(b.q, hbuf, tokens: n, &q); Kernels.addBias(&q, b.qB, rows: n, dim: d)
            Kernels.matmul(b.k, hbuf, tokens: n, &k)
            Kernels.matmul(b.v, hbuf, tokens: n, &v); Kernels.addBias(&v, b.vB, rows: n, dim: d)
            for (i, r) in rows.enumerated() {
                states[r.state].keys[l].replaceSubrange((pos[i] * d)..<((pos[i] + 1) * d), with: k[(i * d)..<((i + 1) * d)])
                states[r.state].values[l].replaceSubrange((pos[i] * d)..<((pos[i] + 1) * d), with: v[(i * d)..<((i + 1) * d)])
            }
            q.withUnsafeBufferPointer { qp in
                att.withUnsafeMutableBufferPointer { ap in
                    for (i, r) in rows.enumerated() {
                        states[r.state].keys[l].withUnsafeBufferPointer { kc in
                            states[r.state].values[l].withUnsafeBufferPointer { vc in
                                // Read-only use; KVStorage only has mutable cases.
                                Kernels.attention(q: qp.baseAddress! + i * d, qStride: d, tokens: 1, firstPosition: pos[i],
                                                  keys: .f32(UnsafeMutablePointer(mutating: kc.baseAddress!)),
                                                  values: .f32(UnsafeMutablePointer(mutating: vc.baseAddress!)), kvStride: d,
                                                  keyCount: pos[i] + 1, heads: h, headDim: dh, scale: scale, causal: false,
                                                  out: ap.baseAddress! + i * d, outStride: d)
                            }
                        }
                    }
                }
            }
            Kernels.matmul(b.o, att, tokens: n, &proj); Kernels.addBias(&proj, b.oB, rows: n, dim: d)
            for i in 0..<(n * d) { x[i] += proj[i] }

            // Cross-attention over the audio window (all rows at once; no mask).
            Kernels.layerNorm(x, weight: b.crossNormW, bias: b.crossNormB, eps: 1e-5, rows: n, dim: d, &hbuf)
            Kernels.matmul(b.crossQ, hbuf, tokens: n, &q); Kernels.addBias(&q, b.crossQB, rows: n, dim: d)
            if let crossQueries { q.withUnsafeBufferPointer { crossQueries(l, $0) } }
            cross.keys[l].withUnsafeBufferPointer { kc in
                cross.values[l].withUnsafeBufferPointer { vc in
                    Kernels.attention(q: q, qStride: d, tokens: n, firstPosition: 0,
                                      keys: .f32(UnsafeMutablePointer(mutating: kc.baseAddress!)),
                                      values: .f32(UnsafeMutablePointer(mutating: vc.baseAddress!)), kvStride: d, keyCount: cross.count, heads: h,
                                      headDim: dh, scale: scale, causal: false, out: &att, outStride: d)
                }
            }
            Kernels.matmul(b.crossO, att, tokens: n, &proj); Kernels.addBias(&proj, b.crossOB, rows: n, dim: d)
            for i in 0..<(n * d) { x[i] += proj[i] }

            // MLP.
            Kernels.layerNorm(x, weight: b.ffnNormW, bias: b.ffnNormB, eps: 1e-5, rows: n, dim: d, &hbuf)
            Kernels.matmul(b.up, hbuf, tokens: n, &mid); Kernels.addBias(&mid, b.upB, rows: n, dim: f)
            Kernels.gelu(&mid, count: n * f)
            Kernels.matmul(b.down, mid, tokens: n, &proj); Kernels.addBias(&proj, b.downB, rows: n, dim: d)
            for i in 0..<(n * d) { x[i] += proj[i] }
        }
        for (i, r) in rows.enumerated() { states[r.state].length = max(states[r.state].length, pos[i] + 1) }

        // Final norm and logits for the requested rows.
        let picked = (0..<n).filter { wantLogits[$0] }
        if picked.isEmpty { return [] }
        var sel = [Float](repeating: 0, count: picked.count * d)
        for (j, i) in picked.enumerated() { sel.replaceSubrange((j * d)..<((j + 1) * d), with: x[(i * d)..<((i + 1) * d)]) }
        var normed = sel
        Kernels.layerNorm(sel, weight: outNormW, bias: outNormB, eps: 1e-5, rows: picked.count, dim: d, &normed)
        var logits = [Float](repeating: 0, count: picked.count * config.nVocab)
        Kernels.matmul(outputProjection, normed, tokens: picked.count, &logits)
        return (0..<picked.count).map { Array(logits[($0 * config.nVocab)..<(($0 + 1) * config.nVocab)]) }
    }
}
