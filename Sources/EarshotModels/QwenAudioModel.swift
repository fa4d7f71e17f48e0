// QwenAudioModel: audio encoder + LLM behind one small API (Qwen-Audio, and Qwen2-Audio when the config has an
// `audioTokenId`: its projected features replace the runs of `<|AUDIO|>` tokens) — prefill a prompt (ids with expanded audio
// spans + the audios' mels), then decode one token at a time against a KV cache. The generation loop
// (sampling, stops, streaming) lives in the library (`Sources/Earshot/Generation/Decoding.swift`).
import EarshotKernels

public final class QwenAudioModel: @unchecked Sendable {   // immutable after init
    public let config: QwenAudioConfig
    public let encoder: AudioEncoder
    public let lm: QwenLM

    /// Builds the model from canonical-name tensors; every shape is checked against `config`.
    public init(config: QwenAudioConfig, weights: some WeightSource) throws(ModelError) {
        self.config = config
        encoder = try AudioEncoder(config: config.audio, weights: weights)
        lm = try QwenLM(config: config.llm, weights: weights)
    }

    /// A KV cache for up to `capacity` tokens (f16 by default).
    public func makeCache(capacity: Int, precision: KVCache.Precision = .f16) -> KVCache {
        KVCache(config: config.llm, capacity: capacity, precision: precision)
    }

    /// Encodes `mels` (in prompt order), embeds `ids`, splices the spans over each `<audio>…</audio>`, runs the
    /// prompt through the LLM into `cache` and returns the logits at the last prompt position [V].
    /// `batchedAudio` (default) encodes all audios as the reference's one padded batch.
    public func prefill(ids: [Int], mels: [AudioEncoder.Mel] = [], cache: KVCache, batchedAudio: Bool = true,
                        probe: Probe? = nil) throws(ModelError) -> [Float] {
        let h = try prefillHidden(ids: ids, mels: mels, cache: cache, batchedAudio: batchedAudio, probe: probe)
        return lm.lastLogits(h)
    }

    /// Like `prefill` but returns the final-norm hidden states of every prompt position [T × H]
    /// (for teacher-forced scoring: `lm.logits(_:rows:)`).
    public func prefillHidden(ids: [Int], mels: [AudioEncoder.Mel] = [], cache: KVCache, batchedAudio: Bool = true,
                              probe: Probe? = nil) throws(ModelError) -> [Float] {
        guard !ids.isEmpty else { throw .badInput("empty prompt") }
        var x = try lm.embed(ids)
        let hasAudio = ids.contains(config.audio.audioStartId)
        if let token = config.audio.audioTokenId {
            if ids.contains(token) || !mels.isEmpty {
                let features = try encoder.encode(mels, probe: probe)
                try lm.splice(features, into: &x, ids: ids, audioTokenId: token)
            }
        } else if hasAudio || !mels.isEmpty {
            let spans = try encoder.encode(mels, batched: batchedAudio, probe: probe)
            try lm.splice(spans, into: &x, ids: ids, audioStartId: config.audio.audioStartId)
        }
        emit(probe, "llm.inputs_embeds", [ids.count, config.llm.hiddenSize], x)
        return try lm.forward(x, cache: cache, probe: probe)
    }

    /// Feeds one generated token and returns the logits for the next one [V].
    public func decodeStep(id: Int, cache: KVCache) throws(ModelError) -> [Float] {
        let h = try lm.forward(try lm.embed([id]), cache: cache)
        return lm.lastLogits(h)
    }
}
