// NpzReader: reads one float32 array from a NumPy `.npz` (a zip of `.npy` files, stored or deflated).
//
// Zip: End-Of-Central-Directory → central directory entries (method, sizes, local header offset) →
// local header → data. npy: magic "\x93NUMPY", version, header length, a Python-dict header with
// 'descr' (must be '<f4'), 'fortran_order' (must be False) and 'shape'. Every offset is bounds-checked.
import Foundation

/// A float32 array read from an `.npz`.
public struct NpzArray: Sendable, Equatable {
    public let shape: [Int]
    public let values: [Float]
}

public enum NpzReader {
    /// Reads member `key` (`key.npy`) of the archive as little-endian float32.
    public static func float32Array(_ data: Data, key: String, path: String) throws(ConvertError) -> NpzArray {
        let b = [UInt8](data)
        func bad(_ why: String) -> ConvertError { .unreadableFile(path: path, reason: "not a valid .npz (\(why))") }
        func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }

        // End of central directory: last 22..65557 bytes.
        guard b.count >= 22 else { throw bad("too short") }
        var eocd = -1
        var i = b.count - 22
        while i >= max(0, b.count - 22 - 65535) {
            if u32(i) == 0x0605_4B50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw bad("no end of central directory") }
        let entries = u16(eocd + 10), cdOffset = u32(eocd + 16)
        var p = cdOffset
        let wanted = key + ".npy"
        for _ in 0..<entries {
            guard p >= 0, p + 46 <= b.count, u32(p) == 0x0201_4B50 else { throw bad("bad central directory") }
            let method = u16(p + 10)
            var compSize = u32(p + 20), size = u32(p + 24)
            let nameLen = u16(p + 28), extraLen = u16(p + 30), commentLen = u16(p + 32)
            var local = u32(p + 42)
            guard p + 46 + nameLen + extraLen <= b.count else { throw bad("bad central directory entry") }
            let name = String(decoding: b[(p + 46)..<(p + 46 + nameLen)], as: UTF8.self)
            // Zip64 extra field (id 1): the 0xFFFFFFFF fields, in order size, compressed size, offset.
            var e = p + 46 + nameLen
            while e + 4 <= p + 46 + nameLen + extraLen {
                let id = u16(e), len = u16(e + 2)
                if id == 1 {
                    var f = e + 4
                    func u64() -> Int { let v = u32(f) | u32(f + 4) << 32; f += 8; return v }
                    if size == 0xFFFF_FFFF, f + 8 <= e + 4 + len { size = u64() }
                    if compSize == 0xFFFF_FFFF, f + 8 <= e + 4 + len { compSize = u64() }
                    if local == 0xFFFF_FFFF, f + 8 <= e + 4 + len { local = u64() }
                }
                e += 4 + len
            }
            p += 46 + nameLen + extraLen + commentLen
            guard name == wanted else { continue }

            // Zip64 fields are 64-bit: check each against the archive's size before any arithmetic.
            guard local >= 0, local <= b.count - 30, u32(local) == 0x0403_4B50 else { throw bad("bad local header") }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard compSize >= 0, compSize <= b.count, start <= b.count - compSize, size >= 0, size <= 1 << 28 else {
                throw bad("member out of bounds")
            }
            let raw = Array(b[start..<(start + compSize)])
            let npy: [UInt8]
            switch method {
            case 0: npy = raw
            case 8:
                do { npy = try Inflate.decompress(raw, maxOutput: size) } catch {
                    throw bad("deflate: \(error)")
                }
            default: throw bad("compression method \(method)")
            }
            guard npy.count == size else { throw bad("member size \(npy.count) ≠ \(size)") }
            return try parseNpy(npy, bad: bad)
        }
        throw bad("no array \"\(key)\"")
    }

    static func parseNpy(_ b: [UInt8], bad: (String) -> ConvertError) throws(ConvertError) -> NpzArray {
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else { throw bad("npy magic") }
        let major = b[6]
        let headerLen: Int, headerStart: Int
        if major == 1 {
            headerLen = Int(b[8]) | Int(b[9]) << 8
            headerStart = 10
        } else {
            guard b.count >= 12 else { throw bad("npy header") }
            headerLen = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            headerStart = 12
        }
        guard headerStart + headerLen <= b.count else { throw bad("npy header length") }
        let header = String(decoding: b[headerStart..<(headerStart + headerLen)], as: UTF8.self)
        guard header.contains("'descr': '<f4'") else { throw bad("npy dtype is not '<f4'") }
        guard header.contains("'fortran_order': False") else { throw bad("npy array is Fortran-ordered") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw bad("npy shape")
        }
        let dims = header[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        var shape: [Int] = []
        var count = 1
        let dataStart = headerStart + headerLen
        for d in dims {
            guard let v = Int(d), v >= 0, v <= 1 << 24 else { throw bad("npy shape value \(d)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: v)
            guard !overflow, product <= b.count else { throw bad("npy shape \(dims) is larger than the file") }
            count = product
            shape.append(v)
        }
        guard b.count - dataStart == 4 * count else { throw bad("npy data size") }
        var values = [Float](repeating: 0, count: count)
        for k in 0..<count {
            let o = dataStart + 4 * k
            values[k] = Float(bitPattern: UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24)
        }
        return NpzArray(shape: shape, values: values)
    }
}
