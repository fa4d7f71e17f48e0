// WhisperDecoder: Whisper's text decoder (pre-LN transformer: masked self-attention with a KV cache,
// cross-attention over the encoder output with K/V precomputed once per audio window, GELU MLP, final
// LayerNorm, logits through the tied token embedding). Search (greedy, beam) lives in WhisperSearch.swift.
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
    /// Whatever owns the tensor bytes (a mapped file, a WhisperTensorStore), kept alive with the decoder.
    let owner: AnyObject?

    /// Builds the decoder from canonical tensors; every shape is checked. The views must stay valid while
    /// the decoder lives: pass their owner as `owner` to tie the lifetimes together.
    public init(config c: WhisperConfig, tensors: WhisperTensorLookup, owner: AnyObject? = nil) throws(WhisperError) {
        let d = c.nTextState
        guard c.nTextHead > 0, d % c.nTextHead == 0 else { throw .badConfig("n_text_head \(c.nTextHead) does not divide \(d)") }
        config = c
        self.owner = owner
        typealias R = WhisperTensorReader
        typealias N = WhisperTensorNames
        tokenEmbedding = try R.matrix(tensors, N.tokenEmbedding, rows: c.nVocab, cols: d)
        outputProjection = tensors("dec.output.weight") != nil
            ? try R.matrix(tensors, "dec.output.weight", rows: c.nVocab, cols: d) : tokenEmbedding
        positions = try R.floats(tensors, N.positionEmbedding, shape: [c.nTextCtx, d])
        outNormW = try R.floats(tensors, N.outputNormWeight, shape: [d])
        outNormB = try R.floats(tensors, N.outputNormBias, shape: [d])
        guard let upView = tensors(N.decoder(0, "ffn_up.weight")), upView.shape.count == 2 else {
            throw .missingTensor(N.decoder(0, "ffn_up.weight"))
        }
        let f = upView.shape[0]
        var blocks: [WhisperDecoderBlock] = []
        for l in 0..<c.nTextLayer {
            func m(_ p: String, _ rows: Int, _ cols: Int) throws(WhisperError) -> WeightMatrix {
                try R.matrix(tensors, N.decoder(l, p), rows: rows, cols: cols)
            }
            func vec(_ p: String, _ n: Int) throws(WhisperError) -> [Float] { try R.floats(tensors, N.decoder(l, p), shape: [n]) }
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
    public func crossCache(audio: [Float]) throws(WhisperError) -> WhisperCrossCache {
        let d = config.nTextState
        guard audio.count % d == 0, audio.count > 0 else {
            throw .badShape(name: "encoder output", expected: [config.nAudioCtx, d], actual: [audio.count])
        }
        let a = audio.count / d
        var keys: [[Float]] = [], values: [[Float]] = []
        for b in blocks {
            var k = [Float](repeating: 0, count: a * d), v = k
            audio.withUnsafeBufferPointer { x in
                k.withUnsafeMutableBufferPointer { WhisperMath.linear(b.crossK, nil, x.baseAddress!, rows: a, $0.baseAddress!) }
                v.withUnsafeMutableBufferPointer { WhisperMath.linear(b.crossV, b.crossVB, x.baseAddress!, rows: a, $0.baseAddress!) }
            }
            keys.append(k)
            values.append(v)
        }
        return WhisperCrossCache(keys: keys, values: values, count: a)
    }

    /// Runs `rows` tokens through the decoder. Row i appends token `rows[i].token` to
    /// `states[rows[i].state]` (rows of one state in order, so a prompt is several rows of state 0) and
    /// attends causally to that state's cache. Returns logits [rows.count × V] for rows with `wantLogits`
    /// (in row order), so a prompt prefill only pays the vocabulary projection for its last row.
    public func forward(rows: [(state: Int, token: Int)], states: inout [WhisperDecoderState],
                        cross: WhisperCrossCache, wantLogits: [Bool]) -> [[Float]] {
        let d = config.nTextState, h = config.nTextHead, dh = d / h, n = rows.count
        let scale = 1 / Float(dh).squareRoot()
        // Positions of each row in its state.
        var pos = [Int](repeating: 0, count: n)
        var next = states.map(\.length)
        for (i, r) in rows.enumerated() { pos[i] = next[r.state]; next[r.state] += 1 }

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
        var scores = [Float](repeating: 0, count: max(config.nTextCtx, cross.count))

        for (l, b) in blocks.enumerated() {
            // Self-attention.
            x.withUnsafeBufferPointer { WhisperMath.layerNorm($0.baseAddress!, b.attnNormW, b.attnNormB, rows: n, n: d, &hbuf) }
            hbuf.withUnsafeBufferPointer { hp in
                WhisperMath.linear(b.q, b.qB, hp.baseAddress!, rows: n, &q)
                WhisperMath.linear(b.k, nil, hp.baseAddress!, rows: n, &k)
                WhisperMath.linear(b.v, b.vB, hp.baseAddress!, rows: n, &v)
            }
            for (i, r) in rows.enumerated() {
                states[r.state].keys[l].replaceSubrange((pos[i] * d)..<((pos[i] + 1) * d), with: k[(i * d)..<((i + 1) * d)])
                states[r.state].values[l].replaceSubrange((pos[i] * d)..<((pos[i] + 1) * d), with: v[(i * d)..<((i + 1) * d)])
            }
            q.withUnsafeBufferPointer { qp in
                att.withUnsafeMutableBufferPointer { ap in
                    for (i, r) in rows.enumerated() {
                        states[r.state].keys[l].withUnsafeBufferPointer { kc in
                            states[r.state].values[l].withUnsafeBufferPointer { vc in
                                for head in 0..<h {
                                    WhisperMath.attend(query: qp.baseAddress! + i * d + head * dh, keys: kc.baseAddress!,
                                                       values: vc.baseAddress!, count: pos[i] + 1, stride: d,
                                                       offset: head * dh, dh: dh, scale: scale, scores: &scores,
                                                       out: ap.baseAddress! + i * d + head * dh)
                                }
                            }
                        }
                    }
                }
            }
            att.withUnsafeBufferPointer { WhisperMath.linear(b.o, b.oB, $0.baseAddress!, rows: n, &proj) }
            for i in 0..<(n * d) { x[i] += proj[i] }

            // Cross-attention.
            x.withUnsafeBufferPointer { WhisperMath.layerNorm($0.baseAddress!, b.crossNormW, b.crossNormB, rows: n, n: d, &hbuf) }
            hbuf.withUnsafeBufferPointer { WhisperMath.linear(b.crossQ, b.crossQB, $0.baseAddress!, rows: n, &q) }
            cross.keys[l].withUnsafeBufferPointer { kc in
                cross.values[l].withUnsafeBufferPointer { vc in
                    q.withUnsafeBufferPointer { qp in
                        att.withUnsafeMutableBufferPointer { ap in
                            for i in 0..<n {
                                for head in 0..<h {
                                    WhisperMath.attend(query: qp.baseAddress! + i * d + head * dh, keys: kc.baseAddress!,
                                                       values: vc.baseAddress!, count: cross.count, stride: d,
                                                       offset: head * dh, dh: dh, scale: scale, scores: &scores,
                                                       out: ap.baseAddress! + i * d + head * dh)
                                }
                            }
                        }
                    }
                }
            }
            att.withUnsafeBufferPointer { WhisperMath.linear(b.crossO, b.crossOB, $0.baseAddress!, rows: n, &proj) }
            for i in 0..<(n * d) { x[i] += proj[i] }

            // MLP.
            x.withUnsafeBufferPointer { WhisperMath.layerNorm($0.baseAddress!, b.ffnNormW, b.ffnNormB, rows: n, n: d, &hbuf) }
            hbuf.withUnsafeBufferPointer { WhisperMath.linear(b.up, b.upB, $0.baseAddress!, rows: n, &mid) }
            WhisperMath.gelu(&mid, count: n * f)
            mid.withUnsafeBufferPointer { WhisperMath.linear(b.down, b.downB, $0.baseAddress!, rows: n, &proj) }
            for i in 0..<(n * d) { x[i] += proj[i] }
        }
        for (i, r) in rows.enumerated() { states[r.state].length = max(states[r.state].length, pos[i] + 1) }

        // Final norm and logits for the requested rows.
        let picked = (0..<n).filter { wantLogits[$0] }
        if picked.isEmpty { return [] }
        var sel = [Float](repeating: 0, count: picked.count * d)
        for (j, i) in picked.enumerated() { sel.replaceSubrange((j * d)..<((j + 1) * d), with: x[(i * d)..<((i + 1) * d)]) }
        var normed = sel
        sel.withUnsafeBufferPointer { WhisperMath.layerNorm($0.baseAddress!, outNormW, outNormB, rows: picked.count, n: d, &normed) }
        var logits = [Float](repeating: 0, count: picked.count * config.nVocab)
        normed.withUnsafeBufferPointer { WhisperMath.linear(outputProjection, nil, $0.baseAddress!, rows: picked.count, &logits) }
        return (0..<picked.count).map { Array(logits[($0 * config.nVocab)..<(($0 + 1) * config.nVocab)]) }
    }
}
