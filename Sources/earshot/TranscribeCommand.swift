// `earshot transcribe`: speech to text with any model — Whisper's long-form decoding (faster-whisper's
// algorithm: timestamps, seek, previous-text conditioning, temperature fallback, silence skipping) or
// Qwen-Audio's ASR task tags over ≤ 30 s windows. Also the shared flag handling of `translate`.
import ArgumentParser
import Earshot
import Foundation

struct TranscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcribe",
        abstract: "Transcribe speech (Whisper long-form decoding, or Qwen-Audio's ASR task tags).",
        discussion: """
            With no --model it uses the default model (Whisper tiny.en, q8) that Tools/get-default-model.sh \
            installs in ~/.cache/earshot ($EARSHOT_CACHE).

            Whisper models decode like faster-whisper: timestamp tokens cut the text into segments, each \
            window starts after the last complete segment (no word is cut at a window edge), the previous \
            text conditions the next window, a window is decoded again at a higher temperature when its text \
            is too repetitive or unlikely, and silent windows are skipped. Multilingual models detect the \
            language when --lang is not given. Defaults: beam 5, temperatures 0,0.2,…,1.0.

            Qwen-Audio models run <audio>…</audio><|startoftranscript|><|LANG|><|transcribe|><|LANG|>\
            <|notimestamps|><|wo_itn|> (<|itn|> with --itn) on each ≤ 30 s window; sampling defaults come \
            from the model's generation config (--greedy for the eval scripts' decoding).
            Qwen2-Audio models run <|audio_bos|><|AUDIO|><|audio_eos|>Detect the language and recognize the \
            speech: <|LANG|> on each window, greedy (its evals' decoding); --itn is refused.

            Output: --format txt (the text, one segment per line, streamed as it is decoded), json (one \
            schema for every model: model, task, audio, duration, language, text, segments, windows), srt, \
            vtt, tsv; -o FILE writes one file; --output-dir DIR writes DIR/NAME.FORMAT for each input \
            (several formats: --format txt,srt,json or --format all). '-' reads the audio from standard input.

            Examples:
              earshot transcribe talk.wav                                   # the default model
              earshot transcribe --model whisper-base.q8.ear --lang es entrevista.mp3
              earshot transcribe --format srt -o talk.srt talk.mp3
              earshot transcribe --output-dir out --format all a.wav b.flac
              cat note.ogg | earshot transcribe -
              earshot transcribe --model qwen-audio.q4.ear --lang zh --itn meeting.flac
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var decoding: DecodingFlags
    @OptionGroup var output: TaskOutputOptions

    @Option(name: .long, help: "Spoken language (ISO code; Whisper: detected when not given; Qwen-Audio: en, zh, de, es, ko, fr, ja, it, default en).")
    var lang: String?

    @Flag(name: .long, help: "Qwen-Audio: inverse text normalisation (numbers, punctuation): <|itn|> instead of <|wo_itn|>.")
    var itn = false

    @Argument(help: ArgumentHelp("The audio files ('-' reads standard input).", valueName: "AUDIO"))
    var audio: [String]

    func run() throws {
        try runSpeech(command: "transcribe", options: options, decoding: decoding, output: output, lang: lang, itn: itn,
                      target: nil, inputs: audio)
    }
}

/// transcribe / translate: resolve the model (default model when none), check the family's flags, run.
func runSpeech(command: String, options: ModelOptions, decoding: DecodingFlags, output: TaskOutputOptions, lang: String?,
               itn: Bool, target: String?, inputs: [String]) throws {
    var options = options
    do { options.model = try DefaultModel.resolve(options.model, command: command) } catch let f as CLIFailure {
        printError(f.description)
        throw ExitCode(1)
    }
    var t = TranscriptionOptions()
    t.language = lang?.lowercased()
    if let target { t.task = .translate(target: target.lowercased()) }
    t.itn = itn
    if options.greedy { t.beamSize = 1 }
    if let b = decoding.beamSize { t.beamSize = b }
    if let b = decoding.bestOf { t.bestOf = b }
    if let temp = options.temperature { t.temperatures = try ModelOptions.temperatures(temp) }
    t.conditionOnPreviousText = !decoding.noCondition
    t.initialPrompt = decoding.initialPrompt
    t.timestamps = !decoding.noTimestamps
    t.wordTimestamps = decoding.wordTimestamps
    if decoding.vad {
        let path = decoding.vadModel ?? DefaultModel.vadPath
        guard FileManager.default.fileExists(atPath: path) else {
            printError("earshot \(command): --vad needs the Silero VAD model, and \(path) does not exist: run Tools/get-default-model.sh (it converts faster-whisper's silero_vad_v6.onnx) or pass --vad-model FILE.ear")
            throw ExitCode(1)
        }
        do { t.voiceActivity = try VoiceActivityDetector(path: path) } catch {
            printError("earshot \(command): --vad-model: \(error.description)")
            throw ExitCode(1)
        }
    }
    t.maxNewTokens = options.maxTokens
    t.seed = options.seed
    t.truncate = output.truncate
    // The Qwen-Audio task the same flags mean (used when the model is Qwen-Audio).
    let spoken = try parseLanguageIfQwen(lang ?? "en")
    let qwenTask: AudioTask = target.map { .translate(source: spoken, target: (try? parseLanguageIfQwen($0)) ?? .en) }
        ?? .transcribe(language: spoken, itn: itn)
    var runner = TaskRunner(command: command, options: options, output: output)
    runner.decoding = decoding
    runner.itn = itn
    runner.languageGiven = lang
    runner.targetGiven = target
    runner.voiceActivity = t.voiceActivity
    try runner.run(.transcription(t, qwenTask: qwenTask), inputs: inputs)
}

/// A Qwen-Audio language, or English when the code is one only Whisper knows (checked after loading).
private func parseLanguageIfQwen(_ s: String) throws -> AudioLanguage { AudioLanguage(rawValue: s.lowercased()) ?? .en }
