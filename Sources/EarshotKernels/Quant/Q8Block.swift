// Q8Block: the q8 row layout, its reference quantizer and dequantizer (spec: Formats/quant-blocks.md).
//
// One row of K weights (K % 32 == 0), rowBytes = K + K/16:
//   [0, K)          int8 codes, natural order (code k belongs to weight k)
//   [K, K + K/16)   K/32 IEEE f16 scales d_b, little-endian (scale b covers weights 32b ..< 32b+32)
//   w[k] = d_{k/32} · code[k]
// Codes first keeps them 64-byte aligned when the row is (K + K/16 is a multiple of 64 for K % 512 == 0)
// and lets the kernels stream 64 codes per load.

public enum Q8Block {
    public static let blockSize = 32

    /// Byte offset of the f16 scale array inside a row of `cols` weights.
    @inline(__always) public static func scalesOffset(cols: Int) -> Int { cols }

    /// Quantizes one row: per block d = amax/127 rounded to f16, code = round(x / d) clamped to ±127
    /// (round half away from zero). Deterministic: the same floats give the same bytes on every machine.
    /// `x`: [cols] f32; `out`: cols + cols/16 bytes.
    public static func quantizeRow(_ x: UnsafePointer<Float>, cols: Int, _ out: UnsafeMutableRawPointer) {
        let blocks = cols / 32
        for b in 0..<blocks {
            var amax: Float = 0
            for i in 0..<32 { amax = max(amax, abs(x[32 &* b &+ i])) }
            var dh = Float16(min(amax / 127, Float(Float16.greatestFiniteMagnitude)))
            if !dh.isFinite { dh = 0 }  // NaN input: an all-zero block rather than garbage
            let d = Float(dh)
            let id: Float = d > 0 ? 1 / d : 0
            for i in 0..<32 {
                let v = (x[32 &* b &+ i] * id).rounded(.toNearestOrAwayFromZero)
                let c = v.isNaN ? 0 : max(-127, min(127, v))
                out.storeBytes(of: Int8(c), toByteOffset: 32 &* b &+ i, as: Int8.self)
            }
            out.storeBytes(of: dh.bitPattern.littleEndian, toByteOffset: cols &+ 2 &* b, as: UInt16.self)
        }
    }

    /// Decodes one row into `out` ([cols] f32).
    public static func dequantizeRow(_ row: UnsafeRawPointer, cols: Int, _ out: UnsafeMutablePointer<Float>) {
        for b in 0..<(cols / 32) {
            let d = loadF16(row, cols &+ 2 &* b)
            for i in 0..<32 {
                out[32 &* b &+ i] = d * Float(row.load(fromByteOffset: 32 &* b &+ i, as: Int8.self))
            }
        }
    }
}

/// Reads a little-endian IEEE half at `offset` and widens it.
@inline(__always) func loadF16(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
}
