// The CLI on the tiny Qwen2-Audio model (checkpoint `a` converted by earshot-convert): `inspect` names the
// family, the task commands build the prompts the official Qwen2AudioProcessor builds and print the greedy ids
// the official model generates from them (pipeline.goldens.json, made by Tools/qwen2audio/make_pipeline_goldens.py),
// `run` takes `<audio>` tags / --audio, chat runs turns, and what it has no prompt for is refused with a reason.
import Foundation
import Testing
import EarshotTestSupport

@Suite(.serialized) struct Qwen2AudioCLITests {
    struct Golden: Decodable {
        struct Case: Decodable { let name: String; let input_ids: [Int]; let greedy: [Int] }
        let cases: [Case]
    }
    static let golden = try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: Fixtures.url("qwen2-audio-tiny/pipeline.goldens.json")))
    static func goldenCase(_ name: String) -> Golden.Case { golden.cases.first { $0.name == name }! }

    func earshot(_ args: [String], input: Data? = nil) throws -> CLIResult {
        try CLIRunner.run(args + ["--model", try TinyQwen2AudioEar.path()], input: input, currentDirectory: Fixtures.directory, timeout: 300)
    }

    @Test func inspectNamesTheFamily() throws {
        let r = try CLIRunner.run(["inspect", try TinyQwen2AudioEar.path()])
        #expect(r.exitCode == 0 && r.stdout.contains("Qwen2-Audio (family qwen2-audio)"), "\(r)")
    }

    @Test func tasksBuildTheProcessorsPromptsAndGenerateItsIds() throws {
        for (args, name) in [(["transcribe", "audio/jfk.wav"], "asr"), (["translate", "--from", "en", "--to", "de", "audio/jfk.wav"], "translate")] {
            let c = Self.goldenCase(name)
            let prompt = try earshot(args + ["--print-prompt-ids"])
            #expect(prompt.exitCode == 0 && TaskGoldens.idLines(prompt.stdout) == [c.input_ids], "\(name): \(prompt)")
            let ids = try earshot(args + ["--print-ids", "--max-tokens", "\(c.greedy.count)"])
            #expect(ids.exitCode == 0 && TaskGoldens.idLines(ids.stdout).first == c.greedy, "\(name): \(ids)")
        }
    }

    @Test func runTakesAudioTagsAndChatRunsTurns() throws {
        let c = Self.goldenCase("asr")
        let run = try earshot(["run", "--audio", "audio/jfk.wav", "--prompt", "Detect the language and recognize the speech: <|en|>",
                               "--print-ids", "--max-tokens", "\(c.greedy.count)"])
        #expect(run.exitCode == 0 && TaskGoldens.idLines(run.stdout).first == c.greedy, "\(run)")
        let chat = try earshot(["chat", "--audio", "audio/jfk.wav", "--turn", "What does the speaker say?", "--turn", "Again.",
                                "--print-ids", "--max-tokens", "4"])
        #expect(chat.exitCode == 0 && TaskGoldens.idLines(chat.stdout).count == 2, "\(chat)")
        // Voice chat: an empty turn with an audio attached sends the audio alone.
        let voice = Self.goldenCase("voice_chat")
        let v = try earshot(["chat", "--audio", "audio/jfk.wav", "--turn", "", "--print-prompt-ids", "--print-ids",
                             "--max-tokens", "\(voice.greedy.count)"])
        #expect(v.exitCode == 0 && TaskGoldens.idLines(v.stdout) == [voice.input_ids, voice.greedy], "\(v)")
    }

    @Test func whatItHasNoPromptForIsRefused() throws {
        for (args, reason) in [(["caption", "--style", "clotho", "audio/jfk.wav"], "clotho"), (["notes", "audio/jfk.wav"], "notes"),
                               (["timestamps", "audio/jfk.wav"], "timestamps"), (["transcribe", "--itn", "audio/jfk.wav"], "inverse text normalisation")] {
            let r = try earshot(args)
            #expect(r.exitCode == 1 && r.stderr.contains(reason) && !r.stderr.contains("Fatal"), "\(args): \(r)")
        }
    }
}
