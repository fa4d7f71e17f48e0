// QwenAudioEngine: what running a Qwen-Audio or Qwen2-Audio `.ear` needs, built once per model — the mapped
// weights, the config (from metadata), the model, the tokenizer and the mel front end (both from the file's
// blobs) and the generation defaults — plus the two model-facing steps every Qwen job shares: audio → encoder
// input (log-mel of one ≤ 30 s clip) and the `StepDecoder` the generation loop drives. The two families differ
// only in data (`Flavor`): Qwen-Audio's span is `<audio>` + encoder outputs with learned bos/eos rows +
// `</audio>`; Qwen2-Audio's is `<|audio_bos|>` + N × `<|AUDIO|>` (the encoder's N rows) + `<|audio_eos|>`
// (Docs/qwen2-audio.md). Internal: apps see `EarshotModel` and `Session`.
import EarshotAudio
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTokenizer
import Foundation

final class QwenAudioEngine: @unchecked Sendable {   // immutable after init
    /// Which of the two audio-LLM families the file holds.
    enum Flavor: Sendable { case qwenAudio, qwen2Audio }
    let flavor: Flavor
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
    /// Ids that end a plain generation (`run`, tasks) and a chat reply.
    let stopIds: Set<Int>
    let chatStopIds: Set<Int>
    /// The id that fills a span between its start and end ids: Qwen-Audio's `[[[AUDIO:modality]]]`
    /// placeholder (its rows are overwritten, bos/eos rows included), Qwen2-Audio's `<|AUDIO|>`.
    let spanFillId: Int

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
        let audio = config.audio
        if let audioToken = audio.audioTokenId {
            flavor = .qwen2Audio
            // The file's own specials (a Hugging Face tokenizer's added tokens, in id order).
            let specials = try QwenTextEngine.textSpecials(file: file, path: path)
            do { tokenizer = try QwenTokenizer(tiktoken: blob, textSpecials: specials) } catch { throw .tokenizer(error) }
            try QwenTextEngine.checkSpecialsStart(file: file, path: path, tokenizer: tokenizer)
            for (surface, id) in [("<|AUDIO|>", audioToken), ("<|audio_bos|>", audio.audioStartId), ("<|audio_eos|>", audio.audioStartId + 1)]
            where tokenizer.specialID(surface) != id {
                throw .modelContents(path: path, .badConfig(key: MetadataKeys.specialTokens,
                    reason: "\(surface) is \(tokenizer.specialID(surface).map(String.init) ?? "missing"), the audio config says \(id)"))
            }
            spanFillId = audioToken
        } else {
            flavor = .qwenAudio
            do { tokenizer = try QwenTokenizer(tiktoken: blob) } catch { throw .tokenizer(error) }
            spanFillId = QwenTokenID.audioPlaceholder
        }
        guard tokenizer.vocabularySize <= config.llm.vocabSize else {
            throw .modelContents(path: path, .badConfig(key: "qwen.vocab_size",
                reason: "the tokenizer has \(tokenizer.vocabularySize) ids, more than the \(config.llm.vocabSize) rows of the embedding"))
        }
        melSpectrogram = try QwenAudioEngine.melFront(file: file, path: path, bins: config.audio.nMels)
        let json = QwenAudioEngine.generationConfig(file)
        let s = tokenizer.specials
        switch flavor {
        case .qwenAudio:
            defaults = GenerationDefaults(json: json, fallback: .base)
            isChatModel = defaults.chatFormat == "chatml"
            chatDefaults = isChatModel ? defaults : GenerationDefaults(json: [:], fallback: .chat)
            let chatNeed = max(defaults.maxWindowSize, chatDefaults.maxWindowSize) + max(defaults.maxNewTokens, chatDefaults.maxNewTokens)
            contextLength = min(QwenAudioEngine.maxContext, max(4 * config.llm.seqLength, chatNeed))
            stopIds = [defaults.eosTokenId]
            chatStopIds = Chat.stopIds
        case .qwen2Audio:
            // No NTK stretch: the trained positions are the limit. Without a generation config: greedy (the
            // official evals' do_sample=False), transformers' sampling defaults when asked to sample, 256 new
            // tokens (the evals' max_new_tokens), eos <|im_end|> (text_config.eos_token_id), a chat history window of
            // 6144 tokens (Qwen-Audio-Chat's) or less, to leave a reply room in the context.
            contextLength = max(2, min(QwenAudioEngine.maxContext, config.llm.seqLength))
            var fallback = GenerationDefaults(chatFormat: "chatml", topP: 1, topK: 50, temperature: 1, repetitionPenalty: 1,
                                              maxNewTokens: min(256, max(1, contextLength / 2)),
                                              maxWindowSize: 6144,
                                              eosTokenId: s.imEndID >= 0 ? s.imEndID : s.endOfTextID)
            fallback.doSample = false
            fallback.greedyKeepsRepetitionPenalty = false
            var d = GenerationDefaults(json: json, fallback: fallback)
            d.maxWindowSize = min(d.maxWindowSize, max(1, contextLength - d.maxNewTokens))
            defaults = d
            chatDefaults = d
            isChatModel = true
            let vocab = config.llm.vocabSize
            let listed = (json["eos_token_id"] as? [Any])?.compactMap { $0 as? Int } ?? []
            let stops = Set((listed + [d.eosTokenId, s.endOfTextID, s.imEndID]).filter { $0 >= 0 && $0 < vocab })
            stopIds = stops
            chatStopIds = stops.union([s.imStartID].filter { $0 >= 0 })
        }
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

    /// The valid mel frames of a clip of `samples` 16 kHz samples (≤ 30 s): floor(n/160) for Qwen-Audio,
    /// ceil(n/160) for Qwen2-Audio (WhisperFeatureExtractor's attention mask).
    func melLength(samples: Int) -> Int {
        let n = min(samples, LogMelSpectrogram.chunkSamples)
        switch flavor {
        case .qwenAudio: return AudioTokenCounts.qwenAudio(samples: n).melLength
        case .qwen2Audio: return AudioTokenCounts.qwen2Audio(samples: n).melLength
        }
    }

    /// The encoder input of one clip of ≤ 30 s of 16 kHz samples ([nMels × 3000] with its valid length).
    func mel(_ samples: ArraySlice<Float>, threads: Int) -> AudioEncoder.Mel {
        let n = min(samples.count, LogMelSpectrogram.chunkSamples)
        let m = melSpectrogram.compute(Array(samples.prefix(n)), threads: threads)
        return AudioEncoder.Mel(values: m.values, frames: m.frames, melLength: melLength(samples: n))
    }

    /// The span an audio of `samples` 16 kHz samples takes in the prompt (start id + encoder outputs + end id).
    func spanTokens(samples: Int) -> Int { spanTokens(melLength: melLength(samples: samples)) }

    /// The span of a mel of `melLength` valid frames: the encoder's outputs and the two delimiting ids.
    func spanTokens(melLength: Int) -> Int { config.audio.outputFrames(melLength: melLength) + 2 }

    /// Positions at each end of a span that the encoder's rows do not cover: 0 for Qwen-Audio (its rows include
    /// the learned bos/eos vectors at `<audio>`/`</audio>`), 1 for Qwen2-Audio (the delimiters keep their
    /// token embeddings).
    var spanInset: Int { config.audio.bosEos ? 0 : 1 }

    /// The span length of an encoding of `rows` vectors.
    func spanTokens(rows: Int) -> Int { rows + 2 * spanInset }

    /// Qwen2-Audio's span ids (`<|audio_bos|>`, `<|AUDIO|>`, `<|audio_eos|>`).
    var qwen2SpanIDs: Qwen2AudioSpanIDs {
        Qwen2AudioSpanIDs(begin: config.audio.audioStartId, fill: spanFillId, end: config.audio.audioStartId + 1)
    }

    /// The prompt ids of one audio's span.
    func spanIds(tokens: Int) -> [Int] {
        [config.audio.audioStartId] + Array(repeating: spanFillId, count: max(tokens - 2, 0)) + [config.audio.audioStartId + 1]
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
