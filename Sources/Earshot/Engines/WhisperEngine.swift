// WhisperEngine: what running a Whisper `.ear` (e.g. tiny.en or base converted from CTranslate2) needs,
// built once per model — config, tokenizer, encoder (plain-Whisper AudioEncoder), text decoder, the
// suppression lists and alignment heads from the converted CTranslate2 config — plus the pieces the
// generation loop drives per 30 s window: the cross-attention cache, the prompt prefill (which also gives
// the no-speech probability, as CTranslate2 computes it) and CTranslate2's logit rules.
import EarshotAudio
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTokenizer
import Foundation

final class WhisperEngine: @unchecked Sendable {   // immutable after init
    let weights: EarWeights
    let config: WhisperConfig
    let tokenizer: WhisperTokenizer
    let encoder: AudioEncoder
    let decoder: WhisperDecoder
    let melSpectrogram: LogMelSpectrogram
    /// Never sampled (CTranslate2 `suppress_ids`), and not at the first step (`suppress_ids_begin`).
    let suppressIds: [Int]
    let suppressIdsBegin: [Int]
    /// (layer, head) pairs whose cross-attention aligns words with audio (CTranslate2 `alignment_heads`).
    let alignmentHeads: [(layer: Int, head: Int)]
    /// Language codes in the model's vocabulary, in id order ("en", "zh", …); just "en" for English-only models.
    let languages: [String]

    init(path: String, file: EarFile) throws(EarshotError) {
        weights = EarWeights(file: file)
        let metadata = file.metadata
        guard let c = WhisperConfig(metadata: { try? metadata.int($0) }) else {
            let missing = WhisperEngine.configKeys.first { (try? metadata.int($0)) == nil } ?? "whisper.*"
            throw .modelContents(path: path, .badConfig(key: missing, reason: "missing or not an integer"))
        }
        config = c
        let json: [UInt8]
        do { json = try file.blob(named: MetadataKeys.huggingFaceTokenizerBlob) } catch { throw .modelFile(path: path, error) }
        do { tokenizer = try WhisperTokenizer(tokenizerJSON: Data(json), vocabularySize: c.nVocab) } catch { throw .whisperTokenizer(error) }
        guard tokenizer.vocabularySize == c.nVocab else {
            throw .modelContents(path: path, .badConfig(key: "whisper.n_vocab",
                reason: "\(c.nVocab), but the tokenizer has \(tokenizer.vocabularySize) ids"))
        }
        do {
            encoder = try AudioEncoder(config: .whisper(nMels: c.nMels, nCtx: c.nAudioCtx, nState: c.nAudioState,
                                                        nHead: c.nAudioHead, nLayer: c.nAudioLayer), weights: weights)
            decoder = try WhisperDecoder(config: c, weights: weights)
        } catch { throw .modelContents(path: path, error) }
        do { melSpectrogram = try LogMelSpectrogram(bins: c.nMels) } catch { throw .audio(path: path, error) }
        suppressIds = try WhisperEngine.ids(metadata, "whisper.suppress_ids", path: path)
        suppressIdsBegin = try WhisperEngine.ids(metadata, "whisper.suppress_ids_begin", path: path)
        let source = WhisperEngine.sourceConfig(file)
        var heads: [(Int, Int)] = []
        for pair in (source["alignment_heads"] as? [[Int]]) ?? [] where pair.count == 2 {
            if pair[0] >= 0 && pair[0] < c.nTextLayer && pair[1] >= 0 && pair[1] < c.nTextHead { heads.append((pair[0], pair[1])) }
        }
        if heads.isEmpty {   // OpenAI's default: every head of the second half of the layers
            for l in (c.nTextLayer / 2)..<c.nTextLayer { for h in 0..<c.nTextHead { heads.append((l, h)) } }
        }
        alignmentHeads = heads.map { (layer: $0.0, head: $0.1) }
        let s = tokenizer.specials
        languages = c.isMultilingual ? s.languages.sorted { $0.value < $1.value }.map(\.key) : ["en"]
    }

    static let configKeys = ["whisper.n_mels", "whisper.n_audio_ctx", "whisper.n_audio_state", "whisper.n_audio_head",
                             "whisper.n_audio_layer", "whisper.n_vocab", "whisper.n_text_ctx", "whisper.n_text_state",
                             "whisper.n_text_head", "whisper.n_text_layer"]

    /// An id list stored as an integer array or as the text "[1,2,…]".
    static func ids(_ metadata: EarMetadata, _ key: String, path: String) throws(EarshotError) -> [Int] {
        if let a = try? metadata.ints(key) { return a }
        guard let s = try? metadata.string(key) else { throw .modelContents(path: path, .badConfig(key: key, reason: "missing")) }
        let body = s.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
        if body.isEmpty { return [] }
        var out: [Int] = []
        for part in body.split(separator: ",") {
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw .modelContents(path: path, .badConfig(key: key, reason: "'\(part)' is not an integer"))
            }
            out.append(v)
        }
        return out
    }

    /// The converted CTranslate2 config.json blob (alignment heads, language ids), or [:].
    static func sourceConfig(_ file: EarFile) -> [String: Any] {
        guard file.hasBlob(named: MetadataKeys.sourceConfigBlob), let raw = try? file.blob(named: MetadataKeys.sourceConfigBlob),
              let o = try? JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any] else { return [:] }
        return o
    }

    var isMultilingual: Bool { config.isMultilingual }

    /// Encodes one window's features [nMels × 3000] and precomputes the decoder's cross-attention K/V.
    func encode(_ features: [Float]) throws(EarshotError) -> WhisperCrossCache {
        let mel = AudioEncoder.Mel(values: features, frames: LogMelSpectrogram.chunkFrames, melLength: LogMelSpectrogram.chunkFrames)
        do {
            let audio = try encoder.encode([mel], batched: false)[0]
            return try decoder.crossCache(audio: audio)
        } catch { throw EarshotError.from(error) }
    }

    /// Runs the prompt into a fresh decoder state; returns the state, the logits after the last prompt token,
    /// and those at `<|startoftranscript|>` (for the no-speech probability; nil when it is the last token).
    func prefill(_ prompt: [Int], cross: WhisperCrossCache) throws(EarshotError)
        -> (state: WhisperDecoderState, last: [Float], atStart: [Float]?) {
        guard !prompt.isEmpty else { throw .prompt(.empty) }
        guard prompt.count < config.nTextCtx else { throw .prompt(.tooLong(tokens: prompt.count, limit: config.nTextCtx - 1)) }
        let sot = prompt.firstIndex(of: tokenizer.specials.startOfTranscript) ?? prompt.count - 1
        var states = [decoder.makeState()]
        let want = prompt.indices.map { $0 == prompt.count - 1 || $0 == sot }
        let out: [[Float]]
        do { out = try decoder.forward(rows: prompt.map { (state: 0, token: $0) }, states: &states, cross: cross, wantLogits: want) } catch {
            throw EarshotError.from(error)
        }
        return (states[0], out[out.count - 1], sot == prompt.count - 1 ? nil : out[0])
    }

    /// P(`<|nospeech|>`) from logits at `<|startoftranscript|>` (softmax of the raw logits, CTranslate2's rule).
    func noSpeechProbability(_ logits: [Float]) -> Double {
        Double(exp(Decoding.logSoftmax(logits, at: tokenizer.specials.noSpeech)))
    }

    /// CTranslate2's logit rules for one window: suppressed ids, the begin set at the first step, and (with
    /// timestamps) ApplyTimestampRules; `maxInitialTimestampIndex` 50 = 1.00 s.
    func rules(timestamps: Bool, maxInitialTimestampIndex: Int = 50) -> [LogitsRule] {
        let s = tokenizer.specials
        return WhisperEngine.rules(suppressIds: suppressIds, suppressIdsBegin: suppressIdsBegin, endOfText: s.endOfText,
                                   noTimestamps: s.noTimestamps, timestampBegin: s.timestampBegin, timestamps: timestamps,
                                   maxInitialTimestampIndex: maxInitialTimestampIndex)
    }

    /// The rules for explicit ids (the model's, or a test vocabulary's).
    static func rules(suppressIds suppress: [Int], suppressIdsBegin begin: [Int], endOfText: Int, noTimestamps: Int,
                      timestampBegin: Int, timestamps: Bool, maxInitialTimestampIndex: Int = 50) -> [LogitsRule] {
        var rules: [LogitsRule] = [{ logits, generated in
            let v = logits.count
            for id in suppress where id >= 0 && id < v { logits[id] = -.infinity }
            if generated.isEmpty { for id in begin where id >= 0 && id < v { logits[id] = -.infinity } }
        }]
        if timestamps {
            rules.append { logits, generated in
                WhisperEngine.applyTimestampRules(&logits, generated: generated, endOfText: endOfText, noTimestamps: noTimestamps,
                                                  timestampBegin: timestampBegin, maxInitialTimestampIndex: maxInitialTimestampIndex)
            }
        }
        return rules
    }

    /// CTranslate2's ApplyTimestampRules (what faster-whisper runs; checked against ctranslate2 4.8.5 on the
    /// tiny-random fixture). Unlike OpenAI's, the "timestamps likelier than text" check is skipped at the
    /// first step and right after a closed pair.
    static func applyTimestampRules(_ logits: inout [Float], generated: [Int], endOfText: Int, noTimestamps: Int,
                                    timestampBegin tb: Int, maxInitialTimestampIndex: Int) {
        let v = logits.count
        guard tb < v else { return }
        logits[noTimestamps] = -.infinity
        var checkProbability = false
        if generated.isEmpty {
            for i in 0..<tb { logits[i] = -.infinity }                // start with a timestamp
            let maxInitial = tb + maxInitialTimestampIndex
            if maxInitial + 1 < v { for i in (maxInitial + 1)..<v { logits[i] = -.infinity } }
        } else {
            let last = generated[generated.count - 1]
            if last >= tb {
                let penultimate = generated.count >= 2 ? generated[generated.count - 2] : last
                if penultimate >= tb {
                    for i in tb..<v { logits[i] = -.infinity }        // a pair closed: text must follow
                } else {
                    for i in 0..<endOfText { logits[i] = -.infinity } // an open timestamp: close it (or end)
                    checkProbability = true
                }
            } else {
                checkProbability = true
            }
            if let lastTimestamp = generated.last(where: { $0 >= tb }) {
                // Never decrease; strictly increase unless closing an open pair (no zero-length segments).
                let openPair = last >= tb && (generated.count >= 2 && generated[generated.count - 2] < tb)
                let floor = openPair ? lastTimestamp : lastTimestamp + 1
                for i in tb..<min(floor, v) { logits[i] = -.infinity }
            }
        }
        guard checkProbability else { return }
        // If the timestamps together are likelier than any single text token, sample a timestamp.
        let logp = Decoding.logSoftmax(logits)
        var maxText = -Float.infinity
        for i in 0..<tb where logp[i] > maxText { maxText = logp[i] }
        var m = -Float.infinity
        for i in tb..<v where logp[i] > m { m = logp[i] }
        if m > -Float.infinity {
            var s = 0.0
            for i in tb..<v where logp[i] > -Float.infinity { s += exp(Double(logp[i] - m)) }
            if Double(m) + log(s) > Double(maxText) { for i in 0..<tb { logits[i] = -.infinity } }
        }
    }
}

/// Whisper's text decoder as the generation loop steps it: one state per hypothesis, all against the
/// same window's cross-attention cache.
struct WhisperStepDecoder: StepDecoder {
    let model: EarshotModel
    let decoder: WhisperDecoder
    let cross: WhisperCrossCache

    func step(_ rows: [(state: Int, token: Int)], states: inout [WhisperDecoderState]) throws(EarshotError) -> [[Float]] {
        let decoder = self.decoder, cross = self.cross
        return try model.compute { () throws(EarshotError) -> [[Float]] in
            do { return try decoder.forward(rows: rows, states: &states, cross: cross, wantLogits: Array(repeating: true, count: rows.count)) } catch {
                throw EarshotError.from(error)
            }
        }
    }
}

/// `WhisperStreamingDecoder` as the loop's text stream.
struct WhisperTextStream: TextStream {
    var decoder: WhisperStreamingDecoder
    mutating func append(_ id: Int) throws(EarshotError) -> String { decoder.append(id) }
    mutating func finish() -> String { decoder.finish() }
}
