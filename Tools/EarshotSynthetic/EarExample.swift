// EarExample: writes small, deterministic example .ear files (for `earshot-bench write-example`, the
// format tests and the hexdump of Formats/EAR.md).
//
// The full example has one tensor of every dtype, typed metadata of every kind and two blobs (zstd
// and raw). Plain tensors hold deterministic pseudo-random values; the q8/q4 tensors are PLACEHOLDERS:
// bytes of the right size (the formulas in Formats/EAR.md) but not valid quantized blocks (their real
// layout is Formats/quant-blocks.md, owned by the kernels).

import EarshotFormat

public enum EarExample {
    /// Writes the full example (about 20 KiB) to `path`.
    public static func write(path: String, converter: String = "EarshotFormat.EarExample") throws(EarError) {
        let w = try EarWriter(path: path)
        try addContent(to: w, converter: converter)
        try w.finish()
    }

    /// Adds the example's metadata, tensors and blobs to an open writer (callers may add more, then
    /// finish it).
    public static func addContent(to w: EarWriter, converter: String = "EarshotFormat.EarExample") throws(EarError) {
        let metadata: EarMetadata = [
            "general.architecture": "example",
            "general.name": "earshot example file",
            "general.converter": .string(converter),
            "general.source": "synthetic (deterministic pseudo-random values)",
            "general.quantization": "mixed: one tensor of every dtype; q8/q4 bytes are placeholders",
            "example.hidden_size": 64,
            "example.rms_norm_eps": 1e-6,
            "example.use_bias": true,
            "example.stop_ids": [151643, 151645],
            "example.labels": ["alpha", "beta"],
        ]
        for key in metadata.keys { w.metadata[key] = metadata[key] }
        var rng = ExampleRNG(seed: 0x5EED)
        try w.addTensor(name: "example.f32", shape: [4, 64], f32: (0..<256).map { _ in rng.nextFloat() })
        try w.addTensor(name: "example.f16", dtype: .f16, shape: [4, 64],
                        bytes: littleEndianBytes((0..<256).map { _ in f16Bits(rng.nextFloat()) }))
        try w.addTensor(name: "example.bf16", dtype: .bf16, shape: [2, 32],
                        bytes: littleEndianBytes((0..<64).map { _ in bf16Bits(rng.nextFloat()) }))
        try w.addTensor(name: "example.i8", dtype: .i8, shape: [16], bytes: (0..<16).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        try w.addTensor(name: "example.u8", dtype: .u8, shape: [16], bytes: (0..<16).map { UInt8($0 * 16) })
        try w.addTensor(name: "example.i32", dtype: .i32, shape: [8], bytes: littleEndianBytes((0..<8).map { Int32($0) - 4 }))
        try w.addTensor(name: "example.i64", dtype: .i64, shape: [2, 2], bytes: littleEndianBytes([Int64(1) << 40, -1, 0, 7]))
        // Placeholders of the right size: [2 × 64] q8 = 2 × (64 + 4) bytes, [2 × 256] q4 = 2 × (128 + 16).
        try w.addTensor(name: "example.q8", dtype: .q8, shape: [2, 64],
                        bytes: (0..<EarDType.q8.byteCount(shape: [2, 64])!).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        try w.addTensor(name: "example.q4", dtype: .q4, shape: [2, 256],
                        bytes: (0..<EarDType.q4.byteCount(shape: [2, 256])!).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let config = #"{"architectures": ["Example"], "hidden_size": 64, "note": "stored zstd-compressed"}"#
        try w.addBlob(name: "config.json", bytes: Array(config.utf8), compression: .zstd)
        try w.addBlob(name: "notes.txt", bytes: Array("an uncompressed blob\n".utf8), compression: .raw)
    }

    /// Writes the tiny file shown as a hexdump in Formats/EAR.md: one f32 [2, 2] tensor, one raw blob.
    public static func writeTiny(path: String) throws(EarError) {
        let w = try EarWriter(path: path, metadata: ["general.architecture": "example"])
        try w.addTensor(name: "w", shape: [2, 2], f32: [1, 2, 3, 4])
        try w.addBlob(name: "b", bytes: Array("hi".utf8), compression: .raw)
        try w.finish()
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * MemoryLayout<T>.size)
        for v in values { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        return out
    }

    /// IEEE half bits (round to nearest even) without relying on Float16 being available.
    static func f16Bits(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        let sign = UInt16((b >> 16) & 0x8000)
        let exp = Int((b >> 23) & 0xFF) - 127 + 15
        var mant = b & 0x7F_FFFF
        if exp <= 0 { return sign }                  // tiny values flush to zero (fine for an example)
        if exp >= 31 { return sign | 0x7C00 }        // overflow → inf
        var h = UInt32(exp) << 10 | (mant >> 13)
        mant &= 0x1FFF
        if mant > 0x1000 || (mant == 0x1000 && (h & 1) == 1) { h += 1 }
        return sign | UInt16(h)
    }

    /// bfloat16 bits: the top half of the f32 bits, rounded to nearest even.
    static func bf16Bits(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        return UInt16((b + 0x7FFF + ((b >> 16) & 1)) >> 16)
    }
}

/// A tiny deterministic generator (SplitMix64) so example files are byte-identical on every machine.
struct ExampleRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}
