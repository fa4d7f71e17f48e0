// Sampler: greedy, top-k/top-p filtering, repetition penalty and seeded determinism.
import Foundation
import Testing
@testable import Earshot

@Suite struct SamplerTests {
    func sample(_ logits: [Float], _ p: SamplingParameters, context: [Int] = [], draws: Int = 1) -> [Int] {
        var sampler = Sampler(p)
        return (0..<draws).map { _ in
            var l = logits
            return l.withUnsafeMutableBufferPointer { sampler.next(logits: $0, context: context) }
        }
    }

    @Test func greedyPicksFirstMaximum() {
        #expect(sample([0.1, 3, 3, -1], .greedy) == [1])
    }

    @Test func topKOneIsGreedy() {
        let p = SamplingParameters(temperature: 1, topK: 1, topP: 1, seed: 7)
        #expect(Set(sample([0.5, 0.2, 2.0, 1.9], p, draws: 50)) == [2])
    }

    @Test func topPKeepsOnlyTheNucleus() {
        // softmax([2, 2, -5, -5]) ≈ [0.4996, 0.4996, 0.0005, 0.0005]: top_p 0.8 keeps ids 0 and 1 only.
        let p = SamplingParameters(topP: 0.8, seed: 3)
        let drawn = Set(sample([2, 2, -5, -5], p, draws: 400))
        #expect(drawn == [0, 1])
    }

    @Test func sameSeedSameTokensDifferentSeedDiffers() {
        let logits: [Float] = (0..<64).map { Float($0 % 7) * 0.3 }
        let a = sample(logits, SamplingParameters(topP: 1, seed: 42), draws: 40)
        let b = sample(logits, SamplingParameters(topP: 1, seed: 42), draws: 40)
        let c = sample(logits, SamplingParameters(topP: 1, seed: 43), draws: 40)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func samplingFollowsTheDistribution() {
        // p = softmax([0, ln 3]) = [0.25, 0.75]; 4000 draws: expect 3000 ± 5σ (σ ≈ 27).
        let drawn = sample([0, Float(log(3.0))], SamplingParameters(topP: 1, seed: 11), draws: 4000)
        let ones = drawn.filter { $0 == 1 }.count
        #expect(abs(ones - 3000) < 140)
    }

    @Test func repetitionPenaltyDemotesSeenTokens() {
        var p = SamplingParameters.greedy
        p.repetitionPenalty = 2
        // id 0 (logit 3, seen) becomes 1.5 < id 1 (2.0); a negative seen logit gets more negative.
        #expect(sample([3, 2, -1], p, context: [0, 0, 2]) == [1])
        var logits: [Float] = [3, 2, -1]
        var s = Sampler(p)
        _ = logits.withUnsafeMutableBufferPointer { s.next(logits: $0, context: [0, 2]) }
        #expect(logits == [1.5, 2, -2])
    }
}
