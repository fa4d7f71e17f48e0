// MappedFileFaults: turns the SIGBUS (or SIGSEGV) a process gets when a file it has mapped is truncated
// or replaced in place while in use into one clear line on stderr and a clean exit, instead of a crash.
//
// Every read-only file mapping of this package registers itself here (EarFile, the converter's
// MappedFile): its address range and a ready-made message naming the file. Executables opt in once with
// `MappedFileFaults.install()`; then a fault whose address lies in a registered mapping writes
//   error: the model file 'X' changed or was truncated while in use (reading it failed with SIGBUS); ...
// with write(2), deletes the temporary files of unfinished writers (InterruptCleanup) and `_exit`s with
// status 128 + signal. Any other fault is handed to the handler that was there before (Swift's runtime
// backtracer, or the default action), so genuine crashes still look like crashes.
//
// Why this cannot be a recoverable Swift error: the fault happens inside an ordinary load in the middle
// of a kernel loop. Swift has no way to unwind from a signal handler: `siglongjmp` out of Swift frames
// skips their releases, `defer`s and exclusivity bookkeeping and can leave locks (the thread pool's,
// malloc's) held, so the process would carry on in a corrupted state. Making it recoverable would mean
// not mapping at all (pread every tensor: a second copy of the weights in RAM, exactly what the format
// avoids) or checking the file's size before every access (still racy). So the honest outcome is: name
// the file, clean up, exit. (A read lease, F_SETLEASE, could warn before the truncation, but only for
// files the user owns and not on every file system; not done.)
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

public enum MappedFileFaults {
    /// Registered mappings: [low, high) address range and the message to print.
    static let table = SignalSafeTable(capacity: 1024)
    /// The actions that were installed before ours, restored for faults that are not ours.
    nonisolated(unsafe) static let previous: UnsafeMutablePointer<sigaction> = {
        let p = UnsafeMutablePointer<sigaction>.allocate(capacity: 2)
        p.initialize(repeating: sigaction(), count: 2)
        return p
    }()
    static let installed = Atomic<Bool>(false)

    /// Registers a read-only mapping of `path` ([base, base + count)); `what` names it in the message
    /// ("model file", "checkpoint shard"). Returns a token for `unregister`. Cheap (no system call).
    public static func register(base: UnsafeRawPointer, count: Int, path: String, what: String = "model file") -> Int? {
        guard count > 0 else { return nil }
        let low = Int(bitPattern: base)
        let message = "error: the \(what) '\(path)' changed or was truncated while in use (reading it failed); "
            + "make sure no other program rewrites or truncates it while earshot runs, then run again\n"
        return table.insert(message, low: low, high: low + count)
    }

    /// Forgets a mapping (call before munmap).
    public static func unregister(_ token: Int?) { table.remove(token) }

    /// Installs the SIGBUS and SIGSEGV handler (idempotent). Call once, early, from an executable's main.
    public static func install() {
        guard !installed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        _ = table                      // initialise outside the handler
        _ = previous
        _ = TemporaryFileRegistry.table
        _ = SignalSafeTable.readerStarted.load(ordering: .relaxed)
        for (i, sig) in [SIGBUS, SIGSEGV].enumerated() {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_sigaction = { sig, info, _ in mappedFileFault(sig, info) }
            #else
            action.__sigaction_u.__sa_sigaction = { sig, info, _ in mappedFileFault(sig, info) }
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_SIGINFO | SA_ONSTACK
            _ = sigaction(sig, &action, previous + i)
        }
    }

    /// The message of the registered mapping containing `address`, if any (async-signal-safe).
    static func message(containing address: Int) -> UnsafePointer<CChar>? {
        table.entry(containing: address)
    }
}

/// The SIGBUS/SIGSEGV handler (async-signal-safe: atomic loads, write, unlink, sigaction, raise, _exit).
private func mappedFileFault(_ sig: Int32, _ info: UnsafeMutablePointer<siginfo_t>?) {
    SignalSafeTable.handlerStarts()
    var address = -1
    var code: Int32 = 0
    if let info {
        #if canImport(Glibc)
        address = Int(bitPattern: info.pointee._sifields._sigfault.si_addr)
        #else
        address = Int(bitPattern: info.pointee.si_addr)
        #endif
        code = info.pointee.si_code
    }
    // A write to a read-only mapping (SEGV_ACCERR) is a bug, not a changed file; signals sent with kill
    // (si_code ≤ 0) carry no fault address.
    let isFileFault = code > 0 && !(sig == SIGSEGV && code == SEGV_ACCERR)
    if isFileFault, let text = MappedFileFaults.message(containing: address) {
        signalSafeWrite(text)
        TemporaryFileRegistry.unlinkAll()
        _exit(128 + sig)
    }
    // Not ours: put the previous action back. A fault re-executes the instruction and reaches it; a
    // signal sent by kill is raised again (delivered when this handler returns).
    let slot = sig == SIGBUS ? 0 : 1
    _ = sigaction(sig, MappedFileFaults.previous + slot, nil)
    if code <= 0 { _ = raise(sig) }
}
