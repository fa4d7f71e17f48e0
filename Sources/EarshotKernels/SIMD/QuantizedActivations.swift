// QuantizedActivations: f32 activations quantized on the fly to int8 per 32 (Q8_0-style, symmetric),
// once per matmul, in the forms the integer kernels read.
//
// For T tokens of K values (K % 32 == 0), B = K/32 blocks per token:
//   codes  [T × K]  Int8, natural order, |code| ≤ 127          (64-byte aligned per token when K % 64 == 0)
//   scales [T × B]  Float d_b = amax_b / 127                      (x ≈ d_b · code)
//   sums   [T × B]  Float d_b · Σ code over block b              (for q4 mins and the VNNI u8 offset)
//   pairs  [T × K]  Int16, per block: 16 even-index codes then 16 odd-index codes (portable Int16 path only)
// With a token-lane layout (the GEMMs that put tokens in the vector lanes), L = its lane count:
//   lanes  [G = ⌈T/L⌉][K/4][L tokens × 4 bytes]  .vnni16: UInt8 code + 128 (vpdpbusd's unsigned operand);
//                                                 .sdot4: Int8 code (SDOT is signed × signed)
//   laneScales [G][K/32][L]  Float d_b per token lane (0 for the padding tokens of the last group)
//   laneSums   [G][K/32][L]  Float d_b·Σ code per token lane (0 for padding)
// With `superBlocks: true` (q4 weights) one scale covers each span of 256 values (the q4 super-block; the
// last may be shorter), as ggml's Q8_K does for K-quants: `scales` then holds that scale repeated for each
// of its 32-blocks, so every kernel reads the same arrays, and the AVX-512 GEMM can keep a whole
// super-block in int32 (6-bit integer sub-scales applied with vpdpwssd) before one float step.

import EarshotKernelsAVX512

/// How a token-lane GEMM wants its activations.
public enum TokenLaneLayout: Sendable {
    /// 16 tokens per 64-byte vector, u8 = code + 128 (AVX-512 VNNI).
    case vnni16
    /// 4 tokens per 16-byte vector, s8 codes (ARM dotprod).
    case sdot4

    public var lanes: Int { self == .vnni16 ? 16 : 4 }
}

public final class QuantizedActivations {
    public let tokens: Int, cols: Int
    public var blocks: Int { cols / 32 }
    public let codes: UnsafeMutablePointer<Int8>
    public let scales: UnsafeMutablePointer<Float>
    public let sums: UnsafeMutablePointer<Float>
    public let pairs: UnsafeMutablePointer<Int16>?
    public let lanes: UnsafeMutableRawPointer?
    public let laneScales: UnsafeMutablePointer<Float>?
    public let laneSums: UnsafeMutablePointer<Float>?
    public let laneLayout: TokenLaneLayout?

    /// Quantizes x: [tokens × cols] f32. `withPairs` also fills the Int16 even/odd view.
    /// `tokenLanes` also fills that token-lane view (`lanes`, `laneScales`, `laneSums`). On the AVX-512 path the
    /// quantizer is AVX512.quantizeActivations (same bytes as the scalar loop below).
    public init(_ x: UnsafePointer<Float>, tokens: Int, cols: Int, withPairs: Bool, superBlocks: Bool = false,
                tokenLanes: TokenLaneLayout? = nil, path: KernelPath = Kernels.path) {
        precondition(cols % 32 == 0, "QuantizedActivations: cols must be a multiple of 32")
        self.tokens = tokens
        self.cols = cols
        let n = max(tokens &* cols, 32), nb = max(tokens &* (cols / 32), 1)
        codes = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64).bindMemory(to: Int8.self, capacity: n)
        scales = .allocate(capacity: nb &+ 16)  // +16: vector kernels may read 16 floats from any block
        sums = .allocate(capacity: nb &+ 16)
        scales.initialize(repeating: 0, count: nb &+ 16)
        sums.initialize(repeating: 0, count: nb &+ 16)
        pairs = withPairs ? UnsafeMutableRawPointer.allocate(byteCount: 2 &* n, alignment: 64).bindMemory(to: Int16.self, capacity: n) : nil
        laneLayout = tokenLanes
        let width = tokenLanes?.lanes ?? 1, padded = (tokens &+ width &- 1) / width &* width
        lanes = tokenLanes != nil ? UnsafeMutableRawPointer.allocate(byteCount: max(padded &* cols, 64), alignment: 64) : nil
        laneScales = tokenLanes != nil ? .allocate(capacity: max(padded &* (cols / 32), 16)) : nil
        laneSums = tokenLanes != nil ? .allocate(capacity: max(padded &* (cols / 32), 16)) : nil
        let b = cols / 32
        #if arch(x86_64)
        let vector = Kernels.nativePath(path) == .avx512
        #else
        let vector = false
        #endif
        for t in 0..<tokens {
            if vector {
                #if arch(x86_64)
                AVX512.quantizeActivations(x + t &* cols, blocks: b, span: superBlocks ? 8 : 1, codes + t &* cols,
                                           scales + t &* b, sums + t &* b)
                #endif
            } else if superBlocks {
                var i = 0
                while i < b {
                    let nsub = Swift.min(8, b &- i), blk = t &* b &+ i
                    quantizeSpan(x + blk &* 32, codes + blk &* 32, blocks: nsub, scales + blk, sums + blk)
                    i &+= nsub
                }
            } else {
                for i in 0..<b { let blk = t &* b &+ i; quantizeBlock(x + blk &* 32, codes + blk &* 32, &scales[blk], &sums[blk]) }
            }
            if let pairs {
                for i in 0..<b {
                    let blk = t &* b &+ i
                    let c = codes + blk &* 32, p = pairs + blk &* 32
                    for j in 0..<16 {
                        p[j] = Int16(c[2 &* j])
                        p[16 &+ j] = Int16(c[2 &* j &+ 1])
                    }
                }
            }
        }
        packTokenLanes()
    }

    /// Fills the token-lane arrays from `codes`/`scales`/`sums`: for group g, chunk c (K values 4c..<4c+4)
    /// and lane i, the 4 codes of token L·g+i at byte 4L·c+4i of the group's [K/4 × 4L] slab.
    func packTokenLanes() {
        guard let layout = laneLayout, let lanes, let laneScales, let laneSums else { return }
        let width = layout.lanes
        let flip: UInt32 = layout == .vnni16 ? 0x8080_8080 : 0
        let chunks = cols / 4, nb = cols / 32
        for g in 0..<((tokens &+ width &- 1) / width) {
            let dst = lanes + g &* width &* cols
            let dsc = laneScales + g &* width &* nb, dsm = laneSums + g &* width &* nb
            for i in 0..<width {
                let t = g &* width &+ i
                let src = UnsafeRawPointer(codes + t &* cols)
                for c in 0..<chunks {
                    let v: UInt32 = t < tokens ? src.loadUnaligned(fromByteOffset: 4 &* c, as: UInt32.self) ^ flip : flip
                    dst.storeBytes(of: v, toByteOffset: 4 &* width &* c &+ 4 &* i, as: UInt32.self)
                }
                for b in 0..<nb {
                    dsc[width &* b &+ i] = t < tokens ? scales[t &* nb &+ b] : 0
                    dsm[width &* b &+ i] = t < tokens ? sums[t &* nb &+ b] : 0
                }
            }
        }
    }

    deinit {
        UnsafeMutableRawPointer(codes).deallocate()
        scales.deallocate()
        sums.deallocate()
        if let pairs { UnsafeMutableRawPointer(pairs).deallocate() }
        lanes?.deallocate()
        laneScales?.deallocate()
        laneSums?.deallocate()
    }

    @inline(__always) func quantizeBlock(_ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Int8>,
                                         _ d: inout Float, _ s: inout Float) {
        let raw = UnsafeRawPointer(x)
        let v0 = raw.loadUnaligned(as: SIMD16<Float>.self), v1 = raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        var m = pointwiseMax(abs16(v0), abs16(v1))
        var amax: Float = 0
        for i in 0..<16 { amax = Swift.max(amax, m[i]) }
        m = .zero
        let scale = amax / 127
        let inv: Float = amax > 0 && amax.isFinite ? 127 / amax : 0
        var sum: Int32 = 0
        for i in 0..<32 {
            let v = (x[i] * inv).rounded(.toNearestOrEven)
            let c = Int8(v.isNaN ? 0 : Swift.max(-127, Swift.min(127, v)))
            q[i] = c
            sum &+= Int32(c)
        }
        d = inv == 0 ? 0 : scale
        s = d * Float(sum)
    }

    /// One scale for `blocks` consecutive 32-blocks; per-block scales (repeated) and sums d·Σcode.
    func quantizeSpan(_ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Int8>, blocks: Int,
                      _ d: UnsafeMutablePointer<Float>, _ s: UnsafeMutablePointer<Float>) {
        var amax: Float = 0
        for i in 0..<(32 &* blocks) { amax = Swift.max(amax, abs(x[i])) }
        let inv: Float = amax > 0 && amax.isFinite ? 127 / amax : 0
        let scale: Float = inv == 0 ? 0 : amax / 127
        for j in 0..<blocks {
            var sum: Int32 = 0
            for i in (32 &* j)..<(32 &* j &+ 32) {
                let v = (x[i] * inv).rounded(.toNearestOrEven)
                let c = Int8(v.isNaN ? 0 : Swift.max(-127, Swift.min(127, v)))
                q[i] = c
                sum &+= Int32(c)
            }
            d[j] = scale
            s[j] = scale * Float(sum)
        }
    }

    @inline(__always) func abs16(_ v: SIMD16<Float>) -> SIMD16<Float> {
        unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
    }
}
