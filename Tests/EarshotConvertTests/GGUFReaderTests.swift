// GGUFReaderTests: the GGUF reader on the committed fixture written by the `gguf` package
// (Tools/gguf/make_gguf_fixtures.py): every metadata value type, every supported ggml type dequantized against
// `gguf.quants.dequantize` (exactly: same f32 operations in the same order, no fused multiply-add), and the
// exact re-lay of Q8_0 → q8 and Q4_K → q4 (the Earshot dequantizer gives the same values bit for bit).
import Foundation
import Testing
@testable import EarshotConvert
import EarshotKernels
import EarshotTestSupport

@Suite struct GGUFReaderTests {
    static let path = Fixtures.url("gguf/types.gguf").path
    static let typed: [(String, GGMLType)] = [("f32", .f32), ("f16", .f16), ("bf16", .bf16), ("q4_0", .q4_0), ("q4_1", .q4_1),
                                             ("q5_0", .q5_0), ("q5_1", .q5_1), ("q8_0", .q8_0), ("q4_k", .q4_K),
                                             ("q5_k", .q5_K), ("q6_k", .q6_K), ("q8_0_m128", .q8_0), ("vec_f32", .f32),
                                             ("vec_f16", .f16)]

    static func expected(_ name: String) throws -> [Float] {
        let d = try Data(contentsOf: Fixtures.url("gguf/types.\(name).f32"))
        return d.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static func dequantized(_ f: GGUFFile, _ t: GGUFTensor) -> [Float] {
        var out = [Float](repeating: .nan, count: t.elementCount)
        out.withUnsafeMutableBufferPointer { GGUFRows(file: f, tensor: t).decode(rows: 0, count: t.rows, into: $0.baseAddress!) }
        return out
    }

    @Test func readsHeaderAndEveryValueType() throws {
        let f = try GGUFFile(path: Self.path)
        #expect(f.version == 3)
        #expect(f.alignment == 32)
        #expect(try f.string("general.architecture") == "fixture")
        #expect(f.metadata["fixture.u8"] == .uint(200))
        #expect(f.metadata["fixture.i8"] == .int(-100))
        #expect(f.metadata["fixture.u16"] == .uint(60000))
        #expect(f.metadata["fixture.i16"] == .int(-30000))
        #expect(f.metadata["fixture.u32"] == .uint(4_000_000_000))
        #expect(f.metadata["fixture.i32"] == .int(-2_000_000_000))
        #expect(f.metadata["fixture.f32"] == .float(0.5))
        #expect(f.metadata["fixture.bool"] == .bool(true))
        #expect(f.metadata["fixture.string"] == .string("héllo"))
        #expect(try f.ints("fixture.array") == [1, 2, 3])
        #expect(try f.strings("fixture.strings") == ["a", "bc", ""])
        #expect(f.metadata["fixture.u64"] == .uint(1 << 40))
        #expect(f.metadata["fixture.i64"] == .int(-(1 << 40)))
        #expect(f.metadata["fixture.f64"] == .float(Double(Float(1e-6))) || f.metadata["fixture.f64"] == .float(1e-6))
        #expect(f.tensors.map(\.name) == Self.typed.map(\.0))
        for (name, type) in Self.typed { #expect(f.tensorsByName[name]?.type == type, "\(name)") }
        #expect(f.tensorsByName["q4_k"]!.ne == [512, 3] && f.tensorsByName["q4_k"]!.shape == [3, 512])
        #expect(f.tensorsByName["vec_f16"]!.shape == [96])
        // Typed access names the key.
        #expect(throws: ConvertError.ggufMissingKey(path: Self.path, key: "nope")) { try f.int("nope") }
        #expect(throws: ConvertError.ggufWrongKeyType(path: Self.path, key: "fixture.string", expected: "an integer", found: "a string")) {
            try f.int("fixture.string")
        }
    }

    /// Exact: the Swift dequantizers do the reference's f32 operations in its order (tolerance 0).
    @Test(arguments: typed.map(\.0))
    func dequantizesLikeTheGGUFPackage(_ name: String) throws {
        let f = try GGUFFile(path: Self.path)
        let t = f.tensorsByName[name]!
        let got = Self.dequantized(f, t), want = try Self.expected(name)
        #expect(got.count == want.count)
        #expect(zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(name): max |d| \(maxAbsDiff(got, want))")
    }

    /// Q8_0 → q8 and Q4_K → q4 are copied, not re-quantized: the Earshot row dequantizes to the GGUF values exactly.
    @Test(arguments: [("q8_0", WeightType.q8), ("q4_k", WeightType.q4)])
    func relaysWithoutRequantizing(_ name: String, _ type: WeightType) throws {
        let f = try GGUFFile(path: Self.path)
        let t = f.tensorsByName[name]!
        let src = GGUFRows(file: f, tensor: t)
        #expect(src.canRelay(to: type) && src.relaysEveryRow(to: type))
        let want = try Self.expected(name)
        let rb = type.rowBytes(cols: t.cols)!
        var row = [UInt8](repeating: 0, count: rb), back = [Float](repeating: 0, count: t.cols)
        for r in 0..<t.rows {
            let ok = row.withUnsafeMutableBytes { src.relay(row: r, to: type, into: $0.baseAddress!) }
            #expect(ok)
            let codec = RowCodec.forType(type)
            row.withUnsafeBytes { rb in back.withUnsafeMutableBufferPointer { codec.decode(rb.baseAddress!, t.cols, $0.baseAddress!) } }
            let w = Array(want[(r * t.cols)..<((r + 1) * t.cols)])
            #expect(zip(back, w).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(name) row \(r): max |d| \(maxAbsDiff(back, w))")
        }
        // Through the conversion loop: zero error, same bytes as the direct re-lay.
        var encoded: [UInt8] = []
        let err = try TensorEncoder.encode(source: src, codec: .forType(type), write: { encoded += $0 }, progress: { _ in })
        #expect(err.maxAbs == 0 && err.relativeRMSE == 0)
        #expect(encoded.count == t.rows * rb)
        #expect(Array(encoded.suffix(rb)) == row)
    }

    /// Other source types (and a Q8_0 block holding code −128, outside q8's ±127) are re-quantized.
    @Test func requantizesWhatItCannotRelay() throws {
        let f = try GGUFFile(path: Self.path)
        for name in ["q6_k", "q5_0", "q4_0", "f16"] {
            let src = GGUFRows(file: f, tensor: f.tensorsByName[name]!)
            #expect(!src.canRelay(to: .q4) && !src.canRelay(to: .q8), "\(name)")
        }
        let m = f.tensorsByName["q8_0_m128"]!
        let src = GGUFRows(file: f, tensor: m)
        #expect(src.canRelay(to: .q8))
        var row = [UInt8](repeating: 0, count: WeightType.q8.rowBytes(cols: 64)!)
        #expect(!row.withUnsafeMutableBytes { src.relay(row: 0, to: .q8, into: $0.baseAddress!) })
        let err = try TensorEncoder.encode(source: src, codec: .forType(.q8), write: { _ in }, progress: { _ in })
        #expect(err.maxAbs > 0 && err.relativeRMSE < 0.01)   // q8 re-quantization of 64 values: ≲ 0.4 % RMSE
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }
