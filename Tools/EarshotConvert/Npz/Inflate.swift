// Inflate: a small raw-DEFLATE (RFC 1951) decoder, enough for the members of a `.npz` zip.
// Structure follows zlib's `puff.c`: canonical Huffman tables as (count per length, symbols), decoded
// bit by bit. Slow but tiny; it only ever reads a few kB here.

enum InflateError: Error { case invalid(String) }

struct Inflate {
    private let input: [UInt8]
    private var pos = 0
    private var bitBuf: UInt32 = 0
    private var bitCount = 0
    private var out: [UInt8] = []
    private let limit: Int

    /// Decompresses `data`; refuses output larger than `maxOutput` bytes.
    static func decompress(_ data: [UInt8], maxOutput: Int) throws(InflateError) -> [UInt8] {
        var s = Inflate(input: data, limit: maxOutput)
        try s.run()
        return s.out
    }

    private init(input: [UInt8], limit: Int) {
        self.input = input
        self.limit = limit
    }

    private mutating func bits(_ n: Int) throws(InflateError) -> Int {
        var v = bitBuf
        while bitCount < n {
            guard pos < input.count else { throw .invalid("unexpected end of compressed data") }
            v |= UInt32(input[pos]) << UInt32(bitCount)
            pos += 1
            bitCount += 8
        }
        bitBuf = v >> UInt32(n)
        bitCount -= n
        return Int(v & ((1 << UInt32(n)) - 1))
    }

    private struct Huffman {
        var count = [Int](repeating: 0, count: 16)
        var symbol: [Int]

        /// Builds the table from code lengths; throws on an over-subscribed set.
        init(lengths: ArraySlice<Int>) throws(InflateError) {
            symbol = [Int](repeating: 0, count: lengths.count)
            for l in lengths { count[l] += 1 }
            var left = 1
            for len in 1..<16 {
                left <<= 1
                left -= count[len]
                if left < 0 { throw .invalid("over-subscribed Huffman code") }
            }
            var offs = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offs[len + 1] = offs[len] + count[len] }
            for (i, l) in lengths.enumerated() where l != 0 {
                symbol[offs[l]] = i
                offs[l] += 1
            }
        }
    }

    private mutating func decode(_ h: Huffman) throws(InflateError) -> Int {
        var code = 0, first = 0, index = 0
        for len in 1..<16 {
            code |= try bits(1)
            let c = h.count[len]
            if code - c < first { return h.symbol[index + (code - first)] }
            index += c
            first += c
            first <<= 1
            code <<= 1
        }
        throw .invalid("bad Huffman code")
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    private mutating func run() throws(InflateError) {
        var last = 0
        repeat {
            last = try bits(1)
            switch try bits(2) {
            case 0: try stored()
            case 1:
                var l = [Int](repeating: 8, count: 288)
                for i in 144..<256 { l[i] = 9 }
                for i in 256..<280 { l[i] = 7 }
                try codes(try Huffman(lengths: l[...]), try Huffman(lengths: [Int](repeating: 5, count: 30)[...]))
            case 2: try dynamic()
            default: throw .invalid("reserved block type")
            }
        } while last == 0
    }

    private mutating func stored() throws(InflateError) {
        bitBuf = 0
        bitCount = 0
        guard pos + 4 <= input.count else { throw .invalid("truncated stored block") }
        let len = Int(input[pos]) | Int(input[pos + 1]) << 8
        let nlen = Int(input[pos + 2]) | Int(input[pos + 3]) << 8
        guard len == (~nlen & 0xFFFF) else { throw .invalid("stored block length check failed") }
        pos += 4
        guard pos + len <= input.count, out.count + len <= limit else { throw .invalid("truncated or oversized stored block") }
        out.append(contentsOf: input[pos..<(pos + len)])
        pos += len
    }

    private mutating func dynamic() throws(InflateError) {
        let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
        guard nlen <= 286, ndist <= 30 else { throw .invalid("bad dynamic block counts") }
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var lengths = [Int](repeating: 0, count: 320)
        for i in 0..<ncode { lengths[order[i]] = try bits(3) }
        let lencode = try Huffman(lengths: lengths[0..<19])
        var index = 0
        while index < nlen + ndist {
            var symbol = try decode(lencode)
            if symbol < 16 {
                lengths[index] = symbol
                index += 1
                continue
            }
            var len = 0
            if symbol == 16 {
                guard index > 0 else { throw .invalid("repeat with no previous length") }
                len = lengths[index - 1]
                symbol = 3 + (try bits(2))
            } else if symbol == 17 {
                symbol = 3 + (try bits(3))
            } else {
                symbol = 11 + (try bits(7))
            }
            guard index + symbol <= nlen + ndist else { throw .invalid("too many code lengths") }
            for _ in 0..<symbol { lengths[index] = len; index += 1 }
        }
        guard lengths[256] != 0 else { throw .invalid("no end-of-block code") }
        try codes(try Huffman(lengths: lengths[0..<nlen]), try Huffman(lengths: lengths[nlen..<(nlen + ndist)]))
    }

    private mutating func codes(_ lencode: Huffman, _ distcode: Huffman) throws(InflateError) {
        while true {
            var symbol = try decode(lencode)
            if symbol < 256 {
                guard out.count < limit else { throw .invalid("output too large") }
                out.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                symbol -= 257
                guard symbol < 29 else { throw .invalid("bad length symbol") }
                let len = Self.lengthBase[symbol] + (try bits(Self.lengthExtra[symbol]))
                let ds = try decode(distcode)
                guard ds < 30 else { throw .invalid("bad distance symbol") }
                let dist = Self.distBase[ds] + (try bits(Self.distExtra[ds]))
                guard dist <= out.count else { throw .invalid("distance too far back") }
                guard out.count + len <= limit else { throw .invalid("output too large") }
                let start = out.count - dist
                for i in 0..<len { out.append(out[start + i]) }
            }
        }
    }
}
