// TaskCommand: what every task command shares — the model and sampling options, output format, verbosity —
// and the one runner that loads the model, builds the task prompt, streams tokens to stdout, renders
// txt/json/srt/vtt and prints the timing summary on stderr.
import ArgumentParser
import Earshot
import EarshotKernels
import Foundation

/// Model, sampling and output options of the task commands and `chat`.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The converted model (transcribe defaults to Whisper tiny.en from Tools/get-default-model.sh; other commands need one).", valueName: "FILE.ear"))
    var model: String?

    @Flag(name: .long, help: "Greedy decoding (argmax); overrides the sampling options.")
    var greedy = false

    @Option(name: .long, help: "Sampling temperature (default: the model's generation config, else 1).")
    var temperature: Float?

    @Option(name: .long, help: "Keep only the k most likely tokens; 0 = off (default: generation config).")
    var topK: Int?

    @Option(name: .long, help: "Nucleus sampling mass in (0, 1] (default: generation config: 0.8 base, 0.5 chat).")
    var topP: Float?

    @Option(name: .long, help: "Penalise tokens already in the context; 1 = off (default: generation config).")
    var repetitionPenalty: Float?

    @Option(name: .long, help: "Sampling seed: the same seed and model give the same output.")
    var seed: UInt64 = 1234

    @Option(name: .long, help: "Most tokens to generate (default: the task's eval limit; chat: generation config).")
    var maxTokens: Int?

    @Option(name: .long, help: ArgumentHelp("Stop when the output contains this text (repeatable).", valueName: "TEXT"))
    var stop: [String] = []

    @Option(name: .long, help: "Threads for the kernels (default: all cores, or EARSHOT_THREADS).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("KV cache precision.", valueName: "f16|f32"))
    var kvCache: String = "f16"

    @Flag(name: .long, help: "Print only the result (no timing summary on stderr).")
    var quiet = false

    @Flag(name: .long, help: "Also print the prompt size, windows and stop reasons on stderr.")
    var verbose = false

    func validate() throws {
        if let maxTokens, maxTokens < 0 { throw ValidationError("--max-tokens must be ≥ 0") }
        if let topK, topK < 0 { throw ValidationError("--top-k must be ≥ 0") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if let temperature, temperature < 0 { throw ValidationError("--temperature must be ≥ 0") }
        if let repetitionPenalty, repetitionPenalty <= 0 { throw ValidationError("--repetition-penalty must be > 0") }
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
        if kvCache != "f16" && kvCache != "f32" { throw ValidationError("--kv-cache is f16 or f32, not '\(kvCache)'") }
        if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
    }

    /// Loads the model named by --model (a clear error when it is missing).
    func load(command: String) throws -> EarshotModel {
        guard let model else {
            throw CLIFailure(command: command, message: "--model FILE.ear is required (convert a checkpoint with earshot-convert)")
        }
        if let threads { ThreadPool.shared.activeThreads = threads }
        do { return try EarshotModel(path: model) } catch { throw CLIFailure(command: command, message: error.description) }
    }

    /// Sampling from the flags over `defaults`.
    func sampling(_ defaults: GenerationDefaults) -> SamplingParameters {
        var p = defaults.sampling(seed: seed)
        p.greedy = greedy
        if let temperature { p.temperature = temperature }
        if let topK { p.topK = topK }
        if let topP { p.topP = topP }
        if let repetitionPenalty { p.repetitionPenalty = repetitionPenalty }
        return p
    }
}

/// A one-line error for stderr and exit status 1.
struct CLIFailure: Error, CustomStringConvertible {
    let command: String
    let message: String
    var description: String { "earshot \(command): \(message)" }
}

/// Prints to stderr.
func printError(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// Writes to stdout immediately (streamed tokens).
func writeOut(_ s: String) {
    FileHandle.standardOutput.write(Data(s.utf8))
}

/// Options of the single-audio task commands.
struct TaskOutputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Output format.", valueName: "txt|json|srt|vtt"))
    var format: String = "txt"

    @Flag(name: .long, help: "Only the first 30 s, as the reference does (default: longer audio runs in 30 s windows).")
    var truncate = false

    @Flag(name: .long, help: "Print the prompt's token ids (one JSON array) and exit without generating.")
    var printPromptIds = false

    @Flag(name: .long, help: "Print the generated ids (one JSON array per window, stop token included) instead of text.")
    var printIds = false

    func validate() throws {
        guard SubtitleFormat(rawValue: format) != nil else { throw ValidationError("--format is txt, json, srt or vtt, not '\(format)'") }
    }
}

/// Runs one base-model task on one audio file and prints the result.
func runTask(_ task: AudioTask, command: String, audio: String, options: ModelOptions, output: TaskOutputOptions) throws {
    do {
        try runTaskThrowing(task, command: command, audio: audio, options: options, output: output)
    } catch let f as CLIFailure {
        printError(f.description)
        throw ExitCode(1)
    }
}

private func runTaskThrowing(_ task: AudioTask, command: String, audio: String, options: ModelOptions,
                             output: TaskOutputOptions) throws {
    let model = try options.load(command: command)
    let session = model.makeSession()
    session.kvPrecision = options.kvCache == "f32" ? .f32 : .f16
    func fail(_ e: EarshotError) -> CLIFailure { CLIFailure(command: command, message: e.description) }

    if output.printPromptIds {
        var stats = GenerationStats()
        let prompt: PreparedPrompt
        // The first (or only) window's prompt: the reference's prompt for the file.
        do { prompt = try session.prepare(task: task, audio: .file(audio), stats: &stats) } catch { throw fail(error) }
        print("[" + prompt.ids.map(String.init).joined(separator: ",") + "]")
        return
    }

    let d = model.defaults
    let opts = GenerationOptions(sampling: options.sampling(d), maxTokens: options.maxTokens ?? task.defaultMaxTokens,
                                 stopIds: [d.eosTokenId], stopStrings: options.stop)
    let format = SubtitleFormat(rawValue: output.format)!
    let streaming = format == .txt && !output.printIds
    var windowCount = 0
    let results: [WindowResult]
    do {
        results = try session.runWindowed(task, path: audio, truncate: output.truncate, options: opts,
            onWindow: { w in
                windowCount += 1
                if options.verbose {
                    printError(String(format: "earshot: window %d at %.2f s (%.2f s)", w.index, w.startSeconds, w.durationSeconds))
                }
                if streaming && w.index > 0 { writeOut("\n") }
            },
            onToken: { e in
                if streaming { writeOut(e.text) }
                return true
            })
    } catch { throw fail(error) }

    if output.printIds {
        for r in results { print("[" + r.result.ids.map(String.init).joined(separator: ",") + "]") }
    } else if streaming {
        writeOut("\n")
    } else {
        let segments = results.flatMap(\.segments)
        if format == .json {
            print(jsonReport(task: command, audio: audio, results: results, segments: segments))
        } else {
            writeOut(format.render(segments))
        }
    }
    if options.verbose {
        for r in results {
            printError("earshot: window \(r.index): \(r.result.stats.promptTokens) prompt tokens, \(r.result.ids.count) generated, stopped on \(r.result.stopReason)")
        }
    }
    if !options.quiet {
        var total = GenerationStats()
        total.loadSeconds = model.loadSeconds
        for r in results { total.add(r.result.stats) }
        printError(total.summary)
    }
}

/// The `--format json` document: the whole text, the windows and the timed segments.
func jsonReport(task: String, audio: String, results: [WindowResult], segments: [TimedText]) -> String {
    func q(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let arr = String(decoding: data, as: UTF8.self)
        return String(arr.dropFirst().dropLast())
    }
    func num(_ v: Double) -> String { String(format: "%.2f", v) }
    let text = results.map { $0.result.text.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: " ")
    let windows = results.map { r in
        "{\"start\": \(num(r.startSeconds)), \"duration\": \(num(r.durationSeconds)), \"text\": \(q(r.result.text)), "
            + "\"ids\": [\(r.result.ids.map(String.init).joined(separator: ", "))], \"stop\": \(q(r.result.stopReason.description))}"
    }
    let segs = segments.map { "{\"start\": \(num($0.start)), \"end\": \(num($0.end)), \"text\": \(q($0.text))}" }
    return "{\"task\": \(q(task)), \"audio\": \(q(audio)), \"text\": \(q(text)),\n \"windows\": [\(windows.joined(separator: ", "))],\n"
        + " \"segments\": [\(segs.joined(separator: ", "))]}"
}

/// Parses a language tag name (en, zh, de, es, ko, fr, ja, it).
func parseLanguage(_ s: String, option: String) throws -> AudioLanguage {
    guard let l = AudioLanguage(rawValue: s.lowercased()) else {
        throw ValidationError("\(option) is one of \(AudioLanguage.allCases.map(\.rawValue).joined(separator: ", ")), not '\(s)'")
    }
    return l
}
