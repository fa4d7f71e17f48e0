// GGUFCorruptionTests: corrupt GGUF files are refused with the typed error naming the field — never a crash,
// never an allocation sized by a header field. Truncations at every length, bad magic/version, counts and
// lengths too large for the file, unknown value types, bad alignment, and tensor entries with bad dims, types,
// offsets past the end, misaligned or overlapping data.
import Foundation
import Testing
@testable import EarshotConvert
import EarshotTestSupport

@Suite struct GGUFCorruptionTests {
    static func open(_ b: GGUFBuilder) throws -> (ConvertError?, String) {
        let dir = try TemporaryDirectory("gguf-corrupt")
        let path = dir.path("x.gguf")
        try b.write(to: path)
        do { _ = try GGUFFile(path: path); return (nil, path) } catch { return (error, path) }
    }

    @Test func validBuilderFileOpens() throws {
        let (e, _) = try Self.open(.valid())
        #expect(e == nil)
    }

    /// Every prefix of a valid file (header, kvs, tensor infos, data) is refused, mostly as truncated.
    @Test func everyTruncationIsRefused() throws {
        let full = GGUFBuilder.valid().bytes()
        let dir = try TemporaryDirectory("gguf-trunc")
        let path = dir.path("t.gguf")
        for n in 0..<full.count {
            try Data(full[0..<n]).write(to: URL(fileURLWithPath: path))
            do {
                _ = try GGUFFile(path: path)
                Issue.record("prefix of \(n) bytes was accepted")
            } catch {
                switch error {
                case .ggufNotGGUF, .ggufTruncated, .ggufInvalidTensor, .ggufCountTooLarge: break
                default: Issue.record("prefix \(n): unexpected \(error)")
                }
            }
        }
    }

    @Test func badMagicAndVersions() throws {
        var b = GGUFBuilder.valid()
        b.magic = Array("GGML".utf8)
        if case .ggufNotGGUF? = try Self.open(b).0 {} else { Issue.record("bad magic accepted") }
        for v: UInt32 in [1, 4, 0x0300_0000] {
            var c = GGUFBuilder.valid()
            c.version = v
            let (e, path) = try Self.open(c)
            #expect(e == .ggufUnsupportedVersion(path: path, version: v))
        }
        #expect(ConvertError.ggufUnsupportedVersion(path: "f", version: 0x0300_0000).description.contains("big-endian"))
    }

    @Test func countsBeyondTheFileAreRefusedBeforeAllocating() throws {
        var b = GGUFBuilder.valid()
        b.tensorCount = 1 << 40
        if case .ggufCountTooLarge(_, let field, _, _)? = try Self.open(b).0 { #expect(field == "tensor_count") } else { Issue.record("tensor_count") }
        b = .valid()
        b.kvCount = 1_000_000          // under the cap, over what the file can hold
        if case .ggufCountTooLarge(_, let field, _, _)? = try Self.open(b).0 { #expect(field.hasPrefix("kv_count")) } else { Issue.record("kv_count") }
        b = .valid()
        b.tensorCount = 3              // one more than written: runs into the data
        #expect(try Self.open(b).0 != nil)
    }

    @Test func hugeStringAndArrayLengths() throws {
        var b = GGUFBuilder.valid()
        b.kvs.append(("k", .raw(type: 8, bytes: GGUFBuilder.le(UInt64(1) << 60))))
        if case .ggufCountTooLarge(_, let field, _, _)? = try Self.open(b).0 { #expect(field == "length of k") } else { Issue.record("string") }
        b = .valid()
        b.kvs.append(("k", .raw(type: 8, bytes: GGUFBuilder.le(UInt64(1000)) + [0x41])))   // under the cap, past the end
        if case .ggufTruncated(_, let field, _, _, _)? = try Self.open(b).0 { #expect(field == "k") } else { Issue.record("string past end") }
        b = .valid()
        b.kvs.append(("arr", .raw(type: 9, bytes: GGUFBuilder.le(UInt32(8)) + GGUFBuilder.le(UInt64(1) << 50))))
        if case .ggufCountTooLarge(_, let field, _, _)? = try Self.open(b).0 { #expect(field == "element count of arr") } else { Issue.record("array") }
        b = .valid()
        b.kvs.insert(("", .u32(1)), at: 0)
        if case .ggufInvalidField? = try Self.open(b).0 {} else { Issue.record("empty key") }
    }

    @Test func badValues() throws {
        func field(_ kv: (String, GGUFBuilder.Value)) throws -> ConvertError? {
            var b = GGUFBuilder.valid()
            b.kvs.append(kv)
            return try Self.open(b).0
        }
        if case .ggufInvalidField(_, "t", let r)? = try field(("t", .raw(type: 13, bytes: [0]))) { #expect(r.contains("unknown value type")) } else { Issue.record("type") }
        if case .ggufInvalidField(_, "b", let r)? = try field(("b", .raw(type: 7, bytes: [2]))) { #expect(r.contains("bool")) } else { Issue.record("bool") }
        if case .ggufInvalidField(_, "s", let r)? = try field(("s", .raw(type: 8, bytes: GGUFBuilder.le(UInt64(2)) + [0xC3, 0x28]))) {
            #expect(r.contains("UTF-8"))
        } else { Issue.record("utf8") }
        if case .ggufInvalidField(_, "general.architecture", let r)? = try field(("general.architecture", .string("again"))) {
            #expect(r.contains("twice"))
        } else { Issue.record("duplicate key") }
        if case .ggufInvalidField(_, "a", let r)? = try field(("a", .raw(type: 9, bytes: GGUFBuilder.le(UInt32(99)) + GGUFBuilder.le(UInt64(1))))) {
            #expect(r.contains("element type"))
        } else { Issue.record("array element type") }
        // Deeply nested arrays.
        var nested: [UInt8] = []
        for _ in 0..<6 { nested += GGUFBuilder.le(UInt32(9)) + GGUFBuilder.le(UInt64(1)) }
        if case .ggufInvalidField(_, _, let r)? = try field(("n", .raw(type: 9, bytes: nested + [0, 0, 0, 0]))) {
            #expect(r.contains("nested"))
        } else { Issue.record("nesting") }
        for a: UInt32 in [0, 3, 1 << 20] {
            if case .ggufInvalidField(_, "general.alignment", _)? = try field(("general.alignment", .u32(a))) {} else { Issue.record("alignment \(a)") }
        }
        if case .ggufWrongKeyType(_, "general.alignment", _, _)? = try field(("general.alignment", .string("32"))) {} else { Issue.record("alignment type") }
    }

    @Test func badTensorEntries() throws {
        func tensor(_ edit: (inout GGUFBuilder) -> Void) throws -> ConvertError? {
            var b = GGUFBuilder.valid()
            edit(&b)
            return try Self.open(b).0
        }
        func reason(_ e: ConvertError?) -> String {
            if case .ggufInvalidTensor(_, _, let r)? = e { return r }
            return "not ggufInvalidTensor: \(String(describing: e))"
        }
        #expect(reason(try tensor { $0.tensors[1].offset = 64 }).contains("past the end"))
        #expect(reason(try tensor { $0.tensors[1].offset = 1 << 62 }).contains("past the end"))
        #expect(reason(try tensor { $0.tensors[1].offset = 16 }).contains("alignment"))
        #expect(reason(try tensor { $0.tensors[1].offset = 0 }).contains("overlap"))
        #expect(reason(try tensor { $0.tensors[0].ne = [] }).contains("n_dims"))
        #expect(reason(try tensor { $0.tensors[0].ne = [1, 1, 1, 1, 8] }).contains("n_dims"))
        #expect(reason(try tensor { $0.tensors[0].ne = [0] }).contains("ne[0]"))
        #expect(reason(try tensor { $0.tensors[0].ne = [1 << 30, 1 << 30] }).contains("elements"))
        #expect(reason(try tensor { $0.tensors[1].name = "a" }).contains("twice"))
        #expect(reason(try tensor { $0.tensors[0] = .init(name: "q", ne: [16], type: 8, offset: 0) }).contains("block size"))
        if case .ggufUnsupportedTensorType(_, "a", let t)? = try tensor({ $0.tensors[0].type = 99 }) { #expect(t.contains("99")) } else { Issue.record("unknown type") }
        if case .ggufUnsupportedTensorType(_, "a", let t)? = try tensor({ $0.tensors[0].type = 10 }) { #expect(t.contains("Q2_K")) } else { Issue.record("Q2_K") }
    }

    /// Random byte flips in the header region never crash the reader (they may still parse: a flipped data
    /// byte is not an error).
    @Test func randomCorruptionNeverCrashes() throws {
        let base = GGUFBuilder.valid().bytes()
        let dir = try TemporaryDirectory("gguf-flip")
        let path = dir.path("f.gguf")
        var rng = SplitMix(seed: 19)
        for _ in 0..<400 {
            var b = base
            for _ in 0..<3 { b[Int(rng.next() % UInt64(b.count - 64))] = UInt8(truncatingIfNeeded: rng.next()) }
            try Data(b).write(to: URL(fileURLWithPath: path))
            _ = try? GGUFFile(path: path)
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
