// BytePairEncoder: tiktoken's byte-pair merge of one pre-token (whole-piece lookup first, then merge the
// leftmost lowest-rank adjacent pair until no pair has a rank), appending ranks to an id buffer.

struct BytePairEncoder {
    let ranks: RankLookup
    /// Scratch: (start byte, rank of the pair starting there) of the current parts.
    var parts: [(start: Int, rank: UInt32)] = []

    init(ranks: RankLookup) {
        self.ranks = ranks
        parts.reserveCapacity(64)
    }

    /// Appends the ids of piece p[0 ..< n] (n ≥ 1; every single byte has a rank).
    @inline(__always)
    mutating func encode(_ p: UnsafePointer<UInt8>, _ n: Int, into ids: inout [Int]) {
        let whole = ranks.rank(p, n)
        if whole != TiktokenRanks.missing {
            ids.append(Int(whole))
            return
        }
        merge(p, n, into: &ids)
    }

    /// The merge loop of tiktoken's `_byte_pair_merge` (ties go to the leftmost pair).
    mutating func merge(_ p: UnsafePointer<UInt8>, _ n: Int, into ids: inout [Int]) {
        let missing = TiktokenRanks.missing
        parts.removeAll(keepingCapacity: true)
        var minRank = missing
        var minIndex = 0
        for i in 0 ..< n - 1 {
            let r = ranks.rank(p + i, 2)
            if r < minRank { minRank = r; minIndex = i }
            parts.append((i, r))
        }
        parts.append((n - 1, missing))
        parts.append((n, missing))

        while minRank != missing {
            let i = minIndex
            if i > 0 { parts[i - 1].rank = pairRank(p, i - 1) }
            parts[i].rank = pairRank(p, i)
            parts.remove(at: i + 1)
            minRank = missing
            for k in 0 ..< parts.count - 1 where parts[k].rank < minRank {
                minRank = parts[k].rank
                minIndex = k
            }
        }
        for k in 0 ..< parts.count - 1 {
            let start = parts[k].start
            ids.append(Int(ranks.rank(p + start, parts[k + 1].start - start)))
        }
    }

    /// Rank of the bytes that parts i and i+1 would cover once merged, or `missing`.
    @inline(__always)
    func pairRank(_ p: UnsafePointer<UInt8>, _ i: Int) -> UInt32 {
        guard i + 3 < parts.count else { return TiktokenRanks.missing }
        let start = parts[i].start
        return ranks.rank(p + start, parts[i + 3].start - start)
    }
}
