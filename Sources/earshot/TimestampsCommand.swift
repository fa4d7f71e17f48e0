// `earshot timestamps`: transcription with word timestamps (SRWT task tags, spec §6), parsed into timed
// words and segments (srt/vtt/json), shifted by each 30 s window's start.
import ArgumentParser
import Earshot

struct TimestampsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timestamps",
        abstract: "Transcribe with word and segment times (Qwen-Audio SRWT task tags).",
        discussion: """
            Prompt: <audio>FILE</audio><|startoftranscript|><|LANG|><|transcribe|><|LANG|><|timestamps|><|0.00|>. \
            The model answers <|t0|>word<|t1|>word<|t2|>… ; --format srt/vtt/json turn that into segments \
            (txt prints the raw text with its timestamp tokens).

            Example:
              earshot timestamps --model m.ear --lang zh --format srt talk.wav > talk.srt
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: TaskOutputOptions

    @Option(name: .long, help: "Spoken language: en, zh, de, es, ko, fr, ja, it.")
    var lang: String = "en"

    @Argument(help: ArgumentHelp("The audio files ('-' reads standard input).", valueName: "AUDIO"))
    var audio: [String]

    func run() throws {
        try TaskRunner(command: "timestamps", options: options, output: output).run(.task(.timestamps(language: try parseLanguage(lang, option: "--lang"))), inputs: audio)
    }
}
