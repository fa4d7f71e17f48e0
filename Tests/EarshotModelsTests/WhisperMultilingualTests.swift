// WhisperMultilingualTests (opt-in: EARSHOT_WHISPER_BASE=<whisper-base .ear>, made by `Tools/get-model.sh
// whisper-base`): the multilingual Whisper base on es.mp3 (Spanish) — the language is detected, the Spanish
// text comes out in Spanish, `--lang es` gives the same, and the translate task gives English.
import Foundation
import Testing
import EarshotTestSupport
@testable import Earshot

@Suite(.enabled(if: ProcessInfo.processInfo.environment["EARSHOT_WHISPER_BASE"] != nil), .serialized)
struct WhisperMultilingualTests {
    static let model = try! EarshotModel(path: ProcessInfo.processInfo.environment["EARSHOT_WHISPER_BASE"]!)
    static let es = AudioInput.file(Fixtures.url("audio/es.mp3").path)

    @Test func saysWhatItIs() {
        let info = Self.model.info
        #expect(info.family == .whisper && info.detectsLanguage && info.languages.count >= 99 && info.languages.contains("es"))
        #expect(info.supports(.translate) && info.translationTargets == ["en"])
    }

    @Test func detectsSpanishAndTranscribesIt() throws {
        let t = try Self.model.makeSession().transcribe(Self.es)
        print("whisper base es.mp3: \(t.language ?? "?") p=\(t.languageProbability ?? 0): \(t.text)")
        #expect(t.language == "es" && (t.languageProbability ?? 0) > 0.9)
        for word in ["podemos", "actividades", "deportes"] { #expect(t.text.contains(word), "\(t.text)") }
        var o = TranscriptionOptions()
        o.language = "es"
        let given = try Self.model.makeSession().transcribe(Self.es, options: o)
        #expect(given.text == t.text && given.languageProbability == 1)
    }

    @Test func translatesSpanishToEnglish() throws {
        var o = TranscriptionOptions()
        o.task = .translate(target: "en")
        let t = try Self.model.makeSession().transcribe(Self.es, options: o)
        print("whisper base es.mp3 → en: \(t.text)")
        #expect(t.task == "translate" && t.language == "es")
        for word in ["activities", "sports"] { #expect(t.text.lowercased().contains(word), "\(t.text)") }
        o.task = .translate(target: "fr")
        #expect(throws: EarshotError.self) { try Self.model.makeSession().transcribe(Self.es, options: o) }
    }
}
