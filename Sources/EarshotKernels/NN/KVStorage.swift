// KVStorage: where attention reads keys/values from — an f32 or f16 buffer of rows
// ([positions × rowStride] elements, row p at p·rowStride). The KV cache owns the memory.

public enum KVStorage: @unchecked Sendable {
    case f32(UnsafeMutablePointer<Float>)
    case f16(UnsafeMutablePointer<Float16>)

    /// Element `i` (flat index) as Float.
    @inline(__always) public func load(_ i: Int) -> Float {
        switch self {
        case .f32(let p): return p[i]
        case .f16(let p): return Float(p[i])
        }
    }

    /// Stores `count` floats from `src` at flat index `at` (rounding to f16 when the storage is f16).
    @inline(__always) public func store(_ src: UnsafePointer<Float>, count: Int, at: Int) {
        switch self {
        case .f32(let p): (p + at).update(from: src, count: count)
        case .f16(let p): for i in 0..<count { p[at &+ i] = Float16(src[i]) }
        }
    }
}
