// WhisperEndToEndTests: real Whisper tiny.en weights (EARSHOT_WHISPER_DIR, see Tools/whisper/README.md) through
// the whole pipeline — CTranslate2 reader → converter (recipe) → AudioEncoder + WhisperDecoder → tokenizer — on the
// audio fixtures, against faster-whisper's transcripts of the same clips with the same model
// (Tests/Fixtures/whisper/transcripts-tiny.en.json, made by Tools/whisper/make_goldens.py).
import Earshot
import EarshotAudio
import EarshotConvert
import EarshotModels
import EarshotTestSupport
import EarshotTokenizer
import Foundation
import Testing

private struct Transcripts: Decodable {
    struct Segment: Decodable { let start: Double; let end: Double; let text: String; let tokens: [Int] }
    struct Run: Decodable { let text: String; let segments: [Segment] }
    let clips: [String: [String: Run]]
}

/// Lower-case words without punctuation (case/punctuation-insensitive WER).
func normalizedWords(_ s: String) -> [String] {
    let kept: [Character] = s.lowercased().map { (c: Character) -> Character in c.isLetter || c.isNumber || c == "'" ? c : " " }
    return String(kept).split(separator: " ").map(String.init)
}

/// Word error rate of `hyp` against `ref` (Levenshtein over words / reference length).
func wordErrorRate(_ ref: [String], _ hyp: [String]) -> Double {
    var prev = Array(0...hyp.count)
    for (i, r) in ref.enumerated() {
        var cur = [i + 1] + Array(repeating: 0, count: hyp.count)
        for (j, h) in hyp.enumerated() { cur[j + 1] = min(prev[j] + (r == h ? 0 : 1), prev[j + 1] + 1, cur[j] + 1) }
        prev = cur
    }
    return ref.isEmpty ? (hyp.isEmpty ? 0 : 1) : Double(prev[hyp.count]) / Double(ref.count)
}

@Suite(.enabled(if: ProcessInfo.processInfo.environment["EARSHOT_WHISPER_DIR"] != nil), .serialized)
struct WhisperEndToEndTests {
    static let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["EARSHOT_WHISPER_DIR"] ?? "/nonexistent")
    static let clips = ["jfk.wav", "jfk.mp3", "1272-128104-0000.flac"]
    static let jfk = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
    fileprivate static let golden = try! JSONDecoder().decode(Transcripts.self, from: Data(contentsOf: Fixtures.url("whisper/transcripts-tiny.en.json")))

    static func transcriber(_ recipe: String) throws -> WhisperTranscriber {
        let m = try WhisperTestModel.load(dir, recipe: try QuantRecipe(parsing: recipe))
        let tok = try WhisperTokenizer(tokenizerJSON: dir.appendingPathComponent("tokenizer.json"), vocabularySize: m.checkpoint.config.nVocab)
        return try WhisperTranscriber(config: m.checkpoint.config, weights: m.sink.weights, tokenizer: tok,
                                      suppressIds: m.checkpoint.generation.suppressIds,
                                      suppressIdsBegin: m.checkpoint.generation.suppressIdsBegin)
    }

    static func samples(_ clip: String) throws -> [Float] { try AudioLoader.load(Fixtures.url("audio/\(clip)").path).samples }

    /// f32 weights: every clip word for word (and token for token) as faster-whisper, greedy, beam 5, timestamps.
    @Test func f32MatchesFasterWhisper() throws {
        let t = try Self.transcriber("f32")
        for clip in Self.clips {
            let audio = try Self.samples(clip)
            let runs = Self.golden.clips[clip]!
            let greedy = try t.transcribe(audio, options: .init(beamSize: 1))
            #expect(greedy.text == runs["greedy"]!.text, "\(clip) greedy")
            #expect(greedy.segments.flatMap(\.tokens) == runs["greedy"]!.segments.flatMap(\.tokens), "\(clip) greedy tokens")
            let beam = try t.transcribe(audio, options: .init(beamSize: 5))
            #expect(beam.text == runs["beam5"]!.text, "\(clip) beam 5")
            let timed = try t.transcribe(audio, options: .init(beamSize: 1, timestamps: true))
            #expect(timed.segments.flatMap(\.tokens) == runs["greedy_timestamps"]!.segments.flatMap(\.tokens), "\(clip) timestamps")
            #expect(timed.segments.map(\.start) == runs["greedy_timestamps"]!.segments.map(\.start), "\(clip) segment starts")
            print("whisper f32 \(clip): greedy \"\(greedy.text)\" | beam5 \"\(beam.text)\"")
        }
    }

    /// jfk.wav → the known sentence (WER 0, case/punctuation-insensitive) with f32, f16 and q8 weights; q4 reported.
    @Test func jfkWithEveryWeightType() throws {
        let audio = try Self.samples("jfk.wav")
        let ref = normalizedWords(Self.jfk)
        for recipe in ["f32", "f16", "q8", "q4"] {
            let t = try Self.transcriber(recipe)
            let greedy = try t.transcribe(audio, options: .init(beamSize: 1))
            let wer = wordErrorRate(ref, normalizedWords(greedy.text))
            print("whisper jfk \(recipe): WER \(wer) \"\(greedy.text)\"")
            if recipe != "q4" { #expect(wer == 0, "\(recipe): \(greedy.text)") }
        }
    }
}
