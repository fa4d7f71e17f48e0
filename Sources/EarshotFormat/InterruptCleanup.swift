// InterruptCleanup: lets an executable (the converter, `earshot debug`) delete the temporary files of
// unfinished EarWriters when the process is interrupted (SIGINT, SIGTERM, SIGHUP), then die of the same
// signal as it would have. Opt-in: libraries must not install signal handlers behind an app's back.
//
// The handler only calls async-signal-safe functions (unlink, signal, raise) on a fixed table of C
// strings; writers register their temporary path on creation and clear it when they finish or fail.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum TemporaryFileRegistry {
    static let capacity = 256
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        return p
    }()
    nonisolated(unsafe) static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    /// Registers `path`; returns its slot, or nil when the table is full (then no cleanup on signals).
    static func register(_ path: String) -> Int? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        for i in 0..<capacity where slots[i] == nil {
            slots[i] = strdup(path)
            return i
        }
        return nil
    }

    static func unregister(_ slot: Int?) {
        guard let slot else { return }
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        let p = slots[slot]
        slots[slot] = nil      // cleared before freed: a handler never sees a freed pointer
        free(p)
    }
}

/// The signal handler: unlink every registered file, restore the default action, re-raise.
private func deleteTemporaryFilesAndReraise(_ sig: Int32) {
    for i in 0..<TemporaryFileRegistry.capacity {
        if let p = TemporaryFileRegistry.slots[i] { unlink(p) }
    }
    _ = signal(sig, SIG_DFL)
    raise(sig)
}

extension EarWriter {
    /// Installs handlers for SIGINT, SIGTERM and SIGHUP that delete the temporary files of all
    /// unfinished writers before the process dies of that signal, and unblocks those signals in the
    /// calling thread. Call once, early, from an executable's main thread.
    public static func deleteTemporaryFilesOnSignals() {
        _ = TemporaryFileRegistry.slots     // initialize outside the handler
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            _ = signal(sig) { deleteTemporaryFilesAndReraise($0) }
            sigaddset(&unblock, sig)
        }
        // A parent may have spawned us with these blocked (test runners do); handlers need them delivered.
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }
}
