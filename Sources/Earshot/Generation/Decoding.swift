// Decoding: the one generation loop. Every model family feeds it the same way — initial logits after its
// own prefill, then a `StepDecoder` that turns (hypothesis, token) rows into next-token logits — and every
// caller (tasks, chat, `earshot run`, Whisper windows) gets the same streaming, stop and cancel semantics.
//
// Strategies:
//   - sample(count: 1): greedy / temperature / top-k / top-p / repetition penalty (`Sampler`), token events
//     streamed with their text, stop ids and stop strings, cancellation between tokens;
//   - sample(count: n > 1): n independent sampled hypotheses decoded as one batch (Whisper's best_of),
//     the best by length-normalised log-probability first;
//   - beam(size: b): CTranslate2's beam search (batch 1), which faster-whisper runs; hypotheses must be
//     value types (`State` is copied when a beam forks).
// `LogitsRules` (suppressed ids, Whisper's timestamp rules) run before the strategy looks at the logits.
import Foundation

/// A model the loop can step: appends `rows` (row i = token for hypothesis `rows[i].state`, rows of one
/// hypothesis in order) and returns the logits after each row [rows.count][V].
protocol StepDecoder {
    associatedtype State
    func step(_ rows: [(state: Int, token: Int)], states: inout [State]) throws(EarshotError) -> [[Float]]
}

/// Turns generated ids into text as they come (a multi-byte character split over tokens is held back).
protocol TextStream {
    /// The text the id completes.
    mutating func append(_ id: Int) throws(EarshotError) -> String
    /// Whatever is still held back (as U+FFFD when incomplete).
    mutating func finish() -> String
}

/// Changes logits before a token is chosen: suppressed ids, timestamp rules, …
/// `generated` are the ids this hypothesis generated so far (not the prompt); `step` = generated.count.
typealias LogitsRule = (_ logits: inout [Float], _ generated: [Int]) -> Void

/// How tokens are chosen.
enum DecodingStrategy {
    case sample(SamplingParameters, count: Int)
    case beam(size: Int, patience: Double)
}

/// What one decoding produced for one hypothesis.
struct DecodedHypothesis {
    /// Generated ids; a stop id that ended the hypothesis is included.
    var ids: [Int]
    /// Sum of log-softmax of the chosen ids over the rule-processed logits (the stop id included).
    var sumLogProb: Double
    /// `sumLogProb / length^lengthPenalty` (length without the stop id): the ranking score.
    var score: Double
    var stopReason: StopReason
    /// The streamed text (single sampled hypothesis only; empty otherwise).
    var text: String
}

/// The request every strategy shares.
struct DecodingRequest {
    var maxTokens: Int
    var stopIds: Set<Int>
    var stopStrings: [String] = []
    var rules: [LogitsRule] = []
    var lengthPenalty: Double = 1
    /// Compute `sumLogProb` for sampled hypotheses (one extra pass over the vocabulary per token).
    var wantsLogProbs = false
}

enum Decoding {
    /// Decodes from `first` (the logits after the prompt) with `strategy`. `context` is the prompt the
    /// repetition penalty sees. `onToken` (single sampled hypothesis only) sees each token; returning false
    /// cancels. Results are best first.
    static func run<D: StepDecoder, T: TextStream>(
        _ decoder: D, state: D.State, first: [Float], context: [Int], request: DecodingRequest,
        strategy: DecodingStrategy, text: inout T, cancel: CancellationFlag?,
        onToken: (TokenEvent) -> Bool, afterStep: (Int) -> Void = { _ in }
    ) throws(EarshotError) -> [DecodedHypothesis] {
        switch strategy {
        case .sample(let p, let count) where count <= 1:
            return [try sampleOne(decoder, state: state, first: first, context: context, request: request,
                                  parameters: p, text: &text, cancel: cancel, onToken: onToken, afterStep: afterStep)]
        case .sample(let p, let count):
            return try sampleMany(decoder, state: state, first: first, context: context, request: request,
                                  parameters: p, count: count, cancel: cancel)
        case .beam(let size, let patience):
            return try beam(decoder, state: state, first: first, request: request, size: max(1, size),
                            patience: patience, cancel: cancel)
        }
    }

    // MARK: - One sampled hypothesis (streamed)

    static func sampleOne<D: StepDecoder, T: TextStream>(
        _ decoder: D, state: D.State, first: [Float], context prompt: [Int], request: DecodingRequest,
        parameters: SamplingParameters, text stream: inout T, cancel: CancellationFlag?,
        onToken: (TokenEvent) -> Bool, afterStep: (Int) -> Void
    ) throws(EarshotError) -> DecodedHypothesis {
        var states = [state]
        var sampler = Sampler(parameters)
        var logits = first
        var context = prompt
        var generated: [Int] = []
        var sum = 0.0
        var text = ""
        // Streamed text lags the decoded text by (longest stop string − 1) characters, so a stop string is
        // never streamed; the rest is flushed with the last token.
        var emitted = 0
        let holdBack = max((request.stopStrings.map(\.count).max() ?? 0) - 1, 0)
        func release(upTo end: Int) -> String {
            guard end > emitted else { return "" }
            let piece = String(text.dropFirst(emitted).prefix(end - emitted))
            emitted = end
            return piece
        }
        var reason = StopReason.maxTokens
        while generated.count < request.maxTokens {
            if cancel?.isCancelled == true || Task.isCancelled { reason = .cancelled; break }
            for rule in request.rules { rule(&logits, generated) }
            let next = logits.withUnsafeMutableBufferPointer { sampler.next(logits: $0, context: context) }
            if request.wantsLogProbs { sum += Double(logSoftmax(logits, at: next)) }
            generated.append(next)
            context.append(next)
            let index = generated.count - 1
            if request.stopIds.contains(next) {
                reason = .stopToken(next)
                text += stream.finish()
                _ = onToken(TokenEvent(index: index, id: next, text: release(upTo: text.count)))
                break
            }
            text += try stream.append(next)
            let last = generated.count == request.maxTokens
            if last { text += stream.finish() }
            if let stop = request.stopStrings.first(where: { !$0.isEmpty && text.contains($0) }) {
                text = String(text[..<text.range(of: stop)!.lowerBound])
                _ = onToken(TokenEvent(index: index, id: next, text: release(upTo: text.count)))
                reason = .stopString(stop)
                break
            }
            let piece = release(upTo: last ? text.count : text.count - holdBack)
            if !onToken(TokenEvent(index: index, id: next, text: piece)) { reason = .cancelled; break }
            if last { break }
            logits = try decoder.step([(0, next)], states: &states)[0]
            afterStep(next)
        }
        if reason == .cancelled { text += stream.finish() }
        let length = generated.count - (request.stopIds.contains(generated.last ?? -1) ? 1 : 0)
        return DecodedHypothesis(ids: generated, sumLogProb: sum, score: normalised(sum, length, request.lengthPenalty),
                                 stopReason: reason, text: text)
    }

    // MARK: - Several sampled hypotheses (one batch)

    static func sampleMany<D: StepDecoder>(
        _ decoder: D, state: D.State, first: [Float], context prompt: [Int], request: DecodingRequest,
        parameters: SamplingParameters, count: Int, cancel: CancellationFlag?
    ) throws(EarshotError) -> [DecodedHypothesis] {
        var states = [D.State](repeating: state, count: count)
        var samplers = (0..<count).map { i -> Sampler in
            var p = parameters
            p.seed = parameters.seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15
            return Sampler(p)
        }
        var logits = [[Float]](repeating: first, count: count)
        var ids = [[Int]](repeating: [], count: count)
        var sums = [Double](repeating: 0, count: count)
        var reasons = [StopReason?](repeating: nil, count: count)
        var alive = Array(0..<count)
        while !alive.isEmpty {
            if cancel?.isCancelled == true || Task.isCancelled {
                for i in alive { reasons[i] = .cancelled }
                break
            }
            var rows: [(state: Int, token: Int)] = []
            for i in alive {
                for rule in request.rules { rule(&logits[i], ids[i]) }
                let next = logits[i].withUnsafeMutableBufferPointer { samplers[i].next(logits: $0, context: prompt + ids[i]) }
                sums[i] += Double(logSoftmax(logits[i], at: next))
                ids[i].append(next)
                if request.stopIds.contains(next) { reasons[i] = .stopToken(next) }
                else if ids[i].count >= request.maxTokens { reasons[i] = .maxTokens }
                else { rows.append((i, next)) }
            }
            alive = rows.map(\.state)
            if rows.isEmpty { break }
            let out = try decoder.step(rows, states: &states)
            for (j, r) in rows.enumerated() { logits[r.state] = out[j] }
        }
        var results = (0..<count).map { i -> DecodedHypothesis in
            let length = ids[i].count - (request.stopIds.contains(ids[i].last ?? -1) ? 1 : 0)
            return DecodedHypothesis(ids: ids[i], sumLogProb: sums[i], score: normalised(sums[i], length, request.lengthPenalty),
                                     stopReason: reasons[i] ?? .maxTokens, text: "")
        }
        results = results.enumerated().sorted { a, b in
            a.element.score != b.element.score ? a.element.score > b.element.score : a.offset < b.offset
        }.map(\.element)
        return results
    }

    // MARK: - Beam search (CTranslate2's, batch 1)

    /// Scores are summed log-probabilities; each step takes the top 2·B candidates over all beams ×
    /// vocabulary; a candidate among the first B that is a stop id finishes a hypothesis
    /// (score / length^lengthPenalty, length without the stop id) and its beam is refilled by the next
    /// non-stop candidate after position B; the search ends once round(B·patience) hypotheses are finished
    /// or the length limit is hit; the best normalised score wins.
    static func beam<D: StepDecoder>(
        _ decoder: D, state: D.State, first: [Float], request: DecodingRequest, size b: Int, patience: Double,
        cancel: CancellationFlag?
    ) throws(EarshotError) -> [DecodedHypothesis] {
        let maxCandidates = max(1, Int((Double(b) * patience).rounded()))
        var finished: [DecodedHypothesis] = []
        var seqs: [[Int]] = [[]]
        var scores: [Double] = [0]
        var states = [state]
        var logitRows = [first]
        let v = first.count
        var cancelled = false
        for step in 0..<request.maxTokens {
            if cancel?.isCancelled == true || Task.isCancelled { cancelled = true; break }
            var cand: [(score: Double, beam: Int, token: Int)] = []
            for i in logitRows.indices {
                var logits = logitRows[i]
                for rule in request.rules { rule(&logits, seqs[i]) }
                let logp = logSoftmax(logits)
                for (id, lp) in topK(logp, 2 * b) { cand.append((scores[i] + Double(lp), i, id)) }
            }
            cand.sort { $0.score > $1.score || ($0.score == $1.score && ($0.beam * v + $0.token) < ($1.beam * v + $1.token)) }
            cand = Array(cand.prefix(2 * b))
            let last = step == request.maxTokens - 1
            var next: [(beam: Int, token: Int, score: Double)] = []
            var secondary = b
            for k in 0..<min(b, cand.count) {
                var pick = k
                let c = cand[k]
                let isStop = request.stopIds.contains(c.token)
                if isStop || last {
                    let toks = seqs[c.beam] + [c.token]
                    let length = toks.count - (isStop ? 1 : 0)
                    finished.append(DecodedHypothesis(ids: toks, sumLogProb: c.score,
                                                      score: normalised(c.score, length, request.lengthPenalty),
                                                      stopReason: isStop ? .stopToken(c.token) : .maxTokens, text: ""))
                    pick = -1
                    while secondary < cand.count {
                        let s = secondary
                        secondary += 1
                        if !request.stopIds.contains(cand[s].token) { pick = s; break }
                    }
                }
                if pick >= 0 { next.append((cand[pick].beam, cand[pick].token, cand[pick].score)) }
            }
            if last || finished.count >= maxCandidates || next.isEmpty { break }
            states = next.map { states[$0.beam] }
            seqs = next.map { seqs[$0.beam] + [$0.token] }
            scores = next.map(\.score)
            logitRows = try decoder.step(next.enumerated().map { (state: $0.offset, token: $0.element.token) }, states: &states)
        }
        if finished.isEmpty {   // cancelled (or no step allowed): the best alive beam
            let best = scores.indices.max { scores[$0] < scores[$1] } ?? 0
            let ids = seqs.isEmpty ? [] : seqs[best]
            let s = scores.isEmpty ? 0 : scores[best]
            return [DecodedHypothesis(ids: ids, sumLogProb: s, score: normalised(s, ids.count, request.lengthPenalty),
                                      stopReason: cancelled ? .cancelled : .maxTokens, text: "")]
        }
        return finished.enumerated().sorted { a, c in
            a.element.score != c.element.score ? a.element.score > c.element.score : a.offset < c.offset
        }.map(\.element)
    }

    // MARK: - Helpers

    static func normalised(_ sum: Double, _ length: Int, _ penalty: Double) -> Double {
        let l = Double(max(length, 1))
        return penalty == 1 ? sum / l : (penalty == 0 ? sum : sum / exp(penalty * log(l)))
    }

    /// log-softmax of `x` (in Double for the sum; -∞ entries stay -∞).
    static func logSoftmax(_ x: [Float]) -> [Float] {
        var m = -Float.infinity
        for v in x where v > m { m = v }
        guard m > -Float.infinity else { return x }
        var s = 0.0
        for v in x where v > -Float.infinity { s += exp(Double(v - m)) }
        let lse = Float(Double(m) + log(s))
        return x.map { $0 - lse }
    }

    /// log-softmax of `x` at one index.
    static func logSoftmax(_ x: [Float], at i: Int) -> Float {
        var m = -Float.infinity
        for v in x where v > m { m = v }
        guard m > -Float.infinity else { return -.infinity }
        var s = 0.0
        for v in x where v > -Float.infinity { s += exp(Double(v - m)) }
        return x[i] - Float(Double(m) + log(s))
    }

    /// The k largest (id, value) pairs, largest first (ties: lower id first).
    static func topK(_ x: [Float], _ k: Int) -> [(Int, Float)] {
        var best: [(Int, Float)] = []
        best.reserveCapacity(k + 1)
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
}
