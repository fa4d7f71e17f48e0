// ThreadPool: a persistent pool of worker threads with cheap fork/join for the kernels' parallel regions.
//
// `ThreadPool.shared.parallelFor(n) { i in … }` runs body(0..<n) on up to `activeThreads` threads (the caller
// is one of them), handing out indices dynamically, and returns when all are done. Workers spin briefly
// between regions (decode issues hundreds of short regions per token), then sleep on a condition variable.
// A worker that has not joined by the time the caller ran out of indices is shut out of the region, so a
// descheduled worker (shared VM) costs nothing: the caller simply does the work.
// Nested regions run serially on the calling thread. In Embedded Swift (the ARM test build) it is serial.
//
// Kernels use `ThreadPool.current`: the pool installed on the calling thread by `ThreadPool.run(on:)`
// (each loaded model owns one, sized by its options), else `shared`.

#if !hasFeature(Embedded)
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class ThreadPool: @unchecked Sendable {
    /// Sized to the online cores, or to EARSHOT_THREADS when set (≥ 1).
    public static let shared = ThreadPool(threads: ThreadPool.defaultThreadCount())

    /// The pool kernels called on this thread use: the one `run(on:_:)` installed, else `shared`.
    public static var current: ThreadPool {
        guard let raw = pthread_getspecific(currentKey) else { return shared }
        return Unmanaged<ThreadPool>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Runs `body` with `pool` as this thread's `current` pool (restored afterwards; nests).
    public static func run<R, E: Error>(on pool: ThreadPool, _ body: () throws(E) -> R) throws(E) -> R {
        let previous = pthread_getspecific(currentKey)
        pthread_setspecific(currentKey, Unmanaged.passUnretained(pool).toOpaque())
        defer { pthread_setspecific(currentKey, previous) }
        return try body()
    }

    fileprivate static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// What kernels on a worker thread see as `current`: a region nested in a region runs serially.
    fileprivate static let serial = ThreadPool(threads: 1)

    /// The workers and their state. Workers retain the core, not the pool, so dropping the last reference
    /// to a pool stops and ends its threads (a kiosk that reopens models does not pile up threads).
    private let core: PoolCore

    /// Threads available, including the caller.
    public var threadCount: Int { core.threadCount }
    /// Threads a region may use (1…threadCount); lower it to measure or to leave cores free.
    public var activeThreads: Int {
        get { core.activeThreads }
        set { core.activeThreads = newValue }
    }

    public init(threads: Int) { core = PoolCore(threads: threads) }

    deinit { core.stop() }

    static func defaultThreadCount() -> Int {
        if let s = getenv("EARSHOT_THREADS"), let n = Int(String(cString: s)), n >= 1 { return n }
        return Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Runs body(i) for every i in 0..<count across the active threads; returns when all calls are done.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) { core.parallelFor(count, body) }
}

/// The pool's workers and fork/join state (see the top of the file).
private final class PoolCore: @unchecked Sendable {
    let threadCount: Int
    var activeThreads: Int {
        get { active.load(ordering: .relaxed) }
        set { active.store(Swift.max(1, Swift.min(threadCount, newValue)), ordering: .relaxed) }
    }

    private let active = Atomic<Int>(1)
    private let generation = Atomic<Int>(0)
    private let nextIndex = Atomic<Int>(0)
    private let joined = Atomic<Int>(0)     // workers that joined the open region; `closed` once closed
    private let finished = Atomic<Int>(0)   // joined workers that are done with it
    private static let closed = Int.min / 2
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    // Written by the caller before `generation` is bumped, read by workers after they see the bump.
    private nonisolated(unsafe) var job: ((Int) -> Void)?
    private nonisolated(unsafe) var jobCount = 0
    // Atomic: a worker that woke for an earlier region reads it while the caller sets up the next one.
    private let helpersWanted = Atomic<Int>(0)

    init(threads: Int) {
        threadCount = Swift.max(1, threads)
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        active.store(threadCount, ordering: .relaxed)
        for w in 0..<(threadCount - 1) { startWorker(index: w) }
    }

    /// Ends the workers (called when the pool is dropped: no region can be running). Each worker sees the
    /// bumped generation, finds `stopping` set and returns; the last one to go releases the core.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex); pthread_cond_broadcast(cond); pthread_mutex_unlock(mutex)
    }

    deinit {
        pthread_cond_destroy(cond); pthread_mutex_destroy(mutex)
        cond.deallocate(); mutex.deallocate()
    }

    func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        let p = Swift.min(activeThreads, count)
        if p <= 1 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { esc in
            job = esc
            jobCount = count
            helpersWanted.store(p - 1, ordering: .relaxed)
            nextIndex.store(0, ordering: .sequentiallyConsistent)
            finished.store(0, ordering: .sequentiallyConsistent)
            joined.store(0, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex); pthread_cond_broadcast(cond); pthread_mutex_unlock(mutex)
            }
            while true {
                let i = nextIndex.add(1, ordering: .relaxed).oldValue
                if i >= count { break }
                esc(i)
            }
            // Close the region: workers that have not joined yet (descheduled, asleep) no longer can, so
            // we wait only for those that are really working — a busy machine never stalls the caller.
            let helpers = joined.exchange(Self.closed, ordering: .sequentiallyConsistent)
            while finished.load(ordering: .acquiring) < helpers { Self.pause() }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Spin-wait hint (a plain relaxed re-read; `_mm_pause` does not link from Swift).
    @inline(__always) static func pause() {}

    private func workerLoop(index: Int) {
        // Kernels called from this worker run nested regions serially.
        pthread_setspecific(ThreadPool.currentKey, Unmanaged.passUnretained(ThreadPool.serial).toOpaque())
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < 20_000 { Self.pause(); continue }
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(cond, mutex) }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .sequentiallyConsistent) { return }
            guard index < helpersWanted.load(ordering: .relaxed), tryJoin() else { continue }
            runShare()  // releases its reference to the job before signalling completion
            finished.add(1, ordering: .releasing)
        }
    }

    /// Joins the open region unless the caller has already closed it.
    private func tryJoin() -> Bool {
        var n = joined.load(ordering: .sequentiallyConsistent)
        while n >= 0 {
            let (ok, now) = joined.compareExchange(expected: n, desired: n + 1, ordering: .sequentiallyConsistent)
            if ok { return true }
            n = now
        }
        return false
    }

    /// Takes indices until none are left. Kept out of line so the closure reference held here is gone
    /// before `finished` is incremented (the caller's `withoutActuallyEscaping` checks that).
    @inline(never) private func runShare() {
        guard let body = job else { return }
        let count = jobCount
        while true {
            let i = nextIndex.add(1, ordering: .relaxed).oldValue
            if i >= count { break }
            body(i)
        }
    }

    private final class Start { let pool: PoolCore; let index: Int; init(_ p: PoolCore, _ i: Int) { pool = p; index = i } }

    private func startWorker(index: Int) {
        let ctx = Unmanaged.passRetained(Start(self, index)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { raw in
            let s = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
            s.pool.workerLoop(index: s.index)
            return nil
        }, ctx)
        if rc == 0 { pthread_detach(tid) }
    }
}

#else

/// Embedded build (ARM tests under QEMU): same API, runs serially.
public final class ThreadPool: @unchecked Sendable {
    public static let shared = ThreadPool(threads: 1)
    public static var current: ThreadPool { shared }
    public static func run<R, E: Error>(on pool: ThreadPool, _ body: () throws(E) -> R) throws(E) -> R { try body() }
    public let threadCount = 1
    public var activeThreads: Int { get { 1 } set {} }
    public init(threads: Int) {}
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) { for i in 0..<count { body(i) } }
}

#endif
