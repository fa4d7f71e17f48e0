// GGMLDequantize: one row of a ggml tensor → f32, for every GGMLType. Block layouts as ggml defines them
// (ggml-common.h block_q*; read from the `gguf` Python package's quants.py). Products are computed in the
// same order as ggml's reference dequantizers (d·sc first, then ·q, then − dmin·m), in f32 without fused
// multiply-adds, so the values are bit-identical to `gguf.quants.dequantize` (tested on committed fixtures).
//
//   Q4_0  [f16 d][16 B nibbles]                  w_i = d·(q_i − 8);  byte i: weight i (low), i + 16 (high)
//   Q4_1  [f16 d][f16 m][16 B nibbles]           w_i = d·q_i + m
//   Q5_0  [f16 d][u32 qh][16 B nibbles]          q_i = nibble | bit i of qh << 4;  w_i = d·(q_i − 16)
//   Q5_1  [f16 d][f16 m][u32 qh][16 B nibbles]   w_i = d·q_i + m
//   Q8_0  [f16 d][32 × i8]                       w_i = d·q_i
//   Q4_K  [f16 d][f16 dmin][12 B scales][128 B]  8 sub-blocks of 32, 6-bit sc_j / m_j (packed, see scaleMin);
//         bytes 32c..<32c+32 hold sub-block 2c (low nibbles) and 2c+1 (high);  w = d·sc_j·q − dmin·m_j
//   Q5_K  as Q4_K plus [32 B qh] before the nibbles: bit j of qh[i] is the 5th bit of weight i of sub-block j
//   Q6_K  [128 B ql][64 B qh][16 × i8 scales][f16 d], 16 groups of 16;  per half of 128: weight l, l+32, l+64,
//         l+96 (l < 32) take ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high and 2-bit pieces 0,1,2,3 of qh[l];
//         w = d·scale_g·(q − 32)
import EarshotKernels

enum GGMLDequantize {
    @inline(__always) static func f16(_ p: UnsafeRawPointer, _ o: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt16.self))))
    }

    @inline(__always) static func byte(_ p: UnsafeRawPointer, _ o: Int) -> UInt8 { p.load(fromByteOffset: o, as: UInt8.self) }

    /// Sub-block j's 6-bit scale and min from the 12 packed bytes of a Q4_K/Q5_K block (ggml get_scale_min_k4).
    @inline(__always) static func scaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (sc: UInt8, m: UInt8) {
        if j < 4 { return (byte(s, j) & 63, byte(s, j + 4) & 63) }
        let sc = (byte(s, j + 4) & 0x0F) | ((byte(s, j - 4) >> 2) & 0x30)
        let m = (byte(s, j + 4) >> 4) | ((byte(s, j) >> 2) & 0x30)
        return (sc, m)
    }

    /// Decodes one row of `cols` values (a whole number of blocks) of `type` at `src` into `out`.
    static func row(_ type: GGMLType, _ src: UnsafeRawPointer, cols: Int, _ out: UnsafeMutablePointer<Float>) {
        let blocks = cols / type.blockSize, bb = type.blockBytes
        switch type {
        case .f32:
            for i in 0..<cols { out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            for i in 0..<cols { out[i] = f16(src, 2 * i) }
        case .bf16:
            for i in 0..<cols {
                out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            }
        case .q4_0, .q4_1:
            let hasMin = type == .q4_1, qsAt = hasMin ? 4 : 2
            for b in 0..<blocks {
                let p = src + b * bb, o = out + 32 * b
                let d = f16(p, 0), m: Float = hasMin ? f16(p, 2) : 0
                for i in 0..<16 {
                    let q = byte(p, qsAt + i)
                    if hasMin {
                        o[i] = d * Float(q & 15) + m
                        o[i + 16] = d * Float(q >> 4) + m
                    } else {
                        o[i] = d * Float(Int(q & 15) - 8)
                        o[i + 16] = d * Float(Int(q >> 4) - 8)
                    }
                }
            }
        case .q5_0, .q5_1:
            let hasMin = type == .q5_1, qhAt = hasMin ? 4 : 2
            for b in 0..<blocks {
                let p = src + b * bb, o = out + 32 * b
                let d = f16(p, 0), m: Float = hasMin ? f16(p, 2) : 0
                let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: qhAt, as: UInt32.self))
                for i in 0..<16 {
                    let q = byte(p, qhAt + 4 + i)
                    let lo = Int(q & 15) | Int((qh >> UInt32(i)) & 1) << 4
                    let hi = Int(q >> 4) | Int((qh >> UInt32(i + 16)) & 1) << 4
                    if hasMin {
                        o[i] = d * Float(lo) + m
                        o[i + 16] = d * Float(hi) + m
                    } else {
                        o[i] = d * Float(lo - 16)
                        o[i + 16] = d * Float(hi - 16)
                    }
                }
            }
        case .q8_0:
            for b in 0..<blocks {
                let p = src + b * bb, o = out + 32 * b
                let d = f16(p, 0)
                for i in 0..<32 { o[i] = Float(Int8(bitPattern: byte(p, 2 + i))) * d }
            }
        case .q4_K, .q5_K:
            let five = type == .q5_K, qsAt = five ? 48 : 16
            for b in 0..<blocks {
                let p = src + b * bb, o = out + 256 * b
                let d = f16(p, 0), dmin = f16(p, 2)
                for j in 0..<8 {
                    let (sc, mn) = scaleMin(p + 4, j)
                    let d1 = d * Float(sc), m1 = dmin * Float(mn)
                    let c = j / 2, shift = UInt8(4 * (j % 2))
                    for i in 0..<32 {
                        var q = Int((byte(p, qsAt + 32 * c + i) >> shift) & 15)
                        if five { q |= Int((byte(p, 16 + i) >> UInt8(j)) & 1) << 4 }
                        o[32 * j + i] = d1 * Float(q) - m1
                    }
                }
            }
        case .q6_K:
            for b in 0..<blocks {
                let p = src + b * bb, o = out + 256 * b
                let d = f16(p, 208)
                for e in 0..<256 {
                    let half = e / 128, r = e % 128
                    let ql = byte(p, half * 64 + r % 64) >> UInt8(4 * (r / 64)) & 15
                    let qh = byte(p, 128 + half * 32 + r % 32) >> UInt8(2 * (r / 32)) & 3
                    let q = Int(ql | qh << 4) - 32
                    let scale = Float(Int8(bitPattern: byte(p, 192 + e / 16)))
                    o[e] = d * scale * Float(q)
                }
            }
        }
    }
}
