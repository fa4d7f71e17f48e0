// ThreadPool tests: every index runs exactly once, many short regions in a row, nested regions, and a
// multi-threaded matmul equal to the single-threaded one (rows are split, never summed across threads).
import Foundation
import Testing
import Synchronization
import EarshotKernels

@Suite struct ThreadPoolTests {
    @Test(arguments: [0, 1, 2, 3, 17, 1000])
    func everyIndexOnce(n: Int) {
        let pool = ThreadPool(threads: 3)
        let hits = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: max(n, 1))
        for i in 0..<n { (hits + i).initialize(to: Atomic(0)) }
        defer { hits.deallocate() }
        pool.parallelFor(n) { i in hits[i].add(1, ordering: .relaxed) }
        for i in 0..<n { #expect(hits[i].load(ordering: .relaxed) == 1) }
    }

    /// A dropped pool ends its workers: opening and closing models must not pile up threads.
    @Test func droppedPoolsEndTheirThreads() throws {
        func threads() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1 }
        let before = threads()
        try #require(before > 0)
        for _ in 0..<20 {
            let pool = ThreadPool(threads: 4)
            let sum = Atomic<Int>(0)
            pool.parallelFor(64) { i in sum.add(i, ordering: .relaxed) }
            #expect(sum.load(ordering: .relaxed) == 64 * 63 / 2)
        }
        // 60 workers were started; they end asynchronously after their pool is gone.
        var after = threads()
        for _ in 0..<200 where after > before + 3 { usleep(10_000); after = threads() }
        #expect(after <= before + 3, "threads before \(before), after dropping 20 pools of 4: \(after)")
    }

    @Test func manyShortRegions() {
        // 5000 regions back to back (decode-like); the total must be exact.
        let pool = ThreadPool(threads: 2)
        let total = Atomic<Int>(0)
        for _ in 0..<5000 { pool.parallelFor(4) { i in total.add(i + 1, ordering: .relaxed) } }
        #expect(total.load(ordering: .relaxed) == 5000 * 10)
    }

    @Test func nestedRegionRunsSerially() {
        let pool = ThreadPool(threads: 2)
        let total = Atomic<Int>(0)
        pool.parallelFor(4) { _ in pool.parallelFor(3) { j in total.add(j, ordering: .relaxed) } }
        #expect(total.load(ordering: .relaxed) == 4 * 3)
    }

    @Test(arguments: [(WeightType.q4, 3), (.q4, 11), (.q8, 3), (.q8, 11), (.f16, 2)])
    func threadedMatmulEqualsSingleThreaded(type: WeightType, tokens: Int) throws {
        // Each output is computed by exactly one thread with the same code → bit-identical results
        // (decode matvec and the GEMM tiles, whose 32-row blocks then straddle the threads' row chunks).
        let m = try OwnedMatrix(type, rows: 301, cols: 512, values: gaussianWithOutliers(301 * 512, seed: 8))
        let x = gaussianWithOutliers(tokens * 512, seed: 9)
        let pool = ThreadPool.shared
        let saved = pool.activeThreads
        defer { pool.activeThreads = saved }
        func run() -> [Float] {
            var y = [Float](repeating: .nan, count: tokens * 301)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Kernels.matmul(m.matrix, xp.baseAddress!, tokens: tokens, $0.baseAddress!) } }
            return y
        }
        pool.activeThreads = 1
        let one = run()
        pool.activeThreads = pool.threadCount
        #expect(run() == one)
    }
}
