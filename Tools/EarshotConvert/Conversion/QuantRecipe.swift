// QuantRecipe: which storage type each tensor gets — a named recipe, then `--keep PATTERN=TYPE` overrides,
// then the fixed rules (vectors stay f32; block types need a last dim that is a multiple of 32).
import EarshotKernels
import EarshotModels

/// What a tensor is, for choosing its type (decided from its canonical name).
public enum TensorClass: String, Sendable, CaseIterable {
    /// Norm weights and biases, all biases, `audio.pos_embd`, `audio.bos_eos`: always f32.
    case vector
    /// `token_embd.weight` (rows are looked up, not multiplied).
    case tokenEmbedding = "token_embd"
    /// `output.weight` (lm_head).
    case output
    /// Linear weights of the LLM blocks (`blk.*`).
    case llmLinear = "llm"
    /// Linear and conv weights of the audio encoder (`audio.*`, matrices).
    case audioLinear = "audio"

    public static func of(canonicalName n: String, rank: Int) -> TensorClass {
        if rank < 2 || TensorNames.staysF32(canonical: n) { return .vector }
        if n == "token_embd.weight" { return .tokenEmbedding }
        if n == "output.weight" { return .output }
        if n.hasPrefix("audio.") { return .audioLinear }
        return .llmLinear
    }
}

/// A per-tensor override: canonical (or Hugging Face) names matching `pattern` (`*` = any run of
/// characters) get `type`.
public struct TypeOverride: Sendable, Equatable {
    public let pattern: String
    public let type: WeightType

    /// Parses `PATTERN=TYPE`, e.g. `output.weight=q8`, `audio.*=f16`.
    public init(parsing text: String) throws(ConvertError) {
        guard let eq = text.lastIndex(of: "=") else {
            throw .invalidOverride(text, reason: "expected PATTERN=TYPE, e.g. 'audio.*=f16'")
        }
        let pattern = String(text[..<eq]), typeName = String(text[text.index(after: eq)...])
        guard !pattern.isEmpty else { throw .invalidOverride(text, reason: "empty pattern") }
        guard let type = QuantRecipe.parseType(typeName) else {
            throw .invalidOverride(text, reason: "unknown type \"\(typeName)\" (use f32, f16, q8 or q4)")
        }
        self.pattern = pattern
        self.type = type
    }

    public init(pattern: String, type: WeightType) {
        self.pattern = pattern
        self.type = type
    }

    public func matches(_ name: String) -> Bool { globMatch(Array(pattern.utf8), Array(name.utf8)) }
}

/// A quantization recipe: a type per tensor class.
public struct QuantRecipe: Sendable, Equatable {
    public let name: String
    public let tokenEmbedding: WeightType
    public let output: WeightType
    public let llmLinear: WeightType
    public let audioLinear: WeightType

    /// The default (`q4m`): 4-bit LLM linears (≈ 90 % of the weights) and 8-bit embeddings, lm_head and
    /// audio encoder. See Formats/tensor-names.md § Recipes for the measured errors behind the choice.
    public static let q4m = QuantRecipe(name: "q4m", tokenEmbedding: .q8, output: .q8, llmLinear: .q4, audioLinear: .q8)
    public static let `default` = q4m

    public static func uniform(_ t: WeightType, name: String) -> QuantRecipe {
        QuantRecipe(name: name, tokenEmbedding: t, output: t, llmLinear: t, audioLinear: t)
    }

    public static let all: [QuantRecipe] = [
        .uniform(.f32, name: "f32"), .uniform(.f16, name: "f16"), .uniform(.q8, name: "q8"), .uniform(.q4, name: "q4"), .q4m,
    ]
    public static var recipeNames: [String] { all.map(\.name) }

    public init(name: String, tokenEmbedding: WeightType, output: WeightType, llmLinear: WeightType, audioLinear: WeightType) {
        self.name = name
        self.tokenEmbedding = tokenEmbedding
        self.output = output
        self.llmLinear = llmLinear
        self.audioLinear = audioLinear
    }

    /// `f32`, `f16`, `q8`, `q4` or a recipe name.
    public init(parsing text: String) throws(ConvertError) {
        guard let r = Self.all.first(where: { $0.name == text.lowercased() }) else { throw .invalidQuant(text) }
        self = r
    }

    static func parseType(_ s: String) -> WeightType? {
        switch s.lowercased() {
        case "f32": return .f32
        case "f16": return .f16
        case "q8": return .q8
        case "q4": return .q4
        default: return nil
        }
    }

    public func type(for c: TensorClass) -> WeightType {
        switch c {
        case .vector: return .f32
        case .tokenEmbedding: return tokenEmbedding
        case .output: return output
        case .llmLinear: return llmLinear
        case .audioLinear: return audioLinear
        }
    }

    /// The storage type of one tensor. `cols` is its last dimension after conversion transforms.
    /// Overrides are applied in order (the last match wins) and see both names.
    public func type(canonicalName: String, sourceName: String, rank: Int, cols: Int,
                     overrides: [TypeOverride]) -> WeightType {
        type(class: TensorClass.of(canonicalName: canonicalName, rank: rank), canonicalName: canonicalName,
             sourceName: sourceName, cols: cols, overrides: overrides)
    }

    /// The storage type of a tensor whose class the caller decides (e.g. a tied embedding that is also the
    /// output projection takes the `output` type).
    public func type(class cls: TensorClass, canonicalName: String, sourceName: String, cols: Int,
                     overrides: [TypeOverride]) -> WeightType {
        if cls == .vector { return .f32 }
        var t = type(for: cls)
        for o in overrides where o.matches(canonicalName) || o.matches(sourceName) { t = o.type }
        if t.rowBytes(cols: cols) == nil { t = .f16 }   // block types need cols % 32 == 0
        return t
    }
}

/// `*` matches any run of bytes (including none); every other byte matches itself.
func globMatch(_ p: [UInt8], _ s: [UInt8]) -> Bool {
    var pi = 0, si = 0, starP = -1, starS = 0
    while si < s.count {
        if pi < p.count, p[pi] == UInt8(ascii: "*") {
            starP = pi; starS = si; pi += 1
        } else if pi < p.count, p[pi] == s[si] {
            pi += 1; si += 1
        } else if starP >= 0 {
            pi = starP + 1; starS += 1; si = starS
        } else {
            return false
        }
    }
    while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
    return pi == p.count
}
