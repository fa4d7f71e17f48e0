// MutationTests: thousands of seeded random byte mutations and truncations of the example file. Each
// must either open (then verify/blob reads may throw) or throw an EarError — never crash, hang or
// allocate absurdly (any of these would kill or stall the test process).
import Testing
import Foundation
@testable import EarshotFormat
import EarshotTestSupport

private struct SplitMix { var s: UInt64; mutating func next() -> UInt64 {
    s &+= 0x9E37_79B9_7F4A_7C15; var z = s
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31) } }

/// Opens `bytes` in memory and, if that works, reads every blob and verifies; returns what happened.
private func exercise(_ bytes: [UInt8]) -> String {
    bytes.withUnsafeBytes { buf in
        do {
            let index = try EarIndex.parse(buf)
            for b in index.blobs where b.compression == .zstd {
                _ = try Zstd.decompress(UnsafeRawBufferPointer(rebasing: buf[b.offset..<(b.offset + b.storedSize)]),
                                        rawSize: b.rawSize, blob: b.name)
            }
            for t in index.tensors { _ = XXH64.hash(UnsafeRawBufferPointer(rebasing: buf[t.offset..<(t.offset + t.byteCount)])) }
            return "ok"
        } catch {
            return "error"
        }
    }
}

@Test func randomMutationsNeverCrash() throws {
    let dir = try TemporaryDirectory()
    let good = Array(try Data(contentsOf: try EarCorruptions.writeExample(in: dir.url)))
    let e = EarBytes(good)
    // Mutate where the structure lives: the header and the index region (data bytes only change checksums).
    let targets = Array(0..<128) + Array((e.dataOffset + e.dataSize)..<good.count)
    var rng = SplitMix(s: 2026)
    var outcomes: [String: Int] = [:]
    for _ in 0..<3000 {
        var bytes = good
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            let at = targets[Int(rng.next() % UInt64(targets.count))]
            switch rng.next() % 4 {
            case 0: bytes[at] ^= UInt8(1 << (rng.next() % 8))                   // bit flip
            case 1: bytes[at] = UInt8(truncatingIfNeeded: rng.next())            // random byte
            case 2: bytes[at] = 0xFF                                             // saturate
            default: bytes[at] = 0
            }
        }
        outcomes[exercise(bytes), default: 0] += 1
    }
    #expect((outcomes["error"] ?? 0) > 1000)   // most structural damage is caught at open
    // Damaged zstd frames: decompression must fail cleanly (or, rarely, still succeed).
    let zstdStart = e.blobData(0), zstdSize = Int(e.u64(e.blob(0) + 24))
    for _ in 0..<500 {
        var bytes = good
        bytes[zstdStart + Int(rng.next() % UInt64(zstdSize))] = UInt8(truncatingIfNeeded: rng.next())
        _ = exercise(bytes)
    }
    for _ in 0..<300 {
        let cut = Int(rng.next() % UInt64(good.count))
        #expect(exercise(Array(good[0..<cut])) == "error")
    }
}
