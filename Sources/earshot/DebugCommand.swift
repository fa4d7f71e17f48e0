// `earshot debug …` (hidden): developer tools. `write-example FILE` writes a small valid .ear file
// (one tensor of every dtype, typed metadata, a zstd and a raw blob) for demos and tests until
// converted models exist. Its q8/q4 tensors are placeholders of the right size, not real blocks.
import ArgumentParser
import EarshotFormat
import Foundation

struct DebugCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "Developer tools (unstable).",
        shouldDisplay: false,
        subcommands: [WriteExample.self])

    struct WriteExample: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "write-example",
            abstract: "Write a small example .ear file (placeholder q8/q4 bytes) for demos and tests.",
            discussion: """
                Examples:
                  earshot debug write-example /tmp/example.ear && earshot inspect /tmp/example.ear
                  earshot debug write-example --tiny /tmp/tiny.ear   # the file hexdumped in Formats/EAR.md
                """)

        @Argument(help: "Where to write the file (replaced atomically if it exists).")
        var file: String

        @Flag(help: "Write the minimal file (one f32 [2, 2] tensor and one raw blob) instead.")
        var tiny = false

        func run() throws {
            do {
                if tiny {
                    try EarExample.writeTiny(path: file)
                } else {
                    try EarExample.write(path: file, converter: "earshot debug write-example \(earshotVersion)")
                }
            } catch {
                FileHandle.standardError.write(Data("earshot debug write-example: \(error.description)\n".utf8))
                throw ExitCode(1)
            }
            print("wrote \(file)")
        }
    }
}
