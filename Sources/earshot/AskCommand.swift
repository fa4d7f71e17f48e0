// `earshot ask`: audio question answering (AQA task tags, spec §6).
import ArgumentParser
import Earshot

struct AskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Answer a question about a sound (Qwen-Audio AQA task tags; short answers).",
        discussion: """
            Prompt: <audio>FILE</audio><|startofanalysis|><|en|><|question|>QUESTION<|answer|>, at most 4 tokens \
            (raise with --max-tokens). For free conversation use `earshot chat` with a chat model.
            Qwen2-Audio: one Instruct chat turn (system prompt, "Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\\n" \
            then the question), greedy, up to 256 tokens.

            Example:
              earshot ask --model m.ear "Is it a bird?" bird.wav
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: TaskOutputOptions

    @Argument(help: ArgumentHelp("The question.", valueName: "QUESTION"))
    var question: String

    @Argument(help: ArgumentHelp("The audio files ('-' reads standard input).", valueName: "AUDIO"))
    var audio: [String]

    func run() throws {
        try TaskRunner(command: "ask", options: options, output: output).run(.task(.ask(question: question)), inputs: audio)
    }
}
