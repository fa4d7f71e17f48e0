// `earshot bench attention`: release-mode attention benchmark at the model shapes (Whisper-tiny and
// Qwen-Audio encoder self-attention, Qwen LLM causal prefill, one decode step), timing the blocked
// kernel (`Kernels.attention`) and the row-at-a-time path (`Kernels.attentionRowwise`) side by side in
// the same rounds on the same data, reported as a ratio (the machine is shared and noisy).
import ArgumentParser
import EarshotKernels
#if canImport(Glibc)
import Glibc
#endif

struct AttentionBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Blocked vs row-at-a-time attention at encoder, prefill and decode shapes.",
        discussion: """
        Build with -c release. Each round runs both kernels once per shape (interleaved); the best round
        is reported. With 1 thread times are process CPU time, otherwise wall time. Example:
          EARSHOT_THREADS=1 swift run -c release earshot bench attention --rounds 3
        """)

    @Option(help: "Rounds per figure (best is reported).") var rounds: Int = 3
    @Flag(help: "Store keys/values as f16 (the KV-cache format) instead of f32.") var f16 = false

    func run() throws {
        print("pool threads: \(ThreadPool.shared.activeThreads)   KV: \(f16 ? "f16" : "f32")")
        // (name, tokens, keys, heads, headDim, causal)
        let shapes: [(String, Int, Int, Int, Int, Bool)] = [
            ("whisper-tiny enc 1500x1500 6x64", 1500, 1500, 6, 64, false),
            ("qwen-audio enc 1500x1500 20x64", 1500, 1500, 20, 64, false),
            ("qwen prefill 780 causal 32x128", 780, 780, 32, 128, true),
            ("qwen 4q x 780 causal 32x128", 4, 780, 32, 128, true),
            ("qwen 16q x 780 causal 32x128", 16, 780, 32, 128, true),
            ("qwen decode 1q x 780 32x128", 1, 780, 32, 128, true),
        ]
        print("shape".padding(34) + "rowwise ms".padding(12) + "blocked ms".padding(12) + "speedup  max|diff|")
        for (name, tokens, keyCount, heads, headDim, causal) in shapes {
            let width = heads * headDim
            var seed: UInt64 = 0x1234_5678
            func rnd() -> Float { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Float(Int64(bitPattern: seed) >> 40) * 0x1p-23 }
            let q = (0..<tokens * width).map { _ in rnd() }
            let k32 = UnsafeMutablePointer<Float>.allocate(capacity: keyCount * width)
            let v32 = UnsafeMutablePointer<Float>.allocate(capacity: keyCount * width)
            let k16 = UnsafeMutablePointer<Float16>.allocate(capacity: keyCount * width)
            let v16 = UnsafeMutablePointer<Float16>.allocate(capacity: keyCount * width)
            defer { k32.deallocate(); v32.deallocate(); k16.deallocate(); v16.deallocate() }
            for i in 0..<keyCount * width { k32[i] = rnd(); v32[i] = rnd(); k16[i] = Float16(k32[i]); v16[i] = Float16(v32[i]) }
            let ks: KVStorage = f16 ? .f16(k16) : .f32(k32), vs: KVStorage = f16 ? .f16(v16) : .f32(v32)
            var outA = [Float](repeating: 0, count: tokens * width), outB = outA
            let first = causal ? keyCount - tokens : 0
            let scale = 1 / Float(headDim).squareRoot()
            var bestA = Double.infinity, bestB = Double.infinity
            for _ in 0..<max(1, rounds) {
                bestA = min(bestA, time {
                    Kernels.attentionRowwise(q: q, qStride: width, tokens: tokens, firstPosition: first, keys: ks, values: vs,
                                             kvStride: width, keyCount: keyCount, heads: heads, headDim: headDim,
                                             scale: scale, causal: causal, out: &outA, outStride: width)
                })
                bestB = min(bestB, time {
                    Kernels.attention(q: q, qStride: width, tokens: tokens, firstPosition: first, keys: ks, values: vs,
                                      kvStride: width, keyCount: keyCount, heads: heads, headDim: headDim,
                                      scale: scale, causal: causal, out: &outB, outStride: width)
                })
            }
            var diff: Float = 0
            for i in 0..<outA.count { diff = max(diff, abs(outA[i] - outB[i])) }
            print(name.padding(34) + fmt(bestA * 1e3).padding(12) + fmt(bestB * 1e3).padding(12)
                  + (fmt(bestA / bestB) + "x").padding(9) + "\(diff)")
        }
    }

    func time(_ body: () -> Void) -> Double {
        if ThreadPool.shared.activeThreads == 1 {
            let a = cpuSeconds(); body(); return cpuSeconds() - a
        }
        let c = ContinuousClock()
        let d = c.measure(body)
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    func fmt(_ v: Double) -> String { String((v * 100).rounded() / 100) }
}

private extension String {
    func padding(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}
