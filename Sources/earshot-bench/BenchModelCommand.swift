// `earshot bench decode|prefill|encoder|load`: model-level release benchmarks at the real model's shapes on a
// `.ear` file (values do not matter for speed: `earshot bench write-model` writes a random one in seconds).
//   decode : `--tokens` steps after a KV cache holding `--context` positions (llama-bench tg128 @ d512)
//   prefill: the LLM over `--tokens` prompt positions from an empty cache (750 audio + 30 text = 780)
//   encoder: the audio encoder on one 30 s mel (3000 frames → 1500 → 750 outputs)
//   load   : map + build the model + the first decode step (warm page cache)
// Each prints, per thread count, median and spread over `--runs` runs, and the peak RSS at the end; decode also
// prints the read bandwidth over the same weight bytes in the same run and the roofline ratio.
// `cpu_rate` is the same figure from process CPU time ÷ threads (what the run would take with its cores to itself;
// at 2 threads it counts the pool's brief spin-waits as work, so it is a lower bound there).
import ArgumentParser
import Earshot
import EarshotKernels
import EarshotModels
import Foundation

/// Options every model benchmark shares.
struct BenchModelOptions: ParsableArguments {
    @Option(help: "The .ear model (a random one from `earshot bench write-model` is fine).") var model: String
    @Option(help: "Thread counts, comma-separated.") var threads: String = "1,2"
    @Option(help: "Timed runs per thread count (median and min/max are printed).") var runs: Int = 3

    var threadList: [Int] { parseThreadList(threads) }

    func load() throws -> BenchModel {
        do { return try BenchModel(path: model) } catch {
            throw ValidationError("cannot load \(model): \(error)")
        }
    }

    /// Runs `body` once per thread count with the pool set to it; restores the pool afterwards.
    func forEachThreadCount(_ body: (Int) throws -> Void) rethrows {
        defer { ThreadPool.shared.activeThreads = ThreadPool.shared.threadCount }
        for t in threadList {
            ThreadPool.shared.activeThreads = t
            try body(ThreadPool.shared.activeThreads)
        }
    }
}

struct DecodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode tok/s after a filled KV cache, read bandwidth and roofline ratio.",
        discussion: """
        The KV cache is filled with --context random positions (no prefill compute), then each run decodes
        --tokens steps (embedding, 32 layers, lm_head) from there; one untimed step warms the page cache first.
        llama.cpp's equivalent is `llama-bench -n 128 -d 512`. Example:
          swift run -c release earshot bench decode --model /work/scratch/bench/qwen7b.q4.ear --threads 1,2
        """)
    @OptionGroup var options: BenchModelOptions
    @Option(help: "KV positions already cached before the timed steps.") var context: Int = 512
    @Option(help: "Decode steps per run.") var tokens: Int = 128

    func run() throws {
        BenchReport.header()
        let m = try options.load()
        let cache = m.makeCache(capacity: context + tokens + 1)
        fillCache(cache, length: context)
        let gb = Double(m.decodeBytesPerToken) / 1e9
        print("decode: \(m.llmType) weights, \(BenchReport.fmt(gb)) GB read per token, context \(context), \(tokens) tokens per run")
        // Warm-up: one step touches every page of the decode weights.
        _ = try m.decodeStep(id: 1, cache: cache)
        try options.forEachThreadCount { threads in
            let bw = decodeReadBandwidth(m)
            var rates: [Double] = [], cpuRates: [Double] = []
            for _ in 0..<options.runs {
                cache.truncate(to: context)
                let s = try BenchClock.measure {
                    for i in 0..<tokens { _ = try m.decodeStep(id: (i * 7919) % m.idRange, cache: cache) }
                }
                rates.append(Double(tokens) / s.wall)
                cpuRates.append(Double(tokens) * Double(threads) / s.cpu)
            }
            let stats = BenchStats(values: rates)
            let roof = bw.wall / gb, cpuRoof = bw.cpu / gb
            let cpuMedian = BenchStats(values: cpuRates).median
            BenchReport.row(workload: "decode", type: m.llmType, threads: threads, stats: stats, unit: "tok/s",
                            extra: [("read_gbs", BenchReport.fmt(bw.wall)), ("roofline_toks", BenchReport.fmt(roof)),
                                    ("roofline_ratio", BenchReport.fmt(stats.median / roof)),
                                    ("cpu_rate", BenchReport.fmt(cpuMedian)), ("cpu_read_gbs", BenchReport.fmt(bw.cpu)),
                                    ("cpu_roofline_ratio", BenchReport.fmt(cpuMedian / cpuRoof))])
        }
        BenchReport.peakRSSLine()
    }

    /// Writes small random f16 (or f32) values into the first `length` rows of every K/V slot.
    func fillCache(_ cache: KVCache, length: Int) {
        let count = length * cache.rowBytes
        var bytes = [UInt8](repeating: 0, count: count)
        var s: UInt64 = 0x9E37_79B9_7F4A_7C15
        let f16 = cache.precision == .f16
        bytes.withUnsafeMutableBytes { b in
            if f16 {
                let h = b.bindMemory(to: Float16.self)
                for i in 0..<h.count { s ^= s << 13; s ^= s >> 7; s ^= s << 17; h[i] = Float16(Float(Int(s % 2001) - 1000) * 1e-3) }
            } else {
                let f = b.bindMemory(to: Float.self)
                for i in 0..<f.count { s ^= s << 13; s ^= s >> 7; s ^= s << 17; f[i] = Float(Int(s % 2001) - 1000) * 1e-3 }
            }
        }
        bytes.withUnsafeBytes { b in for slot in 0..<cache.slotCount { cache.writeRawRows(slot: slot, b) } }
        cache.restore(length: length, ntkAlpha: 1)
    }
}

struct PrefillBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prefill",
        abstract: "LLM prefill tok/s over a prompt (default 750 audio + 30 text positions) from an empty cache.",
        discussion: """
        Runs the LLM part of a prefill: --tokens embedded positions through the 32 layers and the last
        position's logits. The audio encoder is measured separately by `earshot bench encoder`.
        llama.cpp's equivalent is `llama-bench -p 780 -n 0`. Example:
          swift run -c release earshot bench prefill --model /work/scratch/bench/qwen7b.q4.ear --threads 1,2 --runs 2
        """)
    @OptionGroup var options: BenchModelOptions
    @Option(help: "Prompt positions (750 audio + 30 text for a 30 s clip).") var tokens: Int = 780

    func run() throws {
        BenchReport.header()
        let m = try options.load()
        let ids = (0..<tokens).map { ($0 * 7919) % m.idRange }
        let cache = m.makeCache(capacity: tokens)
        let gflop = prefillFlopsPerToken(m.llmConfig) / 1e9
        print("prefill: \(m.llmType) weights, \(tokens) positions, \(BenchReport.fmt(gflop)) GFLOP per position in the matmuls")
        _ = try m.decodeStep(id: 1, cache: cache)   // warm the page cache
        try options.forEachThreadCount { threads in
            var rates: [Double] = [], cpuRates: [Double] = []
            for _ in 0..<options.runs {
                cache.reset()
                let s = try BenchClock.measure { _ = try m.prefill(ids: ids, cache: cache) }
                rates.append(Double(tokens) / s.wall)
                cpuRates.append(Double(tokens) * Double(threads) / s.cpu)
            }
            let stats = BenchStats(values: rates)
            BenchReport.row(workload: "prefill", type: m.llmType, threads: threads, stats: stats, unit: "tok/s",
                            extra: [("cpu_rate", BenchReport.fmt(BenchStats(values: cpuRates).median)), ("seconds", BenchReport.fmt(Double(tokens) / stats.median)),
                                    ("gops", BenchReport.fmt(stats.median * gflop))])
        }
        BenchReport.peakRSSLine()
    }

    /// Multiply-adds ×2 of the LLM's linear layers per position (QKV, out, up, gate, down; lm_head once per prompt excluded).
    func prefillFlopsPerToken(_ c: QwenLMConfig) -> Double {
        let H = Double(c.hiddenSize), P = Double(c.projectionSize), F = Double(c.ffnDim)
        return 2 * Double(c.numLayers) * (3 * P * H + H * P + 3 * F * H)
    }
}

struct EncoderBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract: "Audio encoder seconds for one 30 s window (3000 mel frames).",
        discussion: """
        Encodes a random 80 × 3000 log-mel (valid length 3000: conv → 1500 frames → 32 blocks → pool → 750
        outputs). CTranslate2's equivalent is `WhisperModel.encode` on a [1, 80, 3000] input. Example:
          swift run -c release earshot bench encoder --model /work/scratch/bench/qwen7b.q4.ear --threads 1,2 --runs 2
        """)
    @OptionGroup var options: BenchModelOptions
    @Option(help: "Valid mel frames (3000 = 30 s).") var frames: Int = 3000

    func run() throws {
        BenchReport.header()
        let m = try options.load()
        let audioModel = try m.requireAudioModel()
        let a = audioModel.config.audio
        let total = max(frames, 3000)
        var s: UInt64 = 0x2545_F491_4F6C_DD1D
        let values = (0..<(a.nMels * total)).map { _ -> Float in s ^= s << 13; s ^= s >> 7; s ^= s << 17; return Float(Int(s % 2001) - 1000) * 1e-3 }
        let mel = AudioEncoder.Mel(values: values, frames: total, melLength: frames)
        let encType = (try? m.weights.file.tensor(named: TensorNames.audioBlock(0, "ffn_up.weight")).dtype.description) ?? "?"
        print("encoder: \(encType) weights, \(frames) mel frames (\(BenchReport.fmt(Double(frames) / 100)) s of audio)")
        _ = try audioModel.encoder.encode([mel])   // warm the page cache
        try options.forEachThreadCount { threads in
            var secs: [Double] = [], cpuSecs: [Double] = []
            for _ in 0..<options.runs {
                let s = try BenchClock.measure { _ = try audioModel.encoder.encode([mel]) }
                secs.append(s.wall); cpuSecs.append(s.cpu / Double(threads))
            }
            BenchReport.row(workload: "encoder", type: encType, threads: threads, stats: BenchStats(values: secs), unit: "s",
                            extra: [("cpu_rate", BenchReport.fmt(BenchStats(values: cpuSecs).median))])
        }
        BenchReport.peakRSSLine()
    }
}

struct LoadBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Seconds from opening the .ear to the first decoded token's logits (warm page cache).",
        discussion: """
        Each run maps and validates the file, builds the model (every shape checked) and runs one decode step
        from an empty cache (which touches every LLM weight page). The page cache is warm after the first
        run (a warm-up run is not counted). Example:
          swift run -c release earshot bench load --model /work/scratch/bench/qwen7b.q4.ear --threads 2
        """)
    @OptionGroup var options: BenchModelOptions

    func run() throws {
        BenchReport.header()
        func once() throws -> Double {
            try BenchClock.time {
                let m = try options.load()
                let cache = m.makeCache(capacity: 8)
                _ = try m.decodeStep(id: 1, cache: cache)
            }
        }
        _ = try once()
        try options.forEachThreadCount { threads in
            var secs: [Double] = []
            for _ in 0..<options.runs { secs.append(try once()) }
            BenchReport.row(workload: "load", type: "-", threads: threads, stats: BenchStats(values: secs), unit: "s")
        }
        BenchReport.peakRSSLine()
    }
}
