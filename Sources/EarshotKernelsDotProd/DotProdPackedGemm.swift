// DotProdPackedGemm: q8 / q4 weights × int8 activations for many tokens with SDOT, tokens in the vector
// lanes — the ARM twin of AVX512Q8PackedGemm / AVX512Q4PackedGemm. Activations come in QuantizedActivations'
// `.sdot4` layout: groups of 4 tokens, [K/4][4 tokens × 4 s8 codes] per group, scales/sums [K/32][4].
// Each SDOT takes one 16-byte activation vector and 4 weight bytes of one row duplicated into all lanes
// (ld1r), and adds 4 tokens × 4 products into 4 int32 lanes; no lane ever needs a horizontal sum and the
// float step (convert, scale, FMA) is paid once per 8 SDOTs. SDOT is signed × signed, so no offset terms.
// Tile: 4 rows × 2 token groups (8 tokens). Rows go in blocks of 64 and K in slices of 4096 (L2 reuse).
// q4: a 64-row × slice block is first unpacked into bytes (0…15) + integer sub-scales + float mins.

#if arch(arm64)
import _Builtin_intrinsics.arm.neon

extension DotProd {
    /// y[t·ldy + r] = q8 row r · token t for r in rowStart..<rowEnd, t < tokens (`.sdot4` activations).
    @export(interface)
    public static func q8PackedGemm(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rowStart: Int, rowEnd: Int,
                                    _ packed: UnsafeRawPointer, _ packedScales: UnsafePointer<Float>,
                                    tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32, groups = (tokens &+ 3) / 4
        var rb = rowStart
        while rb < rowEnd {
            let re = min(rowEnd, rb &+ 64)
            var b0 = 0
            while b0 < nb {
                let b1 = min(nb, b0 &+ 128)
                var g = 0
                while g < groups {
                    let g1 = min(groups &- 1, g &+ 1)
                    var r = rb
                    while r < re {
                        let last = re &- 1
                        let rows = (w + r &* rowBytes, w + min(r &+ 1, last) &* rowBytes,
                                    w + min(r &+ 2, last) &* rowBytes, w + min(r &+ 3, last) &* rowBytes)
                        let f = q8Tile(rows, cols, b0, b1, packed, packedScales, g, g1)
                        store(f, r, last, g, g1, tokens, y, ldy, accumulate: b0 > 0)
                        r &+= 4
                    }
                    g &+= 2
                }
                b0 = b1
            }
            rb = re
        }
    }

    typealias Rows4 = (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer)
    typealias Tile = (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)

    /// 4 weight bytes at `o` duplicated into every lane.
    @inline(__always) static func dup4(_ p: UnsafeRawPointer, _ o: Int) -> int8x16_t {
        unsafeBitCast(SIMD4<Int32>(repeating: p.loadUnaligned(fromByteOffset: o, as: Int32.self)), to: int8x16_t.self)
    }

    /// Blocks b0..<b1 of 4 q8 rows × token groups g, g1: (row0 g, row0 g1, row1 g, …).
    @inline(__always) static func q8Tile(_ w: Rows4, _ cols: Int, _ b0: Int, _ b1: Int, _ packed: UnsafeRawPointer,
                                         _ packedScales: UnsafePointer<Float>, _ g: Int, _ g1: Int) -> Tile {
        let nb = cols / 32
        let xa = packed + g &* 4 &* cols, xb = packed + g1 &* 4 &* cols
        let sa = packedScales + g &* 4 &* nb, sb = packedScales + g1 &* 4 &* nb
        var f00 = SIMD4<Float>(), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00, f30 = f00, f31 = f00
        let zero = int32x4_t()
        for b in b0..<b1 {
            var a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero
            for c in 0..<8 {
                let o = 32 &* b &+ 4 &* c
                let va = ld(xa, 4 &* o), vb = ld(xb, 4 &* o)
                @inline(__always) func row(_ wr: UnsafeRawPointer, _ acc0: inout int32x4_t, _ acc1: inout int32x4_t) {
                    let wv = dup4(wr, o)
                    acc0 = vdotq_s32(acc0, va, wv)
                    acc1 = vdotq_s32(acc1, vb, wv)
                }
                row(w.0, &a00, &a01); row(w.1, &a10, &a11); row(w.2, &a20, &a21); row(w.3, &a30, &a31)
            }
            let da = UnsafeRawPointer(sa + 4 &* b).loadUnaligned(as: SIMD4<Float>.self)
            let db = UnsafeRawPointer(sb + 4 &* b).loadUnaligned(as: SIMD4<Float>.self)
            @inline(__always) func scale(_ wr: UnsafeRawPointer, _ a0: int32x4_t, _ a1: int32x4_t,
                                         _ f0: inout SIMD4<Float>, _ f1: inout SIMD4<Float>) {
                let dw = Float(Float16(bitPattern: wr.loadUnaligned(fromByteOffset: cols &+ 2 &* b, as: UInt16.self)))
                f0 = f0.addingProduct(f32(a0), da * dw)
                f1 = f1.addingProduct(f32(a1), db * dw)
            }
            scale(w.0, a00, a01, &f00, &f01); scale(w.1, a10, a11, &f10, &f11)
            scale(w.2, a20, a21, &f20, &f21); scale(w.3, a30, a31, &f30, &f31)
        }
        return (f00, f01, f10, f11, f20, f21, f30, f31)
    }

    /// Writes (or adds) a tile: rows r..<r+4 up to `last`, tokens of groups g and g1 (g1 == g: one group).
    @inline(__always) static func store(_ f: Tile, _ r: Int, _ last: Int, _ g: Int, _ g1: Int, _ tokens: Int,
                                        _ y: UnsafeMutablePointer<Float>, _ ldy: Int, accumulate: Bool) {
        let na = min(4, tokens &- 4 &* g), nbt = g1 == g ? 0 : min(4, tokens &- 4 &* g1)
        @inline(__always) func put(_ row: Int, _ fa: SIMD4<Float>, _ fb: SIMD4<Float>) {
            guard row <= last else { return }
            for i in 0..<na {
                let p = y + ((4 &* g &+ i) &* ldy &+ row)
                p.pointee = accumulate ? p.pointee + fa[i] : fa[i]
            }
            for i in 0..<nbt {
                let p = y + ((4 &* g1 &+ i) &* ldy &+ row)
                p.pointee = accumulate ? p.pointee + fb[i] : fb[i]
            }
        }
        put(r, f.0, f.1); put(r &+ 1, f.2, f.3); put(r &+ 2, f.4, f.5); put(r &+ 3, f.6, f.7)
    }

    /// y[t·ldy + r] = q4 row r · token t for r in rowStart..<rowEnd, t < tokens (`.sdot4` activations with
    /// one scale per super-block). Needs cols % 256 == 0.
    @export(interface)
    public static func q4PackedGemm(_ w: UnsafeRawPointer, rowBytes: Int, cols: Int, rowStart: Int, rowEnd: Int,
                                    _ packed: UnsafeRawPointer, _ packedScales: UnsafePointer<Float>,
                                    _ packedSums: UnsafePointer<Float>,
                                    tokens: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32, groups = (tokens &+ 3) / 4, superBlocks = cols / 256
        let sliceSuper = 16
        let slot = min(sliceSuper, superBlocks)
        let codes = UnsafeMutableRawPointer.allocate(byteCount: 64 &* 256 &* slot, alignment: 64)
        let scales = UnsafeMutablePointer<Int32>.allocate(capacity: 64 &* slot &* 8)
        let mins = UnsafeMutablePointer<Float>.allocate(capacity: 64 &* slot &* 8)
        let dws = UnsafeMutablePointer<Float>.allocate(capacity: 64 &* slot)
        defer { codes.deallocate(); scales.deallocate(); mins.deallocate(); dws.deallocate() }
        var rb = rowStart
        while rb < rowEnd {
            let re = min(rowEnd, rb &+ 64)
            var s0 = 0
            while s0 < superBlocks {
                let s1 = min(superBlocks, s0 &+ sliceSuper)
                for r in rb..<re {  // unpack rows × super-blocks s0..<s1 into slot (r − rb)
                    let row = w + r &* rowBytes, i = r &- rb
                    for s in s0..<s1 {
                        let k = s &- s0, o = i &* slot &+ k
                        let out = codes + (i &* slot &+ k) &* 256
                        for c in 0..<8 {
                            let v = unsafeBitCast(row.loadUnaligned(fromByteOffset: 128 &* s &+ 16 &* c, as: int8x16_t.self), to: SIMD16<UInt8>.self)
                            // bytes 0..<64 of a 128-weight chunk: low nibble = weight i, high = weight i + 64
                            let base = 128 &* (c / 4) &+ 16 &* (c % 4)
                            out.storeBytes(of: v & 15, toByteOffset: base, as: SIMD16<UInt8>.self)
                            out.storeBytes(of: v &>> 4, toByteOffset: base &+ 64, as: SIMD16<UInt8>.self)
                        }
                        let h = cols / 2 &+ 16 &* s
                        let dmin = Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: h &+ 2, as: UInt16.self)))
                        let sb = row.loadUnaligned(fromByteOffset: h &+ 4, as: UInt64.self)
                        let mb = row.loadUnaligned(fromByteOffset: h &+ 8, as: UInt64.self) >> 16
                        for j in 0..<8 {
                            scales[o &* 8 &+ j] = Int32(truncatingIfNeeded: (sb >> UInt64(6 &* j)) & 63)
                            mins[o &* 8 &+ j] = -dmin * Float(Int32(truncatingIfNeeded: (mb >> UInt64(6 &* j)) & 63))
                        }
                        dws[o] = Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: h, as: UInt16.self)))
                    }
                }
                var g = 0
                while g < groups {
                    let g1 = min(groups &- 1, g &+ 1)
                    var r = rb
                    while r < re {
                        let last = re &- 1
                        let i = (r &- rb, min(r &+ 1, last) &- rb, min(r &+ 2, last) &- rb, min(r &+ 3, last) &- rb)
                        let f = q4Tile(i, slot, s0, s1, codes, scales, mins, dws, nb, cols, packed, packedScales, packedSums, g, g1)
                        store(f, r, last, g, g1, tokens, y, ldy, accumulate: s0 > 0)
                        r &+= 4
                    }
                    g &+= 2
                }
                s0 = s1
            }
            rb = re
        }
    }

    /// Super-blocks s0..<s1 of 4 unpacked q4 rows (scratch slots i) × token groups g, g1.
    @inline(__always) static func q4Tile(_ i: (Int, Int, Int, Int), _ slot: Int, _ s0: Int, _ s1: Int,
                                         _ codes: UnsafeMutableRawPointer, _ scales: UnsafeMutablePointer<Int32>,
                                         _ mins: UnsafeMutablePointer<Float>, _ dws: UnsafeMutablePointer<Float>,
                                         _ nb: Int, _ cols: Int, _ packed: UnsafeRawPointer,
                                         _ packedScales: UnsafePointer<Float>, _ packedSums: UnsafePointer<Float>,
                                         _ g: Int, _ g1: Int) -> Tile {
        let xa = packed + g &* 4 &* cols, xb = packed + g1 &* 4 &* cols
        let sa = packedScales + g &* 4 &* nb, sb = packedScales + g1 &* 4 &* nb
        let ma = packedSums + g &* 4 &* nb, mb = packedSums + g1 &* 4 &* nb
        var f00 = SIMD4<Float>(), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00, f30 = f00, f31 = f00
        let zero = int32x4_t()
        for s in s0..<s1 {
            let k = s &- s0
            let o0 = i.0 &* slot &+ k, o1 = i.1 &* slot &+ k, o2 = i.2 &* slot &+ k, o3 = i.3 &* slot &+ k
            let q0 = UnsafeRawPointer(codes + o0 &* 256), q1 = UnsafeRawPointer(codes + o1 &* 256)
            let q2 = UnsafeRawPointer(codes + o2 &* 256), q3 = UnsafeRawPointer(codes + o3 &* 256)
            var t00 = SIMD4<Int32>(), t01 = t00, t10 = t00, t11 = t00, t20 = t00, t21 = t00, t30 = t00, t31 = t00
            for j in 0..<8 {
                var a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero
                for c in 0..<8 {
                    let qo = 32 &* j &+ 4 &* c, o = 256 &* s &+ qo
                    let va = ld(xa, 4 &* o), vb = ld(xb, 4 &* o)
                    @inline(__always) func row(_ q: UnsafeRawPointer, _ acc0: inout int32x4_t, _ acc1: inout int32x4_t) {
                        let wv = dup4(q, qo)
                        acc0 = vdotq_s32(acc0, va, wv)
                        acc1 = vdotq_s32(acc1, vb, wv)
                    }
                    row(q0, &a00, &a01); row(q1, &a10, &a11); row(q2, &a20, &a21); row(q3, &a30, &a31)
                }
                @inline(__always) func scale(_ o: Int, _ a0: int32x4_t, _ a1: int32x4_t, _ t0: inout SIMD4<Int32>, _ t1: inout SIMD4<Int32>) {
                    let m = SIMD4<Int32>(repeating: scales[o &* 8 &+ j])
                    t0 &+= a0 &* m
                    t1 &+= a1 &* m
                }
                scale(o0, a00, a01, &t00, &t01); scale(o1, a10, a11, &t10, &t11)
                scale(o2, a20, a21, &t20, &t21); scale(o3, a30, a31, &t30, &t31)
            }
            let b = 8 &* s
            let da = UnsafeRawPointer(sa + 4 &* b).loadUnaligned(as: SIMD4<Float>.self)
            let db = UnsafeRawPointer(sb + 4 &* b).loadUnaligned(as: SIMD4<Float>.self)
            @inline(__always) func finish(_ o: Int, _ t0: SIMD4<Int32>, _ t1: SIMD4<Int32>, _ f0: inout SIMD4<Float>, _ f1: inout SIMD4<Float>) {
                let dw = dws[o]
                f0 = f0.addingProduct(f32(t0), da * dw)
                f1 = f1.addingProduct(f32(t1), db * dw)
                for j in 0..<8 {
                    let m = SIMD4<Float>(repeating: mins[o &* 8 &+ j])
                    f0 = f0.addingProduct(m, UnsafeRawPointer(ma + 4 &* (b &+ j)).loadUnaligned(as: SIMD4<Float>.self))
                    f1 = f1.addingProduct(m, UnsafeRawPointer(mb + 4 &* (b &+ j)).loadUnaligned(as: SIMD4<Float>.self))
                }
            }
            finish(o0, t00, t01, &f00, &f01); finish(o1, t10, t11, &f10, &f11)
            finish(o2, t20, t21, &f20, &f21); finish(o3, t30, t31, &f30, &f31)
        }
        return (f00, f01, f10, f11, f20, f21, f30, f31)
    }
}
#endif
