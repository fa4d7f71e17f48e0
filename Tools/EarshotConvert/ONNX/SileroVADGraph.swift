// SileroVADGraph: recognises the Silero VAD v6 graph in an ONNX model and takes out its weights under the
// canonical names (EarshotModels/SileroVADConfig.swift, Formats/tensor-names-silero-vad.md).
//
// The graph it accepts is the 16 kHz export faster-whisper 1.2.1 ships (`silero_vad_v6.onnx`, opset 18,
// inputs `input` [N, 576], `h`/`c` [1, 1, 128]; the N windows are the LSTM's sequence), node by node:
//   Pad(reflect, P) → Unsqueeze(1) → Conv(basis [2F,1,L], stride hop)               the STFT as a conv
//   → Slice(ch 0..<F, frames d…) / Slice(ch F..<2F, frames d…) → Pow 2 → Add → Sqrt   its magnitude
//   → (Conv k3 p1 stride s → Relu) × n                                              encoder
//   → Transpose(0,2,1) → LSTM(H, initial h/c = the graph inputs) → Squeeze(1) → Relu
//   → Transpose(1,2,0) → Conv 1×1 → Sigmoid → Reshape(-1)                           head: one probability per window
// Every attribute and constant on the way is checked; a node the walk does not reach, an `If` (the
// silero-vad package's 8k/16k export), an unknown op or an unexpected shape is refused by name.
//
// Conversion-time transforms: conv weights [O, C, 3] → im2col [O, 3·C]; the LSTM's gates from ONNX order
// (i, o, f, c) to PyTorch order (i, f, g, o) and its two biases summed; the basis and head reshaped to 2-D.
import EarshotModels
import Foundation

/// The weights and hyperparameters of one Silero VAD model, in canonical names and layouts (all f32).
public struct SileroVADCheckpoint: Sendable {
    public var config: SileroVADConfig
    public var tensors: [(name: String, shape: [Int], values: [Float])]
    /// ONNX producer ("pytorch 2.8.0") and opset, for the metadata.
    public var producer: String
    public var opset: Int64
}

public enum SileroVADGraph {
    /// Reads the ONNX file at `path` and extracts the model.
    public static func load(path: String) throws(ConvertError) -> SileroVADCheckpoint {
        try extract(try ONNXModel(path: path))
    }

    /// Recognises the graph of `model` and extracts the model.
    public static func extract(_ model: ONNXModel) throws(ConvertError) -> SileroVADCheckpoint {
        var w = GraphWalk(model)
        return try w.run()
    }
}

/// One pass over the top-level graph, following tensors from the input to the outputs.
struct GraphWalk {
    let model: ONNXModel
    let g: ONNXGraph
    var producers: [String: Int] = [:]
    var consumers: [String: [Int]] = [:]
    var visited = Set<Int>()

    init(_ model: ONNXModel) {
        self.model = model
        g = model.graph
        for (i, n) in g.nodes.enumerated() {
            for o in n.outputs where !o.isEmpty { producers[o] = i }
            for x in n.inputs where !x.isEmpty { consumers[x, default: []].append(i) }
        }
    }

    func refuse(_ reason: String) -> ConvertError { .unsupportedONNX(path: model.path, reason: reason) }

    func describe(_ n: ONNXNode) -> String { "\(n.opType) node '\(n.name)'" }

    /// The only node reading `tensor`, which must be a `op`.
    mutating func next(_ tensor: String, _ op: String, _ what: String) throws(ConvertError) -> ONNXNode {
        let users = consumers[tensor] ?? []
        guard users.count == 1 else {
            throw refuse("expected one \(op) node (\(what)) reading '\(tensor)', found \(users.count) readers")
        }
        return try take(users[0], op, what)
    }

    mutating func take(_ index: Int, _ op: String, _ what: String) throws(ConvertError) -> ONNXNode {
        let n = g.nodes[index]
        guard n.opType == op && (n.domain.isEmpty || n.domain == "ai.onnx") else {
            throw refuse("expected a \(op) node (\(what)), found \(describe(n))")
        }
        guard !visited.contains(index) else { throw refuse("\(describe(n)) is reached twice (the graph has a cycle)") }
        visited.insert(index)
        return n
    }

    /// A constant input: an initializer or the `value` of a Constant node.
    mutating func constant(_ name: String, _ what: String) throws(ConvertError) -> ONNXTensor {
        if let t = g.initializer(name) { return t }
        if let p = producers[name], g.nodes[p].opType == "Constant", let t = g.nodes[p].attribute("value")?.t {
            visited.insert(p)
            return t
        }
        throw refuse("\(what) '\(name)' is not a constant")
    }

    mutating func intsConstant(_ name: String, _ what: String) throws(ConvertError) -> [Int64] {
        try model.integers(try constant(name, what))
    }

    func input(_ n: ONNXNode, _ i: Int) -> String { i < n.inputs.count ? n.inputs[i] : "" }

    /// An ints attribute, or `default` when absent.
    func ints(_ n: ONNXNode, _ name: String, default d: [Int64]? = nil) throws(ConvertError) -> [Int64]? {
        guard let a = n.attribute(name) else { return d }
        guard a.kind == .ints else { throw refuse("\(describe(n)): attribute \(name) is not a list of integers") }
        return a.ints
    }

    func int(_ n: ONNXNode, _ name: String, default d: Int64) throws(ConvertError) -> Int64 {
        guard let a = n.attribute(name) else { return d }
        guard a.kind == .int else { throw refuse("\(describe(n)): attribute \(name) is not an integer") }
        return a.i
    }

    func string(_ n: ONNXNode, _ name: String) throws(ConvertError) -> String? {
        guard let a = n.attribute(name) else { return nil }
        guard a.kind == .string else { throw refuse("\(describe(n)): attribute \(name) is not a string") }
        return String(decoding: a.s, as: UTF8.self)
    }

    func require(_ ok: Bool, _ n: ONNXNode, _ reason: String) throws(ConvertError) {
        if !ok { throw refuse("\(describe(n)): \(reason)") }
    }

    /// Only the listed attributes may be present.
    func onlyAttributes(_ n: ONNXNode, _ allowed: Set<String>) throws(ConvertError) {
        for a in n.attributes where !allowed.contains(a.name) {
            throw refuse("\(describe(n)): attribute \(a.name) is not supported here")
        }
    }

    /// Float values of a weight with the given dims, all finite.
    mutating func weight(_ name: String, dims: [Int], _ what: String) throws(ConvertError) -> [Float] {
        let t = try constant(name, what)
        guard t.dims == dims else { throw refuse("\(what) '\(name)' has shape \(t.dims), expected \(dims)") }
        let v = try model.floats(t)
        guard v.allSatisfy({ $0.isFinite }) else { throw refuse("\(what) '\(name)' holds NaN or infinite values") }
        return v
    }

    /// Checks a Conv node's attributes: 1-D, kernel `k`, stride `stride`, symmetric padding `pad`, no dilation, one group.
    func checkConv(_ n: ONNXNode, k: Int, stride: Int, pad: Int) throws(ConvertError) {
        try onlyAttributes(n, ["dilations", "group", "kernel_shape", "pads", "strides", "auto_pad"])
        try require(try ints(n, "kernel_shape", default: [Int64(k)]) == [Int64(k)], n, "kernel_shape must be [\(k)]")
        try require(try ints(n, "strides", default: [1]) == [Int64(stride)], n, "strides must be [\(stride)]")
        try require(try ints(n, "pads", default: [0, 0]) == [Int64(pad), Int64(pad)], n, "pads must be [\(pad), \(pad)]")
        try require(try ints(n, "dilations", default: [1]) == [1], n, "dilations must be [1]")
        try require(try int(n, "group", default: 1) == 1, n, "group must be 1")
        let autoPad = try string(n, "auto_pad") ?? "NOTSET"
        try require(autoPad == "NOTSET", n, "auto_pad \(autoPad) is not supported")
    }

    /// The stride attribute of a conv (1 when absent).
    func stride(_ n: ONNXNode) throws(ConvertError) -> Int {
        guard let s = try ints(n, "strides", default: [1]), s.count == 1, s[0] >= 1, s[0] <= 4096 else {
            throw refuse("\(describe(n)): strides must be one value in 1…4096")
        }
        return Int(s[0])
    }

    /// Axes of an Unsqueeze/Squeeze (input 1 from opset 13, attribute before).
    mutating func axes(_ n: ONNXNode) throws(ConvertError) -> [Int64] {
        if !input(n, 1).isEmpty { return try intsConstant(input(n, 1), "\(n.opType) axes") }
        return try ints(n, "axes") ?? []
    }

    func perm(_ n: ONNXNode) throws(ConvertError) -> [Int64] {
        try onlyAttributes(n, ["perm"])
        return try ints(n, "perm") ?? []
    }

    // MARK: the walk

    mutating func run() throws(ConvertError) -> SileroVADCheckpoint {
        guard g.sparseInitializerCount == 0 else { throw refuse("sparse initializers are not supported") }
        if let n = g.nodes.first(where: { $0.opType == "If" || $0.opType == "Loop" }) {
            throw refuse("the graph has \(n.opType) nodes (e.g. '\(n.name)'): this is not the 16 kHz batch export of Silero VAD v6 "
                + "that faster-whisper 1.2.1 ships (faster_whisper/assets/silero_vad_v6.onnx); the silero-vad package's "
                + "8k/16k model is not supported")
        }
        let initializerNames = Set(g.initializers.map(\.name))
        let inputs = g.inputs.filter { !initializerNames.contains($0.name) }
        guard inputs.count == 3, g.outputs.count == 3 else {
            throw refuse("expected 3 inputs (samples, h, c) and 3 outputs (probabilities, h, c), found \(inputs.count) and \(g.outputs.count) "
                + "(inputs: \(inputs.map(\.name)))")
        }
        let signal = inputs[0], hIn = inputs[1], cIn = inputs[2]
        for v in inputs where v.elementType != 1 { throw refuse("input '\(v.name)' is not float32") }

        // STFT: reflection pad, unsqueeze, conv with the fixed basis.
        let pad = try next(signal.name, "Pad", "reflection padding of the samples")
        try onlyAttributes(pad, ["mode"])
        try require(try string(pad, "mode") == "reflect", pad, "mode must be reflect")
        try require(input(pad, 2).isEmpty && input(pad, 3).isEmpty, pad, "constant_value / axes inputs are not supported")
        let pads = try intsConstant(input(pad, 1), "Pad pads")
        guard pads.count == 4, pads[0] == 0, pads[2] == 0, pads[1] == pads[3], pads[1] >= 0, pads[1] <= 4096 else {
            throw refuse("\(describe(pad)): pads \(pads) must pad only the time axis, equally on both sides")
        }
        let stftPad = Int(pads[1])
        let unsq = try next(pad.outputs[0], "Unsqueeze", "channel axis for the STFT conv")
        try require(try axes(unsq) == [1], unsq, "axes must be [1]")
        let stft = try next(unsq.outputs[0], "Conv", "STFT as a convolution")
        try require(input(stft, 2).isEmpty, stft, "the STFT conv must have no bias")
        let basisT = try constant(input(stft, 1), "STFT basis")
        guard basisT.dims.count == 3, basisT.dims[1] == 1, basisT.dims[0] >= 2, basisT.dims[0] % 2 == 0,
              basisT.dims[2] >= 2, basisT.dims[2] <= 8192 else {
            throw refuse("STFT basis '\(basisT.name)' has shape \(basisT.dims), expected [2F, 1, L]")
        }
        let bins = basisT.dims[0] / 2, filterLength = basisT.dims[2]
        let hop = try stride(stft)
        try checkConv(stft, k: filterLength, stride: hop, pad: 0)
        let basis = try weight(basisT.name, dims: basisT.dims, "STFT basis")

        // Magnitude: two slices (real, imaginary; leading frames dropped), squared, summed, square root.
        let slices = consumers[stft.outputs[0]] ?? []
        guard slices.count == 2 else { throw refuse("expected the STFT conv output to feed 2 Slice nodes, found \(slices.count)") }
        var parts: [(real: Bool, drop: Int, out: String)] = []
        for s in slices {
            let n = try take(s, "Slice", "real or imaginary half of the STFT")
            let starts = try intsConstant(input(n, 1), "Slice starts"), ends = try intsConstant(input(n, 2), "Slice ends")
            let ax = try intsConstant(input(n, 3), "Slice axes")
            let steps = input(n, 4).isEmpty ? [1, 1] : try intsConstant(input(n, 4), "Slice steps")
            guard ax == [1, 2], steps == [1, 1], starts.count == 2, ends.count == 2, starts[1] >= 0, starts[1] < 64,
                  ends[1] >= Int64(Int32.max) else {
                throw refuse("\(describe(n)): expected a slice of channels and of frames [d…] (axes [1, 2], steps 1), "
                    + "got starts \(starts) ends \(ends) axes \(ax) steps \(steps)")
            }
            let F = Int64(bins)
            if starts[0] == 0 && ends[0] == F { parts.append((true, Int(starts[1]), n.outputs[0])) }
            else if starts[0] == F && ends[0] >= 2 * F { parts.append((false, Int(starts[1]), n.outputs[0])) }
            else { throw refuse("\(describe(n)): channels \(starts[0])..<\(ends[0]) are neither the real (0..<\(F)) nor the imaginary (\(F)..<\(2 * F)) half") }
        }
        guard parts.count == 2, parts[0].real != parts[1].real, parts[0].drop == parts[1].drop else {
            throw refuse("the two STFT slices must be the real and the imaginary half with the same frames")
        }
        var squared: [String] = []
        for p in parts {
            let pow = try next(p.out, "Pow", "squared STFT half")
            let e = try model.floats(try constant(input(pow, 1), "Pow exponent"))
            try require(e == [2], pow, "exponent must be 2")
            squared.append(pow.outputs[0])
        }
        let add = try next(squared[0], "Add", "sum of squares")
        try require(Set(add.inputs) == Set(squared), add, "must add the two squared halves")
        var x = try next(add.outputs[0], "Sqrt", "STFT magnitude").outputs[0]

        // Encoder: conv (k3, p1) + ReLU until the transpose.
        var channels: [Int] = [], strides: [Int] = []
        var convWeights: [[Float]] = [], convBiases: [[Float]] = []
        var inChannels = bins
        while let users = consumers[x], users.count == 1, g.nodes[users[0]].opType == "Conv" {
            let l = channels.count
            guard l < 16 else { throw refuse("more than 16 encoder conv layers") }
            let conv = try take(users[0], "Conv", "encoder conv \(l)")
            let wT = try constant(input(conv, 1), "conv \(l) weight")
            guard wT.dims.count == 3, wT.dims[1] == inChannels, wT.dims[2] == 3, wT.dims[0] >= 1, wT.dims[0] <= 4096 else {
                throw refuse("encoder conv \(l) weight '\(wT.name)' has shape \(wT.dims), expected [out, \(inChannels), 3]")
            }
            let out = wT.dims[0]
            let s = try stride(conv)
            try checkConv(conv, k: 3, stride: s, pad: 1)
            guard !input(conv, 2).isEmpty else { throw refuse("\(describe(conv)): encoder convs need a bias") }
            let w = try weight(wT.name, dims: wT.dims, "conv \(l) weight")
            convBiases.append(try weight(input(conv, 2), dims: [out], "conv \(l) bias"))
            // im2col: W[o, k·C + c] = conv[o, c, k]
            var im = [Float](repeating: 0, count: out * 3 * inChannels)
            for o in 0..<out { for c in 0..<inChannels { for k in 0..<3 { im[o * 3 * inChannels + k * inChannels + c] = w[(o * inChannels + c) * 3 + k] } } }
            convWeights.append(im)
            x = try next(conv.outputs[0], "Relu", "ReLU after encoder conv \(l)").outputs[0]
            channels.append(out); strides.append(s)
            inChannels = out
        }
        guard !channels.isEmpty else { throw refuse("no encoder conv layer after the STFT magnitude") }

        // LSTM over the windows (the sequence axis), its state the graph's h/c inputs and outputs.
        let tr = try next(x, "Transpose", "frames to the LSTM's input layout")
        try require(try perm(tr) == [0, 2, 1], tr, "perm must be [0, 2, 1]")
        let lstm = try next(tr.outputs[0], "LSTM", "recurrent decoder")
        try onlyAttributes(lstm, ["hidden_size", "direction", "activations", "layout", "input_forget"])
        let H = Int(try int(lstm, "hidden_size", default: 0))
        try require(H >= 1 && H <= 4096, lstm, "hidden_size \(H) out of range")
        try require((try string(lstm, "direction") ?? "forward") == "forward", lstm, "only a forward LSTM is supported")
        try require(try int(lstm, "layout", default: 0) == 0, lstm, "layout must be 0")
        try require(try int(lstm, "input_forget", default: 0) == 0, lstm, "input_forget must be 0")
        if let act = lstm.attribute("activations") {
            let names = act.strings.map { String(decoding: $0, as: UTF8.self) }
            try require(names == ["Sigmoid", "Tanh", "Tanh"], lstm, "activations \(names) are not the default (Sigmoid, Tanh, Tanh)")
        }
        try require(input(lstm, 4).isEmpty && input(lstm, 7).isEmpty, lstm, "sequence_lens and peepholes are not supported")
        try require(input(lstm, 5) == hIn.name && input(lstm, 6) == cIn.name, lstm,
                    "initial_h / initial_c must be the graph inputs '\(hIn.name)' / '\(cIn.name)'")
        try require(lstm.outputs.count == 3 && lstm.outputs[1] == g.outputs[1].name && lstm.outputs[2] == g.outputs[2].name, lstm,
                    "Y_h / Y_c must be the graph outputs '\(g.outputs[1].name)' / '\(g.outputs[2].name)'")
        try require(inChannels == H, lstm, "input size \(inChannels) (the last conv's channels) must equal hidden_size \(H)")
        let W = try weight(input(lstm, 1), dims: [1, 4 * H, H], "LSTM W")
        let R = try weight(input(lstm, 2), dims: [1, 4 * H, H], "LSTM R")
        let B = input(lstm, 3).isEmpty ? [Float](repeating: 0, count: 8 * H) : try weight(input(lstm, 3), dims: [1, 8 * H], "LSTM B")
        for v in [hIn, cIn] {
            if let d = v.dims { guard d == [1, 1, H] else { throw refuse("input '\(v.name)' has shape \(d), expected [1, 1, \(H)]") } }
        }
        // ONNX gate blocks (i, o, f, c) → PyTorch (i, f, g, o).
        let order = [0, 2, 3, 1]
        func reorder(_ m: [Float], cols: Int) -> [Float] {
            var out: [Float] = []
            out.reserveCapacity(m.count)
            for gate in order { out += m[(gate * H * cols)..<((gate + 1) * H * cols)] }
            return out
        }
        let bias = zip(B[0..<(4 * H)], B[(4 * H)...]).map { $0 + $1 }

        // Head: squeeze the direction axis, ReLU, 1×1 conv to one channel, sigmoid, flatten.
        let sq = try next(lstm.outputs[0], "Squeeze", "LSTM direction axis")
        try require(try axes(sq) == [1], sq, "axes must be [1]")
        let relu = try next(sq.outputs[0], "Relu", "ReLU before the head")
        let tr2 = try next(relu.outputs[0], "Transpose", "LSTM outputs to channels-first")
        try require(try perm(tr2) == [1, 2, 0], tr2, "perm must be [1, 2, 0]")
        let head = try next(tr2.outputs[0], "Conv", "1×1 head conv")
        try checkConv(head, k: 1, stride: 1, pad: 0)
        let headW = try weight(input(head, 1), dims: [1, H, 1], "head weight")
        let headB = try weight(input(head, 2), dims: [1], "head bias")
        let sig = try next(head.outputs[0], "Sigmoid", "speech probability")
        let reshape = try next(sig.outputs[0], "Reshape", "one probability per window")
        try require(try intsConstant(input(reshape, 1), "Reshape shape") == [-1], reshape, "shape must be [-1]")
        try require(reshape.outputs.first == g.outputs[0].name, reshape, "must produce the graph output '\(g.outputs[0].name)'")

        // Nothing else may compute anything.
        let unvisited = g.nodes.indices.filter { !visited.contains($0) && g.nodes[$0].opType != "Constant" }
        guard unvisited.isEmpty else {
            throw refuse("\(unvisited.count) node(s) are not part of the Silero VAD v6 graph: "
                + unvisited.prefix(5).map { describe(g.nodes[$0]) }.joined(separator: ", "))
        }

        // The input: context + window samples per row.
        let window = 512
        guard let dims = signal.dims, dims.count == 2, let inputSamples = dims[1] else {
            throw refuse("input '\(signal.name)' must have shape [N, context + \(window)] with a fixed second dimension")
        }
        let config = SileroVADConfig(sampleRate: 16000, windowSamples: window, contextSamples: inputSamples - window,
                                     stftPad: stftPad, filterLength: filterLength, hop: hop, stftBins: bins,
                                     droppedFrames: parts[0].drop, convChannels: channels, convStrides: strides, hidden: H)
        guard config.contextSamples == 64 else {
            throw refuse("input '\(signal.name)' has \(inputSamples) samples per row; Silero VAD v6 at 16 kHz reads 576 (64 context + 512)")
        }
        do { try config.validate() } catch { throw refuse(error.description) }

        typealias N = SileroVADTensorNames
        var tensors: [(name: String, shape: [Int], values: [Float])] = [(N.stftBasis, [2 * bins, filterLength], basis)]
        for l in 0..<channels.count {
            tensors.append((N.convWeight(l), [channels[l], 3 * config.convInput(l)], convWeights[l]))
            tensors.append((N.convBias(l), [channels[l]], convBiases[l]))
        }
        tensors.append((N.lstmInputWeight, [4 * H, H], reorder(W, cols: H)))
        tensors.append((N.lstmHiddenWeight, [4 * H, H], reorder(R, cols: H)))
        tensors.append((N.lstmBias, [4 * H], reorder(bias, cols: 1)))
        tensors.append((N.headWeight, [1, H], headW))
        tensors.append((N.headBias, [1], headB))
        let opset = model.opsets.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 0
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        return SileroVADCheckpoint(config: config, tensors: tensors, producer: producer, opset: opset)
    }
}
