// `earshot inspect FILE [--verify] [--json]`: prints a .ear file's header, metadata, blobs, tensor
// table and totals by dtype; `--verify` checks every checksum. Any problem → one line on stderr and
// exit code 1 (the file is validated in full before anything is printed).
import ArgumentParser
import EarshotFormat
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what is inside a .ear model file, and optionally verify its checksums.",
        discussion: """
            Validates the whole file structure (header, tables, names, metadata, alignment, bounds) \
            before printing. With --verify it also checks the XXH64 checksum of the index, of every \
            blob and of every tensor (this reads the whole file).

            Exit status: 0 when the file is valid (and, with --verify, every checksum matches); \
            1 with a one-line reason on stderr otherwise.

            Examples:
              earshot inspect qwen-audio-q4.ear
              earshot inspect --verify qwen-audio-q4.ear
              earshot inspect --json model.ear | jq '.tensors[].name'

            Without a model at hand, write a small example file first:
              earshot debug write-example /tmp/x.ear && earshot inspect /tmp/x.ear
            """)

    @Argument(help: "The .ear file to inspect.")
    var file: String

    @Flag(help: "Check every checksum (reads the whole file).")
    var verify = false

    @Flag(help: "Print machine-readable JSON instead of tables.")
    var json = false

    func run() throws {
        let ear: EarFile
        do {
            ear = try EarFile(path: file)
        } catch {
            throw fail(error)
        }
        var verifyError: EarError? = nil
        if verify {
            let progress = VerifyProgress()
            do { try ear.verify(progress: progress.update) } catch { verifyError = error }
            progress.finish()
        }
        if json {
            print(InspectReport.json(ear, path: file, verified: verify ? (verifyError == nil) : nil))
        } else {
            print(InspectReport.text(ear, path: file), terminator: "")
            if verify, verifyError == nil {
                print("verify: OK (index, \(ear.blobs.count) blobs, \(ear.tensors.count) tensors)")
            }
        }
        if let verifyError { throw fail(verifyError) }
    }

    /// Writes the one-line reason to stderr and returns the exit code to throw.
    private func fail(_ error: EarError) -> ExitCode {
        let line = "earshot inspect: \(file): \(error.description)"
        let oneLine = String(line.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        FileHandle.standardError.write(Data((oneLine + "\n").utf8))
        return ExitCode(1)
    }
}

/// "verifying: 42% (1.9 GiB of 4.5 GiB)" on stderr, redrawn in place — only when stderr is a terminal,
/// so scripts and tests see nothing but the one-line reason on failure.
final class VerifyProgress {
    private let enabled = isatty(STDERR_FILENO) != 0
    private var lastPercent = -1
    private var drawn = false

    func update(done: Int, total: Int) {
        guard enabled, total > 64 << 20 else { return }   // small files finish before anyone could read it
        let percent = Int(Double(done) / Double(total) * 100)
        guard percent != lastPercent else { return }
        lastPercent = percent
        drawn = true
        let line = "\rverifying: \(percent)% (\(InspectReport.human(done)) of \(InspectReport.human(total)))\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
