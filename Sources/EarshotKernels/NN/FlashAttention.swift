// Blocked ("flash") attention for many queries (encoder, prefill): one key/value head at a time (with GQA,
// the query heads sharing it one after another against the same widened K^T and V), query blocks of
// `flashQueryBlock` rows against key tiles of `flashKeyTile` keys, with an online softmax (running max m and
// sum l per query) so no [tokens × keys] score buffer exists. Per head, keys are transposed (and widened
// from f16) once into tile-blocked K^T, values copied (widened) once into rows padded to 16 lanes; then
//   S[Bq × Bk] = (scale·Q) · K^T          4-query × 16-key register tiles, SIMD16<Float> FMAs
//                                          (AVX-512: 4 × 64 tiles, AVX512AttentionTiles)
//   P = exp(S − m_new)                     vectorized polynomial exp on SIMD16 lanes
//   O[Bq × D] = O · e^(m_old − m_new) + P · V   4-query × 16-dim register tiles
// Causal: key tiles entirely after a block's last query are skipped; the diagonal tile is masked per entry.
// Semantics are those of `Reference.attention`; error budget in NNKernelsTests (attention*).

import EarshotKernelsAVX512

extension Kernels {
    /// Queries per block (multiple of 4) and keys per tile (multiple of 16).
    static let flashQueryBlock = 16
    static let flashKeyTile = 64
    /// Fewer queries than this take the row-at-a-time path (decode).
    static let flashMinQueries = 4

    @inline(__always) static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always) static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// Lane-wise e^x for x ≤ 0 (softmax exponents): Cephes polynomial as `Kernels.expf`, 2^n built in the
    /// exponent bits. Lanes below −87 (including −∞ for masked scores) give exactly 0. Computed on two
    /// 8-lane halves (one AVX2 register / two NEON registers each), which LLVM keeps at full width.
    @inline(__always) static func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
        SIMD16(lowHalf: exp8(x.lowHalf), highHalf: exp8(x.highHalf))
    }

    @inline(__always) static func exp8(_ xIn: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87)
        let tiny = xIn .< lo
        let x = xIn.replacing(with: lo, where: tiny)
        // n = round(x·log2 e) via the 1.5·2^23 trick; the low mantissa bits of t are n as an integer.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let t = magic.addingProduct(x, SIMD8<Float>(repeating: 1.442_695_04))
        let n = t - magic
        var r = x.addingProduct(n, SIMD8<Float>(repeating: -0.693_359_375))
        r = r.addingProduct(n, SIMD8<Float>(repeating: 2.121_944_400_546_905_827_68e-4))
        let z = r * r
        var p = SIMD8<Float>(repeating: 1.398_199_950_7e-3).addingProduct(SIMD8<Float>(repeating: 1.987_569_150_0e-4), r)
        p = SIMD8<Float>(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
        p = SIMD8<Float>(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
        p = SIMD8<Float>(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
        p = SIMD8<Float>(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
        let y = (r + 1).addingProduct(p, z)
        // 2^n: (n + 127) << 23, with n read from t's bits (t = 1.5·2^23 + n exactly).
        let bits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- SIMD8<Int32>(repeating: 0x4B40_0000 - 127)
        let scale = unsafeBitCast(bits &<< 23, to: SIMD8<Float>.self)
        return (y * scale).replacing(with: 0, where: tiny)
    }

    @inline(__always) static func hmax16(_ v: SIMD16<Float>) -> Float {
        let a = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
        let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .> a.lowHalf)
        let c = b.lowHalf.replacing(with: b.highHalf, where: b.highHalf .> b.lowHalf)
        return Swift.max(c[0], c[1])
    }

    @inline(__always) static func hsum16(_ v: SIMD16<Float>) -> Float {
        let a = v.lowHalf + v.highHalf, b = a.lowHalf + a.highHalf, c = b.lowHalf + b.highHalf
        return c[0] + c[1]
    }

    /// 4×16 register tile: acc_i += Σ_{k<n} a[i·aStride + k] · b[k·bStride ..< k·bStride + 16], i < 4.
    @inline(__always) static func tile4x16(_ a: UnsafePointer<Float>, _ aStride: Int, _ b: UnsafePointer<Float>,
                                           _ bStride: Int, _ n: Int,
                                           _ c0: inout SIMD16<Float>, _ c1: inout SIMD16<Float>,
                                           _ c2: inout SIMD16<Float>, _ c3: inout SIMD16<Float>) {
        var s0 = c0, s1 = c1, s2 = c2, s3 = c3
        let a0 = a, a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride
        var k = 0
        while k < n {
            let bv = load16(b + k &* bStride)
            s0 = s0.addingProduct(SIMD16(repeating: a0[k]), bv)
            s1 = s1.addingProduct(SIMD16(repeating: a1[k]), bv)
            s2 = s2.addingProduct(SIMD16(repeating: a2[k]), bv)
            s3 = s3.addingProduct(SIMD16(repeating: a3[k]), bv)
            k &+= 1
        }
        c0 = s0; c1 = s1; c2 = s2; c3 = s3
    }

    /// The query heads `heads` of `Kernels.attention` that share key/value head `kvHead` (one head without
    /// GQA), for many queries (see the file comment). K^T and V are widened once for all of them.
    static func flashAttentionHeads(_ heads: Range<Int>, kvHead g: Int, q: UnsafePointer<Float>, qStride: Int,
                                    tokens: Int, firstPosition: Int,
                                    keys: KVStorage, values: KVStorage, kvStride: Int, keyCount: Int,
                                    headDim: Int, scale: Float, causal: Bool,
                                    out: UnsafeMutablePointer<Float>, outStride: Int) {
        let bq = flashQueryBlock, bk = flashKeyTile
        // AVX-512: 4 × 64 register tiles (AVX512AttentionTiles) where the key tile / value width allow.
        #if arch(x86_64)
        let wide = Kernels.nativePath(Kernels.path) == .avx512 && bk == 64
        #endif
        let d = headDim, dp = (headDim &+ 15) & ~15            // value/output rows padded to 16 lanes
        let keyTiles = (keyCount &+ bk &- 1) / bk
        // Scratch: K^T blocked [tile][d][bk], V [keyCount × dp], Q block [bq × d], S/P [bq × bk], O [bq × dp].
        let ktCount = keyTiles &* d &* bk, vCount = keyCount &* dp
        let scratchCount = ktCount &+ vCount &+ bq &* d &+ bq &* bk &+ bq &* dp &+ 2 &* bq
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
        defer { scratch.deallocate() }
        let kt = scratch, vs = kt + ktCount, qs = vs + vCount, sp = qs + bq &* d, os = sp + bq &* bk
        let rowMax = os + bq &* dp, rowSum = rowMax + bq

        // K^T tiles (zero past keyCount) and padded V rows, widened once per head.
        kt.update(repeating: 0, count: ktCount)
        vs.update(repeating: 0, count: vCount)
        switch keys {
        case .f32(let p):
            for j in 0..<keyCount {
                let src = p + (j &* kvStride &+ g &* d), dst = kt + ((j / bk) &* d &* bk &+ j % bk)
                for i in 0..<d { dst[i &* bk] = src[i] }
            }
        case .f16(let p):
            for j in 0..<keyCount {
                let src = p + (j &* kvStride &+ g &* d), dst = kt + ((j / bk) &* d &* bk &+ j % bk)
                for i in 0..<d { dst[i &* bk] = Float(src[i]) }
            }
        }
        switch values {
        case .f32(let p):
            for j in 0..<keyCount { (vs + j &* dp).update(from: p + (j &* kvStride &+ g &* d), count: d) }
        case .f16(let p):
            for j in 0..<keyCount {
                let src = p + (j &* kvStride &+ g &* d), dst = vs + j &* dp
                for i in 0..<d { dst[i] = Float(src[i]) }
            }
        }

        for h in heads {
        var t0 = 0
        while t0 < tokens {
            let rows = Swift.min(bq, tokens &- t0)
            let rows4 = (rows &+ 3) & ~3
            // Scaled queries; padding rows are zero (their outputs are never written).
            qs.update(repeating: 0, count: bq &* d)
            for r in 0..<rows {
                let src = q + ((t0 &+ r) &* qStride &+ h &* d), dst = qs + r &* d
                for i in 0..<d { dst[i] = src[i] * scale }
            }
            os.update(repeating: 0, count: bq &* dp)
            rowMax.update(repeating: -Float.infinity, count: bq)
            rowSum.update(repeating: 0, count: bq)
            // Keys visible to the block: all, or up to the last query's position (causal).
            let firstPos = firstPosition &+ t0, lastPos = firstPosition &+ t0 &+ rows &- 1
            let keyEnd = causal ? Swift.min(keyCount, lastPos &+ 1) : keyCount

            var j0 = 0
            while j0 < keyEnd {
                let tileKeys = Swift.min(bk, keyEnd &- j0)
                let ktTile = kt + (j0 / bk) &* d &* bk
                // S = Q · K^T for the tile.
                var r = 0
                while r < rows4 {
                    var c = 0
                    #if arch(x86_64)
                    if wide {  // 4 × 64 AVX-512 tile
                        let dst = sp + r &* bk
                        dst.update(repeating: 0, count: 4 &* bk)
                        AVX512.tile4x64(qs + r &* d, d, ktTile, bk, d, dst, bk)
                        c = bk
                    }
                    #endif
                    while c < bk {
                        var s0 = SIMD16<Float>(), s1 = s0, s2 = s0, s3 = s0
                        tile4x16(qs + r &* d, d, ktTile + c, bk, d, &s0, &s1, &s2, &s3)
                        let dst = sp + (r &* bk &+ c)
                        store16(s0, dst); store16(s1, dst + bk); store16(s2, dst + 2 &* bk); store16(s3, dst + 3 &* bk)
                        c &+= 16
                    }
                    r &+= 4
                }
                // Mask keys past the end (last tile) or after each query's position (diagonal tile).
                let needsMask = tileKeys < bk || (causal && j0 &+ bk &- 1 > firstPos)
                // Online softmax per query row; P overwrites S.
                for i in 0..<rows4 {
                    let row = sp + i &* bk
                    if needsMask {
                        let visibleEnd = causal ? Swift.min(tileKeys, Swift.max(0, firstPos &+ i &+ 1 &- j0)) : tileKeys
                        var jj = visibleEnd
                        while jj < bk { row[jj] = -Float.infinity; jj &+= 1 }
                    }
                    var vmax = load16(row)
                    var c = 16
                    while c < bk {
                        let v = load16(row + c)
                        vmax = vmax.replacing(with: v, where: v .> vmax)
                        c &+= 16
                    }
                    let mOld = rowMax[i], mNew = Swift.max(mOld, hmax16(vmax))
                    if mNew == -Float.infinity {              // nothing visible yet for this row
                        (row).update(repeating: 0, count: bk)
                        continue
                    }
                    let mv = SIMD16<Float>(repeating: mNew)
                    var acc = SIMD16<Float>()
                    c = 0
                    while c < bk {
                        let e = exp16(load16(row + c) - mv)
                        store16(e, row + c)
                        acc += e
                        c &+= 16
                    }
                    let sum = hsum16(acc)
                    if mOld != mNew {
                        let corr = mOld == -Float.infinity ? 0 : expf(mOld - mNew)
                        rowSum[i] = rowSum[i] * corr + sum
                        let cv = SIMD16<Float>(repeating: corr), orow = os + i &* dp
                        var o = 0
                        while o < dp { store16(load16(orow + o) * cv, orow + o); o &+= 16 }
                        rowMax[i] = mNew
                    } else {
                        rowSum[i] += sum
                    }
                }
                // O += P · V over the tile's keys.
                let vTile = vs + j0 &* dp
                r = 0
                while r < rows4 {
                    var o = 0
                    #if arch(x86_64)
                    while wide && o &+ 64 <= dp {
                        AVX512.tile4x64(sp + r &* bk, bk, vTile + o, dp, tileKeys, os + (r &* dp &+ o), dp)
                        o &+= 64
                    }
                    #endif
                    while o < dp {
                        let dst = os + (r &* dp &+ o)
                        var c0 = load16(dst), c1 = load16(dst + dp), c2 = load16(dst + 2 &* dp), c3 = load16(dst + 3 &* dp)
                        tile4x16(sp + r &* bk, bk, vTile + o, dp, tileKeys, &c0, &c1, &c2, &c3)
                        store16(c0, dst); store16(c1, dst + dp); store16(c2, dst + 2 &* dp); store16(c3, dst + 3 &* dp)
                        o &+= 16
                    }
                    r &+= 4
                }
                j0 &+= bk
            }
            for r in 0..<rows {
                let inv = 1 / rowSum[r]
                let src = os + r &* dp, dst = out + ((t0 &+ r) &* outStride &+ h &* d)
                for i in 0..<d { dst[i] = src[i] * inv }
            }
            t0 &+= bq
        }
        }
    }
}
