// FileContract: the names the converter writes and the runtime reads — blob names and the architecture
// strings of `general.architecture` — in one place, so the two sides cannot drift apart. Model
// hyperparameter keys live next to the config types that read and write them (EarshotModels).

/// Names of the non-weight blobs of a `.ear` file.
public enum EarBlobName {
    /// The Qwen tokenizer: the bytes of the checkpoint's `qwen.tiktoken`.
    public static let qwenTokenizer = "tokenizer.tiktoken"
    /// A Hugging Face `tokenizer.json` (Whisper's GPT-2 BPE).
    public static let huggingFaceTokenizer = "tokenizer.json"
    /// Mel filters, float32 [bins × 201] row-major.
    public static let melFilters = "mel_filters"
    /// The checkpoint's `generation_config.json`, verbatim.
    public static let generationConfig = "generation_config.json"
    /// The checkpoint's `config.json`, verbatim (CTranslate2's for Whisper: alignment heads, language ids).
    public static let sourceConfig = "config.json"
}

/// Values of the `general.architecture` metadata key.
public enum EarArchitecture {
    public static let qwenAudio = "qwen-audio"
    public static let whisper = "whisper"
    /// The metadata key itself.
    public static let key = "general.architecture"
}
