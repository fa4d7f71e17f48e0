// XXH64: the 64-bit xxHash checksum (Yann Collet's XXH64, seed 0 in .ear files), one-shot and streaming.
//
// Why XXH64: it is a published, widely implemented non-cryptographic hash (Python `xxhash`, `xxhsum`
// on Debian) that runs at memory speed, so `earshot inspect --verify` over a 4–8 GB model is bounded
// by disk reads, and a user can cross-check any tensor with the stock tools. It detects corruption,
// not tampering. Algorithm: https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md
// Tests compare against values computed by the Python `xxhash` package (the reference C library).

/// Streaming XXH64 state: feed bytes in any chunking with `update`, read the hash with `digest()`.
public struct XXH64: Sendable {
    @usableFromInline static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    @usableFromInline static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    @usableFromInline static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    @usableFromInline static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    @usableFromInline static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    private var v1, v2, v3, v4: UInt64
    private let seed: UInt64
    private var totalLength: UInt64 = 0
    /// Up to 31 bytes not yet consumed as a full 32-byte stripe.
    private var buffer: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var bufferCount = 0

    public init(seed: UInt64 = 0) {
        self.seed = seed
        v1 = seed &+ XXH64.p1 &+ XXH64.p2
        v2 = seed &+ XXH64.p2
        v3 = seed
        v4 = seed &- XXH64.p1
    }

    /// The hash of `bytes` in one call.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var state = XXH64(seed: seed)
        state.update(bytes)
        return state.digest()
    }

    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    @inline(__always) private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        let a = acc &+ input &* p2
        return ((a << 31) | (a >> 33)) &* p1
    }

    @inline(__always) private static func mergeRound(_ acc: UInt64, _ val: UInt64) -> UInt64 {
        let a = acc ^ round(0, val)
        return a &* p1 &+ p4
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 &- r)) }

    @inline(__always) private static func load64(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Feeds more bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        totalLength &+= UInt64(remaining)

        if bufferCount > 0 {
            let take = min(32 - bufferCount, remaining)
            withUnsafeMutableBytes(of: &buffer) { buf in
                buf.baseAddress!.advanced(by: bufferCount).copyMemory(from: p, byteCount: take)
            }
            bufferCount += take
            p += take
            remaining -= take
            if bufferCount < 32 { return }
            withUnsafeBytes(of: buffer) { buf in consumeStripes(buf.baseAddress!, count: 1) }
            bufferCount = 0
        }
        let stripes = remaining / 32
        if stripes > 0 {
            consumeStripes(p, count: stripes)
            p += stripes * 32
            remaining -= stripes * 32
        }
        if remaining > 0 {
            withUnsafeMutableBytes(of: &buffer) { buf in
                buf.baseAddress!.copyMemory(from: p, byteCount: remaining)
            }
            bufferCount = remaining
        }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    private mutating func consumeStripes(_ p: UnsafeRawPointer, count: Int) {
        var a = v1, b = v2, c = v3, d = v4
        var offset = 0
        for _ in 0..<count {
            a = XXH64.round(a, XXH64.load64(p, offset))
            b = XXH64.round(b, XXH64.load64(p, offset &+ 8))
            c = XXH64.round(c, XXH64.load64(p, offset &+ 16))
            d = XXH64.round(d, XXH64.load64(p, offset &+ 24))
            offset &+= 32
        }
        v1 = a; v2 = b; v3 = c; v4 = d
    }

    /// The hash of everything fed so far (the state stays usable).
    public func digest() -> UInt64 {
        var h: UInt64
        if totalLength >= 32 {
            h = XXH64.rotl(v1, 1) &+ XXH64.rotl(v2, 7) &+ XXH64.rotl(v3, 12) &+ XXH64.rotl(v4, 18)
            h = XXH64.mergeRound(h, v1)
            h = XXH64.mergeRound(h, v2)
            h = XXH64.mergeRound(h, v3)
            h = XXH64.mergeRound(h, v4)
        } else {
            h = seed &+ XXH64.p5
        }
        h &+= totalLength
        var tail = buffer
        let n = bufferCount
        return withUnsafeBytes(of: &tail) { buf -> UInt64 in
            let p = buf.baseAddress!
            var i = 0
            while i + 8 <= n {
                h ^= XXH64.round(0, XXH64.load64(p, i))
                h = XXH64.rotl(h, 27) &* XXH64.p1 &+ XXH64.p4
                i += 8
            }
            if i + 4 <= n {
                let w = UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
                h ^= w &* XXH64.p1
                h = XXH64.rotl(h, 23) &* XXH64.p2 &+ XXH64.p3
                i += 4
            }
            while i < n {
                h ^= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) &* XXH64.p5
                h = XXH64.rotl(h, 11) &* XXH64.p1
                i += 1
            }
            h ^= h >> 33
            h &*= XXH64.p2
            h ^= h >> 29
            h &*= XXH64.p3
            h ^= h >> 32
            return h
        }
    }
}
