// `earshot transcribe` without --model: uses the cached default model, or names the command that fetches it.
import Foundation
import Testing
import EarshotTestSupport

@Suite struct DefaultModelCLITests {
    @Test func missingDefaultModelNamesTheFetchCommand() throws {
        let dir = try TemporaryDirectory()
        let result = try CLIRunner.run(["transcribe", Fixtures.url("audio/jfk.wav").path],
                                       environment: ["EARSHOT_CACHE": dir.url.path])
        #expect(result.exitCode == 1)
        #expect(result.stderrLines.count == 1)
        #expect(result.stderr.contains("Tools/get-default-model.sh"))
        #expect(result.stderr.contains(dir.url.appendingPathComponent("whisper-tiny.en.q8.ear").path))
    }

    @Test func cachedDefaultModelIsUsed() throws {
        // A file that is not a model sits where the default model goes: the command must try to open it
        // (and fail on it), proving the default path is the one used.
        let dir = try TemporaryDirectory()
        let fake = dir.url.appendingPathComponent("whisper-tiny.en.q8.ear")
        try Data("not a model".utf8).write(to: fake)
        let result = try CLIRunner.run(["transcribe", Fixtures.url("audio/jfk.wav").path],
                                       environment: ["EARSHOT_CACHE": dir.url.path])
        #expect(result.exitCode != 0)
        #expect(!result.stderr.contains("Tools/get-default-model.sh"))
        #expect(result.stderr.contains("whisper-tiny.en.q8.ear"))
    }
}
