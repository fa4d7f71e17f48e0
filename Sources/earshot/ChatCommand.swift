// `earshot chat`: Qwen-Audio-Chat conversations — interactive (a line reader with /audio, /reset, /save,
// /load) or scripted (--turn repeated, each one line of the same little language), with the KV prefix and
// audio encodings kept between turns, per-turn timing on stderr, and --print-ids / --json outputs.
import ArgumentParser
import Earshot
import Foundation

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat about audio with Qwen-Audio-Chat or Qwen2-Audio-Instruct, or chat with a Qwen text LLM (ChatML).",
        discussion: """
            Each input line is a user turn, or a command:
              /audio PATH   attach an audio to the next turn (repeatable; sent as
                            "Audio 1:<audio>PATH</audio>\\n"... before the text); an
                            empty line then sends the audio alone (voice chat)
              /reset        forget the conversation
              /save FILE    save it (KV cache + history, zstd-compressed; it loads
                            again even when the audio files are gone)
              /load FILE    continue a saved conversation
              /help         list the commands
              /quit         leave
            On a terminal the line can be edited (arrows, Ctrl-A/E/U/K/W) and \
            the up/down arrows walk the history; Ctrl-C stops the reply being \
            written without leaving the chat. Your text is sent as plain text: \
            audio only enters through /audio and --audio.
            Lines come from --turn (repeatable, in order), else from standard \
            input (interactive on a terminal).

            History beyond the 6144-token window is dropped oldest first, like \
            the reference; generation stops on <|im_end|>, <|im_start|> or \
            <|endoftext|>. The KV cache of the shared prefix and the audio \
            encodings are kept between turns (--no-cache re-runs the whole \
            prompt every turn, like the reference). The timing of each turn \
            goes to stderr.

            The answer streams to stdout. --print-ids prints each turn's \
            generated ids (one JSON array per line) instead; --json prints one \
            JSON object per turn: {"query", "response", "ids", "stop"}.

            A text-only Qwen LLM (Qwen2.5-Instruct converted from a GGUF) chats the same way \
            without audio (/audio and --audio are refused); its system prompt defaults to its chat \
            template's, it stops on its own <|im_end|>/<|endoftext|> ids, and the history window \
            is 6144 tokens (or less, to fit its context).

            Qwen2-Audio-Instruct uses its own chat template: each audio is an "Audio k: \
            <|audio_bos|><|AUDIO|><|audio_eos|>" line (k counting across the conversation), \
            an audio-only turn is voice chat, audio + text is audio analysis; it decodes greedily \
            unless --temperature is given (its evals' do_sample=False) and stops on <|im_end|>.

            Examples:
              earshot chat --model qwen-audio-chat.q4m.ear
              earshot chat --model qwen2.5-coder-1.5b-instruct.q8.ear --turn "Write a Python function that reverses a string."
              earshot chat --model m.ear --audio jfk.wav \\
                --turn "What does the speaker say?" --turn "Summarise it."
              earshot chat --model m.ear --greedy --print-ids \\
                --turn "/audio a.wav" --turn "What is this?" --turn "/save s.chat"
            """)

    @OptionGroup var options: ModelOptions

    @Option(name: .long, help: "The system prompt (default: the model's chat template's, else \"You are a helpful assistant.\").")
    var system: String?

    @Option(name: .long, help: ArgumentHelp("One input line: a user turn or a /command (repeatable, in order).", valueName: "TEXT"))
    var turn: [String] = []

    @Option(name: .long, help: ArgumentHelp("Read the turns from a JSON file ('-' = stdin): [{\"text\": …, \"audios\": [PATH, …]}, …].", valueName: "FILE"))
    var turnsJson: String?

    @Option(name: .long, help: ArgumentHelp("Attach an audio to the first turn (repeatable).", valueName: "PATH"))
    var audio: [String] = []

    @Option(name: .long, help: ArgumentHelp("Continue a saved chat.", valueName: "FILE"))
    var load: String?

    @Option(name: .long, help: ArgumentHelp("Save the chat when the input ends.", valueName: "FILE"))
    var save: String?

    @Flag(name: .long, help: "Print each turn's generated ids (one JSON array per line) instead of text.")
    var printIds = false

    @Flag(name: .long, help: "Print each turn's prompt ids (one JSON array per line) before generating.")
    var printPromptIds = false

    @Flag(name: .long, help: "Print one JSON object per turn instead of text.")
    var json = false

    @Flag(name: .long, help: "Do not reuse the KV cache or audio encodings between turns (the reference's cost).")
    var noCache = false

    @Option(name: .long, help: "History window in tokens (default: the chat generation config, 6144).")
    var maxWindow: Int?

    func validate() throws {
        if printIds && json { throw ValidationError("--print-ids and --json exclude each other") }
        if let maxWindow, maxWindow < 1 { throw ValidationError("--max-window must be ≥ 1") }
    }

    func run() throws {
        do { try runThrowing() } catch let f as CLIFailure {
            printError(f.description)
            throw ExitCode(1)
        }
    }

    private func runThrowing() throws {
        var lines = turn
        if let turnsJson { lines += try Self.readTurnsJSON(turnsJson) }
        let model = try options.load(command: "chat")
        func fail(_ e: EarshotError) -> CLIFailure { CLIFailure(command: "chat", message: e.description) }
        let chat: Chat
        do { chat = try model.makeChat(system: system) } catch { throw fail(error) }
        if let first = options.unsupportedFlags(for: model.info.family).first { throw CLIFailure(command: "chat", message: first) }
        let noAudio = model.info.takesAudio ? nil : "a \(model.info.family.displayName) model takes no audio (it is a text-only LLM)"
        if let noAudio, !audio.isEmpty { throw CLIFailure(command: "chat", message: "--audio: " + noAudio) }
        if let noAudio, lines.contains(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("/audio") }) {
            throw CLIFailure(command: "chat", message: "/audio: " + noAudio)
        }
        var settings = chat.session.settings
        settings.reusesPrefix = !noCache
        settings.cachesAudio = !noCache
        chat.session.settings = settings
        if let maxWindow { chat.maxWindowTokens = maxWindow }
        if let load { do { try chat.load(from: load) } catch { throw fail(error) } }
        if !options.quiet { printError(String(format: "earshot: load    = %9.2f ms", model.loadSeconds * 1000)) }

        let d = model.chatDefaults
        var opts = chat.defaultOptions
        do { opts.sampling = try options.sampling(d) } catch let e as ValidationError { throw CLIFailure(command: "chat", message: e.message) }
        opts.maxTokens = options.maxTokens ?? d.maxNewTokens
        opts.stopStrings = options.stop

        var pending: [String] = []
        for a in audio { pending.append(try Self.checkedAudio(a, interactive: false)) }
        let interactive = lines.isEmpty && isatty(0) != 0
        let editor = LineEditor()
        if interactive {
            Interrupts.install()
            printError("earshot chat: type a message; /help lists the commands. Ctrl-C stops a reply, Ctrl-D leaves.")
        }
        var scripted = lines.makeIterator()
        let fromLines = !lines.isEmpty
        func nextLine() -> String? {
            if fromLines { return scripted.next() }
            if interactive { return editor.readLine(prompt: pending.isEmpty ? "> " : "[\(pending.count) audio] > ") }
            return readLine(strippingNewline: true)
        }
        var turnIndex = 0
        while let raw = nextLine() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty && pending.isEmpty { continue }   // an empty line with audio attached sends the audio alone
            if line.hasPrefix("/") {
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                let arg = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
                func refuse(_ message: String) throws {
                    if interactive { printError("earshot chat: " + message); return }
                    throw CLIFailure(command: "chat", message: message)
                }
                switch parts[0] {
                case "/audio":
                    if let noAudio { try refuse("/audio: " + noAudio); continue }
                    guard !arg.isEmpty else { try refuse("/audio needs a PATH"); continue }
                    do {
                        let checked = try Self.checkedAudio(arg, interactive: interactive)
                        pending.append(checked)
                        if interactive { printError("earshot chat: audio \(pending.count) attached to the next message: \(checked)") }
                    } catch let f as CLIFailure { try refuse(f.message) }
                case "/reset":
                    chat.reset()
                    pending = []
                    if interactive { printError("earshot chat: the conversation was reset") }
                case "/save":
                    guard !arg.isEmpty else { try refuse("/save needs a FILE"); continue }
                    do { try chat.save(to: arg) } catch { try refuse(error.description); continue }
                    if !options.quiet { printError("earshot chat: saved \(chat.history.count) turns to \(arg)") }
                case "/load":
                    guard !arg.isEmpty else { try refuse("/load needs a FILE"); continue }
                    do { try chat.load(from: arg) } catch { try refuse(error.description); continue }
                    if !options.quiet { printError("earshot chat: loaded \(chat.history.count) turns from \(arg)") }
                case "/help":
                    printError(Self.help)
                case "/quit", "/exit":
                    return finish(chat)
                default:
                    try refuse("unknown command '\(parts[0])' (/help lists them)")
                }
                continue
            }
            let attached = pending
            pending = []
            let streaming = !printIds && !json
            let reply: ChatReply
            _ = Interrupts.take()
            do {
                if printPromptIds {
                    let (prompt, _, _) = try chat.prompt(text: line, audios: attached.map { AudioInput.file($0) })
                    print("[" + prompt.ids.map(String.init).joined(separator: ",") + "]")
                }
                reply = try chat.send(line, audios: attached.map { AudioInput.file($0) }, options: opts) { e in
                    if streaming { writeOut(e.text) }
                    return !(interactive && Interrupts.take())
                }
            } catch {
                if interactive { printError(error.description); continue }
                throw fail(error)
            }
            if printIds {
                print("[" + reply.generation.ids.map(String.init).joined(separator: ",") + "]")
            } else if json {
                print(turnJSON(query: Chat.query(text: line, audios: attached), reply: reply))
            } else {
                writeOut("\n")
            }
            if interactive && reply.generation.stopReason == .cancelled {
                printError("earshot chat: reply stopped (not kept in the history)")
            }
            let s = reply.generation.stats
            if options.verbose {
                printError("earshot: turn \(turnIndex): \(reply.promptIds.count) prompt tokens, \(reply.keptHistoryTurns) history turns kept, stopped on \(reply.generation.stopReason)")
            }
            if !options.quiet {
                printError(s.summary.split(separator: "\n").filter { !$0.contains("load") && !$0.contains("total") }
                    .filter { model.info.takesAudio || !($0.contains("audio") || $0.contains("encode")) }
                    .map { $0.replacingOccurrences(of: "earshot:", with: "earshot[turn \(turnIndex)]:") }.joined(separator: "\n"))
            }
            turnIndex += 1
        }
        finish(chat)
    }

    static let help = """
        Commands:
          /audio PATH   attach an audio file to the next message (repeatable; an empty line sends it alone)
          /reset        forget the conversation
          /save FILE    save the conversation (KV cache + history); /load FILE continues one
          /help         this list
          /quit         leave (or Ctrl-D on an empty line)
        Ctrl-C stops the reply being written; arrows edit the line and walk the history.
        """

    /// An audio path that exists and is a readable regular file (checked when it is given, not at the next turn).
    static func checkedAudio(_ path: String, interactive: Bool) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CLIFailure(command: "chat", message: "no such audio file '\(path)'")
        }
        guard !isDir.boolValue else { throw CLIFailure(command: "chat", message: "'\(path)' is a directory, not an audio file") }
        guard AudioInput.file(path).declaredDuration() != nil else {
            throw CLIFailure(command: "chat", message: "'\(path)' is not an audio file this build can read (WAV, FLAC, Ogg, MP3)")
        }
        return path
    }

    /// `[{"text": "...", "audios": ["a.wav"]}, ...]` → input lines (`/audio PATH` lines, then the text).
    static func readTurnsJSON(_ path: String) throws -> [String] {
        let data: Data? = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
        guard let data, let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw CLIFailure(command: "chat", message: "--turns-json \(path): expected a JSON array of {\"text\", \"audios\"} objects")
        }
        var lines: [String] = []
        for (i, item) in list.enumerated() {
            guard let text = item["text"] as? String else {
                throw CLIFailure(command: "chat", message: "--turns-json \(path): turn \(i) has no \"text\" string")
            }
            lines += ((item["audios"] as? [String]) ?? []).map { "/audio \($0)" }
            lines.append(text)
        }
        return lines
    }

    private func finish(_ chat: Chat) {
        guard let save else { return }
        do { try chat.save(to: save) } catch {
            printError("earshot chat: \(error.description)")
        }
    }

    private func turnJSON(query: String, reply: ChatReply) -> String {
        JSONValue.object([("query", .string(query)), ("response", .string(reply.response)),
                          ("ids", .ints(reply.generation.ids)), ("stop", .string(reply.generation.stopReason.description))]).serialized()
    }

}
