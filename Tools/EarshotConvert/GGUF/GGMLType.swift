// GGMLType: the ggml tensor types a GGUF file may hold (ids are ggml's `enum ggml_type`, append-only there),
// with each block's element count and byte size. Only the types with a dequantizer here
// (GGMLDequantize.swift) are accepted as tensors; the others are named in the refusal.

/// A ggml tensor type this converter can read.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8
    case q4_K = 12, q5_K = 13, q6_K = 14
    case bf16 = 30

    public var name: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        }
    }

    /// Elements per block (the row length ne[0] must be a multiple of it).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return 32
        case .q4_K, .q5_K, .q6_K: return 256
        }
    }

    /// Bytes per block (ggml's `GGML_QUANT_SIZES` / `type_traits`).
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 2 + 16             // f16 d, 32 nibbles
        case .q4_1: return 2 + 2 + 16         // f16 d, f16 m, 32 nibbles
        case .q5_0: return 2 + 4 + 16         // f16 d, 32 high bits, 32 nibbles
        case .q5_1: return 2 + 2 + 4 + 16
        case .q8_0: return 2 + 32             // f16 d, 32 int8
        case .q4_K: return 2 + 2 + 12 + 128   // f16 d, f16 dmin, 12 scale bytes, 256 nibbles
        case .q5_K: return 2 + 2 + 12 + 32 + 128
        case .q6_K: return 128 + 64 + 16 + 2  // ql, qh, 16 int8 scales, f16 d
        }
    }

    /// Bytes of one row of `cols` elements, or nil when `cols` is not a whole number of blocks.
    public func rowBytes(cols: Int) -> Int? {
        guard cols > 0, cols % blockSize == 0 else { return nil }
        return cols / blockSize * blockBytes
    }

    /// Every ggml type id with its name, for messages about types this reader does not take.
    static let knownNames: [UInt32: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
        10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS",
        18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16",
        26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
    ]

    /// "Q2_K (id 10)" or "unknown id 99".
    static func describe(id: UInt32) -> String {
        knownNames[id].map { "\($0) (id \(id))" } ?? "unknown id \(id)"
    }

    /// The supported type names, for messages.
    public static var supportedNames: String { allCases.map(\.name).joined(separator: ", ") }
}
