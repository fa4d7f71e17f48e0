// WhisperConfig: the hyperparameters of a plain Whisper model (encoder + text decoder), as stored in `.ear`
// metadata under `whisper.*` keys (see Formats/tensor-names-whisper.md) and derived from checkpoint shapes.

/// Dimensions of a Whisper model. Names follow OpenAI's `ModelDimensions`.
public struct WhisperConfig: Sendable, Equatable {
    /// Mel bins of the input (80 for v1/v2 and tiny…large-v2, 128 for large-v3).
    public var nMels: Int
    /// Encoder positions after the stride-2 conv (1500 for 30 s).
    public var nAudioCtx: Int
    /// Encoder width S.
    public var nAudioState: Int
    public var nAudioHead: Int
    public var nAudioLayer: Int
    /// Vocabulary size V (51864 for English-only models, 51865 multilingual).
    public var nVocab: Int
    /// Decoder positions (448).
    public var nTextCtx: Int
    /// Decoder width D (equals S in every released Whisper).
    public var nTextState: Int
    public var nTextHead: Int
    public var nTextLayer: Int

    public init(nMels: Int, nAudioCtx: Int, nAudioState: Int, nAudioHead: Int, nAudioLayer: Int,
                nVocab: Int, nTextCtx: Int, nTextState: Int, nTextHead: Int, nTextLayer: Int) {
        self.nMels = nMels
        self.nAudioCtx = nAudioCtx
        self.nAudioState = nAudioState
        self.nAudioHead = nAudioHead
        self.nAudioLayer = nAudioLayer
        self.nVocab = nVocab
        self.nTextCtx = nTextCtx
        self.nTextState = nTextState
        self.nTextHead = nTextHead
        self.nTextLayer = nTextLayer
    }

    /// English-only models have 51864 tokens; multilingual ones 51865 or more.
    public var isMultilingual: Bool { nVocab >= 51865 }

    /// `.ear` metadata keys and integer values (architecture "whisper").
    public var metadata: [(key: String, value: Int)] {
        [("whisper.n_mels", nMels), ("whisper.n_audio_ctx", nAudioCtx), ("whisper.n_audio_state", nAudioState),
         ("whisper.n_audio_head", nAudioHead), ("whisper.n_audio_layer", nAudioLayer), ("whisper.n_vocab", nVocab),
         ("whisper.n_text_ctx", nTextCtx), ("whisper.n_text_state", nTextState),
         ("whisper.n_text_head", nTextHead), ("whisper.n_text_layer", nTextLayer)]
    }

    /// Rebuilds a config from metadata integers (nil when a key is missing).
    public init?(metadata lookup: (String) -> Int?) {
        guard let m = lookup("whisper.n_mels"), let ac = lookup("whisper.n_audio_ctx"),
              let s = lookup("whisper.n_audio_state"), let ah = lookup("whisper.n_audio_head"),
              let al = lookup("whisper.n_audio_layer"), let v = lookup("whisper.n_vocab"),
              let tc = lookup("whisper.n_text_ctx"), let d = lookup("whisper.n_text_state"),
              let th = lookup("whisper.n_text_head"), let tl = lookup("whisper.n_text_layer") else { return nil }
        self.init(nMels: m, nAudioCtx: ac, nAudioState: s, nAudioHead: ah, nAudioLayer: al,
                  nVocab: v, nTextCtx: tc, nTextState: d, nTextHead: th, nTextLayer: tl)
    }
}
