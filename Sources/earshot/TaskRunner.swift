// TaskRunner: the one runner behind every audio command. For each input (a file, or '-' for standard
// input) it runs the job — a Qwen-Audio task prompt over ≤ 30 s windows, or a transcription (Whisper's
// long-form algorithm, or Qwen-Audio's ASR/translation task) — streams what it can to stdout as it comes
// (tokens for Qwen-Audio, segments for Whisper), shows progress on a terminal, then renders the result in
// the asked formats to stdout, `-o FILE` or `--output-dir DIR`, and prints the timing summary on stderr.
import ArgumentParser
import Earshot
import Foundation

/// What a command asks of each input.
enum AudioJob {
    /// A Qwen-Audio task prompt (caption, ask, classify, notes, timestamps, …).
    case task(AudioTask)
    /// Speech to text (or translation) for any model family.
    case transcription(TranscriptionOptions, qwenTask: AudioTask)
}

struct TaskRunner {
    let command: String
    let options: ModelOptions
    let output: TaskOutputOptions
    /// The Whisper decoding flags of transcribe/translate (nil for the Qwen-Audio task commands).
    var decoding: DecodingFlags?
    /// transcribe/translate flags checked against the loaded model's family.
    var itn = false
    var languageGiven: String?
    var targetGiven: String?
    /// --vad's detector (Qwen-Audio: windows cut where nobody speaks).
    var voiceActivity: VoiceActivityDetector?
    /// The job once the model's family is known (a default that differs by family, e.g. the caption style).
    var resolveJob: ((ModelFamily) -> AudioJob)?

    /// Runs `job` on every input; failures are one clear line on stderr and exit status 1.
    func run(_ job: AudioJob, inputs: [String], model path: String? = nil) throws {
        do { try runThrowing(job, inputs: inputs, modelPath: path) } catch let f as CLIFailure {
            printError(f.description)
            throw ExitCode(1)
        }
    }

    private func fail(_ e: EarshotError) -> CLIFailure { CLIFailure(command: command, message: e.description) }

    private func runThrowing(_ job: AudioJob, inputs: [String], modelPath: String?) throws {
        guard !inputs.isEmpty else { throw CLIFailure(command: command, message: "no audio file given") }
        if inputs.filter({ $0 == "-" }).count > 1 { throw CLIFailure(command: command, message: "'-' (standard input) can be given once") }
        if output.output != nil && inputs.count > 1 {
            throw CLIFailure(command: command, message: "--output FILE takes one input; use --output-dir DIR for \(inputs.count) files")
        }
        if let dir = output.outputDir { try makeDirectory(dir) }
        let model = try modelPath.map { try ModelOptions.open($0, command: command, threads: options.threads, kv: options.kvCache) }
            ?? options.load(command: command)
        let family = model.info.family
        let refused = options.unsupportedFlags(for: family) + (decoding?.unsupportedFlags(for: family) ?? [])
        if let first = refused.first { throw CLIFailure(command: command, message: first) }
        if !model.info.takesAudio {
            throw CLIFailure(command: command, message: "a \(family.displayName) model takes no audio (it is a text-only LLM: use generate or chat)")
        }
        let job = resolveJob?(family) ?? job
        if case .task = job, family == .whisper {
            throw CLIFailure(command: command, message: "a Whisper model cannot run Qwen-Audio task prompts (Whisper does transcribe and translate)")
        }
        try checkLanguages(model.info)
        let session = model.makeSession()
        var stdin: StandardInputAudio?
        for (i, input) in inputs.enumerated() {
            var path = input
            if input == "-" {
                stdin = try StandardInputAudio(command: command)
                path = stdin!.path
            }
            if inputs.count > 1 && !options.quiet { printError("earshot: \(input) (\(i + 1) of \(inputs.count))") }
            try runOne(job, audio: path, displayName: input == "-" ? "stdin" : input, model: model, session: session,
                       fileCount: inputs.count)
        }
        _ = stdin
    }

    private func runOne(_ job: AudioJob, audio: String, displayName: String, model: EarshotModel, session: Session,
                        fileCount: Int) throws {
        let input = AudioInput.file(audio)
        let toFiles = output.output != nil || output.outputDir != nil
        let formats = output.formats
        let streamText = !toFiles && formats == [.txt] && !output.printIds

        if output.printPromptIds {
            let ids: [Int]
            do {
                switch job {
                case .task(let t): ids = try session.prompt(task: t, audio: input).ids
                case .transcription(let o, let t):
                    ids = model.info.family == .whisper ? try session.firstWhisperPrompt(input, options: o)
                                                        : try session.prompt(task: t, audio: input).ids
                }
            } catch { throw fail(error) }
            print(JSONValue.ints(ids).serialized().replacingOccurrences(of: " ", with: ""))
            return
        }

        Progress.start(fileCount > 1 ? displayName : "", enabled: !options.quiet)
        let total = input.declaredDuration()
        var transcript: Transcript
        var extra: [[(String, JSONValue)]] = []
        let started = Date()
        switch job {
        case .task(let task):
            let result = try runQwenTask(task, input: input, session: session, stream: streamText, total: total)
            transcript = Transcript(result: result, model: model, task: command, audio: displayName, language: nil)
            extra = result.windows.map { w in
                [("text", .string(w.result.text)), ("ids", .ints(w.result.ids)), ("stop", .string(w.result.stopReason.description))]
            }
            if output.printIds { for w in result.windows { print(JSONValue.ints(w.result.ids).serialized().replacingOccurrences(of: " ", with: "")) } }
            if options.verbose {
                for w in result.windows {
                    printError("earshot: window \(w.index): \(w.result.stats.promptTokens) prompt tokens, \(w.result.ids.count) generated, stopped on \(w.result.stopReason)")
                }
            }
        case .transcription(var o, let qwenTask):
            if model.info.family == .whisper {
                o.truncate = output.truncate
                transcript = try runWhisper(o, input: input, session: session, stream: streamText, total: total)
                if output.printIds { for s in transcript.segments { print(JSONValue.ints(s.tokens).serialized().replacingOccurrences(of: " ", with: "")) } }
            } else {
                let result = try runQwenTask(qwenTask, input: input, session: session, stream: streamText, total: total)
                transcript = Transcript(result: result, model: model, task: command, audio: displayName,
                                        language: qwenLanguage(qwenTask))
                extra = result.windows.map { w in [("ids", .ints(w.result.ids)), ("stop", .string(w.result.stopReason.description))] }
                if output.printIds { for w in result.windows { print(JSONValue.ints(w.result.ids).serialized().replacingOccurrences(of: " ", with: "")) } }
                if options.verbose {
                    for w in result.windows {
                        printError("earshot: window \(w.index): \(w.result.stats.promptTokens) prompt tokens, \(w.result.ids.count) generated, stopped on \(w.result.stopReason)")
                    }
                }
            }
            transcript.audio = displayName
        }
        Progress.clear()
        if streamText, model.info.family != .whisper { writeOut("\n") }
        if !output.printIds {
            if let file = output.output {
                try write(formats[0].render(transcript, extraWindowFields: extra), to: file)
            } else if let dir = output.outputDir {
                let base = displayName == "stdin" ? "stdin" : ((displayName as NSString).lastPathComponent as NSString).deletingPathExtension
                for f in formats {
                    let file = (dir as NSString).appendingPathComponent("\(base).\(f.fileExtension)")
                    try write(f.render(transcript, extraWindowFields: extra), to: file)
                    if !options.quiet { printError("earshot: wrote \(file)") }
                }
            } else if !streamText {
                writeOut(formats[0].render(transcript, extraWindowFields: extra))
            }
        }
        if !options.quiet {
            var stats = transcript.stats
            stats.loadSeconds = model.loadSeconds
            printError(stats.summary)
            if transcript.duration > 0 {
                let wall = Date().timeIntervalSince(started)
                printError(String(format: "earshot: speed   = %9.1fx real time (%.2f s of audio in %.2f s)",
                                  transcript.duration / max(wall, 1e-9), transcript.duration, wall))
            }
        }
    }

    /// A Qwen-Audio task over the input's windows, tokens streamed when `stream`.
    private func runQwenTask(_ task: AudioTask, input: AudioInput, session: Session, stream: Bool, total: Double?) throws -> TaskResult {
        let model = session.model
        var opts = session.defaultOptions(for: task)
        do { opts.sampling = try options.sampling(model.defaults) } catch let e as ValidationError {
            throw CLIFailure(command: command, message: e.message)
        }
        if let m = options.maxTokens { opts.maxTokens = m }
        opts.stopStrings = options.stop
        var lastEnd = 0.0
        do {
            return try session.runWindows(task, audio: input, options: opts, truncate: output.truncate, voiceActivity: voiceActivity,
                onWindow: { w in
                    if options.verbose {
                        printError(String(format: "earshot: window %d at %.2f s (%.2f s)", w.index, w.startSeconds, w.durationSeconds))
                    }
                    if stream && w.index > 0 { writeOut("\n") }
                    Progress.update(seconds: lastEnd, total: total)
                    lastEnd = w.startSeconds + w.durationSeconds
                    return true
                },
                onToken: { e in
                    if stream { writeOut(e.text) }
                    return true
                })
        } catch { throw fail(error) }
    }

    /// Whisper's long-form transcription, segments streamed as lines when `stream`.
    private func runWhisper(_ o: TranscriptionOptions, input: AudioInput, session: Session, stream: Bool, total: Double?) throws -> Transcript {
        do {
            let t = try session.transcribe(input, options: o) { event in
                switch event {
                case .language(let code, let p):
                    if options.verbose { printError("earshot: language \(code)" + (p.map { String(format: " (p = %.2f)", $0) } ?? "")) }
                case .window(let i, let span):
                    if options.verbose { printError(String(format: "earshot: window %d at %.2f s (%.2f s)", i, span.start, span.end - span.start)) }
                case .segment(let s):
                    if stream { writeOut(s.text.trimmingCharacters(in: .whitespacesAndNewlines) + "\n") }
                    if options.verbose {
                        printError(String(format: "earshot: segment %.2f–%.2f s, temperature %.1f, avg log-prob %.3f, no-speech %.3f, compression %.2f",
                                          s.start, s.end, s.temperature ?? 0, s.averageLogProbability ?? 0,
                                          s.noSpeechProbability ?? 0, s.compressionRatio ?? 0))
                    }
                case .progress(let seconds, let t):
                    Progress.update(seconds: seconds, total: t ?? total)
                case .token: break
                }
                return true
            }
            return t
        } catch { throw fail(error) }
    }

    /// --lang / --from / --to / --itn against what the model knows, each refusal naming the flag.
    private func checkLanguages(_ info: ModelInfo) throws {
        let langFlag = command == "translate" ? "--from" : "--lang"
        if info.family == .whisper {
            if itn { throw CLIFailure(command: command, message: "--itn applies to Qwen-Audio; Whisper writes numbers and punctuation itself") }
            if let l = languageGiven?.lowercased(), !info.languages.contains(l) {
                throw CLIFailure(command: command, message: info.detectsLanguage
                    ? "\(langFlag) '\(l)' is not one of this Whisper model's languages (\(info.languages.joined(separator: ", ")))"
                    : "\(langFlag) '\(l)': this Whisper model (\((info.architecture))) is English-only; use a multilingual model such as Whisper base")
            }
            if let t = targetGiven?.lowercased() {
                guard info.supports(.translate) else {
                    throw CLIFailure(command: command, message: "this Whisper model is English-only and cannot translate (use a multilingual model such as Whisper base)")
                }
                guard t == "en" else { throw CLIFailure(command: command, message: "--to '\(t)': Whisper translates into English only") }
            }
        } else {
            if itn && info.family == .qwen2Audio {
                throw CLIFailure(command: command, message: "--itn applies to Qwen-Audio; Qwen2-Audio's ASR prompt has no inverse text normalisation switch")
            }
            for (flag, value) in [(langFlag, languageGiven), ("--to", targetGiven)] {
                if let v = value?.lowercased(), AudioLanguage(rawValue: v) == nil {
                    throw CLIFailure(command: command, message: "\(flag) is one of \(AudioLanguage.allCases.map(\.rawValue).joined(separator: ", ")) for Qwen-Audio, not '\(v)'")
                }
            }
        }
    }

    private func qwenLanguage(_ task: AudioTask) -> String? {
        switch task {
        case .transcribe(let l, _), .timestamps(let l): return l.rawValue
        case .translate(let s, _): return s.rawValue
        default: return nil
        }
    }

    /// --output-dir: created when missing; something else in the way is an error.
    private func makeDirectory(_ dir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw CLIFailure(command: command, message: "--output-dir \(dir): it exists and is not a directory") }
            return
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw CLIFailure(command: command, message: "--output-dir \(dir): cannot create the directory")
        }
    }

    private func write(_ text: String, to path: String) throws {
        do { try OutputFile.writeAtomically(Array(text.utf8), to: path) } catch { throw fail(error) }
    }
}

/// Standard input saved to a temporary file (libsndfile needs to seek), removed when the run ends.
final class StandardInputAudio {
    let path: String

    init(command: String) throws {
        let dir = NSTemporaryDirectory()
        path = (dir as NSString).appendingPathComponent("earshot-stdin-\(getpid()).audio")
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard !data.isEmpty else { throw CLIFailure(command: command, message: "standard input ('-') is empty") }
        do { try OutputFile.writeAtomically([UInt8](data), to: path) } catch {
            throw CLIFailure(command: command, message: "cannot buffer standard input: \(error.description)")
        }
    }

    deinit { unlink(path) }
}
