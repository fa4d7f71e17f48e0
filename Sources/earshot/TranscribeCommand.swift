// `earshot transcribe`: speech to text with the pre-trained model's ASR tags (spec §6).
import ArgumentParser
import Earshot

struct TranscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcribe",
        abstract: "Transcribe speech (Qwen-Audio ASR task tags).",
        discussion: """
            Prompt: <audio>FILE</audio><|startoftranscript|><|LANG|><|transcribe|><|LANG|><|notimestamps|><|wo_itn|> \
            (<|itn|> with --itn). Sampling defaults come from the model's generation config (the eval \
            scripts decode with --greedy); at most 256 tokens. Audio longer than 30 s runs in 30 s windows \
            with their time offsets (--truncate: only the first 30 s, like the reference).

            With no --model it uses the default model (Whisper tiny.en, q8) that Tools/get-default-model.sh \
            installs in ~/.cache/earshot ($EARSHOT_CACHE); a Whisper model runs Whisper's own pipeline \
            (beam 5, --greedy for greedy search).

            Examples:
              earshot transcribe talk.wav                                   # the default model
              earshot transcribe --model qwen-audio.q4.ear talk.wav
              earshot transcribe --model m.ear --lang zh --itn --format srt \\
                meeting.flac > meeting.srt
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: TaskOutputOptions

    @Option(name: .long, help: "Spoken language: en, zh, de, es, ko, fr, ja, it.")
    var lang: String = "en"

    @Flag(name: .long, help: "Inverse text normalisation (numbers, punctuation): <|itn|> instead of <|wo_itn|>.")
    var itn = false

    @Argument(help: ArgumentHelp("The audio file.", valueName: "AUDIO"))
    var audio: String

    func run() throws {
        var options = options
        options.model = try DefaultModel.resolve(options.model)          // Sources/earshot/DefaultModel.swift
        if let m = options.model, WhisperTranscriber.isWhisperModel(path: m) {   // Sources/earshot/WhisperTranscribe.swift
            return try runWhisperTranscribe(model: m, audio: audio, greedy: options.greedy, output: output)
        }
        let task = AudioTask.transcribe(language: try parseLanguage(lang, option: "--lang"), itn: itn)
        try runTask(task, command: "transcribe", audio: audio, options: options, output: output)
    }
}
