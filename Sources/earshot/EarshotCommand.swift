// earshot: the command-line interface. Each subcommand lives in its own file next to this one.
import ArgumentParser
import EarshotCPU
import EarshotFormat
import Foundation

@main
struct EarshotCommand: ParsableCommand {
    /// Sets up stdout before any command runs (line-buffered into pipes); an interrupt removes the
    /// temporary files of unfinished writes; a model file truncated under the process ends it with one
    /// line naming the file instead of a crash (Docs/hardening.md).
    static func main() {
        refuseThisCPU(tool: "earshot")
        Terminal.configure()
        EarWriter.deleteTemporaryFilesOnSignals()
        MappedFileFaults.install()
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "earshot",
        abstract: "Run Qwen-Audio, Qwen2-Audio, Whisper and Qwen text LLMs on the CPU: transcribe, translate, caption, ask and chat about audio; generate and chat with text.",
        version: earshotVersion,
        subcommands: [InspectCommand.self, TokenizeCommand.self, MelCommand.self, RunCommand.self, TranscribeCommand.self, TranslateCommand.self, CaptionCommand.self, AskCommand.self, ClassifyCommand.self, NotesCommand.self, TimestampsCommand.self, ChatCommand.self, GenerateCommand.self])
}

let earshotVersion = "0.2.0-dev"

/// On a CPU the kernels were not built for, one line and exit status 1 before any kernel code can run
/// (`--help` and `--version` still answer).
func refuseThisCPU(tool: String) {
    guard let reason = BuildCPU.refusal else { return }
    let args = CommandLine.arguments.dropFirst()
    if args.isEmpty || args.contains(where: { ["--help", "-h", "--version", "help"].contains($0) }) { return }
    FileHandle.standardError.write(Data("\(tool): \(reason)\n".utf8))
    exit(1)
}
