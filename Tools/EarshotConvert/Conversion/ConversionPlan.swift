// ConversionPlan: for every checkpoint tensor, its canonical name, output shape and storage type.
import EarshotKernels

/// What happens to one tensor.
public struct PlannedTensor: Sendable {
    public let sourceName: String
    public let canonicalName: String
    public let transform: TensorTransform
    public let shard: String
    public let source: SafetensorsTensor
    /// Shape in the `.ear` file (conv weights become 2-D).
    public let shape: [Int]
    public let type: WeightType

    public var elementCount: Int { shape.reduce(1, *) }
    public var rows: Int { shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *) }
    public var cols: Int { shape.last ?? 1 }
    /// Bytes in the output file.
    public var outputBytes: Int { rows * type.rowBytes(cols: cols)! }
}

public enum ConversionPlan {
    /// Plans every tensor of `checkpoint` in state-dict order.
    public static func make(_ checkpoint: Checkpoint, recipe: QuantRecipe, overrides: [TypeOverride]) throws(ConvertError) -> [PlannedTensor] {
        var out: [PlannedTensor] = []
        for (expected, shard, tensor) in checkpoint.tensors {
            guard let (canonical, transform) = NameMapping.canonical(expected.name) else {
                throw .unexpectedTensors([expected.name])   // cannot happen for tensors of CheckpointLayout
            }
            let shape = NameMapping.outputShape(tensor.shape, transform)
            let type = recipe.type(canonicalName: canonical, sourceName: expected.name, rank: shape.count,
                                   cols: shape.last ?? 1, overrides: overrides)
            out.append(PlannedTensor(sourceName: expected.name, canonicalName: canonical, transform: transform,
                                     shard: shard, source: tensor, shape: shape, type: type))
        }
        return out
    }
}
