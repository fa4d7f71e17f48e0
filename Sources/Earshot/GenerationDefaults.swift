// GenerationDefaults: the sampling defaults of a Qwen-Audio model, read from its `generation_config.json`
// blob (spec §6/§7): the base model's release values, or Qwen-Audio-Chat's.

/// Generation defaults read from the model's `generation_config.json`.
public struct GenerationDefaults: Sendable, Equatable {
    public var chatFormat: String
    public var topP: Float
    public var topK: Int
    public var temperature: Float
    public var repetitionPenalty: Float
    public var maxNewTokens: Int
    public var maxWindowSize: Int
    public var eosTokenId: Int
    /// Whether greedy decoding keeps `repetitionPenalty` (the reference's greedy for Qwen-Audio:
    /// transformers' generate applies the config's penalty with do_sample off) or is plain argmax (text
    /// LLMs, as llama.cpp's greedy and the transformers goldens of the Qwen2 fixtures).
    public var greedyKeepsRepetitionPenalty = true
    /// Whether the default is to sample (`do_sample`; Qwen-Audio's configs say true). When false, `sampling()`
    /// is greedy unless the caller asks otherwise (Qwen2-Audio's evals: `do_sample=False`).
    public var doSample = true

    /// The base model's release config (chat_format raw, top_p 0.8, top_k off).
    public static let base = GenerationDefaults(chatFormat: "raw", topP: 0.8, topK: 0, temperature: 1, repetitionPenalty: 1,
                                                maxNewTokens: 512, maxWindowSize: 6144, eosTokenId: 151_643)
    /// Qwen-Audio-Chat's release config (chatml, top_p 0.5, window 6144).
    public static let chat = GenerationDefaults(chatFormat: "chatml", topP: 0.5, topK: 0, temperature: 1, repetitionPenalty: 1,
                                                maxNewTokens: 512, maxWindowSize: 6144, eosTokenId: 151_643)

    /// Reads the keys of a parsed generation_config.json; missing or unusable keys keep `fallback`'s values
    /// (limits are clamped to sane ranges: a window of 1…32768 tokens, 1…32768 new tokens).
    init(json: [String: Any], fallback: GenerationDefaults = .base) {
        self = fallback
        func number(_ k: String) -> Double? {
            if let v = json[k] as? Double, v.isFinite { return v }
            if let v = json[k] as? Int { return Double(v) }
            return nil
        }
        if let v = json["chat_format"] as? String { chatFormat = v }
        if let v = number("top_p"), v > 0, v <= 1 { topP = Float(v) }
        if let v = number("top_k"), v >= 0, v < 1e9 { topK = Int(v) }
        if let v = number("temperature"), v >= 0, v < 1e6 { temperature = Float(v) }
        if let v = number("repetition_penalty"), v > 0, v < 1e6 { repetitionPenalty = Float(v) }
        if let v = number("max_new_tokens"), v >= 1 { maxNewTokens = Int(min(v, 32_768)) }
        if let v = number("max_window_size"), v >= 1 { maxWindowSize = Int(min(v, 32_768)) }
        if let v = json["eos_token_id"] as? Int, v >= 0 { eosTokenId = v }
        if let v = (json["eos_token_id"] as? [Any])?.first as? Int, v >= 0 { eosTokenId = v }
        if let v = json["do_sample"] as? Bool { doSample = v }
    }

    public init(chatFormat: String, topP: Float, topK: Int, temperature: Float, repetitionPenalty: Float,
                maxNewTokens: Int, maxWindowSize: Int, eosTokenId: Int) {
        self.chatFormat = chatFormat; self.topP = topP; self.topK = topK; self.temperature = temperature
        self.repetitionPenalty = repetitionPenalty; self.maxNewTokens = maxNewTokens
        self.maxWindowSize = maxWindowSize; self.eosTokenId = eosTokenId
    }

    /// Sampling parameters with these defaults (`greedy`, or a config that does not sample: argmax, with or
    /// without the repetition penalty as `greedyKeepsRepetitionPenalty` says).
    public func sampling(seed: UInt64 = 1234, greedy: Bool = false) -> SamplingParameters {
        let greedy = greedy || !doSample
        return SamplingParameters(greedy: greedy, temperature: temperature, topK: topK, topP: topP,
                           repetitionPenalty: greedy && !greedyKeepsRepetitionPenalty ? 1 : repetitionPenalty, seed: seed)
    }
}
