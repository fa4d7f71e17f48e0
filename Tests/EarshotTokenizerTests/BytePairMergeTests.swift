// The heap merge used for long pieces gives exactly the ids of tiktoken's array scan, and long pieces
// stay fast (a 200 kB run of one letter is one pre-token).
@testable import EarshotTokenizer
import Testing

@Suite struct BytePairMergeTests {
    let tokenizer = TokenizerFixtures.tokenizer

    /// Both merge paths on the same pieces (random runs over small alphabets, UTF-8 included).
    @Test func heapMergeEqualsArrayScan() {
        var rng = RoundTripPropertyTests.SplitMix(state: 7)
        let alphabets = ["ab", "aab ", "abcdefghij", "的一是不了人我在有他这", "éèêë", "aAbB", "!?", "0 1"]
        for _ in 0 ..< 300 {
            let alphabet = Array(alphabets[Int(rng.next() % UInt64(alphabets.count))])
            let length = 2 + Int(rng.next() % 300)
            let piece = String((0 ..< length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            var bytes = Array(piece.utf8)
            let n = bytes.count
            bytes += [0, 0, 0, 0, 0, 0, 0, 0]
            let (scan, heap) = tokenizer.ranks.withLookup { lookup in
                bytes.withUnsafeBufferPointer { p in
                    var encoder = BytePairEncoder(ranks: lookup)
                    var a: [Int] = [], b: [Int] = []
                    encoder.merge(p.baseAddress!, n, into: &a)
                    encoder.mergeWithHeap(p.baseAddress!, n, into: &b)
                    return (a, b)
                }
            }
            #expect(scan == heap, "\(piece)")
            #expect(Array(try! tokenizer.decode(heap).utf8) == Array(piece.utf8))
        }
    }

    /// A 200 kB single pre-token (quadratic in tiktoken) encodes and round-trips.
    @Test func longPieceRoundTrips() throws {
        let text = String(repeating: "a", count: 200_000)
        let ids = tokenizer.encode(text)
        #expect(ids.count < 30_000)
        #expect(try tokenizer.decode(ids) == text)
    }
}
