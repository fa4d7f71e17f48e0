// NameMapping: Hugging Face state-dict name → canonical `.ear` name and the conversion-time transform.
// The table itself is EarshotModels' `TensorNames` (shared with the model); the transform here is the
// row-streaming form of `TensorNames.convWeightToMatrix` (tests check they agree).
import EarshotModels

/// Transforms applied while converting (never at run time).
public enum TensorTransform: Sendable, Equatable {
    case none
    /// Conv1d [S, M, 3] → matmul [S, 3·M] with W[s, k·M + m] = conv[s, m, k] (im2col: tap-major).
    case convToMatmul
}

public enum NameMapping {
    /// The canonical name and transform for a Hugging Face tensor name (nil for names not in the table).
    public static func canonical(_ hf: String) -> (name: String, transform: TensorTransform)? {
        guard let name = TensorNames.canonical(hf: hf) else { return nil }
        return (name, TensorNames.isConvWeight(canonical: name) ? .convToMatmul : .none)
    }

    /// Shape after the transform.
    public static func outputShape(_ shape: [Int], _ t: TensorTransform) -> [Int] {
        switch t {
        case .none: return shape
        case .convToMatmul: return [shape[0], shape[1] * shape[2]]
        }
    }
}
