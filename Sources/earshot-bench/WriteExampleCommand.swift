// `earshot-bench write-example FILE` writes a small valid .ear file (one tensor of every dtype, typed metadata,
// a zstd and a raw blob) for the format's tests and the hexdump in Formats/EAR.md. Its q8/q4 tensors are
// placeholders of the right size, not real blocks.
import ArgumentParser
import EarshotFormat
import EarshotSynthetic
import Foundation

struct WriteExample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-example",
        abstract: "Write a small example .ear file (placeholder q8/q4 bytes) for demos and tests.",
        discussion: """
            Examples:
              earshot-bench write-example /tmp/example.ear && earshot inspect /tmp/example.ear
              earshot-bench write-example --tiny /tmp/tiny.ear   # the file hexdumped in Formats/EAR.md
            """)

    @Argument(help: "Where to write the file (replaced atomically if it exists).")
    var file: String

    @Flag(help: "Write the minimal file (one f32 [2, 2] tensor and one raw blob) instead.")
    var tiny = false

    @Option(help: ArgumentHelp("Add a u8 tensor 'example.large' of this many MiB, streamed (benchmarks).", visibility: .hidden))
    var largeTensorMib = 0

    @Option(help: ArgumentHelp("Stop and wait for a signal after this many MiB of the large tensor (interrupt tests).",
                               visibility: .hidden))
    var stallAfterMib: Int?

    func run() throws {
        EarWriter.deleteTemporaryFilesOnSignals()
        do {
            if tiny {
                try EarExample.writeTiny(path: file)
            } else {
                let w = try EarWriter(path: file)
                try EarExample.addContent(to: w, converter: "earshot-bench write-example")
                if largeTensorMib > 0 { try addLargeTensor(to: w) }
                try w.finish()
            }
        } catch {
            FileHandle.standardError.write(Data("earshot-bench write-example: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("wrote \(file)")
    }

    /// Streams `largeTensorMib` MiB of pseudo-random bytes in 1 MiB chunks (the writer holds at
    /// most one chunk).
    private func addLargeTensor(to w: EarWriter) throws {
        var state: UInt64 = 0x5EED
        var chunk = (0..<(1 << 20)).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        try w.addTensor(name: "example.large", dtype: .u8, shape: [largeTensorMib << 20]) { sink in
            for i in 0..<largeTensorMib {
                if i == stallAfterMib {
                    FileHandle.standardOutput.write(Data("stalled after \(i) MiB\n".utf8))
                    while true { pause() }
                }
                chunk[0] = UInt8(truncatingIfNeeded: i)   // chunks differ
                try sink.write(chunk)
            }
        }
    }
}
