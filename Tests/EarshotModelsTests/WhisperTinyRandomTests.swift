// WhisperTinyRandomTests: a tiny random Whisper in CTranslate2 format (Tests/Fixtures/whisper/tiny-random,
// made by Tools/whisper/make_tiny_ct2.py) read by the CTranslate2 reader and decoded by WhisperDecoder, against
// CTranslate2's own logits and tokens on the same encoder output. Runs everywhere (no downloaded weights).
import EarshotConvert
import EarshotModels
import EarshotTestSupport
import Foundation
import Testing

@Suite struct WhisperTinyRandomTests {
    struct Golden: Decodable {
        let mel: [Float], encoder: [Float]
        let greedy: [Int], beam5: [Int], greedy_timestamps: [Int], beam5_timestamps: [Int]
        let greedy_logits: [[Float]]
    }

    static let dir = Fixtures.url("whisper/tiny-random")
    static let golden = try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: dir.appendingPathComponent("golden.json")))
    // Vocabulary of the fixture: 50 plain tokens, specials at 50…58, timestamps from 59.
    static let tokens = WhisperSearchTokens(endOfText: 50, noTimestamps: 58, timestampBegin: 59)

    static func model() throws -> (WhisperDecoder, WhisperCheckpoint) {
        let m = try WhisperTestModel.load(dir)
        return (m.decoder, m.checkpoint)
    }


    @Test func configFromCheckpoint() throws {
        let (_, ckpt) = try Self.model()
        #expect(ckpt.config == WhisperConfig(nMels: 8, nAudioCtx: 20, nAudioState: 16, nAudioHead: 2, nAudioLayer: 2,
                                             nVocab: 80, nTextCtx: 24, nTextState: 16, nTextHead: 2, nTextLayer: 2))
        #expect(ckpt.generation.suppressIdsBegin == [7, 50])
    }

    @Test func greedyLogitsOfEveryStepMatchCTranslate2() throws {
        let (dec, ckpt) = try Self.model()
        let cross = try dec.crossCache(audio: Self.golden.encoder)
        var states = [dec.makeState()]
        var logits = try dec.forward(rows: [(0, 51), (0, 58)], states: &states, cross: cross, wantLogits: [false, true])[0]
        var generated: [Int] = []
        for (step, ref) in Self.golden.greedy_logits.enumerated() {
            WhisperLoop.applyRules(&logits, generated: generated, tokens: Self.tokens, suppressIds: ckpt.generation.suppressIds,
                                   suppressIdsBegin: ckpt.generation.suppressIdsBegin, timestamps: false)
            for i in ref.indices {
                if ref[i] < -1e30 { #expect(logits[i] == -.infinity, "step \(step) id \(i) should be suppressed") }
                // f16 weights widened exactly on both sides, f32 compute: only summation order differs.
                else { #expect(abs(logits[i] - ref[i]) < 1e-4, "step \(step) id \(i): \(logits[i]) vs \(ref[i])") }
            }
            var best = 0
            for i in logits.indices where logits[i] > logits[best] { best = i }
            if best == Self.tokens.endOfText { break }
            generated.append(best)
            logits = try dec.forward(rows: [(0, best)], states: &states, cross: cross, wantLogits: [true])[0]
        }
        #expect(generated == Self.golden.greedy)
    }

    @Test func searchTokensMatchCTranslate2() throws {
        let (dec, ckpt) = try Self.model()
        let cross = try dec.crossCache(audio: Self.golden.encoder)
        func run(_ prompt: [Int], beam: Int, timestamps: Bool) throws -> [Int] {
            // CTranslate2 max_length 12 → min(12 / 2, 12 − (prompt − 1)) = 6 new tokens.
            try WhisperLoop.run(dec, cross: cross, prompt: prompt, tokens: Self.tokens, suppressIds: ckpt.generation.suppressIds,
                                suppressIdsBegin: ckpt.generation.suppressIdsBegin, beam: beam, timestamps: timestamps, maxNew: 6)
        }
        #expect(try run([51, 58], beam: 1, timestamps: false) == Self.golden.greedy)
        #expect(try run([51, 58], beam: 5, timestamps: false) == Self.golden.beam5)
        #expect(try run([51], beam: 1, timestamps: true) == Self.golden.greedy_timestamps)
        let beamTimestamps = try run([51], beam: 5, timestamps: true)
        #expect(beamTimestamps == Self.golden.beam5_timestamps, "\(beamTimestamps)")
    }

    /// The shared AudioEncoder (plain-Whisper config) on CTranslate2-converted weights vs CTranslate2's encoder.
    @Test func encoderMatchesCTranslate2() throws {
        let m = try WhisperTestModel.load(Self.dir)
        let out = try m.encoder.encode([AudioEncoder.Mel(values: Self.golden.mel, frames: 40, melLength: 40)], batched: false)[0]
        #expect(out.count == Self.golden.encoder.count)
        var maxDiff: Float = 0
        for (a, b) in zip(out, Self.golden.encoder) { maxDiff = max(maxDiff, abs(a - b)) }
        // Same f16-derived weights in f32 on both sides; summation order and erf differ; outputs are LayerNorm'd (~N(0,1)).
        #expect(maxDiff < 1e-4, "max |Δ| = \(maxDiff)")
    }

    @Test func badPromptsAreTypedErrors() throws {
        let (dec, _) = try Self.model()
        let cross = try dec.crossCache(audio: Self.golden.encoder)
        var states = [dec.makeState()]
        #expect(throws: ModelError.badInput("token id 80 outside the vocabulary of 80")) {
            try dec.forward(rows: [(0, 51), (0, 80)], states: &states, cross: cross, wantLogits: [false, true])
        }
    }
}
