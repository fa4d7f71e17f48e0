// GGMLRelay: ggml blocks that carry exactly the information of an Earshot block type are re-laid into the
// Earshot row layout (Formats/quant-blocks.md) without re-quantizing, so converting a Q8_0 tensor to q8 or a
// Q4_K tensor to q4 loses nothing (Formats/gguf.md § Re-laid types):
//
//   Q8_0 → q8   per block of 32: f16 d + 32 int8 codes. q8 stores the row's codes first, then its f16 scales;
//               same values. Refused (→ re-quantized) when a code is −128: q8 codes must be within ±127.
//   Q4_K → q4   per super-block of 256: f16 d, f16 dmin, eight 6-bit (sc, m) and 4-bit codes, w = d·sc·q − dmin·m
//               in both. q4 packs sc/m as 48-bit little-endian fields and orders the nibbles in chunks of
//               128 (byte i: weight i low, i + 64 high); ggml in pairs of sub-blocks (byte i of 32: weight i of
//               sub-block 2c low, of 2c + 1 high). Rows are whole super-blocks (ggml needs ne[0] % 256 == 0).
import EarshotKernels

enum GGMLRelay {
    /// Whether `source` rows can be re-laid as `target` rows of `cols` values.
    static func canRelay(_ source: GGMLType, to target: WeightType, cols: Int) -> Bool {
        switch (source, target) {
        case (.q8_0, .q8): return cols % 32 == 0
        case (.q4_K, .q4): return cols % 256 == 0
        case (.f32, .f32), (.f16, .f16), (.bf16, .bf16): return true
        default: return false
        }
    }

    /// Re-lays one row; returns false (nothing meaningful written) when the row's values do not fit `target`
    /// exactly (a Q8_0 code of −128), so the caller re-quantizes that row instead.
    static func row(_ source: GGMLType, _ src: UnsafeRawPointer, cols: Int, to target: WeightType,
                    _ dst: UnsafeMutableRawPointer) -> Bool {
        switch (source, target) {
        case (.q8_0, .q8):
            for b in 0..<(cols / 32) {
                let p = src + 34 * b
                for i in 0..<32 {
                    let c = p.load(fromByteOffset: 2 + i, as: UInt8.self)
                    if c == 0x80 { return false }
                    dst.storeBytes(of: c, toByteOffset: 32 * b + i, as: UInt8.self)
                }
                dst.storeBytes(of: p.loadUnaligned(as: UInt16.self), toByteOffset: cols + 2 * b, as: UInt16.self)
            }
            return true
        case (.q4_K, .q4):
            for s in 0..<(cols / 256) {
                let p = src + 144 * s
                let nib = dst + 128 * s
                // q4 chunk k (weights 128k ..< 128k + 128): byte 64k + i holds weight 128k + i (low nibble)
                // and 128k + 64 + i (high).
                for k in 0..<2 {
                    for i in 0..<64 {
                        let lo = q4kCode(p, 128 * k + i), hi = q4kCode(p, 128 * k + 64 + i)
                        nib.storeBytes(of: lo | hi << 4, toByteOffset: 64 * k + i, as: UInt8.self)
                    }
                }
                let h = dst + Q4Block.headerOffset(cols: cols, superBlock: s)
                h.storeBytes(of: p.loadUnaligned(as: UInt16.self), as: UInt16.self)
                h.storeBytes(of: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self), toByteOffset: 2, as: UInt16.self)
                var scBits: UInt64 = 0, mBits: UInt64 = 0
                for j in 0..<8 {
                    let (sc, m) = GGMLDequantize.scaleMin(p + 4, j)
                    scBits |= UInt64(sc) << UInt64(6 * j)
                    mBits |= UInt64(m) << UInt64(6 * j)
                }
                for i in 0..<6 {
                    h.storeBytes(of: UInt8(truncatingIfNeeded: scBits >> UInt64(8 * i)), toByteOffset: 4 + i, as: UInt8.self)
                    h.storeBytes(of: UInt8(truncatingIfNeeded: mBits >> UInt64(8 * i)), toByteOffset: 10 + i, as: UInt8.self)
                }
            }
            return true
        case (.f32, .f32):
            dst.copyMemory(from: src, byteCount: 4 * cols)
            return true
        case (.f16, .f16), (.bf16, .bf16):
            dst.copyMemory(from: src, byteCount: 2 * cols)
            return true
        default:
            return false
        }
    }

    /// The 4-bit code of weight w (0..<256) in a Q4_K block at `p`.
    @inline(__always) static func q4kCode(_ p: UnsafeRawPointer, _ w: Int) -> UInt8 {
        let j = w / 32, i = w % 32
        return (p.load(fromByteOffset: 16 + 32 * (j / 2) + i, as: UInt8.self) >> UInt8(4 * (j % 2))) & 15
    }
}
