// WordTimestamps: word-level times for Whisper, as faster-whisper's `word_timestamps=True` computes them:
//   1. the window's text tokens are run through the decoder after the start sequence + <|notimestamps|>
//      (CTranslate2's `align`); the alignment heads' cross-attention scores [heads × tokens × frames] are
//      softmaxed over the window's frames, standardised along the token axis, median-filtered (width 7,
//      reflected edges) along frames and averaged over heads;
//   2. dynamic time warping on the negated matrix gives each token its frames; words are the tokens split at
//      spaces (at Unicode boundaries for zh/ja/th/lo/my/yue), a word starts at the frame where its first token's
//      path jumps; its probability is the mean of its tokens' probabilities (softmax over the text vocabulary);
//   3. faster-whisper's clean-ups: words at sentence ends and after pauses clamped to twice the median word
//      duration, punctuation merged into its neighbour, segment start/end reconciled with the first/last word.
import EarshotModels
import EarshotTokenizer
import Foundation

/// One word before the segment clean-ups (times relative to the window start).
struct AlignedWord {
    var word: String
    var tokens: [Int]
    var start: Double
    var end: Double
    var probability: Double
}

enum WordAlignment {
    static let medianFilterWidth = 7
    static let tokensPerSecond = 50.0
    static let prepended = "\"'“¿([{-"
    static let appended = "\"'.。,，!！?？:：”)]}、"

    /// Aligned words of `textTokens` (generated text ids, no timestamps) against one window.
    /// `frames`: the window's mel frames (≤ 3000); `sotSequence`: the start sequence (without notimestamps).
    static func align(textTokens: [Int], sotSequence: [Int], frames: Int, cross: WhisperCrossCache,
                      engine: WhisperEngine, model: EarshotModel, language: String?) throws(EarshotError) -> [AlignedWord] {
        guard !textTokens.isEmpty else { return [] }
        let s = engine.tokenizer.specials
        let input = sotSequence + [s.noTimestamps] + textTokens + [s.endOfText]
        let n = input.count, d = engine.config.nTextState, heads = engine.config.nTextHead, dh = d / heads
        let audioFrames = min(frames / 2, cross.count)
        guard audioFrames > 0, n < engine.config.nTextCtx else { return [] }
        let offset = sotSequence.count
        let headsByLayer = Dictionary(grouping: engine.alignmentHeads, by: \.layer)
        let scale = 1 / Float(dh).squareRoot()
        // scores[k][t × audioFrames + f] for alignment head k.
        var scores = [[Float]](repeating: [], count: engine.alignmentHeads.count)
        let headIndex = Dictionary(uniqueKeysWithValues: engine.alignmentHeads.enumerated().map { ("\($0.element.layer):\($0.element.head)", $0.offset) })
        var states = [engine.decoder.makeState()]
        let want = input.indices.map { $0 >= offset && $0 < offset + textTokens.count }
        let logits = try model.compute { () throws(EarshotError) -> [[Float]] in
            do {
                return try engine.decoder.forward(rows: input.map { (state: 0, token: $0) }, states: &states, cross: cross,
                                                  wantLogits: want) { layer, q in
                    for ah in headsByLayer[layer] ?? [] {
                        var m = [Float](repeating: 0, count: n * audioFrames)
                        cross.keys[layer].withUnsafeBufferPointer { kb in
                            for t in 0..<n {
                                let qt = q.baseAddress! + t * d + ah.head * dh
                                for f in 0..<audioFrames {
                                    let kf = kb.baseAddress! + f * d + ah.head * dh
                                    var dot: Float = 0
                                    for i in 0..<dh { dot += qt[i] * kf[i] }
                                    m[t * audioFrames + f] = dot * scale
                                }
                            }
                        }
                        scores[headIndex["\(layer):\(ah.head)"]!] = m
                    }
                }
            } catch { throw EarshotError.from(error) }
        }
        // Token probabilities: softmax over the text vocabulary [0, eot) of the logits predicting each token.
        var probabilities: [Double] = []
        for (t, row) in logits.enumerated() {
            let text = Array(row[0..<s.endOfText])
            probabilities.append(Double(exp(Decoding.logSoftmax(text, at: textTokens[t]))))
        }
        // Softmax over frames, standardise along tokens, median filter along frames, mean over heads.
        var weights = [Double](repeating: 0, count: n * audioFrames)
        for k in scores.indices {
            var m = scores[k].map(Double.init)
            for t in 0..<n {
                let row = t * audioFrames
                var mx = -Double.infinity
                for f in 0..<audioFrames { mx = max(mx, m[row + f]) }
                var sum = 0.0
                for f in 0..<audioFrames { m[row + f] = exp(m[row + f] - mx); sum += m[row + f] }
                for f in 0..<audioFrames { m[row + f] /= sum }
            }
            for f in 0..<audioFrames {
                var mean = 0.0
                for t in 0..<n { mean += m[t * audioFrames + f] }
                mean /= Double(n)
                var v = 0.0
                for t in 0..<n { let x = m[t * audioFrames + f] - mean; v += x * x }
                let std = (v / Double(n)).squareRoot()
                for t in 0..<n { m[t * audioFrames + f] = std > 0 ? (m[t * audioFrames + f] - mean) / std : 0 }
            }
            let rank = medianFilterWidth / 2
            var window = [Double](repeating: 0, count: medianFilterWidth)
            for t in 0..<n {
                let row = Array(m[(t * audioFrames)..<((t + 1) * audioFrames)])
                for f in 0..<audioFrames {
                    var value = row[f]
                    if audioFrames > rank {
                        for j in -rank...rank {
                            var read = abs(f + j)
                            if read >= audioFrames { read = audioFrames - (read - audioFrames) - 2 }
                            window[j + rank] = row[read]
                        }
                        window.sort()
                        value = window[rank]
                    }
                    weights[t * audioFrames + f] += value / Double(scores.count)
                }
            }
        }
        // DTW over the rows predicting the text tokens and end-of-text.
        let rows = textTokens.count + 1
        let matrix = Array(weights[(offset * audioFrames)..<((offset + rows) * audioFrames)])
        let path = negativeDTW(matrix, rows: rows, cols: audioFrames)

        // Words and their boundaries in tokens.
        let (words, wordTokens) = splitToWordTokens(textTokens + [s.endOfText], tokenizer: engine.tokenizer, language: language)
        guard wordTokens.count > 1 else { return [] }
        var boundaries = [0]
        for w in wordTokens.dropLast() { boundaries.append(boundaries.last! + w.count) }
        var jumpTimes: [Double] = []
        for (k, step) in path.enumerated() where k == 0 || path[k].text != path[k - 1].text {
            jumpTimes.append(Double(step.time) / tokensPerSecond)
        }
        var out: [AlignedWord] = []
        for i in 0..<(boundaries.count - 1) {
            let a = boundaries[i], b = boundaries[i + 1]
            guard a < jumpTimes.count, b < jumpTimes.count else { break }
            let p = probabilities[a..<min(b, probabilities.count)]
            out.append(AlignedWord(word: words[i], tokens: wordTokens[i], start: jumpTimes[a], end: jumpTimes[b],
                                   probability: p.isEmpty ? 0 : p.reduce(0, +) / Double(p.count)))
        }
        return out
    }

    /// CTranslate2's `negative_dtw`: the monotonic path through `-x` [rows × cols] of least cost, as
    /// (row, column) pairs from (0, 0) to (rows − 1, cols − 1).
    static func negativeDTW(_ x: [Double], rows n: Int, cols m: Int) -> [(text: Int, time: Int)] {
        var cost = [Float](repeating: .infinity, count: (n + 1) * (m + 1))
        var trace = [Int8](repeating: -1, count: (n + 1) * (m + 1))
        cost[0] = 0
        for j in 1...m {
            for i in 1...n {
                let c0 = cost[(i - 1) * (m + 1) + j - 1], c1 = cost[(i - 1) * (m + 1) + j], c2 = cost[i * (m + 1) + j - 1]
                let (c, t): (Float, Int8) = c0 < c1 && c0 < c2 ? (c0, 0) : (c1 < c0 && c1 < c2 ? (c1, 1) : (c2, 2))
                cost[i * (m + 1) + j] = -Float(x[(i - 1) * m + (j - 1)]) + c
                trace[i * (m + 1) + j] = t
            }
        }
        for k in 0...m { trace[k] = 2 }
        for k in 0...n { trace[k * (m + 1)] = 1 }
        var i = n, j = m
        var result: [(text: Int, time: Int)] = []
        while i > 0 || j > 0 {
            result.append((i - 1, j - 1))
            switch trace[i * (m + 1) + j] {
            case 0: i -= 1; j -= 1
            case 1: i -= 1
            default: j -= 1
            }
        }
        return result.reversed()
    }

    /// faster-whisper's `split_to_word_tokens`: at Unicode boundaries for languages without spaces, else at
    /// tokens that start with a space, are punctuation or special.
    static func splitToWordTokens(_ tokens: [Int], tokenizer: WhisperTokenizer, language: String?) -> ([String], [[Int]]) {
        let (subwords, subTokens) = splitOnUnicode(tokens, tokenizer: tokenizer)
        if let l = language, ["zh", "ja", "th", "lo", "my", "yue"].contains(l) { return (subwords, subTokens) }
        var words: [String] = [], wordTokens: [[Int]] = []
        let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".map { String($0) })
        for (w, t) in zip(subwords, subTokens) {
            let special = t[0] >= tokenizer.specials.endOfText
            let withSpace = w.hasPrefix(" ")
            let punct = punctuation.contains(w.trimmingCharacters(in: .whitespacesAndNewlines))
            if special || withSpace || punct || words.isEmpty {
                words.append(w); wordTokens.append(t)
            } else {
                words[words.count - 1] += w
                wordTokens[wordTokens.count - 1] += t
            }
        }
        return (words, wordTokens)
    }

    static func splitOnUnicode(_ tokens: [Int], tokenizer: WhisperTokenizer) -> ([String], [[Int]]) {
        let full = Array(tokenizer.decode(tokens, skipSpecial: false).unicodeScalars)
        var words: [String] = [], wordTokens: [[Int]] = []
        var current: [Int] = []
        var offset = 0
        for token in tokens {
            current.append(token)
            let decoded = tokenizer.decode(current, skipSpecial: false)
            let scalars = Array(decoded.unicodeScalars)
            let replacement = scalars.firstIndex(of: "\u{FFFD}").map { $0 + offset }
            if replacement == nil || (replacement! < full.count && full[replacement!] == "\u{FFFD}") {
                words.append(decoded); wordTokens.append(current)
                current = []
                offset += scalars.count
            }
        }
        return (words, wordTokens)
    }

    /// faster-whisper's `merge_punctuations`: opening marks join the next word, closing marks the previous one.
    static func mergePunctuations(_ a: inout [AlignedWord]) {
        guard a.count >= 2 else { return }
        var i = a.count - 2, j = a.count - 1
        while i >= 0 {
            if a[i].word.hasPrefix(" ") && inPython(a[i].word.trimmingCharacters(in: .whitespacesAndNewlines), prepended) {
                a[j].word = a[i].word + a[j].word
                a[j].tokens = a[i].tokens + a[j].tokens
                a[i].word = ""; a[i].tokens = []
            } else {
                j = i
            }
            i -= 1
        }
        i = 0; j = 1
        while j < a.count {
            if !a[i].word.hasSuffix(" ") && inPython(a[j].word, appended) {
                a[i].word += a[j].word
                a[i].tokens += a[j].tokens
                a[j].word = ""; a[j].tokens = []
            } else {
                i = j
            }
            j += 1
        }
    }

    /// Python's `needle in haystack` for strings (the empty string is in every string).
    static func inPython(_ needle: String, _ haystack: String) -> Bool { needle.isEmpty || haystack.contains(needle) }

    /// faster-whisper's `add_word_timestamps` for one window's segments (pieces with start/end in file time and
    /// their tokens). Returns each piece's words (file time, 2 decimals) and the adjusted piece bounds, and the
    /// new last-speech time.
    static func addWordTimestamps(pieces: inout [(start: Double, end: Double, tokens: [Int])], windowStart: Double,
                                  alignment: [AlignedWord], endOfText: Int,
                                  lastSpeech: Double) -> (words: [[TranscriptWord]], lastSpeech: Double) {
        var align = alignment
        let durations = align.map { $0.end - $0.start }.filter { $0 != 0 }.sorted()
        var median = 0.0
        if !durations.isEmpty {
            let c = durations.count
            median = c % 2 == 1 ? durations[c / 2] : (durations[c / 2 - 1] + durations[c / 2]) / 2
        }
        median = min(0.7, median)
        let maxDuration = median * 2
        if !durations.isEmpty {
            let ends = ".。!！?？"
            for i in 1..<max(align.count, 1) where align[i].end - align[i].start > maxDuration {
                if inPython(align[i].word, ends) { align[i].end = align[i].start + maxDuration }
                else if inPython(align[i - 1].word, ends) { align[i].start = align[i].end - maxDuration }
            }
        }
        mergePunctuations(&align)
        func r2(_ x: Double) -> Double { (x * 100).rounded(.toNearestOrEven) / 100 }
        var last = lastSpeech
        var out: [[TranscriptWord]] = []
        var wordIndex = 0
        for p in pieces.indices {
            let textCount = pieces[p].tokens.filter { $0 < endOfText }.count
            var saved = 0
            var words: [TranscriptWord] = []
            while wordIndex < align.count && saved < textCount {
                let w = align[wordIndex]
                if !w.word.isEmpty {
                    words.append(TranscriptWord(start: r2(windowStart + w.start), end: r2(windowStart + w.end), word: w.word,
                                                probability: w.probability))
                }
                saved += w.tokens.count
                wordIndex += 1
            }
            if !words.isEmpty {
                if words[0].end - last > median * 4 &&
                    (words[0].end - words[0].start > maxDuration || (words.count > 1 && words[1].end - words[0].start > maxDuration * 2)) {
                    if words.count > 1 && words[1].end - words[1].start > maxDuration {
                        let boundary = max(words[1].end / 2, words[1].end - maxDuration)
                        words[0].end = boundary; words[1].start = boundary
                    }
                    words[0].start = max(0, words[0].end - maxDuration)
                }
                if pieces[p].start < words[0].end && pieces[p].start - 0.5 > words[0].start {
                    words[0].start = max(0, min(words[0].end - median, pieces[p].start))
                } else {
                    pieces[p].start = words[0].start
                }
                let n = words.count - 1
                if pieces[p].end > words[n].start && pieces[p].end + 0.5 < words[n].end {
                    words[n].end = max(words[n].start + median, pieces[p].end)
                } else {
                    pieces[p].end = words[n].end
                }
                last = pieces[p].end
            }
            out.append(words)
        }
        return (out, last)
    }
}
