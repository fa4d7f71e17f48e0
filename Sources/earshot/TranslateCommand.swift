// `earshot translate`: speech translation (S2TT task tags, spec §6).
import ArgumentParser
import Earshot

struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate speech into another language's text (Qwen-Audio S2TT task tags).",
        discussion: """
            Prompt: <audio>FILE</audio><|startoftranscript|><|FROM|><|translate|><|TO|><|notimestamps|><|itn|>.

            Example:
              earshot translate --model m.ear --from de --to en interview.wav
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: TaskOutputOptions

    @Option(name: .long, help: "Spoken language: en, zh, de, es, ko, fr, ja, it.")
    var from: String = "en"

    @Option(name: .long, help: "Output language: en, zh, de, es, ko, fr, ja, it.")
    var to: String

    @Argument(help: ArgumentHelp("The audio file.", valueName: "AUDIO"))
    var audio: String

    func run() throws {
        let task = AudioTask.translate(source: try parseLanguage(from, option: "--from"), target: try parseLanguage(to, option: "--to"))
        try runTask(task, command: "translate", audio: audio, options: options, output: output)
    }
}
