// TinyCheckpointTests: the Swift generator reproduces the fixtures' tiny checkpoint bit for bit
// (README §3.1 test vectors and the manifest's SHA-256 of all 59 tensors; exact, no tolerance).
import Foundation
import Testing
import EarshotTestSupport

@Suite struct TinyCheckpointTests {
    @Test func fnvAndSplitMixTestVectors() {
        #expect(TinyCheckpoint.fnv1a64("a".utf8) == 0xAF63_DC4C_8601_EC8C)
        let st = TinyCheckpoint.state(name: "lm_head.weight", seed: 9)
        #expect(st == 0x2494_ACD4_2785_33B0)
        let scale = Float(bitPattern: 0x3EB5_04F3)
        let expectedValues: [UInt32] = [0x3E39_E739, 0xBCAF_BEA4, 0xBE50_A503]
        let expectedBF16: [UInt16] = [0x3E3A, 0xBCB0, 0xBE51]
        for i in 0..<3 {
            let v = TinyCheckpoint.uniform(state: st, i) * scale + 0
            #expect(v.bitPattern == expectedValues[i])
            #expect(TinyCheckpoint.bf16RNE(v) == expectedBF16[i])
        }
        let wte = TinyCheckpoint.state(name: "transformer.wte.weight", seed: 20)
        #expect(wte == 0x4BD1_5968_2DF7_AAEA)
        #expect(TinyCheckpoint.bf16RNE(TinyCheckpoint.uniform(state: wte, 0)) == 0x3CD0)
    }

    @Test func allTensorHashesMatchManifest() throws {
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: Fixtures.url("qwen-audio-tiny/goldens/manifest.json"))) as! [String: Any]
        let ckpt = manifest["checkpoint"] as! [String: Any]
        let tensors = ckpt["tensors"] as! [String: [String: Any]]
        let tiny = TinyCheckpoint.fixture
        #expect(tensors.count == 59)
        #expect(tiny.tensors.count == tensors.count)
        for t in tiny.tensors {
            let want = try #require(tensors[t.spec.name], "unexpected tensor \(t.spec.name)")
            #expect(want["shape"] as? [Int] == t.spec.shape, "\(t.spec.name) shape")
            #expect(want["role"] as? String == t.spec.role.rawValue, "\(t.spec.name) role")
            let hash = t.bits.withUnsafeBytes { SHA256.hex($0) }   // little-endian bf16 on LE hosts
            #expect(hash == want["sha256"] as? String, "\(t.spec.name) sha256")
        }
    }

    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
