// QwenSpecialTokens: the 3522 special tokens of Qwen-Audio, generated in the reference's order
// (SPECIAL_TOKENS + AUDIO_ST of tokenization_qwen.py), numbered from the rank count (151643) — or a text
// model's own list (Qwen2's 22 specials from its GGUF), which has no audio specials at all.

/// Which special-token strings inside text become special ids when encoding.
public enum SpecialMode: String, Sendable, CaseIterable {
    /// Every special (`tokenizer.encode(text)`: the base model and eval prompts).
    case all
    /// Only the audio specials AUDIO_ST (task tags, timestamps, `<audio>`, `</audio>`, the placeholder):
    /// the chat path (`make_context`). `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`, `<|extra_N|>` stay text.
    case audio
    /// No special: every special-looking string is plain text (user text).
    case none
    /// The audio specials except `<audio>`, `</audio>` and the audio placeholder: how Earshot re-encodes a
    /// model's reply in a chat history, so generated text can never name a file to open.
    case response
}

/// The special tokens: surface strings in id order, and lookup by surface string.
public struct QwenSpecialTokens: Sendable {
    /// Id of the first special (= number of BPE ranks).
    public let firstID: Int
    /// Surface strings; `surfaces[i]` has id `firstID + i`.
    public let surfaces: [String]
    /// Index into `surfaces` of the first AUDIO_ST token (`[[[AUDIO:modality]]]`).
    public let firstAudioIndex: Int
    let idBySurface: [String: Int]
    /// UTF-8 of every surface string, by index.
    let surfaceBytes: [[UInt8]]
    /// Longest surface string in bytes (bounds the special-token search window).
    let longestSurface: Int
    /// Whether the list has the audio specials (Qwen-Audio); a text model's list has none.
    public let hasAudio: Bool
    /// `secondByteAfterOpen[b]`: some surface starts with `<` followed by byte b (the fast reject in `match`).
    let secondByteAfterOpen: [Bool]
    /// `<|endoftext|>`, `<|im_start|>`, `<|im_end|>` (−1 when the list lacks one).
    public let endOfTextID: Int
    public let imStartID: Int
    public let imEndID: Int

    /// The 8 language tags in the reference's order.
    public static let languages = ["en", "zh", "de", "es", "ko", "fr", "ja", "it"]

    /// SPECIAL_TOKENS of the reference: end of text, ChatML markers, 205 unused extras.
    public static func generalSurfaces() -> [String] {
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + (0 ..< 205).map { "<|extra_\($0)|>" }
    }

    /// Timestamp surface `<|s.cc|>` for k hundredths of a second (Python f"{k*0.01:.2f}", k in 0...3000).
    public static func timestampSurface(centiseconds k: Int) -> String {
        let cents = k % 100
        return "<|\(k / 100).\(cents < 10 ? "0" : "")\(cents)|>"
    }

    /// AUDIO_ST of the reference, in order (3314 strings).
    public static func audioSurfaces() -> [String] {
        var s = ["[[[AUDIO:modality]]]", "<|startoftranscript|>", "<|startofanalysis|>",
                 "<|translate|>", "<|transcribe|>", "<|caption|>", "<|keyword|>", "<|unknown|>"]
        s += languages.map { "<|\($0)|>" }
        s += ["<|zh_tr|>", "<|notimestamps|>", "<|sil|>", "<|timestamps|>"]
        s += (0 ... 3000).map { timestampSurface(centiseconds: $0) }
        s += ["<|caption_audiocaps|>", "<|caption_clotho|>", "<|audioset_ontology|>", "<|caption_plain|>",
              "<|itn|>", "<|wo_itn|>", "<|startofentityvalue|>", "<|endofentityvalue|>",
              "<|startofentitytype|>", "<|endofentitytype|>", "<|named_entity_recognition|>",
              "<|audio_grounding|>", "<|startofword|>", "<|endofword|>", "<|delim|>",
              "<|emotion_recognition|>", "<|music_description|>", "<|note_analysis|>", "<|pitch|>"]
        s += (0 ..< 128).map { "<|midi_pitch_\($0)|>" }
        s.append("<|velocity|>")
        s += (0 ..< 128).map { "<|midi_velocity_\($0)|>" }
        s += ["<|sonic|>", "<|instrument|>", "<|speaker_meta|>", "<|song_meta|>", "<|question|>", "<|answer|>",
              "<|choice|>", "<|scene|>", "<|event|>", "<|vocal_classification|>", "<|speech_understanding|>",
              "<|scenario|>", "<|action|>", "<|entities|>", "<|speech_edit|>", "<audio>", "</audio>"]
        return s
    }

    /// Builds the list numbered from `firstID` (the rank count).
    public init(firstID: Int) {
        let general = QwenSpecialTokens.generalSurfaces()
        let all = general + QwenSpecialTokens.audioSurfaces()
        self.firstID = firstID
        self.surfaces = all
        self.firstAudioIndex = general.count
        var map = [String: Int](minimumCapacity: all.count)
        for (i, s) in all.enumerated() { map[s] = firstID + i }
        self.idBySurface = map
        self.surfaceBytes = all.map { Array($0.utf8) }
        self.longestSurface = surfaceBytes.map(\.count).max() ?? 0
        self.hasAudio = true
        self.secondByteAfterOpen = QwenSpecialTokens.secondBytes(surfaceBytes)
        self.endOfTextID = firstID
        self.imStartID = firstID + 1
        self.imEndID = firstID + 2
    }

    /// A text model's specials (e.g. Qwen2's `<|endoftext|>`, `<|im_start|>`, … `<|file_sep|>` from its GGUF),
    /// numbered from `firstID`; no audio specials, so no text ever becomes an audio tag. Every surface must
    /// start with `<`, end with its only `>`, and appear once (what the special-token split relies on).
    public init(firstID: Int, textSurfaces: [String]) throws(TokenizerError) {
        var map = [String: Int](minimumCapacity: textSurfaces.count)
        for (i, s) in textSurfaces.enumerated() {
            let b = Array(s.utf8)
            guard b.count >= 2, b[0] == 60, b.last == 62, b.filter({ $0 == 62 }).count == 1 else {
                throw .badSpecialToken(id: firstID + i, surface: s, reason: "a special must start with '<' and end with its only '>'")
            }
            guard map.updateValue(firstID + i, forKey: s) == nil else {
                throw .badSpecialToken(id: firstID + i, surface: s, reason: "it repeats an earlier special")
            }
        }
        self.firstID = firstID
        self.surfaces = textSurfaces
        self.firstAudioIndex = textSurfaces.count
        self.idBySurface = map
        self.surfaceBytes = textSurfaces.map { Array($0.utf8) }
        self.longestSurface = surfaceBytes.map(\.count).max() ?? 0
        self.hasAudio = false
        self.secondByteAfterOpen = QwenSpecialTokens.secondBytes(surfaceBytes)
        self.endOfTextID = map["<|endoftext|>"] ?? -1
        self.imStartID = map["<|im_start|>"] ?? -1
        self.imEndID = map["<|im_end|>"] ?? -1
    }

    static func secondBytes(_ surfaces: [[UInt8]]) -> [Bool] {
        var t = [Bool](repeating: false, count: 256)
        for s in surfaces where s.count > 1 && s[0] == 60 { t[Int(s[1])] = true }
        return t
    }

    /// `[[[AUDIO:modality]]]`, the placeholder an audio span is filled with (−1, matching no id, without audio specials).
    public var audioPlaceholderID: Int { hasAudio ? firstID + firstAudioIndex : -1 }
    /// `<audio>` and `</audio>` (the last two specials; −1 without audio specials).
    public var audioStartID: Int { hasAudio ? firstID + surfaces.count - 2 : -1 }
    public var audioEndID: Int { hasAudio ? firstID + surfaces.count - 1 : -1 }

    /// Id of the timestamp `<|s.cc|>` for k hundredths of a second (k in 0...3000), or nil.
    public func timestampID(centiseconds k: Int) -> Int? {
        guard k >= 0 && k <= 3000, let first = idBySurface["<|0.00|>"] else { return nil }
        return first + k
    }

    /// Hundredths of a second of a timestamp id (`<|2.33|>` → 233), or nil if `id` is not a timestamp.
    public func timestampCentiseconds(of id: Int) -> Int? {
        guard let first = idBySurface["<|0.00|>"], id >= first && id <= first + 3000 else { return nil }
        return id - first
    }

    /// Id of a language tag (`"en"` → `<|en|>`), or nil for a language the model was not trained on.
    public func languageID(_ code: String) -> Int? {
        QwenSpecialTokens.languages.contains(code) ? idBySurface["<|\(code)|>"] : nil
    }

    /// Number of specials (3522).
    public var count: Int { surfaces.count }

    /// Id of a special surface string (`"<|en|>"`, `"<audio>"`), or nil.
    public func id(of surface: String) -> Int? { idBySurface[surface] }

    /// Surface string of a special id, or nil if `id` is not a special.
    public func surface(of id: Int) -> String? {
        let i = id - firstID
        return i >= 0 && i < surfaces.count ? surfaces[i] : nil
    }

    /// Whether special `id` is recognised inside text in `mode`.
    @inline(__always)
    func isAllowed(_ id: Int, in mode: SpecialMode) -> Bool {
        switch mode {
        case .all: return true
        case .audio: return id >= firstID + firstAudioIndex
        case .none: return false
        case .response: return hasAudio && id > firstID + firstAudioIndex && id < firstID + surfaces.count - 2
        }
    }

    /// Special id whose surface string starts at text[i] (UTF-8), or nil. Surfaces start with `<` or `[`;
    /// those starting with `<` contain exactly one `>` (at their end), so the candidate ends at the first `>`.
    @inline(__always)
    func match(_ text: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> (id: Int, length: Int)? {
        let first = text[i]
        var stop: Int
        if first == 60 {  // "<"; Qwen-Audio's continue with "|", "a" (<audio>) or "/" (</audio>)
            guard i + 1 < end, secondByteAfterOpen[Int(text[i + 1])] else { return nil }
            stop = i + 1
            let limit = min(end, i + longestSurface)
            while stop < limit && text[stop] != 62 { stop += 1 }
            guard stop < limit else { return nil }
            stop += 1
        } else if first == 91 && hasAudio {  // "[": only [[[AUDIO:modality]]]
            stop = i + 20
            guard stop <= end else { return nil }
        } else {
            return nil
        }
        guard let id = idBySurface[String(decoding: UnsafeBufferPointer(rebasing: text[i ..< stop]), as: UTF8.self)]
        else { return nil }
        return (id, stop - i)
    }
}

/// Fixed ids of Qwen-Audio (151,643 ranks + the specials above); tests check them against the recipe.
public enum QwenTokenID {
    public static let endOfText = 151643
    public static let imStart = 151644
    public static let imEnd = 151645
    public static let audioPlaceholder = 151851
    public static let startOfTranscript = 151852
    public static let startOfAnalysis = 151853
    public static let noTimestamps = 151868
    public static let timestamps = 151870
    /// `<|0.00|>`; `<|k/100|>` is `firstTimestamp + k` for k in 0...3000.
    public static let firstTimestamp = 151871
    public static let audioStart = 155163
    public static let audioEnd = 155164
    /// Total ids (ranks + specials): 155,165.
    public static let vocabularySize = 155165
}
