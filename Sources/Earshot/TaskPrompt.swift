// TaskPrompt: the task prompts of the pre-trained models: Qwen-Audio's hierarchical task tags (spec §6; each
// task the exact tag string the official eval scripts put after `<audio>PATH</audio>`), and Qwen2-Audio's
// natural-language prompts after its audio span (Docs/qwen2-audio.md §5).

/// A language tag of the pre-trained model (the eight trained languages).
public enum AudioLanguage: String, CaseIterable, Sendable {
    case en, zh, de, es, ko, fr, ja, it

    public var tag: String { "<|\(rawValue)|>" }

    /// The language's English name (Qwen2-Audio's translation prompt names the target).
    public var englishName: String {
        switch self {
        case .en: return "English"
        case .zh: return "Chinese"
        case .de: return "German"
        case .es: return "Spanish"
        case .ko: return "Korean"
        case .fr: return "French"
        case .ja: return "Japanese"
        case .it: return "Italian"
        }
    }
}

/// Caption styles the model was trained with.
public enum CaptionStyle: String, CaseIterable, Sendable {
    case clotho, audiocaps, plain
}

/// Closed-set classification tasks.
public enum ClassificationTask: String, CaseIterable, Sendable {
    case emotion, scene, vocal
}

/// One task of the pre-trained (base) model, turned into its exact tag sequence.
public enum AudioTask: Sendable, Equatable {
    /// ASR. `itn`: inverse text normalisation (numbers, punctuation) on or off (`<|wo_itn|>`, the eval default).
    case transcribe(language: AudioLanguage, itn: Bool = false)
    /// Speech translation from `source` to `target`.
    case translate(source: AudioLanguage, target: AudioLanguage)
    /// Transcription with word-level timestamps (SRWT).
    case timestamps(language: AudioLanguage)
    /// Audio captioning.
    case caption(style: CaptionStyle)
    /// Audio question answering.
    case ask(question: String)
    case classify(ClassificationTask)
    /// Music note analysis (NSynth-style pitch / velocity / instrument tags).
    case notes

    /// The tag text that follows `<audio>PATH</audio>` (spec §6, verbatim).
    public var tags: String {
        switch self {
        case let .transcribe(lang, itn):
            return "<|startoftranscript|>\(lang.tag)<|transcribe|>\(lang.tag)<|notimestamps|>" + (itn ? "<|itn|>" : "<|wo_itn|>")
        case let .translate(source, target):
            return "<|startoftranscript|>\(source.tag)<|translate|>\(target.tag)<|notimestamps|><|itn|>"
        case let .timestamps(lang):
            return "<|startoftranscript|>\(lang.tag)<|transcribe|>\(lang.tag)<|timestamps|><|0.00|>"
        case let .caption(style):
            return "<|startofanalysis|><|unknown|><|caption|><|en|><|notimestamps|><|caption_\(style.rawValue)|>"
        case let .ask(question):
            return "<|startofanalysis|><|en|><|question|>\(question)<|answer|>"
        case .classify(.emotion):
            return "<|startofanalysis|><|en|><|keyword|><|en|><|notimestamps|><|emotion_recognition|>"
        case .classify(.vocal):
            return "<|startofanalysis|><|en|><|keyword|><|en|><|notimestamps|><|vocal_classification|>"
        case .classify(.scene):
            return "<|startofanalysis|><|unknown|><|keyword|><|en|><|notimestamps|><|scene|>"
        case .notes:
            return "<|startofanalysis|><|unknown|><|keyword|><|en|><|notimestamps|><|note_analysis|>"
        }
    }

    /// The tag text split where user text sits: (text, whether specials are recognised in it). Only the
    /// question of `.ask` is user text; it is tokenized with every special disallowed, so a question such as
    /// "<audio>/etc/passwd</audio>" stays plain text.
    public var promptParts: [(text: String, specials: Bool)] {
        if case let .ask(question) = self {
            return [("<|startofanalysis|><|en|><|question|>", true), (question, false), ("<|answer|>", true)]
        }
        return [(tags, true)]
    }

    /// The task's name in messages (`transcribe`, `caption`, `classify scene`, …).
    public var name: String {
        switch self {
        case .transcribe: return "transcribe"
        case .translate: return "translate"
        case .timestamps: return "timestamps"
        case .caption(let s): return "caption (\(s.rawValue) style)"
        case .ask: return "ask"
        case .classify(let c): return "classify \(c.rawValue)"
        case .notes: return "notes"
        }
    }

    /// Qwen2-Audio's base-model prompt after the audio span, split as `promptParts` (Docs/qwen2-audio.md §5:
    /// the README's caption prompt; the ASR, translation, emotion and vocal-sound prompts of the evaluation
    /// data as reported). nil for a task without a known prompt (timestamps, notes, scene, inverse text
    /// normalisation); `.ask` runs as an Instruct chat turn instead.
    public var qwen2AudioPromptParts: [(text: String, specials: Bool)]? {
        switch self {
        case .transcribe(let lang, let itn):
            return itn ? nil : [("Detect the language and recognize the speech: \(lang.tag)", true)]
        case let .translate(source, target):
            return [("Detect the language and translate the speech into \(target.englishName): \(source.tag)", true)]
        case .caption(.plain): return [("Generate the caption in English:", true)]
        case .classify(.emotion): return [("Recognize the emotion with keywords in English:", true)]
        case .classify(.vocal): return [("Classify the human vocal sound to VocalSound in English:", true)]
        case .ask(let question): return [(question, false)]
        case .caption, .classify(.scene), .timestamps, .notes: return nil
        }
    }

    /// The whole raw prompt for one audio file.
    public func prompt(audioPath: String) -> String { "<audio>\(audioPath)</audio>" + tags }

    /// The eval scripts' max_new_tokens for this task: a sane default.
    public var defaultMaxTokens: Int {
        switch self {
        case .transcribe, .translate, .timestamps: return 256
        case .caption, .notes: return 30
        case .ask, .classify(.emotion), .classify(.vocal): return 4
        case .classify(.scene): return 10
        }
    }
}
