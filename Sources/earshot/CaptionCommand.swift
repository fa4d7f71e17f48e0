// `earshot caption`: audio captioning (Qwen-Audio's AAC task tags, spec §6; Qwen2-Audio's caption prompt).
import ArgumentParser
import Earshot

struct CaptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption",
        abstract: "Describe a sound in one sentence (Qwen-Audio captioning task tags, Qwen2-Audio's caption prompt).",
        discussion: """
            Qwen-Audio prompt: <audio>FILE</audio><|startofanalysis|><|unknown|><|caption|><|en|><|notimestamps|><|caption_STYLE|>, \
            at most 30 tokens (default style clotho).
            Qwen2-Audio prompt: <|audio_bos|><|AUDIO|><|audio_eos|>Generate the caption in English: (its one \
            caption prompt: only --style plain, the default there).

            Example:
              earshot caption --model m.ear --style audiocaps street.wav
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: TaskOutputOptions

    @Option(name: .long, help: ArgumentHelp("Caption style the model was trained with (default: clotho; Qwen2-Audio: plain).",
                                            valueName: "clotho|audiocaps|plain"))
    var style: String?

    @Argument(help: ArgumentHelp("The audio files ('-' reads standard input).", valueName: "AUDIO"))
    var audio: [String]

    func validate() throws {
        if let style, CaptionStyle(rawValue: style) == nil { throw ValidationError("--style is clotho, audiocaps or plain, not '\(style)'") }
    }

    func run() throws {
        var runner = TaskRunner(command: "caption", options: options, output: output)
        let given = style.flatMap(CaptionStyle.init(rawValue:))
        runner.resolveJob = { family in .task(.caption(style: given ?? (family == .qwen2Audio ? .plain : .clotho))) }
        try runner.run(.task(.caption(style: given ?? .clotho)), inputs: audio)
    }
}
