// TEMPORARY copy of the kernels helper's in-progress reference quantizers (wt-kernels), so the converter
// builds before EarshotKernels gains Q8Block/Q4Block. Delete this file when the kernels land on main.
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
// Q4Block: the q4 row layout (Q4_K-style super-blocks), its reference quantizer and dequantizer.
// Byte-level spec and the reasons for the order: Formats/quant-blocks.md.
//
// One row of K weights (K % 32 == 0), S = ⌈K/256⌉ super-blocks, rowBytes = K/2 + 16·S:
//   [0, K/2)            4-bit codes. Super-block s owns bytes [128s, 128s + n_s/2) (n_s = its weights).
//                       Inside it, weights are cut into chunks of 128, then 64, then 32 (the largest that
//                       fits what is left); a chunk of n weights takes n/2 bytes and byte i holds weight i
//                       in its low nibble and weight i + n/2 in its high nibble. So one 64-byte load gives
//                       weights 0..<64 (low nibbles) and 64..<128 (high nibbles) in natural order.
//   [K/2 + 16s, +16)    header of super-block s: f16 d, f16 dmin, 6 bytes = eight 6-bit sub-scales
//                       (sub-block j in bits 6j..<6j+6 of a 48-bit little-endian integer), 6 bytes = the
//                       eight 6-bit sub-mins, same packing. Unused sub-blocks (short last super-block) are 0.
//   w = d·sc_j·q − dmin·m_j,  q ∈ 0...15.
// The quantizer is a port of ggml's quantize_row_q4_K_ref (make_qkx2_quants search of scale and min per
// sub-block, importance weights av|x| + |x|, then 6-bit scales against the super-block maximum).

public enum Q4Block {
    public static let subBlockSize = 32
    public static let superBlockSize = 256

    /// Byte offset of super-block `s`'s 16-byte header inside a row of `cols` weights.
    @inline(__always) public static func headerOffset(cols: Int, superBlock s: Int) -> Int { cols / 2 &+ 16 &* s }

    /// Number of super-blocks in a row of `cols` weights.
    @inline(__always) public static func superBlocks(cols: Int) -> Int { (cols &+ 255) / 256 }

    /// Calls `body(start, n)` for each nibble chunk of a super-block with `count` weights (relative offsets).
    @inline(__always) static func forEachChunk(count: Int, _ body: (Int, Int) -> Void) {
        var pos = 0
        while pos < count {
            let rem = count &- pos
            let n = rem >= 128 ? 128 : (rem >= 64 ? 64 : 32)
            body(pos, n)
            pos &+= n
        }
    }

    /// Unpacks the eight 6-bit values packed little-endian in 6 bytes at `offset`.
    @inline(__always) static func unpack6(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<UInt8> {
        var bits: UInt64 = 0
        for i in 0..<6 { bits |= UInt64(p.load(fromByteOffset: offset &+ i, as: UInt8.self)) << (8 &* UInt64(i)) }
        var r = SIMD8<UInt8>()
        for j in 0..<8 { r[j] = UInt8(truncatingIfNeeded: (bits >> (6 &* UInt64(j))) & 63) }
        return r
    }

    @inline(__always) static func pack6(_ v: SIMD8<UInt8>, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        var bits: UInt64 = 0
        for j in 0..<8 { bits |= UInt64(v[j] & 63) << (6 &* UInt64(j)) }
        for i in 0..<6 { p.storeBytes(of: UInt8(truncatingIfNeeded: bits >> (8 &* UInt64(i))), toByteOffset: offset &+ i, as: UInt8.self) }
    }

    // MARK: Dequantize

    /// Decodes one row into `out` ([cols] f32).
    public static func dequantizeRow(_ row: UnsafeRawPointer, cols: Int, _ out: UnsafeMutablePointer<Float>) {
        for s in 0..<superBlocks(cols: cols) {
            let h = headerOffset(cols: cols, superBlock: s)
            let d = loadF16(row, h), dmin = loadF16(row, h &+ 2)
            let sc = unpack6(row, h &+ 4), mn = unpack6(row, h &+ 10)
            let count = min(256, cols &- 256 &* s)
            let nib = row + 128 &* s
            let o = out + 256 &* s
            forEachChunk(count: count) { start, n in
                let half = n / 2
                for i in 0..<half {
                    let byte = nib.load(fromByteOffset: start / 2 &+ i, as: UInt8.self)
                    let k0 = start &+ i, k1 = start &+ half &+ i
                    o[k0] = d * Float(sc[k0 / 32]) * Float(byte & 15) - dmin * Float(mn[k0 / 32])
                    o[k1] = d * Float(sc[k1 / 32]) * Float(byte >> 4) - dmin * Float(mn[k1 / 32])
                }
            }
        }
    }

    // MARK: Quantize (reference, deterministic)

    /// Quantizes one row. `x`: [cols] f32; `out`: cols/2 + 16·⌈cols/256⌉ bytes.
    public static func quantizeRow(_ x: UnsafePointer<Float>, cols: Int, _ out: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256 + 32) { buf in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 32 + 16) { fbuf in
                let L = buf.baseAddress!, laux = L + 256
                let weights = fbuf.baseAddress!, scales = weights + 32, mins = scales + 8
                for s in 0..<superBlocks(cols: cols) {
                    let count = min(256, cols &- 256 &* s)
                    quantizeSuperBlock(x + 256 &* s, count: count, L: L, laux: laux, weights: weights,
                                       scales: scales, mins: mins, nibbles: out + 128 &* s,
                                       header: out + headerOffset(cols: cols, superBlock: s))
                }
            }
        }
    }

    static func quantizeSuperBlock(_ x: UnsafePointer<Float>, count: Int, L: UnsafeMutablePointer<UInt8>,
                                   laux: UnsafeMutablePointer<UInt8>, weights: UnsafeMutablePointer<Float>,
                                   scales: UnsafeMutablePointer<Float>, mins: UnsafeMutablePointer<Float>,
                                   nibbles: UnsafeMutableRawPointer, header: UnsafeMutableRawPointer) {
        let nsub = count / 32
        var maxScale: Float = 0, maxMin: Float = 0
        for j in 0..<nsub {
            let xj = x + 32 &* j
            var sumX2: Float = 0
            for l in 0..<32 { sumX2 += xj[l] * xj[l] }
            let av = (sumX2 / 32).squareRoot()
            for l in 0..<32 { weights[l] = av + abs(xj[l]) }
            var theMin: Float = 0
            scales[j] = makeQKX2(32, 15, xj, weights, L + 32 &* j, &theMin, laux, -1, 0.1, 20)
            mins[j] = theMin
            maxScale = max(maxScale, scales[j])
            maxMin = max(maxMin, theMin)
        }
        let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
        let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
        var sc = SIMD8<UInt8>(), mn = SIMD8<UInt8>()
        for j in 0..<nsub {
            sc[j] = UInt8(min(63, nearestInt(invScale * scales[j])))
            mn[j] = UInt8(min(63, nearestInt(invMin * mins[j])))
        }
        let dh = finiteHalf(maxScale / 63), dminh = finiteHalf(maxMin / 63)
        let d = Float(dh), dmin = Float(dminh)
        for j in 0..<nsub {
            let dl = d * Float(sc[j])
            if dl == 0 { for i in 0..<32 { L[32 &* j &+ i] = 0 }; continue }
            let dm = dmin * Float(mn[j])
            for i in 0..<32 {
                let l = nearestInt((x[32 &* j &+ i] + dm) / dl)
                L[32 &* j &+ i] = UInt8(max(0, min(15, l)))
            }
        }
        header.storeBytes(of: dh.bitPattern.littleEndian, toByteOffset: 0, as: UInt16.self)
        header.storeBytes(of: dminh.bitPattern.littleEndian, toByteOffset: 2, as: UInt16.self)
        pack6(sc, header, 4)
        pack6(mn, header, 10)
        forEachChunk(count: count) { start, n in
            let half = n / 2
            for i in 0..<half {
                nibbles.storeBytes(of: L[start &+ i] | (L[start &+ half &+ i] << 4), toByteOffset: start / 2 &+ i, as: UInt8.self)
            }
        }
    }

    /// Round half to even, as ggml's nearest_int; NaN and huge values clamp into Int32 range.
    @inline(__always) static func nearestInt(_ v: Float) -> Int {
        if v.isNaN { return 0 }
        return Int(max(-1e9, min(1e9, v)).rounded(.toNearestOrEven))
    }

    @inline(__always) static func finiteHalf(_ v: Float) -> Float16 {
        let h = Float16(min(v, Float(Float16.greatestFiniteMagnitude)))
        return h.isFinite ? h : 0
    }

    /// ggml's make_qkx2_quants: weighted least-squares search of (scale, min) for n values onto 0...nmax.
    /// Returns the scale; `theMin` receives −min (≥ 0). Codes go to `L`.
    static func makeQKX2(_ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                         _ L: UnsafeMutablePointer<UInt8>, _ theMin: inout Float, _ laux: UnsafeMutablePointer<UInt8>,
                         _ rmin: Float, _ rdelta: Float, _ nstep: Int) -> Float {
        var minV = x[0], maxV = x[0]
        var sumW = weights[0], sumX = sumW * x[0]
        for i in 1..<n {
            minV = min(minV, x[i]); maxV = max(maxV, x[i])
            sumW += weights[i]; sumX += weights[i] * x[i]
        }
        if minV > 0 { minV = 0 }
        if maxV == minV || !(maxV - minV).isFinite {
            for i in 0..<n { L[i] = 0 }
            theMin = (maxV - minV).isFinite ? -minV : 0
            return 0
        }
        let fmax = Float(nmax)
        var iscale = fmax / (maxV - minV)
        var scale = 1 / iscale
        var bestMad: Float = 0
        for i in 0..<n {
            let l = max(0, min(nmax, nearestInt(iscale * (x[i] - minV))))
            L[i] = UInt8(l)
            let diff = scale * Float(l) + minV - x[i]
            bestMad += weights[i] * diff * diff
        }
        for step in 0...nstep {
            iscale = (rmin + rdelta * Float(step) + fmax) / (maxV - minV)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<n {
                let l = max(0, min(nmax, nearestInt(iscale * (x[i] - minV))))
                laux[i] = UInt8(l)
                let w = weights[i], fl = Float(l)
                sumL += w * fl; sumL2 += w * fl * fl; sumXL += w * fl * x[i]
            }
            let D = sumW * sumL2 - sumL * sumL
            if D > 0 {
                var thisScale = (sumW * sumXL - sumX * sumL) / D
                var thisMin = (sumL2 * sumX - sumL * sumXL) / D
                if thisMin > 0 { thisMin = 0; thisScale = sumXL / sumL2 }
                var mad: Float = 0
                for i in 0..<n {
                    let diff = thisScale * Float(laux[i]) + thisMin - x[i]
                    mad += weights[i] * diff * diff
                }
                if mad < bestMad {
                    for i in 0..<n { L[i] = laux[i] }
                    bestMad = mad; scale = thisScale; minV = thisMin
                }
            }
        }
        theMin = -minV
        return scale
    }
}
