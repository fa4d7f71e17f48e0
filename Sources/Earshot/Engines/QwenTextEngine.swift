// QwenTextEngine: what running a text-only Qwen LLM `.ear` needs (architectures `qwen2` — Qwen2 / Qwen2.5,
// e.g. converted from a GGUF — and `qwen`, Qwen-7B's text half), built once per model: the mapped weights,
// the config and the model (the same `QwenLM` definition Qwen-Audio runs), the tokenizer with the file's own
// special tokens (no audio specials), the chat template's default system prompt and the generation defaults.
// `QwenLLMEngine` is what sessions and chats need of any Qwen LLM, so a text model goes through the same
// prefill, KV cache and generation loop as Qwen-Audio. Internal: apps see `EarshotModel` and `Session`.
import EarshotFormat
import EarshotKernels
import EarshotModels
import EarshotTokenizer
import Foundation

/// What sessions and chats need of a Qwen LLM, whichever family holds it.
protocol QwenLLMEngine: AnyObject, Sendable {
    var lm: QwenLM { get }
    var llmConfig: QwenLMConfig { get }
    var tokenizer: QwenTokenizer { get }
    /// Positions the model is run with (prompt + generated); the KV cache never grows past it.
    var contextLength: Int { get }
    /// Defaults for `run`/`generate` and for chat.
    var defaults: GenerationDefaults { get }
    var chatDefaults: GenerationDefaults { get }
    /// Ids that end a plain generation (`run`, `generate`), and a ChatML reply.
    var stopIds: Set<Int> { get }
    var chatStopIds: Set<Int> { get }
    /// The system prompt a chat starts with when the caller gives none.
    var defaultSystem: String { get }
    /// The audio half (Qwen-Audio); nil for a text-only model.
    var audio: QwenAudioEngine? { get }
}

extension QwenLLMEngine {
    func makeCache(capacity: Int, precision: KVCache.Precision) -> KVCache {
        KVCache(config: llmConfig, capacity: capacity, precision: precision)
    }
}

extension QwenAudioEngine: QwenLLMEngine {
    var lm: QwenLM { model.lm }
    var llmConfig: QwenLMConfig { config.llm }
    var defaultSystem: String { Chat.defaultSystem }
    var audio: QwenAudioEngine? { self }
}

final class QwenTextEngine: QwenLLMEngine, @unchecked Sendable {   // immutable after init
    let weights: EarWeights
    let model: QwenTextModel
    let tokenizer: QwenTokenizer
    let defaults: GenerationDefaults
    let chatDefaults: GenerationDefaults
    let contextLength: Int
    let stopIds: Set<Int>
    let chatStopIds: Set<Int>
    let defaultSystem: String
    /// The file's chat template (Jinja source from the GGUF), when it has one.
    let chatTemplate: String?
    var audio: QwenAudioEngine? { nil }
    var lm: QwenLM { model.lm }
    var llmConfig: QwenLMConfig { model.config }

    /// Sampling defaults when the file has no generation config: Qwen2.5-Instruct's release values
    /// (generation_config.json: temperature 0.7, top_p 0.8, top_k 20, repetition_penalty 1.05).
    static let releaseDefaults = GenerationDefaults(chatFormat: "chatml", topP: 0.8, topK: 20, temperature: 0.7,
                                                    repetitionPenalty: 1.05, maxNewTokens: 512, maxWindowSize: 6144,
                                                    eosTokenId: 151_643)

    init(path: String, file: EarFile) throws(EarshotError) {
        weights = EarWeights(file: file)
        do { model = try QwenTextModel(metadata: weights.configValues, weights: weights) } catch {
            throw .modelContents(path: path, error)
        }
        let config = model.config
        let blob: [UInt8]
        do { blob = try file.blob(named: MetadataKeys.tokenizerBlob) } catch { throw .modelFile(path: path, error) }
        let specials = try QwenTextEngine.textSpecials(file: file, path: path)
        do { tokenizer = try QwenTokenizer(tiktoken: blob, textSpecials: specials) } catch { throw .tokenizer(error) }
        try QwenTextEngine.checkSpecialsStart(file: file, path: path, tokenizer: tokenizer)
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw .modelContents(path: path, .badConfig(key: MetadataKeys.vocabSize,
                reason: "the tokenizer has \(tokenizer.vocabularySize) ids, more than the \(config.vocabSize) rows of the embedding"))
        }
        let s = tokenizer.specials
        let eos = (try? file.metadata.int(MetadataKeys.eosID)).flatMap { $0 >= 0 && $0 < config.vocabSize ? $0 : nil }
            ?? s.endOfTextID
        guard eos >= 0 else {
            throw .modelContents(path: path, .badConfig(key: MetadataKeys.eosID, reason: "no end-of-sequence id and no <|endoftext|> special"))
        }
        contextLength = max(2, min(QwenAudioEngine.maxContext, config.seqLength))
        var fallback = QwenTextEngine.releaseDefaults
        fallback.eosTokenId = eos
        fallback.maxNewTokens = min(fallback.maxNewTokens, max(1, contextLength / 2))
        fallback.maxWindowSize = min(fallback.maxWindowSize, max(1, contextLength - fallback.maxNewTokens))
        var d = GenerationDefaults(json: QwenAudioEngine.generationConfig(file), fallback: fallback)
        d.greedyKeepsRepetitionPenalty = false
        defaults = d
        chatDefaults = d
        stopIds = Set([eos, s.endOfTextID, s.imEndID].filter { $0 >= 0 })
        chatStopIds = Set([eos, s.endOfTextID, s.imStartID, s.imEndID].filter { $0 >= 0 })
        chatTemplate = file.hasBlob(named: MetadataKeys.chatTemplateBlob)
            ? (try? file.blob(named: MetadataKeys.chatTemplateBlob)).map { String(decoding: $0, as: UTF8.self) } : nil
        defaultSystem = chatTemplate.flatMap(QwenTextEngine.defaultSystem(inTemplate:)) ?? Chat.defaultSystem
    }

    /// The file's special tokens in id order (a GGUF's or a Hugging Face tokenizer's list, after the ranks);
    /// without the key, Qwen(-7B)'s own: <|endoftext|>, <|im_start|>, <|im_end|>, <|extra_0|> … <|extra_204|>
    /// (tokenization_qwen.py's SPECIAL_TOKENS).
    static func textSpecials(file: EarFile, path: String) throws(EarshotError) -> [String] {
        guard file.metadata[MetadataKeys.specialTokens] != nil else { return QwenSpecialTokens.generalSurfaces() }
        do { return try file.metadata.strings(MetadataKeys.specialTokens) } catch {
            throw .modelContents(path: path, .badConfig(key: MetadataKeys.specialTokens, reason: "not a list of strings (\(error.description))"))
        }
    }

    /// The specials must start right after the ranks when the file says where they start.
    static func checkSpecialsStart(file: EarFile, path: String, tokenizer: QwenTokenizer) throws(EarshotError) {
        if let first = try? file.metadata.int(MetadataKeys.specialFirstID), first != tokenizer.ranks.count {
            throw .modelContents(path: path, .badConfig(key: MetadataKeys.specialFirstID,
                reason: "the specials start at \(first) but the tokenizer has \(tokenizer.ranks.count) ranks"))
        }
    }

    /// The system prompt a ChatML template writes when the conversation has none: the first literal
    /// `<|im_start|>system\n…<|im_end|>` in the Jinja source (Qwen2.5: "You are Qwen, created by Alibaba
    /// Cloud. You are a helpful assistant."). nil when the template only inserts the caller's message.
    static func defaultSystem(inTemplate t: String) -> String? {
        for marker in ["<|im_start|>system\\n", "<|im_start|>system\n"] {
            var rest = t[...]
            while let r = rest.range(of: marker) {
                rest = rest[r.upperBound...]
                guard let end = rest.range(of: "<|im_end|>") else { break }
                let text = rest[..<end.lowerBound]
                if !text.isEmpty, !text.contains(where: { "{}'\"+\\".contains($0) }) { return String(text) }
            }
        }
        return nil
    }
}
