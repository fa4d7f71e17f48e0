// InterruptCleanup: lets an executable (the converter, `earshot debug`) delete the temporary files of
// unfinished writers (EarWriter, AtomicFileWriter) when the process is interrupted (SIGINT, SIGTERM,
// SIGHUP), then die of the same signal as it would have (so the exit status still says "interrupted":
// 128 + signal in a shell). Opt-in: libraries must not install signal handlers behind an app's back.
//
// Async-signal safety: the handler calls only unlink, sigaction, pthread_sigmask and raise (all on the
// POSIX list) and reads the writers' paths from a SignalSafeTable with atomic loads (no lock, no
// allocation, no reference counting). The table is a global initialised before the handler is installed,
// so the handler's access is the runtime's already-initialised fast path (one atomic load).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Paths of the temporary files of writers that have not finished (written by AtomicFileWriter).
enum TemporaryFileRegistry {
    static let table = SignalSafeTable(capacity: 256)

    /// Registers `path`; returns its slot, or nil when the table is full (then no cleanup on signals).
    static func register(_ path: String) -> Int? { table.insert(path) }

    static func unregister(_ slot: Int?) { table.remove(slot) }

    /// Unlinks every registered file (async-signal-safe).
    static func unlinkAll() {
        table.forEach { path, _, _ in _ = unlink(path) }
    }
}

/// The handler: unlink every registered file, restore the default action, unblock and re-raise.
private func deleteTemporaryFilesAndReraise(_ sig: Int32) {
    SignalSafeTable.handlerStarts()
    TemporaryFileRegistry.unlinkAll()
    var action = sigaction()
    #if canImport(Glibc)
    action.__sigaction_handler.sa_handler = SIG_DFL
    #else
    action.__sigaction_u.__sa_handler = SIG_DFL
    #endif
    sigemptyset(&action.sa_mask)
    _ = sigaction(sig, &action, nil)
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, sig)
    _ = pthread_sigmask(SIG_UNBLOCK, &set, nil)
    _ = raise(sig)
}

extension EarWriter {
    /// The signals after which `deleteTemporaryFilesOnSignals()` cleans up.
    public static let interruptSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Installs handlers for SIGINT, SIGTERM and SIGHUP that delete the temporary files of all
    /// unfinished writers before the process dies of that signal, and unblocks those signals in the
    /// calling thread. Call once, early, from an executable's main thread.
    public static func deleteTemporaryFilesOnSignals() {
        _ = TemporaryFileRegistry.table          // initialise outside the handler
        _ = SignalSafeTable.readerStarted.load(ordering: .relaxed)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in interruptSignals {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = { deleteTemporaryFilesAndReraise($0) }
            #else
            action.__sigaction_u.__sa_handler = { deleteTemporaryFilesAndReraise($0) }
            #endif
            sigemptyset(&action.sa_mask)
            for other in interruptSignals { sigaddset(&action.sa_mask, other) }   // one cleanup at a time
            action.sa_flags = 0
            _ = sigaction(sig, &action, nil)
            sigaddset(&unblock, sig)
        }
        // A parent may have spawned us with these blocked (test runners do); handlers need them delivered.
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }
}
