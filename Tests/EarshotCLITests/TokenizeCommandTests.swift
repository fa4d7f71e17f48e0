// `earshot tokenize`: output formats, --jsonl error lines, --model (tokenizer blob of a .ear file) and
// option errors. Expected ids are the official tokenizer's (encode.jsonl / spec §5).
import EarshotFormat
import EarshotTestSupport
import Foundation
import Testing

@Suite struct TokenizeCommandTests {
    let tiktoken = Fixtures.url("tokenizer/qwen.tiktoken").path

    @Test func encodesAndDecodes() throws {
        let encoded = try CLIRunner.run(["tokenize", "--tokenizer", tiktoken], input: Data("Hello world".utf8))
        #expect(encoded.exitCode == 0, "\(encoded)")
        #expect(encoded.stdout == "[9707,1879]\n")
        let decoded = try CLIRunner.run(["tokenize", "--tokenizer", tiktoken, "--decode"],
                                        input: Data("[9707, 1879, 151859, 9284]".utf8))
        #expect(decoded.stdout == "\"Hello world<|en|>\u{FFFD}\"\n", "\(decoded)")
        let skipped = try CLIRunner.run(["tokenize", "--tokenizer", tiktoken, "--decode", "--skip-special"],
                                        input: Data("[9707, 151859]".utf8))
        #expect(skipped.stdout == "\"Hello\"\n", "\(skipped)")
    }

    @Test func jsonlKeepsGoingAfterAnErrorLine() throws {
        let input = "\"<|im_start|>\"\n42\n\"\\u00e9\\n\"\n"
        let audio = try CLIRunner.run(["tokenize", "--tokenizer", tiktoken, "--jsonl", "--special", "audio"],
                                      input: Data(input.utf8))
        let lines = audio.stdout.split(separator: "\n").map(String.init)
        #expect(audio.exitCode == 0, "\(audio)")
        #expect(lines.count == 3)
        #expect(lines.first == "[27,91,318,4906,91,29]")  // plain text in chat mode
        #expect(lines.dropFirst().first?.hasPrefix("{\"error\": ") == true)
        #expect(lines.last == "[963,198]")
        let decode = try CLIRunner.run(["tokenize", "--tokenizer", tiktoken, "--jsonl", "--decode"],
                                       input: Data("[155165]\n[155163]\n[1]\n".utf8))
        #expect(decode.stdout == """
            {"error": "line 1: Invalid token for decoding: 155165"}
            {"error": "line 2: unclosed <audio> tag (audio #1 has no </audio> after it)"}
            "\\""

            """, "\(decode)")
    }

    @Test func loadsTheTokenizerBlobOfAModelFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-tokenize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let withBlob = directory.appendingPathComponent("model.ear").path
        let writer = try EarWriter(path: withBlob)
        try writer.addBlob(name: "tokenizer.tiktoken", bytes: Array(try Data(contentsOf: URL(fileURLWithPath: tiktoken))),
                           compression: .zstd, level: 3)
        try writer.finish()
        let ok = try CLIRunner.run(["tokenize", "--model", withBlob], input: Data("Audio 1:".utf8))
        #expect(ok.stdout == "[14755,220,16,25]\n", "\(ok)")

        let withoutBlob = directory.appendingPathComponent("empty.ear").path
        let empty = try EarWriter(path: withoutBlob)
        try empty.finish()
        let missing = try CLIRunner.run(["tokenize", "--model", withoutBlob], input: Data("x".utf8))
        #expect(missing.exitCode == 1)
        #expect(missing.stderrLines.count == 1 && missing.stderr.contains("tokenizer.tiktoken"), "\(missing)")
    }

    @Test func optionErrors() throws {
        let none = try CLIRunner.run(["tokenize"], input: Data("x".utf8))
        #expect(none.exitCode == 64 && none.stderr.contains("--tokenizer"), "\(none)")
        let both = try CLIRunner.run(["tokenize", "--tokenizer", tiktoken, "--model", "m.ear"], input: Data())
        #expect(both.exitCode == 64, "\(both)")
        let badFile = try CLIRunner.run(["tokenize", "--tokenizer", "/nonexistent/qwen.tiktoken"], input: Data("x".utf8))
        #expect(badFile.exitCode == 1 && badFile.stderrLines.count == 1, "\(badFile)")
    }
}
