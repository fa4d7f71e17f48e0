// SileroVADConfig: the hyperparameters and canonical tensor names of Silero VAD v6 (16 kHz), as stored in a
// `.ear` with `general.architecture` = "silero-vad" (Formats/tensor-names-silero-vad.md). The converter
// (Tools/EarshotConvert/ONNX/SileroVADGraph.swift) reads them off the ONNX graph; the model checks them.

/// Silero VAD v6 at 16 kHz. Per window the model sees `contextSamples + windowSamples` samples (the previous
/// window's last 64, then the window's 512), pads them by reflection, takes an STFT magnitude, runs a conv
/// stack down to one vector, one LSTM step, and a 1×1 conv + sigmoid: one speech probability per window.
public struct SileroVADConfig: Sendable, Equatable {
    public var sampleRate: Int
    /// Samples per window, one probability each (512 at 16 kHz = 32 ms).
    public var windowSamples: Int
    /// Samples of the previous window prepended to each window (64).
    public var contextSamples: Int
    /// Reflection padding on each side of the (context + window) input before the STFT (128).
    public var stftPad: Int
    /// STFT frame length: the basis's columns (256).
    public var filterLength: Int
    /// STFT hop (128).
    public var hop: Int
    /// Frequency bins F: the basis holds 2F rows, real parts then imaginary parts (129).
    public var stftBins: Int
    /// Leading STFT frames the graph discards (1).
    public var droppedFrames: Int
    /// Output channels and stride of each conv layer (kernel 3, padding 1, ReLU after each).
    public var convChannels: [Int]
    public var convStrides: [Int]
    /// LSTM hidden size H (also its input size: the last conv's channels).
    public var hidden: Int

    /// Silero VAD v6 as faster-whisper 1.2.1 ships it (`faster_whisper/assets/silero_vad_v6.onnx`).
    public static let v6 = SileroVADConfig(sampleRate: 16000, windowSamples: 512, contextSamples: 64, stftPad: 128,
                                           filterLength: 256, hop: 128, stftBins: 129, droppedFrames: 1,
                                           convChannels: [128, 64, 64, 128], convStrides: [1, 2, 2, 1], hidden: 128)

    public init(sampleRate: Int, windowSamples: Int, contextSamples: Int, stftPad: Int, filterLength: Int, hop: Int,
                stftBins: Int, droppedFrames: Int, convChannels: [Int], convStrides: [Int], hidden: Int) {
        self.sampleRate = sampleRate; self.windowSamples = windowSamples; self.contextSamples = contextSamples
        self.stftPad = stftPad; self.filterLength = filterLength; self.hop = hop; self.stftBins = stftBins
        self.droppedFrames = droppedFrames; self.convChannels = convChannels; self.convStrides = convStrides; self.hidden = hidden
    }

    /// Samples the network reads per window (context + window).
    public var inputSamples: Int { contextSamples + windowSamples }

    /// STFT frames kept per window (after `droppedFrames`).
    public var stftFrames: Int { (inputSamples + 2 * stftPad - filterLength) / hop + 1 - droppedFrames }

    /// Frames after each conv layer (kernel 3, padding 1): ⌊(T + 2 − 3) / s⌋ + 1.
    public var convFrames: [Int] {
        var t = stftFrames
        return convStrides.map { s in t = (t - 1) / s + 1; return t }
    }

    /// Input channels of conv layer `l`.
    public func convInput(_ l: Int) -> Int { l == 0 ? stftBins : convChannels[l - 1] }

    /// Checks that the numbers describe a network this implementation runs: positive sizes, the reflection
    /// padding shorter than the input, the conv stack ending in one frame of H channels.
    public func validate() throws(ModelError) {
        func bad(_ key: String, _ reason: String) -> ModelError { .badConfig(key: "silero.\(key)", reason: reason) }
        for (k, v) in [("sample_rate", sampleRate), ("window_samples", windowSamples), ("filter_length", filterLength),
                       ("hop", hop), ("stft_bins", stftBins), ("hidden", hidden)] where v <= 0 || v > 1 << 20 {
            throw bad(k, "\(v) is not a usable size")
        }
        guard contextSamples >= 0 && contextSamples <= windowSamples else { throw bad("context_samples", "\(contextSamples) must be 0…window") }
        guard stftPad >= 0 && stftPad < inputSamples else { throw bad("stft_pad", "\(stftPad) must be shorter than the \(inputSamples)-sample input") }
        guard filterLength <= inputSamples + 2 * stftPad else { throw bad("filter_length", "\(filterLength) is longer than the padded input") }
        guard droppedFrames >= 0 && stftFrames >= 1 else { throw bad("dropped_frames", "\(droppedFrames) leaves no STFT frame") }
        guard !convChannels.isEmpty, convChannels.count == convStrides.count, convChannels.count <= 16 else {
            throw bad("conv_channels", "\(convChannels.count) layers with \(convStrides.count) strides")
        }
        guard convChannels.allSatisfy({ $0 > 0 && $0 <= 4096 }), convStrides.allSatisfy({ $0 >= 1 && $0 <= 16 }) else {
            throw bad("conv_channels", "channels \(convChannels) / strides \(convStrides) out of range")
        }
        guard convFrames.last == 1 else { throw bad("conv_strides", "the conv stack leaves \(convFrames.last ?? 0) frames per window, expected 1") }
        guard convChannels.last == hidden else { throw bad("hidden", "\(hidden) must equal the last conv's \(convChannels.last ?? 0) channels") }
    }

    // MARK: metadata

    /// `.ear` metadata keys and values (lists as comma-separated text).
    public var metadata: [(key: String, value: ConfigValue)] {
        func list(_ a: [Int]) -> ConfigValue { .string(a.map(String.init).joined(separator: ",")) }
        return [("silero.sample_rate", .int(sampleRate)), ("silero.window_samples", .int(windowSamples)),
                ("silero.context_samples", .int(contextSamples)), ("silero.stft_pad", .int(stftPad)),
                ("silero.filter_length", .int(filterLength)), ("silero.hop", .int(hop)), ("silero.stft_bins", .int(stftBins)),
                ("silero.dropped_frames", .int(droppedFrames)), ("silero.conv_channels", list(convChannels)),
                ("silero.conv_strides", list(convStrides)), ("silero.hidden", .int(hidden))]
    }

    /// From `.ear` metadata (what `metadata` writes); checks `general.architecture` when present, then validates.
    public init(metadata m: [String: ConfigValue]) throws(ModelError) {
        if case .string(let arch)? = m["general.architecture"], arch != SileroVADTensorNames.architecture {
            throw .badConfig(key: "general.architecture", reason: "'\(arch)' is not \(SileroVADTensorNames.architecture)")
        }
        func int(_ k: String) throws(ModelError) -> Int {
            switch m["silero." + k] {
            case .int(let v)?: return v
            case nil: throw .badConfig(key: "silero." + k, reason: "missing")
            default: throw .badConfig(key: "silero." + k, reason: "not an integer")
            }
        }
        func list(_ k: String) throws(ModelError) -> [Int] {
            guard case .string(let s)? = m["silero." + k] else { throw .badConfig(key: "silero." + k, reason: "missing or not a list") }
            let parts = s.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count <= 16 else { throw .badConfig(key: "silero." + k, reason: "more than 16 values") }
            var out: [Int] = []
            for p in parts {
                guard let v = Int(p) else { throw .badConfig(key: "silero." + k, reason: "'\(s)' is not a comma-separated list of integers") }
                out.append(v)
            }
            return out
        }
        self.init(sampleRate: try int("sample_rate"), windowSamples: try int("window_samples"), contextSamples: try int("context_samples"),
                  stftPad: try int("stft_pad"), filterLength: try int("filter_length"), hop: try int("hop"),
                  stftBins: try int("stft_bins"), droppedFrames: try int("dropped_frames"),
                  convChannels: try list("conv_channels"), convStrides: try list("conv_strides"), hidden: try int("hidden"))
        try validate()
    }
}

/// Canonical `.ear` tensor names of Silero VAD (Formats/tensor-names-silero-vad.md). All f32.
public enum SileroVADTensorNames {
    public static let architecture = MetadataKeys.Architecture.sileroVAD
    /// [2F, L]: the STFT as a matrix, rows 0..<F real parts, F..<2F imaginary parts (ONNX `forward_basis_buffer` [2F, 1, L]).
    public static let stftBasis = "vad.stft.basis"
    /// Conv layer `l`: weight [Cout, 3·Cin] im2col, W[o, k·Cin + c] = conv[o, c, k]; bias [Cout].
    public static func convWeight(_ l: Int) -> String { "vad.enc.\(l).weight" }
    public static func convBias(_ l: Int) -> String { "vad.enc.\(l).bias" }
    /// LSTM, gates in PyTorch order (input, forget, cell, output): W_ih [4H, H], W_hh [4H, H], bias [4H] = b_ih + b_hh.
    public static let lstmInputWeight = "vad.lstm.weight_ih"
    public static let lstmHiddenWeight = "vad.lstm.weight_hh"
    public static let lstmBias = "vad.lstm.bias"
    /// Head: 1×1 conv over ReLU(h): weight [1, H], bias [1].
    public static let headWeight = "vad.head.weight"
    public static let headBias = "vad.head.bias"

    /// Every name of a model with this config, with its shape, in a stable order.
    public static func all(_ c: SileroVADConfig) -> [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = [(stftBasis, [2 * c.stftBins, c.filterLength])]
        for l in 0..<c.convChannels.count {
            out.append((convWeight(l), [c.convChannels[l], 3 * c.convInput(l)]))
            out.append((convBias(l), [c.convChannels[l]]))
        }
        out += [(lstmInputWeight, [4 * c.hidden, c.hidden]), (lstmHiddenWeight, [4 * c.hidden, c.hidden]),
                (lstmBias, [4 * c.hidden]), (headWeight, [1, c.hidden]), (headBias, [1])]
        return out
    }
}
