// SileroVAD: Silero VAD v6 (16 kHz) on Earshot's kernels — a speech probability for every 512-sample window,
// with the LSTM state and the 64-sample context carried from window to window exactly as faster-whisper's
// `SileroVADModel` (faster_whisper/vad.py) feeds the ONNX graph. No I/O: built from a WeightSource.
//
// Per window (config SileroVADConfig.v6; shapes per window, B windows are processed together):
//   x      [576]        = previous window's last 64 samples ++ the window's 512 (zeros before the first)
//   padded [832]        reflection padding of 128 each side
//   frames [4 × 256]    STFT frames 1…4 (frame 0 dropped), hop 128
//   spec   [4 × 258]    frames · basisᵀ (real | imaginary)         → mag [4 × 129] = √(re² + im²)
//   conv0  [4 × 128]    k3 p1 s1 + ReLU    conv1 [2 × 64] s2 + ReLU    conv2 [1 × 64] s2 + ReLU    conv3 [1 × 128] s1 + ReLU
//   LSTM   h, c [128]   gates = W_ih·x + W_hh·h + b (i, f, g, o); c = σf·c + σi·tanh g; h = σo·tanh c  (Kernels.lstmStep)
//   p               = σ(w_head · ReLU(h) + b_head)
// Everything except the LSTM recurrence is independent per window, so it runs as GEMMs over all the windows
// of a call (`Kernels.matmul`, threaded); only the LSTM step (W_hh·h and the gates) runs window by window,
// on one thread.
import EarshotKernels
import Foundation

/// The recurrent state between windows: LSTM h and c, and the last `contextSamples` samples seen.
public struct SileroVADState: Sendable, Equatable {
    /// [H]
    public var h: [Float]
    /// [H]
    public var c: [Float]
    /// [contextSamples]: the previous window's tail (zeros before the first window).
    public var context: [Float]
    /// Windows processed so far.
    public var windows: Int

    /// The state before the first window (all zeros), as faster-whisper starts every file.
    public init(config: SileroVADConfig) {
        h = [Float](repeating: 0, count: config.hidden)
        c = h
        context = [Float](repeating: 0, count: config.contextSamples)
        windows = 0
    }
}

public final class SileroVAD: @unchecked Sendable {   // immutable after init; `probabilities` is thread-safe
    public let config: SileroVADConfig
    private let source: WeightSource
    private let basis: WeightMatrix                 // [2F × L]
    private let convWeights: [WeightMatrix]         // [Cout × 3·Cin]
    private let convBiases: [[Float]]               // [Cout]
    private let wih: WeightMatrix, whh: WeightMatrix  // [4H × H]
    private let lstmBias: [Float]                   // [4H]
    private let headWeight: [Float]                 // [H]
    private let headBias: Float

    /// Windows processed per batch of GEMMs (bounds the scratch memory at ≈ 3 MB).
    static let batchWindows = 256

    /// Views the weights of `source` (kept alive) and checks every name, shape and type against `config`.
    public init(weights source: some WeightSource, config: SileroVADConfig = .v6) throws(ModelError) {
        try config.validate()
        self.config = config
        self.source = source
        typealias N = SileroVADTensorNames
        func matrix(_ name: String, _ rows: Int, _ cols: Int) throws(ModelError) -> WeightMatrix {
            let m = try source.matrix(name, rows: rows, cols: cols)
            guard m.type == .f32 || m.type == .f16 || m.type == .bf16 else {
                throw .unsupportedType(name: name, type: "\(m.type) (Silero VAD runs f32, f16 or bf16 weights)")
            }
            return m
        }
        let F = config.stftBins, H = config.hidden
        basis = try matrix(N.stftBasis, 2 * F, config.filterLength)
        var ws: [WeightMatrix] = [], bs: [[Float]] = []
        for l in 0..<config.convChannels.count {
            ws.append(try matrix(N.convWeight(l), config.convChannels[l], 3 * config.convInput(l)))
            bs.append(try source.floats(N.convBias(l), shape: [config.convChannels[l]]))
        }
        convWeights = ws
        convBiases = bs
        wih = try matrix(N.lstmInputWeight, 4 * H, H)
        whh = try matrix(N.lstmHiddenWeight, 4 * H, H)
        lstmBias = try source.floats(N.lstmBias, shape: [4 * H])
        headWeight = try source.floats(N.headWeight, shape: [1, H])
        headBias = try source.floats(N.headBias, shape: [1])[0]
    }

    /// A fresh state (all zeros).
    public func makeState() -> SileroVADState { SileroVADState(config: config) }

    /// Speech probabilities of consecutive windows: `samples.count` must be a multiple of `windowSamples`;
    /// `state` carries over from the previous call (start from `makeState()`).
    public func probabilities(_ samples: UnsafeBufferPointer<Float>, state: inout SileroVADState) throws(ModelError) -> [Float] {
        let W = config.windowSamples
        guard samples.count % W == 0 else {
            throw .badInput("Silero VAD takes whole windows of \(W) samples, got \(samples.count) samples")
        }
        guard state.h.count == config.hidden, state.c.count == config.hidden, state.context.count == config.contextSamples else {
            throw .badInput("Silero VAD state has the wrong sizes (h \(state.h.count), c \(state.c.count), context \(state.context.count))")
        }
        var scratch: Scratch? = nil
        return process(samples, state: &state, scratch: &scratch)
    }

    /// `probabilities` without the checks (the caller guarantees whole windows and a state of this config).
    /// `scratch` is reused when it is big enough for a batch (a stream keeps one), else replaced.
    func process(_ samples: UnsafeBufferPointer<Float>, state: inout SileroVADState, scratch cached: inout Scratch?) -> [Float] {
        let W = config.windowSamples
        let n = samples.count / W
        var out = [Float](repeating: 0, count: n)
        guard n > 0, let base = samples.baseAddress else { return out }
        let want = min(n, Self.batchWindows)
        var scratch: Scratch
        if let c = cached, c.windows >= want { scratch = c } else { scratch = Scratch(config, windows: want) }
        cached = nil                     // the only reference while it runs: no copy-on-write
        defer { cached = scratch }
        var done = 0
        while done < n {
            let b = min(Self.batchWindows, n - done)
            out.withUnsafeMutableBufferPointer { o in
                run(base + done * W, windows: b, state: &state, scratch: &scratch, out: o.baseAddress! + done)
            }
            done += b
        }
        return out
    }

    /// Probabilities of a whole signal exactly as faster-whisper's `get_speech_timestamps` computes them:
    /// zero-padded to the next multiple of 512 (a whole extra window when it already is one), the last
    /// window's final `contextSamples` samples zeroed (faster-whisper zeroes them in place while it builds
    /// the contexts), fresh state. One value per window: ⌊count / 512⌋ + 1 values.
    public func speechProbabilities(_ audio: [Float]) -> [Float] {
        var stream = SileroVADStream(model: self)
        var p = audio.withUnsafeBufferPointer { stream.push($0) }
        p += stream.finish()
        return p
    }

    // MARK: the network

    /// Buffers for one batch of B windows.
    struct Scratch {
        let windows: Int      // B
        var padded: [Float]   // [Lp]
        var frames: [Float]   // [B·Tf × L]
        var spec: [Float]     // [B·Tf × 2F]
        var act: [Float]      // [B·T × C], the widest conv input/output
        var act2: [Float]
        var cols: [Float]     // [B·Tout × 3·Cin], im2col
        var gates: [Float]    // [B × 4H]
        var rec: [Float]      // [4H]

        init(_ c: SileroVADConfig, windows B: Int) {
            windows = B
            let tf = c.stftFrames
            var widest = tf * c.stftBins, widestCols = 0
            var t = tf
            for l in 0..<c.convChannels.count {
                let to = (t - 1) / c.convStrides[l] + 1
                widest = max(widest, to * c.convChannels[l])
                widestCols = max(widestCols, to * 3 * c.convInput(l))
                t = to
            }
            padded = [Float](repeating: 0, count: c.inputSamples + 2 * c.stftPad)
            frames = [Float](repeating: 0, count: B * tf * c.filterLength)
            spec = [Float](repeating: 0, count: B * tf * 2 * c.stftBins)
            act = [Float](repeating: 0, count: B * widest)
            act2 = act
            cols = [Float](repeating: 0, count: B * widestCols)
            gates = [Float](repeating: 0, count: B * 4 * c.hidden)
            rec = [Float](repeating: 0, count: 4 * c.hidden)
        }
    }

    /// B consecutive windows at `x` (B·512 samples) → B probabilities at `out`; updates `state`.
    private func run(_ x: UnsafePointer<Float>, windows B: Int, state: inout SileroVADState, scratch s: inout Scratch,
                     out: UnsafeMutablePointer<Float>) {
        let c = config
        let W = c.windowSamples, C = c.contextSamples, n = c.inputSamples, P = c.stftPad, L = c.filterLength
        let F = c.stftBins, tf = c.stftFrames, H = c.hidden

        // 1. Frames: for each window, [context | window] reflection-padded, frames d… copied out.
        s.padded.withUnsafeMutableBufferPointer { pb in
            s.frames.withUnsafeMutableBufferPointer { fb in
                let p = pb.baseAddress!
                for b in 0..<B {
                    let row = p + P                                           // row[0..<n] = context ++ window
                    if b == 0 {
                        state.context.withUnsafeBufferPointer { row.update(from: $0.baseAddress!, count: C) }
                    } else {
                        row.update(from: x + b * W - C, count: C)
                    }
                    (row + C).update(from: x + b * W, count: W)
                    for j in 0..<P { p[P - 1 - j] = row[j + 1]; p[P + n + j] = row[n - 2 - j] }
                    for t in 0..<tf {
                        (fb.baseAddress! + (b * tf + t) * L).update(from: p + (t + c.droppedFrames) * c.hop, count: L)
                    }
                }
            }
        }
        // Context for the next call: the last window's tail.
        for j in 0..<C { state.context[j] = x[B * W - C + j] }

        // 2. STFT magnitude [B·Tf × F].
        s.frames.withUnsafeBufferPointer { fb in
            s.spec.withUnsafeMutableBufferPointer { sb in Kernels.matmul(basis, fb.baseAddress!, tokens: B * tf, sb.baseAddress!) }
        }
        s.spec.withUnsafeBufferPointer { sb in
            s.act.withUnsafeMutableBufferPointer { ab in
                for r in 0..<(B * tf) {
                    let re = sb.baseAddress! + r * 2 * F, im = re + F, m = ab.baseAddress! + r * F
                    for f in 0..<F { m[f] = (re[f] * re[f] + im[f] * im[f]).squareRoot() }
                }
            }
        }

        // 3. Encoder convs (k3, p1) + ReLU, time-major [B × T × C] per window.
        var t = tf
        for l in 0..<convWeights.count {
            let cin = c.convInput(l), cout = c.convChannels[l], stride = c.convStrides[l]
            let to = (t - 1) / stride + 1
            s.act.withUnsafeBufferPointer { ab in
                s.cols.withUnsafeMutableBufferPointer { cb in
                    // cols[b·To + o, k·Cin + ch] = act[b·T + (o·stride + k − 1), ch]  (zero outside the window)
                    for b in 0..<B {
                        for o in 0..<to {
                            let dst = cb.baseAddress! + (b * to + o) * 3 * cin
                            for k in 0..<3 {
                                let src = o * stride + k - 1
                                if src < 0 || src >= t { (dst + k * cin).update(repeating: 0, count: cin) }
                                else { (dst + k * cin).update(from: ab.baseAddress! + (b * t + src) * cin, count: cin) }
                            }
                        }
                    }
                }
            }
            s.cols.withUnsafeBufferPointer { cb in
                s.act2.withUnsafeMutableBufferPointer { yb in
                    Kernels.matmul(convWeights[l], cb.baseAddress!, tokens: B * to, yb.baseAddress!)
                    convBiases[l].withUnsafeBufferPointer { bias in
                        for r in 0..<(B * to) {
                            let y = yb.baseAddress! + r * cout
                            for ch in 0..<cout { y[ch] = max(y[ch] + bias[ch], 0) }
                        }
                    }
                }
            }
            swap(&s.act, &s.act2)
            t = to
        }
        // s.act: [B × H] (one frame per window).

        // 4. LSTM input projections (+ both biases) for all windows, then the recurrence window by window.
        s.act.withUnsafeBufferPointer { ab in
            s.gates.withUnsafeMutableBufferPointer { gb in
                Kernels.matmul(wih, ab.baseAddress!, tokens: B, gb.baseAddress!)
                lstmBias.withUnsafeBufferPointer { Kernels.addBias(gb.baseAddress!, $0.baseAddress!, rows: B, dim: 4 * H) }
            }
        }
        s.gates.withUnsafeBufferPointer { gb in
            s.rec.withUnsafeMutableBufferPointer { rb in
                state.h.withUnsafeMutableBufferPointer { hb in
                    state.c.withUnsafeMutableBufferPointer { cb in
                        headWeight.withUnsafeBufferPointer { hw in
                            let h = hb.baseAddress!
                            for b in 0..<B {
                                Kernels.lstmStep(pre: gb.baseAddress! + b * 4 * H, w: whh, h: h, c: cb.baseAddress!, scratch: rb.baseAddress!)
                                var logit = headBias
                                for j in 0..<H { logit += hw[j] * max(h[j], 0) }
                                out[b] = Self.sigmoid(logit)
                            }
                        }
                    }
                }
            }
        }
        state.windows += B
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
}

/// Feeds a signal to the VAD in pieces of any length (a file streamed block by block): complete windows are
/// processed as they arrive (a partial one waits for the next piece); `finish()` pads the last one as
/// faster-whisper does. The probabilities equal `SileroVAD.speechProbabilities` of the whole signal.
public struct SileroVADStream {
    public let model: SileroVAD
    public private(set) var state: SileroVADState
    /// Samples of the current, incomplete window (< windowSamples).
    private var pending: [Float] = []
    /// GEMM buffers, kept between pushes.
    private var scratch: SileroVAD.Scratch? = nil

    public init(model: SileroVAD) {
        self.model = model
        state = model.makeState()
    }

    /// Windows processed so far (= probabilities returned so far).
    public var windows: Int { state.windows }

    /// Appends samples; returns the probabilities of the windows they complete (in order).
    public mutating func push(_ samples: UnsafeBufferPointer<Float>) -> [Float] {
        let W = model.config.windowSamples
        var out: [Float] = []
        var i = 0
        if !pending.isEmpty {
            let take = min(W - pending.count, samples.count)
            pending += samples[0..<take]
            i = take
            guard pending.count == W else { return [] }
            out += pending.withUnsafeBufferPointer { model.process($0, state: &state, scratch: &scratch) }
            pending.removeAll(keepingCapacity: true)
        }
        let whole = (samples.count - i) / W * W
        if whole > 0 {
            out += model.process(UnsafeBufferPointer(rebasing: samples[i..<(i + whole)]), state: &state, scratch: &scratch)
        }
        pending += samples[(i + whole)...]
        return out
    }

    /// The final window, as faster-whisper builds it: the pending samples zero-padded to a window (an all-zero
    /// window when none are pending), its last `contextSamples` samples zeroed. Returns its probability; the
    /// stream can then be reused for a new signal only after `reset()`.
    public mutating func finish() -> [Float] {
        let W = model.config.windowSamples, C = model.config.contextSamples
        var last = pending + [Float](repeating: 0, count: W - pending.count)
        for j in (W - C)..<W { last[j] = 0 }
        pending.removeAll()
        return last.withUnsafeBufferPointer { model.process($0, state: &state, scratch: &scratch) }
    }

    /// Back to the state before the first window.
    public mutating func reset() {
        state = model.makeState()
        pending.removeAll()
    }
}
