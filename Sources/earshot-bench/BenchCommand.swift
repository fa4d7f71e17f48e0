// `earshot bench kernels`: release-mode kernel benchmark. Measures, in the same run, the machine's read
// bandwidth (a read-only stream over the same bytes), matvec GB/s and % of that bandwidth at the decode
// shapes with cold caches (a rotating pool of matrices larger than the caches), prefill/encoder matmul
// GOPS, thread-pool fork/join overhead and whether 2 threads really scaled 2× in this window.
import ArgumentParser
import EarshotKernels
#if canImport(Glibc)
import Glibc
#endif

struct KernelsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Matvec GB/s vs read bandwidth (cold caches), matmul GOPS, thread-pool overhead.",
        discussion: """
        Build with -c release. Weights are synthetic (speed does not depend on the values). Each matvec
        walks a pool of distinct matrices of at least --pool-mib MiB so every call streams from DRAM;
        the read-only stream over the same bytes runs in the same round, and %read is the ratio.
        Figures are the best of --rounds rounds. With 1 thread the times are process CPU time (robust on a
        shared, overloaded machine: time spent descheduled is not counted; DRAM stalls are); with more
        threads they are wall time. The load average is printed first. Example:
          swift run -c release earshot bench kernels --threads 1,2 --rounds 3
          EARSHOT_KERNELS=portable swift run -c release earshot bench kernels --skip-matmul
        """)

    @Option(help: "Thread counts to measure, comma-separated.") var threads: String = "1,2"
    @Option(help: "Rounds per figure (best is reported).") var rounds: Int = 3
    @Option(help: "Minimum bytes of distinct matrices each matvec rotates through (MiB).") var poolMib: Int = 1024
    @Option(help: "Weight types for matvec, comma-separated (f32,f16,bf16,q8,q4).") var types: String = "f32,q8,q4"
    @Flag(help: "Skip the 155947×4096 vocabulary shape (it needs 2.6 GB for f32).") var skipVocab = false
    @Option(help: "Matvec shapes ROWSxCOLS, comma-separated (default: the decode shapes).") var shapes: String?
    @Flag(help: "Skip the matmul (prefill/encoder) shapes.") var skipMatmul = false

    func run() throws {
        let threadList = threads.split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 }
        let typeList = types.split(separator: ",").compactMap { name in WeightType.allCases.first { $0.name == name } }
        print("kernel path: \(Kernels.path.name)   pool threads: \(ThreadPool.shared.threadCount)   load average: \(loadAverage())")
        var shapes = [(4096, 4096), (11008, 4096), (4096, 11008)]
        if !skipVocab { shapes.append((155_947, 4096)) }
        if let custom = self.shapes {
            shapes = custom.split(separator: ",").compactMap { s in
                let p = s.split(separator: "x").compactMap { Int($0) }
                return p.count == 2 ? (p[0], p[1]) : nil
            }
        }

        // One pool of bytes shared by every matrix view, filled once with values that are valid f32, f16,
        // bf16 (normal numbers) and valid q8/q4 scales.
        let largest = shapes.map { s in typeList.map { $0.rowBytes(cols: s.1)! * s.0 }.max() ?? 0 }.max() ?? 0
        let poolBytes = max(poolMib << 20, largest) + 4096
        let pool = UnsafeMutableRawPointer.allocate(byteCount: poolBytes, alignment: 1 << 21)
        defer { pool.deallocate() }
        fillPool(pool, poolBytes)

        for t in threadList {
            ThreadPool.shared.activeThreads = t
            let active = ThreadPool.shared.activeThreads
            print("\n== threads \(active)" + (active != t ? " (asked \(t))" : "") + (active == 1 ? " (CPU-time based)" : " (wall time)"))
            if active > 1 { print("scaling check (ALU loop, \(active) threads vs 1): \(f2(scaling(active)))x") }
            let o = regionOverhead()
            print("fork/join per region (wall): empty \(f2(o.empty)) µs; \(active) items of ~2 µs: +\(f2(o.loaded)) µs over one item")
            print(pad("matvec", 26) + pad("MB", 9) + pad("read GB/s", 11) + pad("kernel GB/s", 13) + pad("%read", 8) + "µs/call")
            for (rows, cols) in shapes {
                for type in typeList {
                    let r = matvec(type: type, rows: rows, cols: cols, pool: pool, poolBytes: poolBytes)
                    let mb = Double(type.rowBytes(cols: cols)! * rows) / 1e6
                    print(pad("\(type.name) \(rows)x\(cols)", 26) + pad(f1(mb), 9) + pad(f1(r.read), 11) + pad(f1(r.kernel), 13)
                          + pad(f1(100 * r.kernel / r.read) + "%", 8) + f1(r.micros))
                }
            }
            if skipMatmul { continue }
            print(pad("matmul tokens×rows×cols", 26) + pad("type", 6) + pad("GOPS", 9) + "ms/call")
            for (tokens, rows, cols) in [(512, 4096, 4096), (1500, 1280, 1280), (1500, 5120, 1280), (1500, 1280, 5120)] {
                for type in [WeightType.q8, .q4] {
                    let (gops, ms) = matmul(type: type, tokens: tokens, rows: rows, cols: cols, pool: pool)
                    print(pad("\(tokens)x\(rows)x\(cols)", 26) + pad(type.name, 6) + pad(f1(gops), 9) + f1(ms))
                }
            }
        }
        ThreadPool.shared.activeThreads = ThreadPool.shared.threadCount
    }

    // MARK: measurements

    /// Best-of-rounds GB/s for the read-only stream and the kernel over the same rotating matrices.
    func matvec(type: WeightType, rows: Int, cols: Int, pool: UnsafeMutableRawPointer, poolBytes: Int)
        -> (read: Double, kernel: Double, micros: Double) {
        let bytes = type.rowBytes(cols: cols)! * rows
        let stride = (bytes + 4095) & ~4095
        let count = max(1, min((poolBytes - 4096) / stride, max(1, (poolMib << 20) / stride)))
        let x = UnsafeMutablePointer<Float>.allocate(capacity: cols); defer { x.deallocate() }
        for k in 0..<cols { x[k] = Float(k % 17) * 0.1 - 0.8 }
        let y = UnsafeMutablePointer<Float>.allocate(capacity: rows); defer { y.deallocate() }
        let calls = max(count, min(64, Int(2e9) / bytes))  // at least one pass over the pool, ≥ ~2 GB streamed
        var bestRead = 0.0, bestKernel = 0.0, bestMicros = Double.infinity
        var sink: UInt32 = 0
        for _ in 0..<rounds {
            let readSeconds = time {
                for i in 0..<calls { sink ^= readPass(pool + (i % count) * stride, bytes: bytes & ~255) }
            }
            let kernelSeconds = time {
                for i in 0..<calls {
                    let w = WeightMatrix(type: type, rows: rows, cols: cols, base: UnsafeRawPointer(pool + (i % count) * stride))
                    Kernels.matmul(w, x, tokens: 1, y)
                }
            }
            bestRead = max(bestRead, Double(bytes * calls) / readSeconds / 1e9)
            bestKernel = max(bestKernel, Double(bytes * calls) / kernelSeconds / 1e9)
            bestMicros = min(bestMicros, kernelSeconds / Double(calls) * 1e6)
        }
        if sink == 0x1234_5678 { print("") }
        return (bestRead, bestKernel, bestMicros)
    }

    /// The read-only pass, split over the active threads like the kernels (one thread reads ~26 GB/s here,
    /// two up to ~55 when both vCPUs really run).
    func readPass(_ p: UnsafeMutableRawPointer, bytes: Int) -> UInt32 {
        let threads = ThreadPool.shared.activeThreads
        if threads <= 1 { return Kernels.streamRead(p, bytes: bytes) }
        let chunk = (bytes / threads) & ~255
        var sums = [UInt32](repeating: 0, count: threads)
        sums.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            ThreadPool.shared.parallelFor(threads) { i in
                let n = i == threads - 1 ? bytes - chunk * i : chunk
                o[i] = Kernels.streamRead(p + chunk * i, bytes: n)
            }
        }
        return sums.reduce(0, ^)
    }

    func matmul(type: WeightType, tokens: Int, rows: Int, cols: Int, pool: UnsafeMutableRawPointer) -> (Double, Double) {
        let w = WeightMatrix(type: type, rows: rows, cols: cols, base: UnsafeRawPointer(pool))
        let x = UnsafeMutablePointer<Float>.allocate(capacity: tokens * cols); defer { x.deallocate() }
        for k in 0..<(tokens * cols) { x[k] = Float(k % 23) * 0.1 - 1.1 }
        let y = UnsafeMutablePointer<Float>.allocate(capacity: tokens * rows); defer { y.deallocate() }
        var best = Double.infinity
        for _ in 0..<max(1, rounds - 1) { best = min(best, time { Kernels.matmul(w, x, tokens: tokens, y) }) }
        return (2.0 * Double(tokens) * Double(rows) * Double(cols) / best / 1e9, best * 1e3)
    }

    /// Fork/join cost per region, wall µs: (a) an empty region; (b) a region of `activeThreads` items of
    /// ~2 µs each minus the time of one item (what a decode step pays per parallel op when all threads work).
    func regionOverhead() -> (empty: Double, loaded: Double) {
        let pool = ThreadPool.shared
        let n = 20_000, p = pool.activeThreads
        func work() -> UInt64 { var a: UInt64 = 1; for i in 0..<2_000 { a = a &* 6364136223846793005 &+ UInt64(i) }; return a }
        var sink: UInt64 = 0
        let c = ContinuousClock()
        func wall(_ body: () -> Void) -> Double {
            let d = c.measure(body)
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        let empty = wall { for _ in 0..<n { pool.parallelFor(p) { _ in } } }
        let one = wall { for _ in 0..<n { sink ^= work() } }
        let loaded = wall { for _ in 0..<n { pool.parallelFor(p) { _ in let v = work(); if v == 3 { sink ^= v } } } }
        if sink == 5 { print("") }
        return (empty / Double(n) * 1e6, (loaded - one) / Double(n) * 1e6)
    }

    /// Time of `threads` copies of a fixed ALU loop run alone vs in parallel: ≈ threads when really parallel.
    func scaling(_ threads: Int) -> Double {
        let pool = ThreadPool.shared
        func spin() -> UInt64 { var a: UInt64 = 1; for i in 0..<30_000_000 { a = a &* 6364136223846793005 &+ UInt64(i) }; return a }
        var sink: UInt64 = 0
        let one = time { sink ^= spin() }
        let par = time { pool.parallelFor(threads) { _ in let v = spin(); if v == 42 { sink ^= v } } }
        if sink == 7 { print("") }
        return Double(threads) * one / par
    }

    // MARK: helpers

    func fillPool(_ p: UnsafeMutableRawPointer, _ bytes: Int) {
        var s: UInt64 = 0x243F_6A88_85A3_08D3
        let words = p.bindMemory(to: UInt64.self, capacity: bytes / 8)
        for i in 0..<(bytes / 8) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            // every 16-bit lane: random low byte, high byte 0x30…0x3B with a random sign → normal f16/bf16/f32
            var v: UInt64 = 0
            for lane in 0..<4 {
                let r = s >> (16 * UInt64(lane))
                let hi = (0x30 + (r >> 8) % 12) | ((r >> 15) & 1) << 7
                v |= ((r & 0xFF) | (hi & 0xFF) << 8) << (16 * UInt64(lane))
            }
            words[i] = v
        }
    }

    /// Seconds spent in `body`: process CPU time when one thread is active, wall time otherwise.
    func time(_ body: () -> Void) -> Double {
        if ThreadPool.shared.activeThreads == 1 {
            let a = cpuSeconds()
            body()
            return cpuSeconds() - a
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

    func loadAverage() -> String {
        guard let f = fopen("/proc/loadavg", "r") else { return "?" }
        defer { fclose(f) }
        var buf = [CChar](repeating: 0, count: 64)
        guard fgets(&buf, 64, f) != nil else { return "?" }
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.split(separator: " ").prefix(3).joined(separator: " ")
    }

    func f1(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r >= 1e6 ? String(Int(r)) : String(r)
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

    func f2(_ v: Double) -> String { String((v * 100).rounded() / 100) }
}
