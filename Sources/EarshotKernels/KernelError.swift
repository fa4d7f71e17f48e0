// KernelError: the one error type of the kernels module (typed throws; Embedded-safe).

/// Errors the kernels report for bad shapes or arguments supplied by a caller.
public enum KernelError: Error, Equatable, Sendable {
    /// `cols` is not a multiple of the block size the weight type needs (32 for q8 and q4).
    case columnsNotMultiple(type: WeightType, cols: Int, multiple: Int)
    /// A negative or otherwise impossible shape (rows, cols or tokens).
    case invalidShape(rows: Int, cols: Int)
    /// A row index outside 0..<rows (embedding gather).
    case rowOutOfRange(row: Int, rows: Int)

    /// A readable one-line description (no Foundation, no enum interpolation: Embedded-safe).
    public var message: String {
        switch self {
        case let .columnsNotMultiple(type, cols, multiple):
            return type.name + " weights need cols % " + String(multiple) + " == 0, got cols = " + String(cols)
        case let .invalidShape(rows, cols):
            return "invalid shape rows = " + String(rows) + ", cols = " + String(cols)
        case let .rowOutOfRange(row, rows):
            return "row " + String(row) + " is outside 0..<" + String(rows)
        }
    }
}
