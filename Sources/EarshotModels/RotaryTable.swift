// RotaryTable: cos/sin of the rotate-half RoPE angles for a run of positions, with Qwen's dynamic NTK base
// (base' = base · alpha^(d/(d−2))) and the logn query factors. Mirrors modeling_qwen.py: inv_freq in float32
// (1 / base'^(2i/d)), angle = float32(p · inv_freq), cos/sin of that angle rounded to float32.
import Foundation

struct RotaryTable {
    let headDim: Int
    let invFreq: [Float]       // [headDim/2]

    init(config: QwenLMConfig, alpha: Double) {
        let hd = config.headDim
        headDim = hd
        let d = Double(hd)
        let base = Float(config.ropeBase * pow(alpha, d / (d - 2)))
        invFreq = (0..<(hd / 2)).map { i in
            let exponent = Float(2 * i) / Float(hd)
            return Float(1) / Float(pow(Double(base), Double(exponent)))
        }
    }

    /// cos, sin: [count × headDim/2] for positions first ..< first+count.
    func tables(first: Int, count: Int) -> (cos: [Float], sin: [Float]) {
        let half = headDim / 2
        var c = [Float](repeating: 0, count: count * half), s = c
        for t in 0..<count {
            let p = Float(first + t)
            for j in 0..<half {
                let angle = Double(p * invFreq[j])
                c[t * half + j] = Float(cos(angle)); s[t * half + j] = Float(sin(angle))
            }
        }
        return (c, s)
    }
}
