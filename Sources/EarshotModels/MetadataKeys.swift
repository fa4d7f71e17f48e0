// MetadataKeys: every `.ear` metadata key and blob name the models read, in one place (the converter writes
// them through these constants; Formats/EAR.md § Metadata keys documents them). Append-only.

public enum MetadataKeys {
    // general.*
    public static let architecture = "general.architecture"
    public static let name = "general.name"
    public static let source = "general.source"
    public static let converter = "general.converter"
    public static let quantization = "general.quantization"

    /// `general.architecture` values.
    public enum Architecture {
        public static let qwenAudio = "qwen-audio"
        /// Qwen2-Audio: a 128-bin Whisper-large-v3-style encoder + projector + a Qwen2 LLM (Docs/qwen2-audio.md).
        public static let qwen2Audio = "qwen2-audio"
        /// Qwen2 / Qwen2.5 text LLMs (GQA, q/k/v biases, tied or untied output, no dynamic NTK / logn).
        public static let qwen2 = "qwen2"
        /// The Qwen(-7B) text LLM (Qwen-Audio's LLM without the audio encoder).
        public static let qwen = "qwen"
        public static let whisper = "whisper"
        /// Silero VAD v6 (converted from faster-whisper's ONNX file).
        public static let sileroVAD = "silero-vad"
    }

    // audio.* — the audio encoder (Qwen-Audio).
    /// AvgPool1d(2) before ln_post (Qwen-Audio: true); absent = true.
    public static let audioAvgPool = "audio.avg_pool"
    /// Learned bos/eos vectors around each audio span (Qwen-Audio: true); absent = true.
    public static let audioBosEos = "audio.add_bos_eos"
    /// The token each audio vector replaces (Qwen2-Audio's `<|AUDIO|>`, repeated once per vector between
    /// `<|audio_bos|>` and `<|audio_eos|>`); absent = Qwen-Audio's `<audio>…</audio>` spans.
    public static let audioTokenID = "audio.audio_token_id"

    // qwen.* — the LLM (Qwen-Audio's and the text models').
    public static let hiddenSize = "qwen.hidden_size"
    public static let numLayers = "qwen.num_layers"
    public static let numHeads = "qwen.num_heads"
    /// Key/value heads (GQA); absent = `qwen.num_heads`.
    public static let numKVHeads = "qwen.num_kv_heads"
    public static let headDim = "qwen.head_dim"
    /// 2·F, F = the width of each of the gate and up projections (Qwen-Audio's HF `intermediate_size`).
    public static let intermediateSize = "qwen.intermediate_size"
    public static let vocabSize = "qwen.vocab_size"
    public static let rmsNormEps = "qwen.rms_norm_eps"
    public static let ropeBase = "qwen.rope_base"
    public static let seqLength = "qwen.seq_length"
    public static let useDynamicNTK = "qwen.use_dynamic_ntk"
    public static let useLognAttn = "qwen.use_logn_attn"
    /// True when the output projection is the token embedding (no `output.weight` tensor in the file).
    public static let tiedEmbeddings = "qwen.tied_embeddings"

    // tokenizer.* — for text models converted from GGUF (Qwen-Audio's specials are built in).
    /// Surface strings of the special tokens, in id order from `tokenizer.special_first_id`.
    public static let specialTokens = "tokenizer.special_tokens"
    /// Id of the first special token (= the number of BPE ranks in `tokenizer.tiktoken`).
    public static let specialFirstID = "tokenizer.special_first_id"
    public static let eosID = "tokenizer.eos_id"
    public static let bosID = "tokenizer.bos_id"
    public static let padID = "tokenizer.pad_id"
    public static let addBOS = "tokenizer.add_bos"
    /// The GGUF pre-tokenizer name (`tokenizer.ggml.pre`, e.g. "qwen2"), for provenance.
    public static let preTokenizer = "tokenizer.pre"

    // Blobs.
    /// tiktoken ranks (`base64(bytes) rank` lines): `qwen.tiktoken` for Qwen-Audio, rebuilt from GGUF tokens otherwise.
    public static let tokenizerBlob = "tokenizer.tiktoken"
    /// The Jinja chat template of the source model (GGUF `tokenizer.chat_template`), UTF-8.
    public static let chatTemplateBlob = "tokenizer.chat_template"
    /// A Hugging Face `tokenizer.json` (Whisper's GPT-2 BPE).
    public static let huggingFaceTokenizerBlob = "tokenizer.json"
    /// Mel filters, float32 [bins × 201] row-major.
    public static let melFiltersBlob = "mel_filters"
    /// The checkpoint's `generation_config.json`, verbatim.
    public static let generationConfigBlob = "generation_config.json"
    /// The checkpoint's `config.json`, verbatim (CTranslate2's for Whisper: alignment heads, language ids).
    public static let sourceConfigBlob = "config.json"
}
