// QwenAudioEngine: what running a Qwen-Audio `.ear` needs, built once per model — the mapped weights, the
// config (from metadata), the model, the tokenizer and the mel front end (both from the file's blobs) and
// the generation defaults — plus the two model-facing steps every Qwen job shares: audio → encoder input
// (log-mel of one ≤ 30 s clip) and the `StepDecoder` the generation loop drives. Internal: apps see
// `EarshotModel` and `Session`.
import EarshotAudio
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTokenizer
import Foundation

final class QwenAudioEngine: @unchecked Sendable {   // immutable after init
    let weights: EarWeights
    let config: QwenAudioConfig
    let model: QwenAudioModel
    let tokenizer: QwenTokenizer
    let melSpectrogram: LogMelSpectrogram
    /// The file's generation config (base defaults when it has none), and the defaults for chat.
    let defaults: GenerationDefaults
    let chatDefaults: GenerationDefaults
    /// Whether the file's generation config is a ChatML (Qwen-Audio-Chat) one.
    let isChatModel: Bool

    /// Positions the model is run with (prompt + generated): the trained sequence length × 4, which dynamic
    /// NTK stretches RoPE to (8192 for Qwen-Audio's 2048), at least the chat window + one reply, at most
    /// `maxContext`. The KV cache never grows past it, whatever a caller asks for.
    let contextLength: Int
    static let maxContext = 32_768
    /// Most audios in one prompt.
    static let maxAudiosPerPrompt = 64

    init(path: String, file: EarFile) throws(EarshotError) {
        weights = EarWeights(file: file)
        do {
            config = try weights.qwenAudioConfig()
            model = try QwenAudioModel(config: config, weights: weights)
        } catch { throw .modelContents(path: path, error) }
        let blob: [UInt8]
        do { blob = try file.blob(named: MetadataKeys.tokenizerBlob) } catch { throw .modelFile(path: path, error) }
        do { tokenizer = try QwenTokenizer(tiktoken: blob) } catch { throw .tokenizer(error) }
        guard tokenizer.vocabularySize <= config.llm.vocabSize else {
            throw .modelContents(path: path, .badConfig(key: "qwen.vocab_size",
                reason: "the tokenizer has \(tokenizer.vocabularySize) ids, more than the \(config.llm.vocabSize) rows of the embedding"))
        }
        melSpectrogram = try QwenAudioEngine.melFront(file: file, path: path, bins: config.audio.nMels)
        let json = QwenAudioEngine.generationConfig(file)
        defaults = GenerationDefaults(json: json, fallback: .base)
        isChatModel = defaults.chatFormat == "chatml"
        chatDefaults = isChatModel ? defaults : GenerationDefaults(json: [:], fallback: .chat)
        let chatNeed = max(defaults.maxWindowSize, chatDefaults.maxWindowSize) + max(defaults.maxNewTokens, chatDefaults.maxNewTokens)
        contextLength = min(QwenAudioEngine.maxContext, max(4 * config.llm.seqLength, chatNeed))
    }

    /// The mel front end: the file's `mel_filters` blob when it has one (a damaged blob is an error, never a
    /// silent fallback), else Slaney filters computed in code.
    static func melFront(file: EarFile, path: String, bins: Int) throws(EarshotError) -> LogMelSpectrogram {
        guard file.hasBlob(named: MetadataKeys.melFiltersBlob) else {
            do { return try LogMelSpectrogram(bins: bins) } catch { throw .audio(path: path, error) }
        }
        let raw: [UInt8]
        do { raw = try file.blob(named: MetadataKeys.melFiltersBlob) } catch { throw .modelFile(path: path, error) }
        guard raw.count % 4 == 0 else {
            throw .modelContents(path: path, .badConfig(key: MetadataKeys.melFiltersBlob, reason: "\(raw.count) bytes are not whole float32 values"))
        }
        let dense = raw.withUnsafeBytes { b in (0..<(raw.count / 4)).map { b.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        do { return LogMelSpectrogram(filterbank: try MelFilterbank.checked(dense: dense, bins: bins)) } catch {
            throw .audio(path: "\(path):\(MetadataKeys.melFiltersBlob)", error)
        }
    }

    /// The generation_config.json blob as a JSON object (empty when absent or not an object).
    static func generationConfig(_ file: EarFile) -> [String: Any] {
        guard file.hasBlob(named: MetadataKeys.generationConfigBlob),
              let raw = try? file.blob(named: MetadataKeys.generationConfigBlob),
              let object = try? JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any] else { return [:] }
        return object
    }

    /// The encoder input of one clip of ≤ 30 s of 16 kHz samples ([nMels × 3000] with its valid length).
    func mel(_ samples: ArraySlice<Float>, threads: Int) -> AudioEncoder.Mel {
        let n = min(samples.count, LogMelSpectrogram.chunkSamples)
        let m = melSpectrogram.compute(Array(samples.prefix(n)), threads: threads)
        return AudioEncoder.Mel(values: m.values, frames: m.frames, melLength: AudioTokenCounts.qwenAudio(samples: n).melLength)
    }

    /// The span an audio of `samples` 16 kHz samples takes in the prompt (encoder outputs + `<audio>`/`</audio>`).
    func spanTokens(samples: Int) -> Int {
        config.audio.spanTokens(melLength: AudioTokenCounts.qwenAudio(samples: min(samples, LogMelSpectrogram.chunkSamples)).melLength)
    }
}

/// The LLM as the generation loop steps it: one hypothesis, whose state is the session's KV cache.
struct QwenStepDecoder: StepDecoder {
    let model: EarshotModel
    let lm: QwenLM
    let cache: KVCache

    func step(_ rows: [(state: Int, token: Int)], states: inout [Int]) throws(EarshotError) -> [[Float]] {
        guard rows.count == 1, rows[0].state == 0 else {
            throw .unsupported(family: model.info.family, what: "decode several hypotheses at once")
        }
        let token = rows[0].token
        return [try model.compute { () throws(EarshotError) -> [Float] in
            do { return lm.lastLogits(try lm.forward(try lm.embed([token]), cache: cache)) } catch { throw EarshotError.from(error) }
        }]
    }
}

/// `StreamingDecoder` as the loop's text stream. `paddingFrom`: ids from there on are embedding rows without
/// a token (a text LLM's vocabulary padding, e.g. Qwen2's 151,665 … 151,935): they stream as no text.
struct QwenTextStream: TextStream {
    var decoder: StreamingDecoder
    var paddingFrom: Int? = nil
    mutating func append(_ id: Int) throws(EarshotError) -> String {
        if let p = paddingFrom, id >= p { return "" }
        do { return try decoder.append(id) } catch { throw .tokenizer(error) }
    }
    mutating func finish() -> String { decoder.finish() }
}
