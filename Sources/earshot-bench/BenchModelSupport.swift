// Shared pieces of the model-level benchmarks (`earshot bench decode|prefill|encoder|load|write-model`):
// loading a `.ear` into a QwenAudioModel, wall-clock timing, median/spread statistics, the read-bandwidth
// pass over the exact weight bytes one decode step reads, peak RSS, and the result-row printer
// (`Tools/bench/peers.py` parses the `result` lines).
import ArgumentParser
import Earshot
import EarshotFormat
import EarshotKernels
import EarshotModels
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `.ear` mapped and built into a model, plus the byte ranges one decode step streams. Qwen-Audio files
/// build the whole QwenAudioModel; text LLMs converted from GGUF (`qwen2`, `qwen`) build a QwenTextModel, whose
/// LLM is the same QwenLM, so decode, prefill, load and perplexity run on either (encoder needs audio).
struct BenchModel {
    let weights: EarWeights
    /// The LLM every LLM benchmark runs.
    let lm: QwenLM
    /// The whole audio-language model; nil for a text-only LLM.
    let audioModel: QwenAudioModel?
    /// Every matrix one decode token multiplies (LLM blocks + lm_head), in the order decode reads them.
    let decodeTensors: [UnsafeRawBufferPointer]
    /// Bytes of weights one decode token reads (the LLM matrices, lm_head and one embedding row).
    let decodeBytesPerToken: Int
    /// Short description of the file's LLM weight type, e.g. "q4".
    let llmType: String

    init(path: String) throws {
        weights = try EarWeights(path: path)
        let config = weights.configValues
        if case .string(let arch)? = config[MetadataKeys.architecture],
           arch == MetadataKeys.Architecture.qwen2 || arch == MetadataKeys.Architecture.qwen {
            lm = try QwenTextModel(metadata: config, weights: weights).lm
            audioModel = nil
        } else {
            let model = try QwenAudioModel(config: try weights.qwenAudioConfig(), weights: weights)
            lm = model.lm
            audioModel = model
        }
        let file = weights.file
        var ranges: [UnsafeRawBufferPointer] = []
        for info in file.tensors where info.name.hasPrefix("blk.") && info.shape.count == 2 { ranges.append(file.bytes(of: info)) }
        let out = try (try? file.tensor(named: TensorNames.output)) ?? file.tensor(named: TensorNames.tokenEmbedding)
        ranges.append(file.bytes(of: out))
        decodeTensors = ranges
        let embd = try file.tensor(named: TensorNames.tokenEmbedding)
        decodeBytesPerToken = ranges.reduce(0) { $0 + $1.count } + embd.byteCount / max(embd.rows, 1)
        llmType = (try? file.tensor(named: TensorNames.block(0, "ffn_up.weight")).dtype.description) ?? "?"
    }

    var llmConfig: QwenLMConfig { lm.config }
    /// Token ids the benchmarks feed are taken below this (ordinary text ids on the real vocabularies).
    var idRange: Int { min(150_000, lm.config.vocabSize) }

    /// The audio-language model, or a clear refusal for a text-only LLM.
    func requireAudioModel() throws -> QwenAudioModel {
        guard let audioModel else { throw ValidationError("this is a text-only LLM: it has no audio encoder") }
        return audioModel
    }

    /// A KV cache (f16, as the runtime and llama.cpp default to) for `capacity` positions.
    func makeCache(capacity: Int) -> KVCache { KVCache(config: lm.config, capacity: capacity, precision: .f16) }

    /// Feeds one token; the logits for the next [V].
    func decodeStep(id: Int, cache: KVCache) throws -> [Float] {
        lm.lastLogits(try lm.forward(try lm.embed([id]), cache: cache))
    }

    /// Runs the prompt `ids`; the logits at its last position [V].
    func prefill(ids: [Int], cache: KVCache) throws -> [Float] {
        lm.lastLogits(try lm.forward(try lm.embed(ids), cache: cache))
    }
}

/// Timing and reporting helpers.
enum BenchClock {
    static func wall() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Seconds `body` takes (wall clock).
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let t0 = wall()
        try body()
        return wall() - t0
    }

    /// Process CPU seconds (all threads). Robust to the machine being shared: time spent descheduled is not counted.
    static func cpu() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// (wall, CPU) seconds of `body`.
    static func measure(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        let w0 = wall(), c0 = cpu()
        try body()
        return (wall() - w0, cpu() - c0)
    }

    /// Peak resident set of this process so far, in bytes.
    static func peakRSS() -> Int {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Int(u.ru_maxrss) * 1024
    }

    static func loadAverage() -> String {
        guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
        return s.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

/// Median and spread of a set of measurements.
struct BenchStats {
    let values: [Double]
    var sorted: [Double] { values.sorted() }
    var median: Double {
        let s = sorted
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    var min: Double { values.min() ?? .nan }
    var max: Double { values.max() ?? .nan }
}

/// Read-only passes over the decode weights with the active thread count: the DRAM read bandwidth that
/// bounds decode, measured on the same bytes in the same run (best of `passes`).
/// Returns (wall GB/s, CPU-time GB/s = bytes ÷ (process CPU seconds ÷ threads)).
func decodeReadBandwidth(_ m: BenchModel, passes: Int = 3) -> (wall: Double, cpu: Double) {
    let pool = ThreadPool.shared
    let threads = pool.activeThreads
    var best = Double.infinity, bestCPU = Double.infinity
    var sink: UInt32 = 0
    let sinks = UnsafeMutablePointer<UInt32>.allocate(capacity: 64); defer { sinks.deallocate() }
    for _ in 0..<max(1, passes) {
        let s = BenchClock.measure {
            for r in m.decodeTensors {
                let base = r.baseAddress!, bytes = r.count & ~255
                if threads <= 1 { sink ^= Kernels.streamRead(base, bytes: bytes); continue }
                // Split into 256-byte aligned chunks, one per thread (like a matvec's row split).
                let chunk = ((bytes / threads) + 255) & ~255
                pool.parallelFor(threads) { i in
                    let start = i * chunk, end = Swift.min(bytes, start + chunk)
                    if end > start { sinks[i * 8] ^= Kernels.streamRead(base + start, bytes: end - start) }
                }
            }
        }
        best = Swift.min(best, s.wall)
        bestCPU = Swift.min(bestCPU, s.cpu / Double(threads))
    }
    if sink == 0x9E37_79B9 || sinks[0] == 0x9E37_79B9 { print("") }
    return (Double(m.decodeBytesPerToken) / best / 1e9, Double(m.decodeBytesPerToken) / bestCPU / 1e9)
}

/// Row printer: a human table line and a machine-readable `result` line.
enum BenchReport {
    static func header() {
        print("host: \(ProcessInfo.processInfo.activeProcessorCount) CPUs, kernel path \(Kernels.path.name), pool threads \(ThreadPool.shared.threadCount), load average \(BenchClock.loadAverage())")
    }

    static func row(workload: String, type: String, threads: Int, stats: BenchStats, unit: String, extra: [(String, String)] = []) {
        let line = "\(pad(workload, 10))\(pad(type, 5))threads \(threads)  median \(fmt(stats.median)) \(unit)  (min \(fmt(stats.min)), max \(fmt(stats.max)), \(stats.values.count) runs)"
            + extra.map { "  \($0.0) \($0.1)" }.joined()
        print(line)
        let kv = [("workload", workload), ("engine", "earshot"), ("type", type), ("threads", "\(threads)"),
                  ("median", fmt(stats.median)), ("min", fmt(stats.min)), ("max", fmt(stats.max)),
                  ("runs", "\(stats.values.count)"), ("unit", unit)] + extra
        print("result " + kv.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
    }

    static func fmt(_ v: Double) -> String {
        if !v.isFinite { return "nan" }
        let digits = v >= 100 ? 1 : (v >= 1 ? 3 : 4)
        return String(format: "%.\(digits)f", v)
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

    static func peakRSSLine() {
        let gib = Double(BenchClock.peakRSS()) / Double(1 << 30)
        print("peak RSS: \(String(format: "%.2f", gib)) GiB")
        print("result workload=rss engine=earshot median=\(String(format: "%.3f", gib)) unit=GiB")
    }
}

/// Parses "1,2" into thread counts.
func parseThreadList(_ s: String) -> [Int] { s.split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 } }
