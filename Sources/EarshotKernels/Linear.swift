// Linear: the dispatching entry point for y = x · Wᵀ. Quantizes activations once, splits rows across
// the thread pool, and runs the chosen CPU level's kernel on each row range; the reference is the fallback.

import EarshotKernelsAVX512
import EarshotKernelsDotProd

public enum Kernels {
    /// How q8/q4 weights meet the activations.
    public enum Activations: Sendable {
        /// Activations quantized on the fly to int8 per 32 (integer dots, int32 accumulation). Default.
        case int8
        /// f32 activations against weights decoded to f32 (parity/debug path; slower).
        case f32
    }

    /// y[t, r] = Σ_k W[r, k] · x[t, k].  x: [tokens × w.cols], y: [tokens × w.rows], both f32 row-major.
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int,
                              _ y: UnsafeMutablePointer<Float>) {
        matmul(w, x, tokens: tokens, y, activations: .int8)
    }

    /// `matmul` with an explicit activation mode (only q8/q4 care) and, optionally, kernel path
    /// (tests and benchmarks compare paths side by side without touching the global `Kernels.path`).
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int,
                              _ y: UnsafeMutablePointer<Float>, activations: Activations,
                              path: KernelPath = Kernels.path) {
        if path == .reference || tokens <= 0 || w.rows == 0 { return Reference.matmul(w, x, tokens: tokens, y) }
        if w.cols == 0 { for i in 0..<(tokens &* w.rows) { y[i] = 0 }; return }
        let quantized = (w.type == .q8 || w.type == .q4) && activations == .int8
        if !quantized { return floatMatmul(w, x, tokens: tokens, y, path: path) }
        // Decode (few tokens): q8 and q4 rows one at a time, each read in memory order (codes, then scales /
        // headers: AVX512Q8RowMatvec, AVX512Q4Matvec). Measured with `earshot bench kernels` (1 thread, cold):
        // q8 95–105% of the read bandwidth at K = 4096 and 11008 (the interleaved 8-row tiles they replace:
        // 74–99%), q4 75–90%.
        let effective = nativePath(path)
        // Many tokens: the token-lane GEMMs (AVX512Q8/Q4PackedGemm, DotProdPackedGemm). q4 needs whole super-blocks.
        let laneLayout: TokenLaneLayout? = effective == .avx512 ? .vnni16 : (effective == .dotprod ? .sdot4 : nil)
        // At least one full tile's worth of tokens (16 for VNNI; 2 groups of 4 for SDOT).
        let minTokens = laneLayout == .vnni16 ? 16 : 8
        let packedGemm = laneLayout != nil && tokens >= minTokens && Kernels.packedGemm && (w.type == .q8 || w.cols % 256 == 0)
        let act = QuantizedActivations(x, tokens: tokens, cols: w.cols, withPairs: effective == .portable,
                                       superBlocks: w.type == .q4, tokenLanes: packedGemm ? laneLayout : nil, path: effective)
        forRowChunks(w.rows, tokens: tokens) { r0, r1 in
            switch effective {
            case .avx512:
                #if arch(x86_64)
                if packedGemm, let lanes = act.lanes, let laneScales = act.laneScales, let laneSums = act.laneSums {
                    if w.type == .q8 {
                        AVX512.q8PackedGemm(w.base, rowBytes: w.rowBytes, cols: w.cols, rows: r0..<r1, lanes, laneScales,
                                            tokens: tokens, y, ldy: w.rows)
                    } else {
                        AVX512.q4PackedGemm(w.base, rowBytes: w.rowBytes, cols: w.cols, rows: r0..<r1, lanes, laneScales,
                                            laneSums, tokens: tokens, y, ldy: w.rows)
                    }
                } else if w.type == .q8 && tokens >= 8 && w.cols % 64 == 0 {
                    AVX512.q8Gemm(w.base, rowBytes: w.rowBytes, cols: w.cols, rows: r0..<r1, act.codes, act.scales,
                                  act.sums, tokens: tokens, y, ldy: w.rows)
                } else if w.type == .q8 && w.cols % 64 == 0 {
                    AVX512.q8RowMatvec(w.base, rowBytes: w.rowBytes, cols: w.cols, rows: r0..<r1, act.codes, act.scales,
                                       act.sums, tokens: tokens, y, ldy: w.rows)
                } else if w.type == .q8 {
                    AVX512.q8Matmul(w.base, rowBytes: w.rowBytes, cols: w.cols, rows: r0..<r1, act.codes, act.scales,
                                    act.sums, tokens: tokens, y, ldy: w.rows)
                } else if tokens >= 8 && w.cols % 256 == 0 {
                    AVX512.q4Gemm(w.base, rowBytes: w.rowBytes, cols: w.cols, rows: r0..<r1, act.codes, act.scales,
                                  act.sums, tokens: tokens, y, ldy: w.rows)
                } else if w.cols % 256 == 0 {
                    AVX512.q4Matvec(w.base, rowBytes: w.rowBytes, cols: w.cols, rows: r0..<r1, act.codes, act.scales,
                                    act.sums, tokens: tokens, y, ldy: w.rows)
                } else {
                    AVX512.q4Matmul(w.base, rowBytes: w.rowBytes, cols: w.cols, rows: r0..<r1, act.codes, act.scales,
                                    act.sums, tokens: tokens, y, ldy: w.rows)
                }
                #endif
            case .dotprod:
                #if arch(arm64)
                if packedGemm, let lanes = act.lanes, let laneScales = act.laneScales, let laneSums = act.laneSums {
                    if w.type == .q8 {
                        DotProd.q8PackedGemm(w.base, rowBytes: w.rowBytes, cols: w.cols, rowStart: r0, rowEnd: r1, lanes,
                                             laneScales, tokens: tokens, y, ldy: w.rows)
                    } else {
                        DotProd.q4PackedGemm(w.base, rowBytes: w.rowBytes, cols: w.cols, rowStart: r0, rowEnd: r1, lanes,
                                             laneScales, laneSums, tokens: tokens, y, ldy: w.rows)
                    }
                } else if w.type == .q8 {
                    DotProd.q8Matmul(w.base, rowBytes: w.rowBytes, cols: w.cols, rowStart: r0, rowEnd: r1, act.codes,
                                     act.scales, act.sums, tokens: tokens, y, ldy: w.rows)
                } else {
                    DotProd.q4Matmul(w.base, rowBytes: w.rowBytes, cols: w.cols, rowStart: r0, rowEnd: r1, act.codes,
                                     act.scales, act.sums, tokens: tokens, y, ldy: w.rows)
                }
                #endif
            default:
                let nb = w.cols / 32
                forTiles(r0, r1, tokens) { r, t in
                    let pairs = act.pairs! + t &* w.cols
                    y[t &* w.rows &+ r] = w.type == .q8
                        ? PortableQuant.dotQ8(w.row(r), cols: w.cols, pairs, act.scales + t &* nb)
                        : PortableQuant.dotQ4(w.row(r), cols: w.cols, pairs, act.scales + t &* nb, act.sums + t &* nb)
                }
            }
        }
        withExtendedLifetime(act) {}
    }

    /// The path that actually runs on this build/CPU for `path` (falls back to portable).
    static func nativePath(_ path: KernelPath) -> KernelPath {
        #if arch(x86_64)
        return path == .avx512 ? .avx512 : .portable
        #elseif arch(arm64)
        return path == .dotprod ? .dotprod : .portable
        #else
        return .portable
        #endif
    }

    /// f32/f16/bf16 weights (and q8/q4 with `.f32` activations) against f32 activations.
    static func floatMatmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int,
                            _ y: UnsafeMutablePointer<Float>, path: KernelPath) {
        #if arch(x86_64)
        if nativePath(path) == .avx512, w.type == .f32 || w.type == .f16 || w.type == .bf16 {
            forRowChunks(w.rows, tokens: tokens) { r0, r1 in
                AVX512.floatMatmul(w.base, kind: w.type.rawValue, rowBytes: w.rowBytes, cols: w.cols, rows: r0..<r1,
                                   x, tokens: tokens, y, ldy: w.rows)
            }
            return
        }
        #endif
        forRowChunks(w.rows, tokens: tokens) { r0, r1 in
            let decoded = w.type == .q8 || w.type == .q4
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: decoded ? w.cols : 1)
            defer { scratch.deallocate() }
            for r in r0..<r1 {
                let row: UnsafeRawPointer
                if decoded { Reference.dequantizeRow(w, r, scratch); row = UnsafeRawPointer(scratch) } else { row = w.row(r) }
                for t in 0..<tokens {
                    let xt = x + t &* w.cols
                    let v: Float
                    switch w.type {
                    case .f16: v = PortableFloat.dotHalf(row, xt, w.cols, isBF16: false)
                    case .bf16: v = PortableFloat.dotHalf(row, xt, w.cols, isBF16: true)
                    default: v = PortableFloat.dotF32(row, xt, w.cols)
                    }
                    y[t &* w.rows &+ r] = v
                }
            }
        }
    }

    /// Splits 0..<rows into chunks (multiples of 16 rows) handed out dynamically by the thread pool.
    @inline(__always) static func forRowChunks(_ rows: Int, tokens: Int, _ body: (Int, Int) -> Void) {
        let pool = ThreadPool.current
        let threads = pool.activeThreads
        if threads <= 1 || rows < 32 { body(0, rows); return }
        var chunk = (rows + threads * 4 - 1) / (threads * 4)
        chunk = Swift.max(16, (chunk + 15) & ~15)
        let n = (rows + chunk - 1) / chunk
        pool.parallelFor(n) { i in body(i &* chunk, Swift.min(rows, (i &+ 1) &* chunk)) }
    }

    /// Visits (row, token) pairs in blocks of 8 rows so the rows stay in cache across tokens.
    @inline(__always) static func forTiles(_ r0: Int, _ r1: Int, _ tokens: Int, _ body: (Int, Int) -> Void) {
        var rb = r0
        while rb < r1 {
            let re = Swift.min(r1, rb &+ 8)
            for t in 0..<tokens { for r in rb..<re { body(r, t) } }
            rb = re
        }
    }
}
