// BytePairEncoder: tiktoken's byte-pair merge of one pre-token (whole-piece lookup first, then merge the
// leftmost lowest-rank adjacent pair until no pair has a rank), appending ranks to an id buffer.
// Short pieces use tiktoken's own array scan; long ones (a run of 10k letters is one piece) a heap with
// the same (rank, position) order, so the result is identical and the time O(n log n) instead of O(n²).

struct BytePairEncoder {
    let ranks: RankLookup
    /// Scratch for the array scan: (start byte, rank of the pair starting there, rank of this part).
    var parts: [(start: Int, pairRank: UInt32, tokenRank: UInt32)] = []
    /// Pieces longer than this take the heap path.
    static let heapThreshold = 128

    init(ranks: RankLookup) {
        self.ranks = ranks
        parts.reserveCapacity(Self.heapThreshold + 2)
    }

    /// Appends the ids of piece p[0 ..< n] (n ≥ 1; every single byte has a rank; p[n ..< n + 8] readable).
    @inline(__always)
    mutating func encode(_ p: UnsafePointer<UInt8>, _ n: Int, into ids: inout [Int]) {
        let whole = ranks.rank(p, n)
        if whole != TiktokenRanks.missing {
            ids.append(Int(whole))
            return
        }
        if n > Self.heapThreshold {
            mergeWithHeap(p, n, into: &ids)
        } else {
            merge(p, n, into: &ids)
        }
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
            parts.append((i, r, ranks.byteRank(p[i])))
        }
        parts.append((n - 1, missing, ranks.byteRank(p[n - 1])))
        parts.append((n, missing, missing))

        while minRank != missing {
            let i = minIndex
            parts[i].tokenRank = minRank  // parts i and i+1 become the token of the pair's rank
            if i > 0 { parts[i - 1].pairRank = pairRank(p, i - 1) }
            parts[i].pairRank = pairRank(p, i)
            parts.remove(at: i + 1)
            minRank = missing
            for k in 0 ..< parts.count - 1 where parts[k].pairRank < minRank {
                minRank = parts[k].pairRank
                minIndex = k
            }
        }
        for k in 0 ..< parts.count - 1 { ids.append(Int(parts[k].tokenRank)) }
    }

    /// Rank of the bytes that parts i and i+1 would cover once merged, or `missing`.
    @inline(__always)
    func pairRank(_ p: UnsafePointer<UInt8>, _ i: Int) -> UInt32 {
        guard i + 3 < parts.count else { return TiktokenRanks.missing }
        let start = parts[i].start
        return ranks.rank(p + start, parts[i + 3].start - start)
    }

    /// The same merges with a linked list of parts (indexed by start byte) and a min-heap of
    /// (pair rank, start): the heap's minimum is tiktoken's leftmost lowest-rank pair. Entries made
    /// stale by a merge are skipped when their rank no longer matches the part's current pair rank.
    func mergeWithHeap(_ p: UnsafePointer<UInt8>, _ n: Int, into ids: inout [Int]) {
        let missing = TiktokenRanks.missing
        var next = [Int](unsafeUninitializedCapacity: n) { b, c in for s in 0 ..< n { b[s] = s + 1 }; c = n }
        var previous = [Int](unsafeUninitializedCapacity: n) { b, c in for s in 0 ..< n { b[s] = s - 1 }; c = n }
        var pair = [UInt32](repeating: missing, count: n)
        var tokenRank = [UInt32](unsafeUninitializedCapacity: n) { b, c in for s in 0 ..< n { b[s] = ranks.byteRank(p[s]) }; c = n }
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap()
        for s in 0 ..< n - 1 {
            pair[s] = ranks.rank(p + s, 2)
            if pair[s] != missing { heap.push(UInt64(pair[s]) << 32 | UInt64(s)) }
        }
        while let top = heap.pop() {
            let r = UInt32(top >> 32), s = Int(top & 0xFFFF_FFFF)
            guard alive[s] && pair[s] == r else { continue }
            let t = next[s], u = next[t]  // merge part s with part t; u is the part after (or n)
            alive[t] = false
            tokenRank[s] = r
            next[s] = u
            if u < n {
                previous[u] = s
                pair[s] = ranks.rank(p + s, next[u] - s)
                if pair[s] != missing { heap.push(UInt64(pair[s]) << 32 | UInt64(s)) }
            } else {
                pair[s] = missing
            }
            if s > 0 {
                let q = previous[s]
                pair[q] = ranks.rank(p + q, u - q)
                if pair[q] != missing { heap.push(UInt64(pair[q]) << 32 | UInt64(q)) }
            }
        }
        var s = 0
        while s < n { ids.append(Int(tokenRank[s])); s = next[s] }
    }
}

/// A binary min-heap of UInt64 keys.
struct MinHeap {
    var keys: [UInt64] = []

    mutating func push(_ key: UInt64) {
        keys.append(key)
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if keys[parent] <= key { break }
            keys[i] = keys[parent]
            i = parent
        }
        keys[i] = key
    }

    mutating func pop() -> UInt64? {
        guard let top = keys.first else { return nil }
        let last = keys.removeLast()
        if keys.isEmpty { return top }
        var i = 0
        let count = keys.count
        while true {
            let left = 2 * i + 1
            if left >= count { break }
            let right = left + 1
            let child = right < count && keys[right] < keys[left] ? right : left
            if keys[child] >= last { break }
            keys[i] = keys[child]
            i = child
        }
        keys[i] = last
        return top
    }
}
