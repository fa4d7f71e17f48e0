// WordAlignmentTests: the pieces of Whisper word timestamps that need no model — CTranslate2's negative DTW
// against a brute-force search on small matrices, faster-whisper's word splitting on tiny.en's real tokenizer,
// and its punctuation merge.
import Foundation
import Testing
import EarshotTestSupport
import EarshotTokenizer
@testable import Earshot

@Suite struct WordAlignmentTests {
    @Test func dtwFindsTheBestMonotonicPath() {
        var state: UInt64 = 5
        for trial in 0..<40 {
            let n = 1 + trial % 4, m = 1 + (trial * 7) % 6
            let x: [Double] = (0..<(n * m)).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Double(state >> 40) / Double(1 << 24)
            }
            let path = WordAlignment.negativeDTW(x, rows: n, cols: m)
            #expect(path.first! == (0, 0) && path.last! == (n - 1, m - 1), "trial \(trial)")
            for (a, b) in zip(path, path.dropFirst()) {
                let di = b.text - a.text, dj = b.time - a.time
                #expect((di, dj) == (1, 1) || (di, dj) == (1, 0) || (di, dj) == (0, 1), "trial \(trial): step \(a) → \(b)")
            }
            // Its cost is the best over all monotonic paths (brute force on the DP).
            var best = [[Double]](repeating: [Double](repeating: .infinity, count: m), count: n)
            for i in 0..<n { for j in 0..<m {
                let prev = i == 0 && j == 0 ? 0 : min(i > 0 ? best[i - 1][j] : .infinity, j > 0 ? best[i][j - 1] : .infinity,
                                                      i > 0 && j > 0 ? best[i - 1][j - 1] : .infinity)
                best[i][j] = prev - x[i * m + j]
            } }
            let cost = path.reduce(0.0) { $0 - x[$1.text * m + $1.time] }
            #expect(abs(cost - best[n - 1][m - 1]) < 1e-4, "trial \(trial)")
        }
    }

    @Test func wordsSplitAtSpacesAndPunctuation() throws {
        let tok = try WhisperTokenizer(tokenizerJSON: Data(contentsOf: Fixtures.url("whisper/tokenizer.json")), vocabularySize: 51864)
        let ids = tok.encode(" And so, my fellow Americans") + [tok.specials.endOfText]
        let (words, tokens) = WordAlignment.splitToWordTokens(ids, tokenizer: tok, language: "en")
        #expect(words == [" And", " so", ",", " my", " fellow", " Americans", "<|endoftext|>"], "\(words)")
        #expect(tokens.flatMap { $0 } == ids)
        var aligned = words.enumerated().map { AlignedWord(word: $0.element, tokens: tokens[$0.offset], start: Double($0.offset), end: Double($0.offset) + 1, probability: 1) }
        WordAlignment.mergePunctuations(&aligned)
        #expect(aligned.map(\.word) == [" And", " so,", "", " my", " fellow", " Americans", "<|endoftext|>"])
    }
}
