// Probe: an optional callback that receives every named intermediate (for `--dump` and layer-by-layer
// comparison with the reference). Names follow the goldens (`audio.blocks.0.out`, `llm.h.1.out`, …);
// shapes are the Swift layout ([frames_or_tokens, channels], row-major).
import EarshotKernels

public typealias Probe = (_ name: String, _ shape: [Int], _ values: UnsafeBufferPointer<Float>) -> Void

@inline(__always) func emit(_ probe: Probe?, _ name: @autoclosure () -> String, _ shape: [Int], _ values: UnsafePointer<Float>) {
    guard let probe else { return }
    probe(name(), shape, UnsafeBufferPointer(start: values, count: shape.reduce(1, *)))
}

/// x[0..<count] += y[0..<count] in place (one buffer, no copy-on-write).
@inline(__always) func accumulate(_ x: inout [Float], _ y: UnsafePointer<Float>, count: Int) {
    x.withUnsafeMutableBufferPointer { xb in
        EarshotKernels.Kernels.add(UnsafePointer(xb.baseAddress!), y, count: count, xb.baseAddress!)
    }
}
