// WhisperEndToEndTests: real Whisper tiny.en weights (EARSHOT_WHISPER_DIR, see Tools/whisper/README.md) through
// the whole pipeline — CTranslate2 reader → converter (recipe) → AudioEncoder + WhisperDecoder → tokenizer — on the
// audio fixtures, against faster-whisper's transcripts of the same clips with the same model
// (Tests/Fixtures/whisper/transcripts-tiny.en.json, made by Tools/whisper/make_goldens.py).
import Earshot
import EarshotAudio
import EarshotConvert
import EarshotFormat
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

    /// Decoder logits after every position of `prompt + tokens` (teacher forcing), from this model's own encoder.
    static func teacherForcedLogits(_ t: WhisperTranscriber, _ audio: [Float], prompt: [Int], tokens: [Int]) throws -> [[Float]] {
        let enc = try t.encoder.encode([t.features(audio, start: 0)], batched: false)[0]
        let cross = try t.decoder.crossCache(audio: enc)
        var states = [t.decoder.makeState()]
        let ids = prompt + tokens
        let want = ids.indices.map { $0 >= prompt.count - 1 }
        return try t.decoder.forward(rows: ids.map { (0, $0) }, states: &states, cross: cross, wantLogits: want)
    }

    /// Mean over positions of KL(softmax(p) ‖ softmax(q)) in nats.
    static func meanKL(_ p: [[Float]], _ q: [[Float]]) -> Double {
        var total = 0.0
        for (a, b) in zip(p, q) {
            func logSoftmax(_ x: [Float]) -> [Double] {
                let m = Double(x.max()!)
                let lse = m + log(x.reduce(0.0) { $0 + exp(Double($1) - m) })
                return x.map { Double($0) - lse }
            }
            let la = logSoftmax(a), lb = logSoftmax(b)
            total += zip(la, lb).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) }
        }
        return total / Double(p.count)
    }

    /// Quantized weights vs f32: WER of the greedy transcripts on every English clip and the KL divergence of the
    /// decoder's next-token distributions along the f32 transcript of jfk.wav (both printed for the report).
    /// Bounds: q8 must transcribe every clip exactly as f32; q4 within 10 % WER.
    @Test func quantizedVsF32() throws {
        let f32 = try Self.transcriber("f32")
        var reference: [String: [String]] = [:]
        var jfkTokens: [Int] = []
        for clip in Self.clips {
            let r = try f32.transcribe(try Self.samples(clip), options: .init(beamSize: 1))
            reference[clip] = normalizedWords(r.text)
            if clip == "jfk.wav" { jfkTokens = r.segments.flatMap(\.tokens) }
        }
        let prompt = f32.tokenizer.prompt(timestamps: false, multilingual: false)
        let jfkAudio = try Self.samples("jfk.wav")
        let p = try Self.teacherForcedLogits(f32, jfkAudio, prompt: prompt, tokens: jfkTokens)
        for recipe in ["f16", "q8", "q4m", "q4"] {
            let t = try Self.transcriber(recipe)
            var wers: [String] = []
            for clip in Self.clips {
                let words = normalizedWords(try t.transcribe(try Self.samples(clip), options: .init(beamSize: 1)).text)
                let wer = wordErrorRate(reference[clip]!, words)
                wers.append("\(clip) \(String(format: "%.3f", wer))")
                if recipe == "q8" || recipe == "f16" { #expect(wer == 0, "\(recipe) \(clip)") }
                if recipe.hasPrefix("q4") { #expect(wer <= 0.1, "\(recipe) \(clip)") }
            }
            let kl = Self.meanKL(p, try Self.teacherForcedLogits(t, jfkAudio, prompt: prompt, tokens: jfkTokens))
            print("whisper \(recipe) vs f32: WER \(wers.joined(separator: ", ")); mean KL(f32‖\(recipe)) on jfk = \(String(format: "%.2e", kl)) nats")
        }
    }

    /// The real file path: CTranslate2 dir → earshot-convert's WhisperConverter → `.ear` (q8) on disk → mapped
    /// EarWeights → transcriber → jfk.wav; the file says architecture "whisper".
    @Test func earFileRoundTrip() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-whisper-\(getpid()).q8.ear").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try WhisperConverter.convert(directory: Self.dir, options: ConvertOptions(recipe: try QuantRecipe(parsing: "q8")),
                                         to: try EarFileSink(path: path))
        #expect(WhisperTranscriber.isWhisperModel(path: path))
        let t = try WhisperTranscriber.load(path: path)
        let text = try t.transcribe(try Self.samples("jfk.wav"), options: .init(beamSize: 1)).text
        #expect(wordErrorRate(normalizedWords(Self.jfk), normalizedWords(text)) == 0, "\(text)")
    }

    /// The metadata path a `.ear` load takes: converter metadata → EarMetadata → transcriber, then jfk.wav.
    @Test func transcriberFromConvertedMetadata() throws {
        let m = try WhisperTestModel.load(Self.dir, recipe: try QuantRecipe(parsing: "q8"))
        let tokenizer = try [UInt8](Data(contentsOf: Self.dir.appendingPathComponent("tokenizer.json")))
        let t = try WhisperTranscriber(metadata: earMetadata(m.sink.metadata), weights: m.sink.weights, tokenizerJSON: tokenizer)
        let text = try t.transcribe(try Self.samples("jfk.wav"), options: .init(beamSize: 1)).text
        #expect(wordErrorRate(normalizedWords(Self.jfk), normalizedWords(text)) == 0, "\(text)")
    }
}

/// The converter's metadata as the `.ear` file stores it.
func earMetadata(_ meta: [(key: String, value: MetaValue)]) -> EarMetadata {
    var out = EarMetadata()
    for (k, v) in meta {
        switch v {
        case .string(let s): out[k] = .string(s)
        case .int(let i): out[k] = .int(Int64(i))
        case .double(let d): out[k] = .double(d)
        case .bool(let b): out[k] = .bool(b)
        case .strings(let a): out[k] = .array(a.map { .string($0) })
        }
    }
    return out
}

@Suite struct WhisperTranscriberLoadTests {
    @Test func wrongArchitectureAndMissingKeysAreTypedErrors() throws {
        let weights = InMemoryWeights()
        #expect(throws: WhisperTranscriber.LoadError.notWhisper(architecture: "qwen-audio")) {
            try WhisperTranscriber(metadata: EarMetadata(["general.architecture": .string("qwen-audio")]), weights: weights, tokenizerJSON: [])
        }
        #expect(throws: WhisperTranscriber.LoadError.notWhisper(architecture: nil)) {
            try WhisperTranscriber(metadata: EarMetadata(), weights: weights, tokenizerJSON: [])
        }
        let (sink, _) = try CTranslate2ConverterTestsAccess.convertTiny()
        var meta = earMetadata(sink.metadata)
        meta["whisper.n_text_head"] = nil
        #expect(throws: WhisperTranscriber.LoadError.badMetadata(key: "whisper.n_text_head")) {
            try WhisperTranscriber(metadata: meta, weights: sink.weights, tokenizerJSON: [])
        }
    }
}

enum CTranslate2ConverterTestsAccess {
    static func convertTiny() throws -> (WhisperMemorySink, ConversionReport) {
        let ckpt = try CTranslate2Whisper.load(directory: Fixtures.url("whisper/tiny-random"))
        let sink = WhisperMemorySink()
        return (sink, try WhisperConverter.convert(ckpt, blobs: [], options: ConvertOptions(), to: sink))
    }
}
