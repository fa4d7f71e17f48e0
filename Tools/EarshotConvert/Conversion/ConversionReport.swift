// ConversionReport: per-tensor types and errors plus totals, as a table for people and JSON for metadata.
import Foundation
import EarshotKernels

/// The outcome for one tensor.
public struct TensorReport: Sendable, Equatable {
    public let name: String
    public let sourceName: String
    public let shape: [Int]
    public let type: WeightType
    public let bytes: Int
    public let error: TensorError
    /// Copied block for block from the source (a GGUF Q8_0 → q8 or Q4_K → q4 tensor), not re-quantized.
    public let relaid: Bool

    public init(name: String, sourceName: String, shape: [Int], type: WeightType, bytes: Int, error: TensorError,
                relaid: Bool = false) {
        self.name = name
        self.sourceName = sourceName
        self.shape = shape
        self.type = type
        self.bytes = bytes
        self.error = error
        self.relaid = relaid
    }

    public var elementCount: Int { shape.reduce(1, *) }
}

/// Everything a conversion produced.
public struct ConversionReport: Sendable {
    public var tensors: [TensorReport]
    public var recipe: String
    /// Size of the written file (0 until the sink finished).
    public var fileBytes: Int
    /// KV-cache bytes per token position (keys + values of every layer, f16 as the runtime stores them).
    public var kvBytesPerToken: Int

    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.elementCount } }
    public var tensorBytes: Int { tensors.reduce(0) { $0 + $1.bytes } }
    public var bitsPerWeight: Double { parameterCount > 0 ? 8 * Double(tensorBytes) / Double(parameterCount) : 0 }

    /// Resident weights when running (the mapped tensors) plus an f16 KV cache for `tokens` positions.
    public func expectedRAMBytes(tokens: Int) -> Int { tensorBytes + tokens * kvBytesPerToken }

    /// Count of tensors per storage type, e.g. "q4 224, q8 130, f16 1, f32 …".
    public var typeCounts: String {
        let order: [WeightType] = [.q4, .q8, .f16, .bf16, .f32]
        return order.compactMap { t in
            let n = tensors.filter { $0.type == t }.count
            return n > 0 ? "\(t) \(n)" : nil
        }.joined(separator: ", ")
    }

    /// One line per tensor: name, shape, type, MB, relative RMSE, max abs error.
    public func table() -> String {
        let nameWidth = max(28, tensors.map(\.name.count).max() ?? 0)
        var lines = [pad("tensor", nameWidth) + "  " + pad("shape", 16) + "  type  " + lpad("MB", 9) + "  " + lpad("rel.RMSE", 9) + "  " + lpad("max|err|", 9)]
        for t in tensors {
            let shape = t.shape.map(String.init).joined(separator: "×")
            lines.append(pad(t.name, nameWidth) + "  " + pad(shape, 16) + "  " + pad("\(t.type)" + (t.relaid ? "=" : ""), 4) + "  "
                + lpad(String(format: "%.2f", Double(t.bytes) / 1e6), 9) + "  "
                + lpad(String(format: "%.2e", t.error.relativeRMSE), 9) + "  " + lpad(String(format: "%.2e", t.error.maxAbs), 9))
        }
        return lines.joined(separator: "\n")
    }

    /// Worst relative RMSE per storage type (a compact summary).
    public func worstErrors() -> [(type: WeightType, name: String, relativeRMSE: Double)] {
        var worst: [WeightType: TensorReport] = [:]
        for t in tensors where worst[t.type].map({ t.error.relativeRMSE > $0.error.relativeRMSE }) ?? true { worst[t.type] = t }
        return [.q4, .q8, .f16, .f32].compactMap { ty in worst[ty].map { (ty, $0.name, $0.error.relativeRMSE) } }
    }

    /// The per-tensor errors as compact, deterministic JSON (stored in the file's metadata).
    public func errorsJSON() -> String {
        let items = tensors.map { t in
            "{\"name\":\"\(t.name)\",\"type\":\"\(t.type)\",\"rel_rmse\":\(fmt(t.error.relativeRMSE)),\"max_abs\":\(fmt(t.error.maxAbs))}"
        }
        return "[" + items.joined(separator: ",") + "]"
    }

    private func fmt(_ v: Double) -> String { v.isFinite ? String(format: "%.4e", v) : "null" }
}

private func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
private func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
