// CLIOptions: the flags the task commands share — the model and how to decode (ModelOptions), the
// Whisper long-form decoding flags (DecodingFlags), and what to print or write (TaskOutputOptions). Every
// flag either works for the loaded model or is refused with the reason (`refuseFlags`).
import ArgumentParser
import Earshot
import Foundation

/// Model, sampling and reporting options of the task commands and `chat`.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The converted model (transcribe and translate default to Whisper tiny.en from Tools/get-default-model.sh; other commands need one).", valueName: "FILE.ear"))
    var model: String?

    @Flag(name: .long, help: "Greedy decoding (argmax; a text LLM's default repetition penalty is off too, as llama.cpp's greedy). Whisper: beam size 1.")
    var greedy = false

    @Option(name: .long, help: ArgumentHelp("Sampling temperature. Whisper: the fallback temperatures, comma-separated (default 0,0.2,0.4,0.6,0.8,1.0); one value turns the fallback off.", valueName: "T[,T…]"))
    var temperature: String?

    @Option(name: .long, help: "Qwen models: keep only the k most likely tokens; 0 = off (default: generation config).")
    var topK: Int?

    @Option(name: .long, help: "Qwen models: nucleus sampling mass in (0, 1] (default: generation config: 0.8 base, 0.5 chat; text LLMs 0.8).")
    var topP: Float?

    @Option(name: .long, help: "Qwen models: penalise tokens already in the context; 1 = off (default: generation config; text LLMs 1.05).")
    var repetitionPenalty: Float?

    @Option(name: .long, help: "Sampling seed: the same seed and model give the same output.")
    var seed: UInt64 = 1234

    @Option(name: .long, help: "Most tokens to generate per 30 s window (default: the task's limit; Whisper: 224 at most).")
    var maxTokens: Int?

    @Option(name: .long, help: ArgumentHelp("Qwen-Audio: stop when the output contains this text (repeatable).", valueName: "TEXT"))
    var stop: [String] = []

    @Option(name: .long, help: "Threads for the kernels (default: all cores, or EARSHOT_THREADS).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("Qwen-Audio: KV cache precision (default f16).", valueName: "f16|f32"))
    var kvCache: String?

    @Flag(name: .long, help: "Print only the result (no progress, no timing summary on stderr).")
    var quiet = false

    @Flag(name: .long, help: "Also print the prompt size, windows, fallbacks and stop reasons on stderr.")
    var verbose = false

    func validate() throws {
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be ≥ 1") }
        if let topK, topK < 0 { throw ValidationError("--top-k must be ≥ 0") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if let temperature { _ = try Self.temperatures(temperature) }
        if let repetitionPenalty, !(repetitionPenalty > 0 && repetitionPenalty.isFinite) { throw ValidationError("--repetition-penalty must be > 0") }
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be 1…1024") }
        if let kvCache, kvCache != "f16" && kvCache != "f32" { throw ValidationError("--kv-cache is f16 or f32, not '\(kvCache)'") }
        if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
    }

    /// "0.2" or "0,0.2,0.4": each finite and in 0…5.
    static func temperatures(_ s: String) throws -> [Double] {
        let parts = s.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0!.isFinite && $0! >= 0 && $0! <= 5 }) else {
            throw ValidationError("--temperature takes numbers in 0…5, comma-separated, not '\(s)'")
        }
        return parts.map { $0! }
    }

    /// Loads the model named by --model (a clear error when it is missing).
    func load(command: String) throws -> EarshotModel {
        guard let model else {
            throw CLIFailure(command: command, message: "--model FILE.ear is required (convert a checkpoint with earshot-convert)")
        }
        return try Self.open(model, command: command, threads: threads, kv: kvCache)
    }

    static func open(_ path: String, command: String, threads: Int?, kv: String?) throws -> EarshotModel {
        do {
            return try EarshotModel(path: path, options: Earshot.ModelOptions(threads: threads, kvPrecision: kv == "f32" ? .f32 : .f16))
        } catch { throw CLIFailure(command: command, message: error.description) }
    }

    /// Qwen sampling from the flags over `defaults` (`--greedy` as the model's defaults define it: a text
    /// LLM's is plain argmax unless --repetition-penalty is given).
    func sampling(_ defaults: GenerationDefaults) throws -> SamplingParameters {
        var p = defaults.sampling(seed: seed, greedy: greedy)
        if let temperature {
            let t = try Self.temperatures(temperature)
            guard t.count == 1 else { throw ValidationError("--temperature takes one value for Qwen-Audio (a list is Whisper's fallback)") }
            p.temperature = Float(t[0])
            // A model whose config does not sample (Qwen2-Audio) samples when a temperature is asked for.
            if !greedy, !defaults.doSample, t[0] > 0 { p.greedy = false }
        }
        if let topK { p.topK = topK }
        if let topP { p.topP = topP }
        if let repetitionPenalty { p.repetitionPenalty = repetitionPenalty }
        return p
    }

    /// The flags given that mean nothing for `family`, each with the reason (empty: all honoured).
    func unsupportedFlags(for family: ModelFamily) -> [String] {
        guard family == .whisper else { return [] }
        let why = "Whisper decodes with beam search and temperature fallback; it applies to Qwen-Audio models"
        var out: [String] = []
        if topK != nil { out.append("--top-k: \(why)") }
        if topP != nil { out.append("--top-p: \(why)") }
        if repetitionPenalty != nil { out.append("--repetition-penalty: \(why)") }
        if !stop.isEmpty { out.append("--stop: \(why)") }
        if kvCache != nil { out.append("--kv-cache: Whisper's decoder cache is always f32") }
        return out
    }
}

/// Whisper long-form decoding (faster-whisper's options and defaults).
struct DecodingFlags: ParsableArguments {
    @Option(name: .long, help: "Whisper: beam size at temperature 0 (default 5; --greedy = 1).")
    var beamSize: Int?

    @Option(name: .long, help: "Whisper: sampled candidates at temperatures above 0 (default 5).")
    var bestOf: Int?

    @Flag(name: .long, help: "Whisper: do not feed the previous window's text as the next window's prompt.")
    var noCondition = false

    @Option(name: .long, help: ArgumentHelp("Whisper: text that conditions the first window (names, spelling, style).", valueName: "TEXT"))
    var initialPrompt: String?

    @Flag(name: .long, help: "Whisper: decode without timestamp tokens (segments are whole windows).")
    var noTimestamps = false

    @Flag(name: .long, help: "Whisper: word-level times (cross-attention alignment heads + DTW, as faster-whisper's word_timestamps); in json output as segments[].words.")
    var wordTimestamps = false

    @Flag(name: .long, help: "Silero voice activity detection: Whisper transcribes only the speech it finds (faster-whisper's vad_filter; times stay in file time); Qwen-Audio cuts its windows where nobody speaks.")
    var vad = false

    @Option(name: .long, help: ArgumentHelp("The VAD model for --vad (default: silero-vad-v6.ear beside the default model, from Tools/get-default-model.sh).", valueName: "FILE.ear"))
    var vadModel: String?

    func validate() throws {
        if let beamSize, !(1...16).contains(beamSize) { throw ValidationError("--beam-size must be 1…16") }
        if let bestOf, !(1...16).contains(bestOf) { throw ValidationError("--best-of must be 1…16") }
    }

    /// Flags given that `family` cannot honour.
    func unsupportedFlags(for family: ModelFamily) -> [String] {
        guard family != .whisper else { return [] }
        let why = "it applies to Whisper's long-form decoding; Qwen-Audio runs its task prompt per window"
        var out: [String] = []
        if beamSize != nil { out.append("--beam-size: \(why)") }
        if bestOf != nil { out.append("--best-of: \(why)") }
        if vadModel != nil && !vad { out.append("--vad-model: it names the model of --vad, which is not given") }
        if noCondition { out.append("--no-condition: \(why)") }
        if initialPrompt != nil { out.append("--initial-prompt: \(why)") }
        if noTimestamps { out.append("--no-timestamps: \(why)") }
        if wordTimestamps { out.append("--word-timestamps: Qwen-Audio gives word times through its own task: earshot timestamps") }
        return out
    }
}

/// Output options of the task commands.
struct TaskOutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Output format; with --output-dir several, comma-separated, or 'all'.", valueName: "txt|json|srt|vtt|tsv"))
    var format: String = "txt"

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the result to FILE (replaced atomically) instead of stdout.", valueName: "FILE"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("Write DIR/<audio name>.<format> for each input and format.", valueName: "DIR"))
    var outputDir: String?

    @Flag(name: .long, help: "Only the first 30 s, as the reference does (default: longer audio runs in windows).")
    var truncate = false

    @Flag(name: .long, help: "Print the first window's prompt ids (one JSON array) and exit without generating.")
    var printPromptIds = false

    @Flag(name: .long, help: "Print the generated ids instead of text (one JSON array per window; Whisper: per segment).")
    var printIds = false

    var formats: [TranscriptFormat] {
        if format == "all" { return TranscriptFormat.allCases }
        return format.split(separator: ",").compactMap { TranscriptFormat(rawValue: String($0)) }
    }

    func validate() throws {
        let names = format.split(separator: ",").map(String.init)
        guard format == "all" || (!names.isEmpty && names.allSatisfy({ TranscriptFormat(rawValue: $0) != nil })) else {
            throw ValidationError("--format is txt, json, srt, vtt or tsv (several, comma-separated, or 'all' with --output-dir), not '\(format)'")
        }
        if formats.count > 1 && outputDir == nil { throw ValidationError("several formats need --output-dir DIR") }
        if output != nil && outputDir != nil { throw ValidationError("--output and --output-dir exclude each other") }
        if printIds && printPromptIds { throw ValidationError("--print-ids and --print-prompt-ids exclude each other") }
    }
}

/// Parses a Qwen-Audio language tag name (en, zh, de, es, ko, fr, ja, it).
func parseLanguage(_ s: String, option: String) throws -> AudioLanguage {
    guard let l = AudioLanguage(rawValue: s.lowercased()) else {
        throw ValidationError("\(option) is one of \(AudioLanguage.allCases.map(\.rawValue).joined(separator: ", ")) for Qwen-Audio, not '\(s)'")
    }
    return l
}
