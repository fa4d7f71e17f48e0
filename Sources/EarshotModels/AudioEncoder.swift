// AudioEncoder: the Whisper-style audio encoder of Qwen-Audio (audio.py `AudioEncoder`), also usable as a
// plain Whisper encoder (config without avg-pool, projection and bos/eos).
//
//   mel [n_mels × frames] (channel-major, as the front-end makes it)
//   → crop to 2·L1 frames → conv1 (k3 s1) → GELU → conv2 (k3 s2) → GELU → + pos_embd[0..<L1]   x: [L1 × S]
//   → n_layer pre-LN blocks: x += out(attn(LN(x)))  (q, v, out with bias; k without), x += MLP(LN(x))
//   → avg-pool(2) → ln_post → proj → [N × D] → span [bos, a_1 … a_N, eos]: [(N+2) × D]
//
// Several audios of one prompt are encoded by the reference as one padded batch: every mel is cropped to the
// longest 2·L1, so a shorter audio's conv1 sees the next real mel frame (from its padded region) at its crop edge;
// its frames ≥ L1 are zeroed and masked as keys, so they influence nothing else. `encode(_:batched: true)`
// reproduces exactly that by feeding conv1 one extra frame; `batched: false` encodes each audio alone.
// Qwen2-Audio (`audioTokenId` set; transformers `Qwen2AudioEncoder`) runs every audio over its whole padded
// 3000-frame mel with the keys ≥ L1 masked: the same as cropping, with conv1 reading the padding frame after
// the crop; its output is [N × D] (no bos/eos vectors: `<|audio_bos|>`/`<|audio_eos|>` are text tokens).
import EarshotKernels
import Foundation

public final class AudioEncoder: @unchecked Sendable {   // immutable after init
    /// One audio's log-mel: [nMels × frames] channel-major. `melLength` = valid frames (L // 160); `frames`
    /// may be more (the front-end pads to 3000) and must cover the frames the crop reads.
    public struct Mel: Sendable {
        public let values: [Float]
        public let frames: Int
        public let melLength: Int
        public init(values: [Float], frames: Int, melLength: Int) {
            self.values = values; self.frames = frames; self.melLength = melLength
        }
    }

    struct Block {
        let attnNormW, attnNormB: [Float]
        let q: WeightMatrix, qBias: [Float]
        let k: WeightMatrix
        let v: WeightMatrix, vBias: [Float]
        let out: WeightMatrix, outBias: [Float]
        let ffnNormW, ffnNormB: [Float]
        let up: WeightMatrix, upBias: [Float]
        let down: WeightMatrix, downBias: [Float]
    }

    public let config: AudioEncoderConfig
    let conv1: WeightMatrix, conv1Bias: [Float]       // [S × 3·M]
    let conv2: WeightMatrix, conv2Bias: [Float]       // [S × 3·S]
    let posEmbd: [Float]                               // [C × S]
    let blocks: [Block]
    let postNormW, postNormB: [Float]
    let proj: WeightMatrix?, projBias: [Float]         // [D × S]
    let bosEos: [Float]                                // [2 × D] or empty
    private let owner: AnyObject

    /// Views every tensor `prefix`… of `weights` (canonical names) and checks its shape against `config`.
    public init(config: AudioEncoderConfig, weights: some WeightSource, prefix: String = "audio.") throws(ModelError) {
        try config.validate()
        let S = config.nState, M = config.nMels, D = config.outputDim
        func name(_ p: String) -> String { TensorNames.audio(p, prefix: prefix) }
        self.config = config
        owner = weights
        conv1 = try weights.matrix(name("conv1.weight"), rows: S, cols: 3 * M)
        conv1Bias = try weights.floats(name("conv1.bias"), shape: [S])
        conv2 = try weights.matrix(name("conv2.weight"), rows: S, cols: 3 * S)
        conv2Bias = try weights.floats(name("conv2.bias"), shape: [S])
        posEmbd = try weights.floats(name("pos_embd.weight"), shape: [config.nCtx, S])
        var blocks: [Block] = []
        for l in 0..<config.nLayer {
            func b(_ p: String) -> String { TensorNames.audioBlock(l, p, prefix: prefix) }
            blocks.append(Block(
                attnNormW: try weights.floats(b("attn_norm.weight"), shape: [S]),
                attnNormB: try weights.floats(b("attn_norm.bias"), shape: [S]),
                q: try weights.matrix(b("attn_q.weight"), rows: S, cols: S), qBias: try weights.floats(b("attn_q.bias"), shape: [S]),
                k: try weights.matrix(b("attn_k.weight"), rows: S, cols: S),
                v: try weights.matrix(b("attn_v.weight"), rows: S, cols: S), vBias: try weights.floats(b("attn_v.bias"), shape: [S]),
                out: try weights.matrix(b("attn_output.weight"), rows: S, cols: S),
                outBias: try weights.floats(b("attn_output.bias"), shape: [S]),
                ffnNormW: try weights.floats(b("ffn_norm.weight"), shape: [S]),
                ffnNormB: try weights.floats(b("ffn_norm.bias"), shape: [S]),
                up: try weights.matrix(b("ffn_up.weight"), rows: 4 * S, cols: S),
                upBias: try weights.floats(b("ffn_up.bias"), shape: [4 * S]),
                down: try weights.matrix(b("ffn_down.weight"), rows: S, cols: 4 * S),
                downBias: try weights.floats(b("ffn_down.bias"), shape: [S])))
        }
        self.blocks = blocks
        postNormW = try weights.floats(name("post_norm.weight"), shape: [S])
        postNormB = try weights.floats(name("post_norm.bias"), shape: [S])
        if config.projection {
            proj = try weights.matrix(name("proj.weight"), rows: D, cols: S)
            projBias = try weights.floats(name("proj.bias"), shape: [D])
        } else {
            proj = nil; projBias = []
        }
        bosEos = config.bosEos ? try weights.floats(name("bos_eos.weight"), shape: [2, D]) : []
    }

    /// Encodes every audio of one prompt. Returns per audio its span [(N+2) × D] row-major (with bos/eos), or
    /// [N × D] without them. `batched: true` matches the reference's one-batch encode of a multi-audio prompt.
    public func encode(_ mels: [Mel], batched: Bool = true, probe: Probe? = nil) throws(ModelError) -> [[Float]] {
        let maxCrop = mels.map { 2 * AudioEncoderConfig.encoderFrames(melLength: $0.melLength) }.max() ?? 0
        var spans: [[Float]] = []
        for (i, mel) in mels.enumerated() {
            let l1 = AudioEncoderConfig.encoderFrames(melLength: mel.melLength)
            let crop = 2 * l1
            // Qwen2-Audio: each audio alone against its own padded 3000-frame mel (conv1 sees the frame after
            // the crop unless the crop is the whole window).
            // (A mel shorter than its crop is refused in encodeOne: inFrames never drops below the crop.)
            let inFrames = config.audioTokenId != nil ? max(crop, min(crop + 1, mel.frames))
                : batched ? min(crop + 1, maxCrop) : crop
            spans.append(try encodeOne(mel, index: i, inFrames: inFrames, probe: probe))
        }
        return spans
    }

    /// One audio: conv1 reads `inFrames` mel frames (2·L1, or 2·L1 + 1 to see the batch neighbour frame).
    func encodeOne(_ mel: Mel, index: Int, inFrames: Int, probe: Probe?) throws(ModelError) -> [Float] {
        let M = config.nMels, S = config.nState, D = config.outputDim
        let l1 = AudioEncoderConfig.encoderFrames(melLength: mel.melLength)
        let crop = 2 * l1
        guard l1 > 0 else { throw .badInput("audio \(index): mel length \(mel.melLength) gives no encoder frames") }
        guard l1 <= config.nCtx else {
            throw .badInput("audio \(index): \(l1) encoder frames exceed the positional table (\(config.nCtx))")
        }
        guard mel.values.count == M * mel.frames else {
            throw .badInput("audio \(index): \(mel.values.count) mel values for [\(M) × \(mel.frames)]")
        }
        guard mel.frames >= inFrames else {
            throw .badInput("audio \(index): the encoder reads \(inFrames) mel frames, only \(mel.frames) given (pass the padded 3000-frame mel)")
        }
        // x0 [inFrames × M] time-major
        var x0 = [Float](repeating: 0, count: inFrames * M)
        mel.values.withUnsafeBufferPointer { m in
            for c in 0..<M { for t in 0..<inFrames { x0[t * M + c] = m[c * mel.frames + t] } }
        }
        // conv1 → [inFrames × S]; only the first `crop` frames feed conv2.
        var c1 = [Float](repeating: 0, count: inFrames * S)
        var scratch = [Float](repeating: 0, count: max(inFrames * 3 * M, l1 * 3 * S))
        Kernels.conv1dK3(x0, inFrames: inFrames, inChannels: M, stride: 1, weight: conv1, bias: conv1Bias, &c1, scratch: &scratch)
        emit(probe, "audio.\(index).conv1_out", [crop, S], c1)
        Kernels.gelu(&c1, count: crop * S)
        var x = [Float](repeating: 0, count: l1 * S)
        Kernels.conv1dK3(c1, inFrames: crop, inChannels: S, stride: 2, weight: conv2, bias: conv2Bias, &x, scratch: &scratch)
        emit(probe, "audio.\(index).conv2_out", [l1, S], x)
        Kernels.gelu(&x, count: l1 * S)
        accumulate(&x, posEmbd, count: l1 * S)
        emit(probe, "audio.\(index).blocks_in", [l1, S], x)

        try runBlocks(&x, frames: l1, index: index, probe: probe)

        var frames = l1
        if config.avgPool {
            var pooled = [Float](repeating: 0, count: (l1 / 2) * S)
            Kernels.avgPool2(x, frames: l1, channels: S, &pooled)
            x = pooled
            frames = l1 / 2
            emit(probe, "audio.\(index).pooled", [frames, S], x)
        }
        var normed = [Float](repeating: 0, count: frames * S)
        Kernels.layerNorm(x, weight: postNormW, bias: postNormB, eps: config.layerNormEps, rows: frames, dim: S, &normed)
        emit(probe, "audio.\(index).ln_post_out", [frames, S], normed)
        var out: [Float]
        if let proj {
            out = [Float](repeating: 0, count: frames * D)
            Kernels.matmul(proj, normed, tokens: frames, &out)
            Kernels.addBias(&out, projBias, rows: frames, dim: D)
            emit(probe, "audio.\(index).proj_out", [frames, D], out)
        } else {
            out = normed
        }
        if config.bosEos {
            out = Array(bosEos[0..<D]) + out + Array(bosEos[D..<(2 * D)])
            emit(probe, "audio.span.\(index)", [frames + 2, D], out)
        }
        return out
    }

    /// The pre-LN blocks over x [frames × S], in place.
    func runBlocks(_ x: inout [Float], frames L: Int, index: Int, probe: Probe?) throws(ModelError) {
        let S = config.nState, heads = config.nHead, hd = S / heads
        var h = [Float](repeating: 0, count: L * S)
        var q = h, k = h, v = h, att = h, o = h
        var u = [Float](repeating: 0, count: L * 4 * S)
        let scale = 1 / Float(hd).squareRoot()
        for (l, b) in blocks.enumerated() {
            Kernels.layerNorm(x, weight: b.attnNormW, bias: b.attnNormB, eps: config.layerNormEps, rows: L, dim: S, &h)
            Kernels.matmul(b.q, h, tokens: L, &q); Kernels.addBias(&q, b.qBias, rows: L, dim: S)
            Kernels.matmul(b.k, h, tokens: L, &k)
            Kernels.matmul(b.v, h, tokens: L, &v); Kernels.addBias(&v, b.vBias, rows: L, dim: S)
            k.withUnsafeMutableBufferPointer { kb in v.withUnsafeMutableBufferPointer { vb in
                Kernels.attention(q: q, qStride: S, tokens: L, firstPosition: 0, keys: .f32(kb.baseAddress!),
                                  values: .f32(vb.baseAddress!), kvStride: S, keyCount: L, heads: heads, headDim: hd,
                                  scale: scale, causal: false, out: &att, outStride: S)
            } }
            Kernels.matmul(b.out, att, tokens: L, &o); Kernels.addBias(&o, b.outBias, rows: L, dim: S)
            accumulate(&x, o, count: L * S)
            Kernels.layerNorm(x, weight: b.ffnNormW, bias: b.ffnNormB, eps: config.layerNormEps, rows: L, dim: S, &h)
            Kernels.matmul(b.up, h, tokens: L, &u); Kernels.addBias(&u, b.upBias, rows: L, dim: 4 * S)
            Kernels.gelu(&u, count: L * 4 * S)
            Kernels.matmul(b.down, u, tokens: L, &o); Kernels.addBias(&o, b.downBias, rows: L, dim: S)
            accumulate(&x, o, count: L * S)
            emit(probe, "audio.\(index).blocks.\(l).out", [L, S], x)
        }
    }
}
