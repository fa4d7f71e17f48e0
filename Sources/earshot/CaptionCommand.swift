// `earshot caption`: audio captioning (AAC task tags, spec §6).
import ArgumentParser
import Earshot

struct CaptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption",
        abstract: "Describe a sound in one sentence (Qwen-Audio captioning task tags).",
        discussion: """
            Prompt: <audio>FILE</audio><|startofanalysis|><|unknown|><|caption|><|en|><|notimestamps|><|caption_STYLE|>, \
            at most 30 tokens.

            Example:
              earshot caption --model m.ear --style audiocaps street.wav
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: TaskOutputOptions

    @Option(name: .long, help: ArgumentHelp("Caption style the model was trained with.", valueName: "clotho|audiocaps|plain"))
    var style: String = "clotho"

    @Argument(help: ArgumentHelp("The audio files ('-' reads standard input).", valueName: "AUDIO"))
    var audio: [String]

    func validate() throws {
        guard CaptionStyle(rawValue: style) != nil else { throw ValidationError("--style is clotho, audiocaps or plain, not '\(style)'") }
    }

    func run() throws {
        try TaskRunner(command: "caption", options: options, output: output).run(.task(.caption(style: CaptionStyle(rawValue: style)!)), inputs: audio)
    }
}
