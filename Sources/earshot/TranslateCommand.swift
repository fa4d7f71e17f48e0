// `earshot translate`: speech translation — Qwen-Audio's S2TT task tags (any of its 8 languages to
// another), or Whisper's <|translate|> task (multilingual models, into English).
import ArgumentParser
import Earshot

struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate speech into text in another language (Qwen-Audio S2TT tags, or Whisper into English).",
        discussion: """
            Qwen-Audio: <audio>FILE</audio><|startoftranscript|><|FROM|><|translate|><|TO|><|notimestamps|><|itn|>.
            Qwen2-Audio: <|audio_bos|><|AUDIO|><|audio_eos|>Detect the language and translate the speech into \
            TARGET: <|FROM|> (TARGET the language's English name, e.g. German).
            Whisper (multilingual models): the <|translate|> task, into English only, with the long-form \
            decoding of `transcribe` (the spoken language is detected when --from is not given).
            Output formats and files as for `transcribe`.

            Examples:
              earshot translate --model qwen-audio.q4.ear --from de --to en interview.wav
              earshot translate --model whisper-base.q8.ear --to en entrevista.mp3
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var decoding: DecodingFlags
    @OptionGroup var output: TaskOutputOptions

    @Option(name: .long, help: "Spoken language (Whisper: detected when not given; Qwen-Audio: default en).")
    var from: String?

    @Option(name: .long, help: "Output language (Whisper: en only; Qwen-Audio: en, zh, de, es, ko, fr, ja, it).")
    var to: String

    @Argument(help: ArgumentHelp("The audio files ('-' reads standard input).", valueName: "AUDIO"))
    var audio: [String]

    func run() throws {
        try runSpeech(command: "translate", options: options, decoding: decoding, output: output, lang: from, itn: false,
                      target: to, inputs: audio)
    }
}
