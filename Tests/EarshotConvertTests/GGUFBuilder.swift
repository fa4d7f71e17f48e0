// GGUFBuilder: writes small GGUF files byte by byte for the reader's corruption tests — every field settable,
// including wrong ones (counts, lengths, types, offsets), so each refusal can be provoked on its own.
import Foundation

struct GGUFBuilder {
    enum Value {
        case u32(UInt32), string(String), raw(type: UInt32, bytes: [UInt8])
        case stringArray([String])
    }
    struct Tensor {
        var name: String
        var ne: [UInt64]
        var type: UInt32
        var offset: UInt64
    }

    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var kvs: [(String, Value)] = [("general.architecture", .string("fixture"))]
    var tensors: [Tensor] = []
    /// Overrides of the counts written in the header (nil: the real counts).
    var tensorCount: UInt64? = nil
    var kvCount: UInt64? = nil
    var alignment = 32
    /// Data section bytes (after the padding).
    var data: [UInt8] = []

    /// Two F32 tensors of 8 values, the second at offset 32.
    static func valid() -> GGUFBuilder {
        var b = GGUFBuilder()
        b.tensors = [Tensor(name: "a", ne: [8], type: 0, offset: 0), Tensor(name: "b", ne: [4, 2], type: 0, offset: 32)]
        b.data = (0..<64).map { UInt8($0) }
        return b
    }

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func str(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

    /// The bytes up to (not including) the data-section padding, and the whole file.
    func bytes() -> [UInt8] {
        var out = magic + Self.le(version) + Self.le(tensorCount ?? UInt64(tensors.count)) + Self.le(kvCount ?? UInt64(kvs.count))
        for (k, v) in kvs {
            out += Self.str(k)
            switch v {
            case .u32(let x): out += Self.le(UInt32(4)) + Self.le(x)
            case .string(let s): out += Self.le(UInt32(8)) + Self.str(s)
            case .raw(let type, let bytes): out += Self.le(type) + bytes
            case .stringArray(let a):
                out += Self.le(UInt32(9)) + Self.le(UInt32(8)) + Self.le(UInt64(a.count))
                for s in a { out += Self.str(s) }
            }
        }
        for t in tensors {
            out += Self.str(t.name) + Self.le(UInt32(t.ne.count))
            for d in t.ne { out += Self.le(d) }
            out += Self.le(t.type) + Self.le(t.offset)
        }
        while out.count % alignment != 0 { out.append(0) }
        return out + data
    }

    func write(to path: String) throws { try Data(bytes()).write(to: URL(fileURLWithPath: path)) }
}
