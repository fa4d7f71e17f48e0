// WhisperMath: log-softmax for the Whisper search (Double sum for a stable normaliser; -∞ stays -∞).
import Foundation

enum WhisperMath {
    static func logSoftmax(_ x: UnsafeBufferPointer<Float>) -> [Float] {
        var m = -Float.infinity
        for v in x where v > m { m = v }
        var sum = 0.0
        for v in x where v > -Float.infinity { sum += exp(Double(v - m)) }
        let lse = Double(m) + log(sum)
        return x.map { $0 == -Float.infinity ? -Float.infinity : Float(Double($0) - lse) }
    }
}
