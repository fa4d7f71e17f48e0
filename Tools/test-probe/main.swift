// earshot-test-probe: a child process for the tests of what only a whole process can show: the
// mapped-file fault handler (a model truncated under a running process) and atomic writes on a full or
// read-only file system (run inside a private mount namespace by the test). Not installed; tests only.
//
//   earshot-test-probe sigbus FILE.ear [OUT]   map FILE, install MappedFileFaults, (start writing OUT,)
//                                              truncate FILE and read its last tensor: must end in the
//                                              handler's one line and exit status 128 + SIGBUS
//   earshot-test-probe segv                    install the handler, then fault outside any mapping:
//                                              must still crash as a crash
//   earshot-test-probe write PATH BYTES [--force]   AtomicFileWriter.write of BYTES bytes to PATH
import EarshotFormat
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    let line = Array("error: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(1)
}

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "sigbus" where args.count >= 2:
    MappedFileFaults.install()
    let ear: EarFile
    do { ear = try EarFile(path: args[1]) } catch { fail("\(error)") }
    var writer: AtomicFileWriter? = nil
    if args.count >= 3 {
        do {
            writer = try AtomicFileWriter(path: args[2], overwrite: true)
            try writer!.write([UInt8](repeating: 1, count: 4096))
        } catch { fail("\(error)") }
        let line = Array((writer!.temporaryPath + "\n").utf8)   // write(2): _exit in the handler flushes nothing
        _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }
    // Another program truncates the file under us: only the header page is left.
    guard truncate(args[1], off_t(16_384)) == 0 else { fail("truncate: \(String(cString: strerror(errno)))") }
    let last = ear.tensors.max { $0.offset < $1.offset }!
    let sum = XXH64.hash(ear.bytes(of: last))   // touches pages past the new end: SIGBUS
    print("no fault (checksum \(sum))")
    withExtendedLifetime(writer) {}
    exit(3)
case "segv":
    MappedFileFaults.install()
    let p = UnsafeMutablePointer<Int>(bitPattern: 64)!
    p.pointee = 1
    print("no fault")
    exit(3)
case "write" where args.count >= 3:
    guard let count = Int(args[2]) else { fail("BYTES must be a number") }
    do {
        try AtomicFileWriter.write([UInt8](repeating: 0x5A, count: count), to: args[1], overwrite: args.contains("--force"))
    } catch { fail("\(error)") }
    print("wrote \(count) bytes")
default:
    fail("usage: earshot-test-probe sigbus FILE.ear [OUT] | segv | write PATH BYTES [--force]")
}
