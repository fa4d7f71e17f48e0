// SignalSafeTable: a fixed table that signal handlers may read while ordinary code adds and removes
// entries: the temporary files of unfinished writers (InterruptCleanup) and the mapped files
// (MappedFileFaults). Each entry is a C string (a path or a ready-made message) and a byte range.
//
// Why not a mutex-protected array: a handler may interrupt the thread that holds the mutex, and it may
// not allocate, lock or touch reference counts. So slots are claimed with a compare-exchange, an
// entry's fields are written before its text pointer is published (release), handlers read with
// acquire/sequentially consistent loads only, and a text is never freed once any handler has started
// reading (`readerStarted`, set for ever by the first handler: the process is about to end anyway, so
// the few bytes that are then not freed do not matter).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

final class SignalSafeTable: @unchecked Sendable {   // all mutable state is atomic
    let capacity: Int
    /// [capacity] 0: free, 1: being filled or emptied, else the address of a malloc'd C string.
    private let texts: UnsafeMutablePointer<Atomic<Int>>
    /// [capacity] byte range [low, high) of the entry (MappedFileFaults), 0 otherwise.
    private let lows: UnsafeMutablePointer<Atomic<Int>>
    private let highs: UnsafeMutablePointer<Atomic<Int>>

    /// Set by a signal handler before it reads any table; from then on no text is freed.
    static let readerStarted = Atomic<Int>(0)

    init(capacity: Int) {
        self.capacity = capacity
        texts = .allocate(capacity: capacity)
        lows = .allocate(capacity: capacity)
        highs = .allocate(capacity: capacity)
        for i in 0..<capacity {
            (texts + i).initialize(to: Atomic(0))
            (lows + i).initialize(to: Atomic(0))
            (highs + i).initialize(to: Atomic(0))
        }
    }

    /// Adds an entry; returns its slot, or nil when the table is full (the entry is then simply not
    /// seen by handlers).
    func insert(_ text: String, low: Int = 0, high: Int = 0) -> Int? {
        for i in 0..<capacity where texts[i].load(ordering: .relaxed) == 0 {
            guard texts[i].compareExchange(expected: 0, desired: 1, ordering: .sequentiallyConsistent).exchanged else { continue }
            lows[i].store(low, ordering: .relaxed)
            highs[i].store(high, ordering: .relaxed)
            guard let copy = strdup(text) else { texts[i].store(0, ordering: .sequentiallyConsistent); return nil }
            texts[i].store(Int(bitPattern: copy), ordering: .sequentiallyConsistent)
            return i
        }
        return nil
    }

    /// Removes the entry in `slot` (nil: nothing to do).
    func remove(_ slot: Int?) {
        guard let slot, slot >= 0, slot < capacity else { return }
        let old = texts[slot].exchange(1, ordering: .sequentiallyConsistent)
        if old > 1, SignalSafeTable.readerStarted.load(ordering: .sequentiallyConsistent) == 0 {
            free(UnsafeMutableRawPointer(bitPattern: old))
        }
        texts[slot].store(0, ordering: .sequentiallyConsistent)
    }

    // MARK: For signal handlers (async-signal-safe: atomic loads only)

    /// Marks that a handler is reading; call first thing in a handler.
    static func handlerStarts() {
        readerStarted.store(1, ordering: .sequentiallyConsistent)
    }

    /// The text of the first published entry whose range contains `address`.
    func entry(containing address: Int) -> UnsafePointer<CChar>? {
        for i in 0..<capacity {
            let t = texts[i].load(ordering: .sequentiallyConsistent)
            guard t > 1 else { continue }
            if address >= lows[i].load(ordering: .relaxed), address < highs[i].load(ordering: .relaxed) {
                return UnsafePointer<CChar>(bitPattern: t)
            }
        }
        return nil
    }

    /// Calls `body` with each published entry (text, low, high).
    func forEach(_ body: (UnsafePointer<CChar>, Int, Int) -> Void) {
        for i in 0..<capacity {
            let t = texts[i].load(ordering: .sequentiallyConsistent)
            guard t > 1, let p = UnsafePointer<CChar>(bitPattern: t) else { continue }
            body(p, lows[i].load(ordering: .relaxed), highs[i].load(ordering: .relaxed))
        }
    }
}

/// Writes the NUL-terminated `text` to standard error with write(2) (async-signal-safe).
func signalSafeWrite(_ text: UnsafePointer<CChar>) {
    var n = 0
    while text[n] != 0 { n += 1 }
    var done = 0
    while done < n {
        let w = write(STDERR_FILENO, text + done, n - done)
        if w <= 0 { if w < 0 && errno == EINTR { continue }; return }
        done += w
    }
}
