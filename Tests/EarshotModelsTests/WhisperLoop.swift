// WhisperLoop: Whisper decoding for model-level tests through the library's one generation loop
// (`Decoding`, with WhisperEngine's CTranslate2 rules) on a bare WhisperDecoder — no `.ear` file needed.
import EarshotModels
@testable import Earshot

/// Ids the rules need.
struct WhisperSearchTokens {
    var endOfText: Int, noTimestamps: Int, timestampBegin: Int
}

struct BareWhisperDecoder: StepDecoder {
    let decoder: WhisperDecoder
    let cross: WhisperCrossCache
    func step(_ rows: [(state: Int, token: Int)], states: inout [WhisperDecoderState]) throws(EarshotError) -> [[Float]] {
        do { return try decoder.forward(rows: rows, states: &states, cross: cross, wantLogits: Array(repeating: true, count: rows.count)) } catch {
            throw EarshotError.from(error)
        }
    }
}

enum WhisperLoop {
    /// The generated ids (without end-of-text) of greedy (beam 1) or beam search, as CTranslate2 decodes.
    static func run(_ dec: WhisperDecoder, cross: WhisperCrossCache, prompt: [Int], tokens t: WhisperSearchTokens,
                    suppressIds: [Int], suppressIdsBegin: [Int], beam: Int, timestamps: Bool, maxNew: Int) throws -> [Int] {
        var states = [dec.makeState()]
        let first = try dec.forward(rows: prompt.map { (state: 0, token: $0) }, states: &states, cross: cross,
                                    wantLogits: prompt.indices.map { $0 == prompt.count - 1 })[0]
        var request = DecodingRequest(maxTokens: maxNew, stopIds: [t.endOfText])
        request.rules = WhisperEngine.rules(suppressIds: suppressIds, suppressIdsBegin: suppressIdsBegin, endOfText: t.endOfText,
                                            noTimestamps: t.noTimestamps, timestampBegin: t.timestampBegin, timestamps: timestamps)
        request.wantsLogProbs = true
        var text = NoText()
        let hyps = try Decoding.run(BareWhisperDecoder(decoder: dec, cross: cross), state: states[0], first: first, context: prompt,
                                    request: request, strategy: beam > 1 ? .beam(size: beam, patience: 1) : .sample(.greedy, count: 1),
                                    text: &text, cancel: nil, onToken: { _ in true })
        let ids = hyps[0].ids
        return ids.last == t.endOfText ? Array(ids.dropLast()) : ids
    }

    /// The rules applied to one step's logits (`generated` so far).
    static func applyRules(_ logits: inout [Float], generated: [Int], tokens t: WhisperSearchTokens, suppressIds: [Int],
                           suppressIdsBegin: [Int], timestamps: Bool, maxInitialTimestampIndex: Int = 50) {
        for rule in WhisperEngine.rules(suppressIds: suppressIds, suppressIdsBegin: suppressIdsBegin, endOfText: t.endOfText,
                                        noTimestamps: t.noTimestamps, timestampBegin: t.timestampBegin, timestamps: timestamps,
                                        maxInitialTimestampIndex: maxInitialTimestampIndex) {
            rule(&logits, generated)
        }
    }

    struct NoText: TextStream {
        mutating func append(_ id: Int) throws(EarshotError) -> String { "" }
        mutating func finish() -> String { "" }
    }
}
