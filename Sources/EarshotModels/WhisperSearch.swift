// WhisperSearch: decoding loops over WhisperDecoder — greedy and beam search as CTranslate2 (and so
// faster-whisper) runs them — with Whisper's logit rules: suppressed tokens, suppress-blank at the first
// step, and optional timestamp rules (CTranslate2's ApplyTimestampRules, a variant of OpenAI's).
//
// Beam search (CTranslate2 decoding.cc BeamSearch, batch 1): scores are summed log-probabilities; each step
// takes the top 2·B candidates over all beams × vocabulary; a candidate among the first B that is
// end-of-text finishes a hypothesis (score / length^lengthPenalty, length without the end token) and its
// beam is refilled by the next non-end candidate after position B; search stops once round(B·patience)
// hypotheses are finished or the length limit is hit; the best normalised score wins.
import Foundation

/// Token ids the search rules need.
public struct WhisperSearchTokens: Sendable, Equatable {
    public var endOfText: Int
    public var noTimestamps: Int
    /// `<|0.00|>`; ids ≥ this are timestamps.
    public var timestampBegin: Int

    public init(endOfText: Int, noTimestamps: Int, timestampBegin: Int) {
        self.endOfText = endOfText
        self.noTimestamps = noTimestamps
        self.timestampBegin = timestampBegin
    }
}

public struct WhisperSearchOptions: Sendable {
    /// 1 = greedy.
    public var beamSize: Int = 1
    public var patience: Double = 1
    public var lengthPenalty: Double = 1
    /// Most tokens to generate (also capped by the decoder context). CTranslate2's `max_length` L means
    /// min(L / 2, L − (prompt − 1)) new tokens; faster-whisper passes L = 448 → 224.
    public var maxNewTokens: Int = 224
    /// Never sampled (CTranslate2 config.json `suppress_ids`).
    public var suppressIds: [Int] = []
    /// Not sampled at the first step (`suppress_ids_begin`: space and end-of-text).
    public var suppressIdsBegin: [Int] = []
    /// Apply the timestamp rules (use with a prompt without `<|notimestamps|>`).
    public var timestamps: Bool = false
    /// The first timestamp may be at most this index (50 → 1.00 s).
    public var maxInitialTimestampIndex: Int = 50

    public init(beamSize: Int = 1, suppressIds: [Int] = [], suppressIdsBegin: [Int] = [], timestamps: Bool = false) {
        self.beamSize = beamSize
        self.suppressIds = suppressIds
        self.suppressIdsBegin = suppressIdsBegin
        self.timestamps = timestamps
    }
}

/// A finished hypothesis: generated ids (no prompt, no end-of-text), summed log-probability, final score.
public struct WhisperHypothesis: Sendable, Equatable {
    public var tokens: [Int]
    public var sumLogProb: Double
    public var score: Double
}

public enum WhisperSearch {
    /// Decodes one audio window. `prompt` e.g. [sot, notimestamps]. Returns the best hypothesis.
    public static func run(_ decoder: WhisperDecoder, cross: WhisperCrossCache, prompt: [Int],
                           tokens: WhisperSearchTokens, options: WhisperSearchOptions) throws(ModelError) -> WhisperHypothesis {
        let c = decoder.config
        guard !prompt.isEmpty, prompt.count < c.nTextCtx else { throw .badInput("Whisper prompt of \(prompt.count) tokens (context \(c.nTextCtx))") }
        for id in prompt where id < 0 || id >= c.nVocab { throw .badInput("token id \(id) outside the vocabulary of \(c.nVocab)") }
        guard options.beamSize >= 1 else { throw .badInput("Whisper beam size \(options.beamSize)") }
        let maxNew = min(options.maxNewTokens, c.nTextCtx - prompt.count)
        var states = [decoder.makeState()]
        let rows = prompt.map { (state: 0, token: $0) }
        let want = prompt.indices.map { $0 == prompt.count - 1 }
        let first = try decoder.forward(rows: rows, states: &states, cross: cross, wantLogits: want)[0]
        if options.beamSize == 1 {
            return try greedy(decoder, cross: cross, first: first, state: states[0], tokens: tokens, options: options, maxNew: maxNew)
        }
        return try beam(decoder, cross: cross, first: first, state: states[0], tokens: tokens, options: options, maxNew: maxNew)
    }

    static func greedy(_ decoder: WhisperDecoder, cross: WhisperCrossCache, first: [Float], state: WhisperDecoderState,
                       tokens t: WhisperSearchTokens, options: WhisperSearchOptions, maxNew: Int) throws(ModelError) -> WhisperHypothesis {
        var states = [state]
        var logits = first
        var out: [Int] = []
        var sum = 0.0
        for step in 0..<maxNew {
            applyRules(&logits, generated: out, step: step, tokens: t, options: options)
            let logp = logits.withUnsafeBufferPointer { WhisperMath.logSoftmax($0) }
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            sum += Double(logp[best])
            if best == t.endOfText { break }
            out.append(best)
            if step == maxNew - 1 { break }
            logits = try decoder.forward(rows: [(0, best)], states: &states, cross: cross, wantLogits: [true])[0]
        }
        return WhisperHypothesis(tokens: out, sumLogProb: sum, score: sum / pow1(Double(max(out.count, 1)), options.lengthPenalty))
    }

    static func beam(_ decoder: WhisperDecoder, cross: WhisperCrossCache, first: [Float], state: WhisperDecoderState,
                     tokens t: WhisperSearchTokens, options: WhisperSearchOptions, maxNew: Int) throws(ModelError) -> WhisperHypothesis {
        let b = options.beamSize, v = decoder.config.nVocab
        let maxCandidates = Int((Double(b) * options.patience).rounded())
        var finished: [WhisperHypothesis] = []
        // Alive beams: their tokens, scores and caches. Step 0 expands the single prompt state.
        var seqs: [[Int]] = [[]]
        var scores: [Double] = [0]
        var states = [state]
        var logitRows = [first]
        for step in 0..<maxNew {
            // Candidates over all alive beams.
            var cand: [(score: Double, beam: Int, token: Int)] = []
            for (i, var logits) in logitRows.enumerated() {
                applyRules(&logits, generated: seqs[i], step: step, tokens: t, options: options)
                let logp = logits.withUnsafeBufferPointer { WhisperMath.logSoftmax($0) }
                // Top 2B of this beam suffice for the global top 2B.
                for (id, lp) in topK(logp, 2 * b) { cand.append((scores[i] + Double(lp), i, id)) }
            }
            cand.sort { $0.score > $1.score || ($0.score == $1.score && ($0.beam * v + $0.token) < ($1.beam * v + $1.token)) }
            cand = Array(cand.prefix(2 * b))
            let last = step == maxNew - 1
            var next: [(beam: Int, token: Int, score: Double)] = []
            var secondary = b
            for k in 0..<min(b, cand.count) {
                var pick = k
                let c = cand[k]
                if c.token == t.endOfText || last {
                    let toks = c.token == t.endOfText ? seqs[c.beam] : seqs[c.beam] + [c.token]
                    finished.append(WhisperHypothesis(tokens: toks, sumLogProb: c.score,
                                                      score: c.score / pow1(Double(max(toks.count, 1)), options.lengthPenalty)))
                    pick = -1
                    while secondary < cand.count {
                        let s = secondary
                        secondary += 1
                        if cand[s].token != t.endOfText { pick = s; break }
                    }
                }
                if pick >= 0 { next.append((cand[pick].beam, cand[pick].token, cand[pick].score)) }
            }
            if last || finished.count >= maxCandidates || next.isEmpty { break }
            // Reorder caches and run the chosen tokens as one batch.
            let newStates = next.map { states[$0.beam] }
            seqs = next.map { seqs[$0.beam] + [$0.token] }
            scores = next.map(\.score)
            states = newStates
            logitRows = try decoder.forward(rows: next.enumerated().map { (state: $0.offset, token: $0.element.token) },
                                        states: &states, cross: cross, wantLogits: Array(repeating: true, count: next.count))
        }
        if finished.isEmpty {  // no hypothesis finished (cannot happen: the last step finishes all)
            return WhisperHypothesis(tokens: seqs[0], sumLogProb: scores[0], score: scores[0])
        }
        return finished.enumerated().max { a, b in a.element.score < b.element.score || (a.element.score == b.element.score && a.offset > b.offset) }!.element
    }

    /// The k largest (id, value) pairs, largest first (ties: lower id first).
    static func topK(_ x: [Float], _ k: Int) -> [(Int, Float)] {
        var best: [(Int, Float)] = []
        for (i, v) in x.enumerated() where v > -Float.infinity {
            if best.count < k || v > best[best.count - 1].1 {
                var j = best.count
                while j > 0 && best[j - 1].1 < v { j -= 1 }
                best.insert((i, v), at: j)
                if best.count > k { best.removeLast() }
            }
        }
        return best
    }

    static func pow1(_ x: Double, _ p: Double) -> Double { p == 1 ? x : (p == 0 ? 1 : exp(p * log(x))) }

    /// Sets disallowed logits to -∞: suppressed ids, the begin set at step 0, and the timestamp rules.
    public static func applyRules(_ logits: inout [Float], generated: [Int], step: Int, tokens t: WhisperSearchTokens,
                                  options o: WhisperSearchOptions) {
        let v = logits.count
        for id in o.suppressIds where id >= 0 && id < v { logits[id] = -.infinity }
        if step == 0 { for id in o.suppressIdsBegin where id >= 0 && id < v { logits[id] = -.infinity } }
        guard o.timestamps, t.timestampBegin < v else { return }
        // CTranslate2's ApplyTimestampRules (what faster-whisper runs, checked against ctranslate2 4.8.5 on
        // the tiny-random fixture); unlike OpenAI's, the "timestamps likelier than text" check is skipped at
        // the first step and right after a closed pair.
        let tb = t.timestampBegin
        logits[t.noTimestamps] = -.infinity
        var checkProbability = false
        if generated.isEmpty {
            for i in 0..<tb { logits[i] = -.infinity }                // start with a timestamp
            let maxInitial = tb + o.maxInitialTimestampIndex
            if maxInitial + 1 < v { for i in (maxInitial + 1)..<v { logits[i] = -.infinity } }
        } else {
            let last = generated[generated.count - 1]
            if last >= tb {
                let penultimate = generated.count >= 2 ? generated[generated.count - 2] : last
                if penultimate >= tb {
                    for i in tb..<v { logits[i] = -.infinity }        // a pair closed: text must follow
                } else {
                    for i in 0..<t.endOfText { logits[i] = -.infinity } // an open timestamp: close it (or end)
                    checkProbability = true
                }
            } else {
                checkProbability = true
            }
            if let lastTimestamp = generated.last(where: { $0 >= tb }) {
                // Never decrease; strictly increase unless closing an open pair (no zero-length segments).
                let openPair = last >= tb && (generated.count >= 2 && generated[generated.count - 2] < tb)
                let floor = openPair ? lastTimestamp : lastTimestamp + 1
                for i in tb..<min(floor, v) { logits[i] = -.infinity }
            }
        }
        guard checkProbability else { return }
        // If the timestamps together are likelier than any single text token, sample a timestamp.
        let logp = logits.withUnsafeBufferPointer { WhisperMath.logSoftmax($0) }
        var maxText = -Float.infinity
        for i in 0..<tb where logp[i] > maxText { maxText = logp[i] }
        var m = -Float.infinity
        for i in tb..<v where logp[i] > m { m = logp[i] }
        if m > -Float.infinity {
            var s = 0.0
            for i in tb..<v where logp[i] > -Float.infinity { s += exp(Double(logp[i] - m)) }
            if Double(m) + log(s) > Double(maxText) { for i in 0..<tb { logits[i] = -.infinity } }
        }
    }
}

