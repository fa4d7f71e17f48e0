// TiktokenRanks: the byte-level BPE vocabulary of a tiktoken file (`base64(token bytes) SPACE rank` lines):
// token bytes → rank through an open-addressing hash table, rank → bytes through one byte arena.

/// The mergeable ranks of a tiktoken BPE file. Ranks are token ids and must be exactly 0 ..< count.
public struct TiktokenRanks: Sendable {
    /// Every token's bytes back to back, in file order.
    let arena: [UInt8]
    /// [count] where rank r's bytes start in `arena`.
    let starts: [UInt32]
    /// [count] how many bytes rank r has.
    let lengths: [UInt32]
    /// Hash table slots: (fingerprint << 32) | rank, or `emptySlot`. Size is a power of two.
    let slots: [UInt64]
    /// [256] rank of each single byte (`missing` if absent).
    let byteRanks: [UInt32]
    /// Number of ranks (151,643 for Qwen).
    public let count: Int

    static let emptySlot = UInt64.max
    static let missing = UInt32.max

    /// Parses tiktoken file bytes. Throws `TokenizerError.malformedRankFile`, `.ranksNotDense` or `.duplicateToken`.
    public init(tiktoken file: UnsafeRawBufferPointer) throws(TokenizerError) {
        let input = file.bindMemory(to: UInt8.self)
        // Pass 1: count lines (one token per non-empty line) to size the tables.
        var lineCount = 0
        var previous: UInt8 = 10
        for byte in input {
            if byte == 10 && previous != 10 { lineCount += 1 }
            previous = byte
        }
        if previous != 10 { lineCount += 1 }

        var arena = [UInt8](repeating: 0, count: input.count * 3 / 4 + 4)
        var starts = [UInt32](repeating: UInt32.max, count: lineCount)
        var lengths = [UInt32](repeating: 0, count: lineCount)
        var arenaUsed = 0
        var lineNumber = 0
        var position = 0
        let end = input.count
        let base64 = Base64.table
        let parseError = arena.withUnsafeMutableBufferPointer { out -> TokenizerError? in
          base64.withUnsafeBufferPointer { alphabet -> TokenizerError? in
            while position < end {
                lineNumber += 1
                var lineEnd = position
                while lineEnd < end && input[lineEnd] != 10 { lineEnd += 1 }
                var lineStop = lineEnd
                if lineStop > position && input[lineStop - 1] == 13 { lineStop -= 1 }  // tolerate CRLF
                defer { position = lineEnd + 1 }
                if lineStop == position { continue }  // the reference skips empty lines
                var space = position
                while space < lineStop && input[space] != 32 { space += 1 }
                guard space < lineStop else { return TokenizerError.malformedRankFile(line: lineNumber, reason: "no space between token and rank") }
                let tokenStart = arenaUsed
                guard let decoded = Base64.decode(input, from: position, to: space, into: out, at: arenaUsed,
                                                  table: alphabet) else {
                    return TokenizerError.malformedRankFile(line: lineNumber, reason: "token is not valid base64")
                }
                arenaUsed += decoded
                guard decoded > 0 else { return TokenizerError.malformedRankFile(line: lineNumber, reason: "empty token") }
                var rank = 0
                var digit = space + 1
                guard digit < lineStop else { return TokenizerError.malformedRankFile(line: lineNumber, reason: "missing rank") }
                while digit < lineStop {
                    let d = Int(input[digit]) - 48
                    guard d >= 0 && d <= 9, rank < 1 << 31 else {
                        return TokenizerError.malformedRankFile(line: lineNumber, reason: "rank is not a non-negative integer")
                    }
                    rank = rank * 10 + d
                    digit += 1
                }
                guard rank < lineCount, starts[rank] == UInt32.max else {
                    return TokenizerError.ranksNotDense(rank: rank, count: lineCount)
                }
                starts[rank] = UInt32(tokenStart)
                lengths[rank] = UInt32(decoded)
            }
            return nil
          }
        }
        if let parseError { throw parseError }
        // lineCount counted every line; empty lines in the middle would leave holes.
        if let hole = starts.firstIndex(of: UInt32.max) { throw TokenizerError.ranksNotDense(rank: hole, count: lineCount) }
        // 8 readable bytes after every token: hashing and comparing load whole 8-byte words.
        arena.removeSubrange(arenaUsed...)
        arena.append(contentsOf: repeatElement(0, count: 8))

        // Hash table at load ≤ 0.3 so that misses (most BPE pair lookups) end after one or two probes.
        var capacity = 1024
        while capacity < lineCount * 3 + 16 { capacity <<= 1 }
        var slots = [UInt64](repeating: TiktokenRanks.emptySlot, count: capacity)
        let mask = capacity - 1
        let duplicate = arena.withUnsafeBufferPointer { bytes -> TokenizerError? in
            slots.withUnsafeMutableBufferPointer { table -> TokenizerError? in
                for rank in 0..<lineCount {
                    let p = bytes.baseAddress! + Int(starts[rank])
                    let n = Int(lengths[rank])
                    let h = TiktokenRanks.hash(p, n)
                    let fingerprint = h >> 32
                    var index = Int(truncatingIfNeeded: h) & mask
                    while table[index] != TiktokenRanks.emptySlot {
                        let other = Int(table[index] & 0xFFFF_FFFF)
                        if table[index] >> 32 == fingerprint && Int(lengths[other]) == n
                            && memoryEqual(p, bytes.baseAddress! + Int(starts[other]), n) {
                            return TokenizerError.duplicateToken(line: rank + 1)
                        }
                        index = (index + 1) & mask
                    }
                    table[index] = (fingerprint << 32) | UInt64(rank)
                }
                return nil
            }
        }
        if let duplicate { throw duplicate }
        self.arena = arena
        self.starts = starts
        self.lengths = lengths
        self.slots = slots
        self.count = lineCount
        var byteRanks = [UInt32](repeating: TiktokenRanks.missing, count: 256)
        var word: UInt64 = 0
        for byte in 0 ..< 256 {
            word = UInt64(byte)
            byteRanks[byte] = withUnsafeBytes(of: &word) { raw in
                arena.withUnsafeBufferPointer { a in
                    slots.withUnsafeBufferPointer { t in
                        starts.withUnsafeBufferPointer { s in
                            lengths.withUnsafeBufferPointer { l in
                                RankLookup(arena: a.baseAddress!, starts: s.baseAddress!, lengths: l.baseAddress!,
                                           slots: t.baseAddress!, mask: t.count - 1, byteRanks: nil)
                                    .rank(raw.bindMemory(to: UInt8.self).baseAddress!, 1)
                            }
                        }
                    }
                }
            }
        }
        self.byteRanks = byteRanks
    }

    /// The bytes of one rank (0 ..< count).
    public func bytes(ofRank rank: Int) -> ArraySlice<UInt8> {
        let start = Int(starts[rank])
        return arena[start ..< start + Int(lengths[rank])]
    }

    /// The rank of a byte string, or nil.
    public func rank(of bytes: [UInt8]) -> Int? {
        let padded = bytes + [0, 0, 0, 0, 0, 0, 0, 0]
        let r = withLookup { lookup in padded.withUnsafeBufferPointer { lookup.rank($0.baseAddress!, bytes.count) } }
        return r == TiktokenRanks.missing ? nil : Int(r)
    }

    /// Runs `body` with a pointer-based view for hot loops (no array bounds or retain traffic).
    func withLookup<R>(_ body: (RankLookup) throws -> R) rethrows -> R {
        try arena.withUnsafeBufferPointer { a in
            try starts.withUnsafeBufferPointer { s in
                try lengths.withUnsafeBufferPointer { l in
                    try slots.withUnsafeBufferPointer { t in
                        try byteRanks.withUnsafeBufferPointer { b in
                            try body(RankLookup(arena: a.baseAddress!, starts: s.baseAddress!, lengths: l.baseAddress!,
                                                slots: t.baseAddress!, mask: t.count - 1, byteRanks: b.baseAddress!))
                        }
                    }
                }
            }
        }
    }

    /// A 64-bit hash of a byte string (multiply–xorshift over 8-byte words). Reads whole words:
    /// p[n ..< n + 8] must be readable (the bytes past n are masked off).
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var h = UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        if i < n {
            let tail = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) & tailMask(n - i)
            h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        }
        h ^= h >> 32
        h = h &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 29
        return h
    }
}

/// Mask of the low `count` bytes (1…7) of a little-endian word.
@inline(__always)
func tailMask(_ count: Int) -> UInt64 { (1 &<< UInt64(8 * count)) &- 1 }

/// Pointer view of `TiktokenRanks` valid inside `withLookup`.
struct RankLookup {
    let arena: UnsafePointer<UInt8>
    let starts: UnsafePointer<UInt32>
    let lengths: UnsafePointer<UInt32>
    let slots: UnsafePointer<UInt64>
    let mask: Int
    let byteRanks: UnsafePointer<UInt32>?

    /// Rank of a single byte.
    @inline(__always)
    func byteRank(_ byte: UInt8) -> UInt32 { byteRanks.unsafelyUnwrapped[Int(byte)] }

    /// Rank of bytes p[0 ..< n], or `TiktokenRanks.missing`.
    @inline(__always)
    func rank(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        let h = TiktokenRanks.hash(p, n)
        let fingerprint = h >> 32
        var index = Int(truncatingIfNeeded: h) & mask
        while true {
            let slot = slots[index]
            if slot == TiktokenRanks.emptySlot { return TiktokenRanks.missing }
            if slot >> 32 == fingerprint {
                let r = Int(slot & 0xFFFF_FFFF)
                if Int(lengths[r]) == n && wordsEqual(p, arena + Int(starts[r]), n) { return UInt32(r) }
            }
            index = (index + 1) & mask
        }
    }
}

/// Whether a[0 ..< n] == b[0 ..< n], a word at a time (both must have 8 readable bytes past n).
@inline(__always)
func wordsEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    let x = UnsafeRawPointer(a), y = UnsafeRawPointer(b)
    var i = 0
    while i + 8 <= n {
        if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    if i == n { return true }
    let difference = x.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ y.loadUnaligned(fromByteOffset: i, as: UInt64.self)
    return UInt64(littleEndian: difference) & tailMask(n - i) == 0
}

@inline(__always)
func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

/// Standard base64 (RFC 4648 alphabet, `=` padding) decoding into a preallocated buffer.
enum Base64 {
    static let table: [UInt8] = {
        var t = [UInt8](repeating: 255, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Decodes input[from ..< to] into out[at...] with `table` (= `Base64.table`); returns the byte count,
    /// or nil if not valid base64.
    @inline(__always)
    static func decode(_ input: UnsafeBufferPointer<UInt8>, from: Int, to: Int,
                       into out: UnsafeMutableBufferPointer<UInt8>, at: Int, table t: UnsafeBufferPointer<UInt8>) -> Int? {
        var stop = to
        var padding = 0
        while stop > from && input[stop - 1] == 61 && padding < 2 { stop -= 1; padding += 1 }
        if (stop - from + padding) % 4 != 0 { return nil }
        var accumulator: UInt32 = 0
        var bits = 0
        var written = at
        var i = from
        // Whole groups of 4 characters → 3 bytes.
        while i + 4 <= stop {
            let a = t[Int(input[i])], b = t[Int(input[i + 1])], c = t[Int(input[i + 2])], d = t[Int(input[i + 3])]
            if a > 63 || b > 63 || c > 63 || d > 63 { return nil }  // 255 marks a non-alphabet character
            guard written + 3 <= out.count else { return nil }
            let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
            out[written] = UInt8(truncatingIfNeeded: v >> 16)
            out[written + 1] = UInt8(truncatingIfNeeded: v >> 8)
            out[written + 2] = UInt8(truncatingIfNeeded: v)
            written += 3
            i += 4
        }
        // The last 2 or 3 characters before the padding.
        while i < stop {
            let v = t[Int(input[i])]
            if v == 255 { return nil }
            accumulator = (accumulator << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                guard written < out.count else { return nil }
                out[written] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
                written += 1
            }
            i += 1
        }
        return written - at
    }
}
