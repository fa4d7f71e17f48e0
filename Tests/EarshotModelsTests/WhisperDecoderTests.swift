// WhisperDecoderTests: the Whisper text decoder and its search.
// - Without weights: KV-cache consistency and typed errors on a small random model, timestamp-rule cases.
// - With the real tiny.en model (EARSHOT_WHISPER_DIR): from CTranslate2's own encoder output for jfk.wav
//   (Tests/Fixtures/whisper/jfk-encoder.f16), the step-0 logits match CTranslate2's, and greedy and beam-5
//   tokens equal CTranslate2's (goldens from Tools/whisper/make_goldens.py).
import EarshotConvert
import EarshotKernels
import EarshotModels
import EarshotTestSupport
import Foundation
import Testing

let smallWhisper = WhisperConfig(nMels: 4, nAudioCtx: 6, nAudioState: 8, nAudioHead: 2, nAudioLayer: 1,
                                 nVocab: 40, nTextCtx: 12, nTextState: 8, nTextHead: 2, nTextLayer: 2)

@Suite struct WhisperDecoderTests {
    @Test func prefillEqualsTokenByToken() throws {
        let dec = try WhisperDecoder(config: smallWhisper, weights: try randomWhisperWeights(smallWhisper))
        let audio: [Float] = (0..<48).map { (i: Int) -> Float in Float((i * 7) % 13) / 13 - 0.5 }
        let cross = try dec.crossCache(audio: audio)
        let prompt = [3, 17, 5, 29]
        var a = [dec.makeState()]
        let batched = try dec.forward(rows: prompt.map { (0, $0) }, states: &a, cross: cross, wantLogits: [true, false, false, true])
        var b = [dec.makeState()]
        var single: [[Float]] = []
        for tok in prompt { single += try dec.forward(rows: [(0, tok)], states: &b, cross: cross, wantLogits: [true]) }
        #expect(a[0].length == 4 && b[0].length == 4)
        // Same ops on the same values; only the row batching of matmuls differs → equal to f32 rounding.
        for (x, y) in zip(batched[0], single[0]) { #expect(Swift.abs(x - y) <= 1e-5) }
        for (x, y) in zip(batched[1], single[3]) { #expect(Swift.abs(x - y) <= 1e-5) }
        #expect(batched[0] != batched[1])
    }

    @Test func wrongShapesAreTypedErrors() throws {
        let reshaped = try randomWhisperWeights(smallWhisper, reshape: ["dec.blk.1.cross_k.weight": [4, 16]])
        #expect(throws: ModelError.shapeMismatch(name: "dec.blk.1.cross_k.weight", expected: [8, 8], actual: [4, 16])) {
            try WhisperDecoder(config: smallWhisper, weights: reshaped)
        }
        let missing = try randomWhisperWeights(smallWhisper, drop: ["dec.output_norm.bias"])
        #expect(throws: ModelError.missingTensor("dec.output_norm.bias")) {
            try WhisperDecoder(config: smallWhisper, weights: missing)
        }
        let dec = try WhisperDecoder(config: smallWhisper, weights: try randomWhisperWeights(smallWhisper))
        let cross = try dec.crossCache(audio: [Float](repeating: 0.1, count: 48))
        var states = [dec.makeState()]
        #expect(throws: ModelError.contextFull(needed: 13, capacity: 12)) {
            try dec.forward(rows: (0..<13).map { (0, $0) }, states: &states, cross: cross, wantLogits: Array(repeating: false, count: 13))
        }
    }

    @Test func timestampRules() {
        // Vocabulary: 0..<10 text, 10 eot, 11 notimestamps, 12..<20 timestamps.
        let t = WhisperSearchTokens(endOfText: 10, noTimestamps: 11, timestampBegin: 12)
        var timestamps = true
        func allowed(_ generated: [Int], step: Int, text: Float = 5) -> [Int] {
            var logits = [Float](repeating: text, count: 20)
            for i in 12..<20 { logits[i] = 0 }
            WhisperLoop.applyRules(&logits, generated: generated, tokens: t, suppressIds: [3], suppressIdsBegin: [10],
                                   timestamps: timestamps, maxInitialTimestampIndex: 2)
            return logits.indices.filter { logits[$0] > -.infinity }
        }
        #expect(allowed([], step: 0) == [12, 13, 14])                       // first: a timestamp ≤ index 2
        #expect(allowed([13], step: 1) == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10])   // after an opening timestamp: text
        #expect(allowed([13, 5], step: 2) == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10] + Array(14..<20)) // text or a later timestamp
        #expect(allowed([13, 5], step: 2, text: -5) == Array(14..<20))      // timestamps likelier than any text: only them
        #expect(allowed([13, 5, 15], step: 3) == [10] + Array(15..<20))     // open pair: close with ≥ 15 or end
        #expect(allowed([13, 5, 15, 15], step: 4) == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10]) // closed pair: text
        timestamps = false
        #expect(allowed([], step: 0) == [0, 1, 2, 4, 5, 6, 7, 8, 9, 11] + Array(12..<20))
    }
}

/// Real weights: decoder vs CTranslate2 on the same encoder output.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["EARSHOT_WHISPER_DIR"] != nil))
struct WhisperDecoderRealWeightsTests {
    struct Golden: Decodable {
        struct Step: Decodable { let top_ids: [Int]; let top_logits: [Float]; let suppressed: [Int] }
        let prompt: [Int]; let greedy_tokens: [Int]; let beam5_tokens: [Int]; let steps: [Step]
    }

    static func setUp() throws -> (WhisperDecoder, WhisperCheckpoint, WhisperCrossCache) {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["EARSHOT_WHISPER_DIR"]!)
        let m = try WhisperTestModel.load(dir)
        let raw = try Data(contentsOf: Fixtures.url("whisper/jfk-encoder.f16"))
        let audio: [Float] = raw.withUnsafeBytes { p in
            (0..<(raw.count / 2)).map { Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
        }
        return (m.decoder, m.checkpoint, try m.decoder.crossCache(audio: audio))
    }

    static let golden = try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: Fixtures.url("whisper/jfk-decoder.json")))
    static let tokens = WhisperSearchTokens(endOfText: 50256, noTimestamps: 50362, timestampBegin: 50363)

    @Test func firstStepLogitsMatchCTranslate2() throws {
        let (dec, ckpt, cross) = try Self.setUp()
        var states = [dec.makeState()]
        var logits = try dec.forward(rows: Self.golden.prompt.map { (0, $0) }, states: &states, cross: cross,
                                 wantLogits: [false, true])[0]
        WhisperLoop.applyRules(&logits, generated: [], tokens: Self.tokens, suppressIds: ckpt.generation.suppressIds,
                               suppressIdsBegin: ckpt.generation.suppressIdsBegin, timestamps: false)
        let ref: [Float] = try Data(contentsOf: Fixtures.url("whisper/jfk-logits0.f32")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(ref.count == logits.count)
        #expect(logits.indices.filter { logits[$0] == -.infinity } == Self.golden.steps[0].suppressed)
        var maxDiff: Float = 0
        for i in ref.indices where ref[i] > -1e30 { maxDiff = max(maxDiff, abs(ref[i] - logits[i])) }
        // Same f16-derived weights, both in f32; only summation order and exp/erf differ → measured 2.3e-5; bound 1e-3.
        #expect(maxDiff < 1e-3, "max |Δlogit| = \(maxDiff)")
        print("whisper step-0 logits: max |Δ| vs CTranslate2 = \(maxDiff)")
    }

    @Test func greedyAndBeamTokensMatchCTranslate2() throws {
        let (dec, ckpt, cross) = try Self.setUp()
        func run(_ beam: Int) throws -> [Int] {
            try WhisperLoop.run(dec, cross: cross, prompt: Self.golden.prompt, tokens: Self.tokens, suppressIds: ckpt.generation.suppressIds,
                                suppressIdsBegin: ckpt.generation.suppressIdsBegin, beam: beam, timestamps: false,
                                maxNew: min(224, 448 - (Self.golden.prompt.count - 1)))
        }
        #expect(try run(1) == Self.golden.greedy_tokens)
        #expect(try run(5) == Self.golden.beam5_tokens)
    }
}
