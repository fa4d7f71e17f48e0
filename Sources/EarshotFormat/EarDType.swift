// EarDType: the element/block types a tensor in a .ear file can have, with their on-disk ids and the
// byte-size rule of each (Formats/EAR.md § Data types). Ids are append-only: never renumber.
//
// Byte size of a tensor of shape [d0, …, dn-1] = (d0·…·dn-2) rows × rowBytes(dn-1):
//   plain types: rowBytes(K) = elementSize · K
//   q8:  K % 32 == 0, rowBytes(K) = K + K/16              (32 int8 + one f16 scale per block)
//   q4:  K % 32 == 0, rowBytes(K) = K/2 + 16·⌈K/256⌉       (Q4_K-style super-blocks of ≤ 256)

/// A tensor's storage type. The raw value is the id stored in the file.
public enum EarDType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case bf16 = 2
    case i8 = 3
    case u8 = 4
    case i32 = 5
    case i64 = 6
    case q8 = 16
    case q4 = 17

    /// Ids 18–63 are reserved for future block types, 7–15 for future plain types.
    public static let reservedIDs: ClosedRange<UInt8> = 7...63

    /// Lower-case name used in inspect output and docs ("f32", "q4", …).
    public var name: String {
        switch self {
        case .f32: return "f32"
        case .f16: return "f16"
        case .bf16: return "bf16"
        case .i8: return "i8"
        case .u8: return "u8"
        case .i32: return "i32"
        case .i64: return "i64"
        case .q8: return "q8"
        case .q4: return "q4"
        }
    }

    public var description: String { name }

    /// Parses a name as printed by `name`.
    public init?(name: String) {
        guard let match = EarDType.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// True for block-quantized types (their last dimension must be a multiple of 32).
    public var isQuantized: Bool { self == .q8 || self == .q4 }

    /// Bytes per element for plain types; nil for block types.
    public var elementSize: Int? {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .i8, .u8: return 1
        case .i64: return 8
        case .q8, .q4: return nil
        }
    }

    /// The last dimension must be a multiple of this.
    public var columnMultiple: Int { isQuantized ? 32 : 1 }

    /// Bytes of one row of `k` values, or nil when `k` is negative, not a multiple of
    /// `columnMultiple`, or the size overflows.
    public func rowBytes(_ k: Int) -> Int? {
        guard k >= 0, k % columnMultiple == 0 else { return nil }
        switch self {
        case .q8: return k + k / 16
        case .q4: return k / 2 + 16 * ((k + 255) / 256)
        default:
            let (r, overflow) = k.multipliedReportingOverflow(by: elementSize!)
            return overflow ? nil : r
        }
    }

    /// Exact byte size of a tensor of this type and `shape`, or nil when the shape is invalid for the
    /// type (negative dim, quantized with a bad last dim or rank 0) or the size overflows `Int`.
    public func byteCount(shape: [Int]) -> Int? {
        guard shape.allSatisfy({ $0 >= 0 }) else { return nil }
        guard let last = shape.last else { return isQuantized ? nil : elementSize }  // rank 0: a scalar
        var rows = 1
        for d in shape.dropLast() {
            let (r, overflow) = rows.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            rows = r
        }
        guard let rb = rowBytes(last) else { return nil }
        let (total, overflow) = rows.multipliedReportingOverflow(by: rb)
        return overflow ? nil : total
    }

    /// Average storage bits per weight for a row of `k` values (k > 0).
    public func bitsPerWeight(rowLength k: Int) -> Double? {
        guard k > 0, let rb = rowBytes(k) else { return nil }
        return Double(rb * 8) / Double(k)
    }
}
