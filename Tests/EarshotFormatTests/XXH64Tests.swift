// XXH64Tests: the checksum matches the reference xxHash (values from Python `xxhash` 3.x, which wraps
// the reference C library: xxhash.xxh64(bytes).intdigest() for bytes[i] = (31·i + 7) & 255), in one
// call and in any chunking.
import Testing
@testable import EarshotFormat

private func pattern(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

private let reference: [(Int, UInt64)] = [
    (0, 0xef46db3751d8e999), (1, 0xa96c7f0ce858bbb7), (3, 0x56e6957632a487f9), (4, 0xc60d15b1e3ff8f04),
    (5, 0x808815858624dd4e), (7, 0xafbefc3d6c6f9a8e), (8, 0x3da5c7aa269683e0), (9, 0x4b17a9ba9e215c09),
    (15, 0xae2a37eb9357caa7), (16, 0xa19ad429b02bc413), (31, 0x4a74f3a1a39ad4a1), (32, 0x8d57d6a4671cc43d),
    (33, 0x62c9fd21ed857664), (63, 0x5c320a0d2707057f), (64, 0x7bbabbc45729d17e), (65, 0xf3980c34bae65dc1),
    (100, 0xefa0ad2d3e70c151), (1000, 0x99594f4828043d35), (4099, 0x98531e44aa4f969d),
]

@Test(arguments: reference.map { $0.0 })
func xxh64MatchesReference(length: Int) {
    let expected = reference.first { $0.0 == length }!.1
    #expect(XXH64.hash(pattern(length)) == expected)
}

@Test func xxh64WithSeedMatchesReference() {
    // xxhash.xxh64(b"abc", seed=12345).intdigest()
    #expect(XXH64.hash(Array("abc".utf8), seed: 12345) == 0x1700e64f6f23509)
}

@Test(arguments: [1, 5, 31, 32, 33, 500])
func xxh64StreamingEqualsOneShot(chunk: Int) {
    let data = pattern(4099)
    var state = XXH64()
    var i = 0
    while i < data.count {
        let end = min(i + chunk, data.count)
        state.update(Array(data[i..<end]))
        i = end
    }
    #expect(state.digest() == 0x98531e44aa4f969d)
}
