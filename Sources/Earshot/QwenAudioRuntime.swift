// QwenAudioRuntime: everything needed to run a `.ear` Qwen-Audio model from raw inputs — the mapped
// weights, config (from metadata), model, tokenizer and mel front-end (both from the file's blobs) —
// plus prompt preparation: `<audio>PATH</audio>` tags → decoded audio → log-mel → expanded token ids.
import EarshotAudio
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTokenizer
import Foundation

/// Why a model could not be loaded or a prompt prepared.
public enum RuntimeError: Error, CustomStringConvertible {
    /// The `.ear` file is missing, unreadable or invalid.
    case file(path: String, EarError)
    /// The metadata or tensors do not describe a usable Qwen-Audio model.
    case model(path: String, ModelError)
    /// The tokenizer blob is missing or bad, or the prompt cannot be tokenized.
    case tokenizer(String)
    /// An audio file named in the prompt could not be decoded.
    case audio(path: String, AudioError)

    public var description: String {
        switch self {
        case .file(let p, let e): return "\(p): \(e.description)"
        case .model(let p, let e): return "\(p): \(e.description)"
        case .tokenizer(let s): return "tokenizer: \(s)"
        case .audio(let p, let e): return "audio '\(p)': \(e.description)"
        }
    }
}

public final class QwenAudioRuntime: @unchecked Sendable {   // immutable after init
    public let path: String
    public let weights: EarWeights
    public let config: QwenAudioConfig
    public let model: QwenAudioModel
    public let tokenizer: QwenTokenizer
    public let melSpectrogram: LogMelSpectrogram

    /// A prepared prompt: expanded ids and the mels of its audios, in prompt order.
    public struct Prompt: Sendable {
        public let ids: [Int]
        public let audioPaths: [String]
        public let mels: [AudioEncoder.Mel]
    }

    /// Maps and validates the file, builds the model (every tensor shape checked), loads tokenizer and mel filters.
    public init(path: String) throws(RuntimeError) {
        self.path = path
        do { weights = try EarWeights(path: path) } catch { throw .file(path: path, error) }
        do {
            config = try weights.qwenAudioConfig()
            model = try QwenAudioModel(config: config, weights: weights)
        } catch { throw .model(path: path, error) }
        do {
            tokenizer = try QwenTokenizer(tiktoken: try weights.file.blob(named: "tokenizer.tiktoken"))
        } catch { throw .tokenizer("cannot load the 'tokenizer.tiktoken' blob of \(path): \(error)") }
        if weights.file.hasBlob(named: "mel_filters"), let raw = try? weights.file.blob(named: "mel_filters") {
            let dense = raw.withUnsafeBytes { b in (0..<(raw.count / 4)).map { b.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
            do {
                melSpectrogram = LogMelSpectrogram(filterbank: try MelFilterbank.checked(dense: dense, bins: config.audio.nMels))
            } catch { throw .audio(path: "\(path):mel_filters", error) }
        } else {
            do { melSpectrogram = try LogMelSpectrogram(bins: config.audio.nMels) } catch { throw .audio(path: path, error) }
        }
    }

    /// The generation_config.json blob, if the file has one.
    public var generationConfig: [String: Any]? {
        guard let raw = try? weights.file.blob(named: "generation_config.json") else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(raw))) as? [String: Any]
    }

    /// The log-mel of one audio file (first 30 s; [nMels × 3000] with its valid length).
    public func mel(audioAt path: String) throws(RuntimeError) -> AudioEncoder.Mel {
        let audio: DecodedAudio
        do { audio = try AudioLoader.load(path) } catch { throw .audio(path: path, error) }
        let mel = melSpectrogram.compute(audio.samples, threads: ThreadPool.shared.activeThreads)
        let melLength = AudioTokenCounts.qwenAudio(samples: audio.samples.count).melLength
        return AudioEncoder.Mel(values: mel.values, frames: mel.frames, melLength: melLength)
    }

    /// Tokenizes a raw prompt (task tags and `<audio>PATH</audio>` as the base model takes it): reads every
    /// audio (paths relative to the working directory), and expands each span to its encoder length.
    public func prepare(prompt text: String, special: SpecialMode = .all) throws(RuntimeError) -> Prompt {
        let paths: [String]
        do { paths = try tokenizer.audioPaths(in: text, special: special) } catch { throw .tokenizer("\(error)") }
        var mels: [AudioEncoder.Mel] = []
        for p in paths { mels.append(try mel(audioAt: p)) }
        do {
            let ids = try tokenizer.encode(text, special: special,
                                           audioSpanTokens: mels.map { config.audio.spanTokens(melLength: $0.melLength) })
            return Prompt(ids: ids, audioPaths: paths, mels: mels)
        } catch { throw .tokenizer("\(error)") }
    }
}
