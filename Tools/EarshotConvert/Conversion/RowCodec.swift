// RowCodec: encode f32 rows into a storage type and decode them back (for the error report).
//
// q8/q4 use the scalar reference quantizers of EarshotKernels, so the same input always gives the same
// bytes. f16 rounds to nearest even.
import EarshotKernels

/// Row encoder/decoder for one `WeightType`. `cols` is the row length in weights.
public struct RowCodec: Sendable {
    public let type: WeightType
    /// Encodes `cols` floats into `type.rowBytes(cols:)` bytes.
    public let encode: @Sendable (_ src: UnsafePointer<Float>, _ cols: Int, _ dst: UnsafeMutableRawPointer) -> Void
    /// Decodes one encoded row back to `cols` floats.
    public let decode: @Sendable (_ src: UnsafeRawPointer, _ cols: Int, _ dst: UnsafeMutablePointer<Float>) -> Void

    public static func forType(_ t: WeightType) -> RowCodec {
        switch t {
        case .f32:
            return RowCodec(type: t, encode: { s, n, d in d.copyMemory(from: s, byteCount: 4 * n) },
                            decode: { s, n, d in UnsafeMutableRawPointer(d).copyMemory(from: s, byteCount: 4 * n) })
        case .f16:
            return RowCodec(type: t, encode: { s, n, d in
                for i in 0..<n { d.storeBytes(of: Float16(s[i]).bitPattern, toByteOffset: 2 * i, as: UInt16.self) }
            }, decode: { s, n, d in
                for i in 0..<n { d[i] = Float(Float16(bitPattern: s.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            })
        case .bf16:
            return RowCodec(type: t, encode: { s, n, d in
                for i in 0..<n { d.storeBytes(of: bf16RNE(s[i]), toByteOffset: 2 * i, as: UInt16.self) }
            }, decode: { s, n, d in
                for i in 0..<n { d[i] = Float(bitPattern: UInt32(s.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
            })
        case .q8:
            return RowCodec(type: t, encode: { s, n, d in Q8Block.quantizeRow(s, cols: n, d) },
                            decode: { s, n, d in Q8Block.dequantizeRow(s, cols: n, d) })
        case .q4:
            return RowCodec(type: t, encode: { s, n, d in Q4Block.quantizeRow(s, cols: n, d) },
                            decode: { s, n, d in Q4Block.dequantizeRow(s, cols: n, d) })
        }
    }
}

/// float32 → bfloat16 bits, round to nearest even (NaN kept quiet).
@inline(__always) func bf16RNE(_ x: Float) -> UInt16 {
    let b = x.bitPattern
    if x.isNaN { return UInt16(b >> 16) | 0x40 }
    return UInt16((b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
}
