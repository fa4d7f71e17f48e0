// `earshot generate`: plain text completion with a Qwen LLM (a text model such as Qwen2.5 converted from a
// GGUF, or Qwen-Audio's LLM without audio) — the prompt tokenized as it is, continued through the library's
// one generation loop, tokens streamed to stdout, the timing summary on stderr.
import ArgumentParser
import Earshot
import Foundation

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a text prompt with a Qwen LLM (plain completion, no chat template, no audio).",
        discussion: """
            The prompt is tokenized as it is (special-token strings such as <|im_start|> become specials \
            unless --no-special) and continued; the text streams to stdout as it is generated. Generation \
            stops at the model's end tokens (<|endoftext|>, <|im_end|>, its eos), a --stop string, or after \
            --max-tokens (never beyond the model's context). Sampling defaults come from the model \
            (Qwen2.5-Instruct's release values for a text LLM without a generation config); --greedy is argmax.

            Output: the generated text (without the prompt); with --print-ids the generated ids as one JSON \
            array (the stop token included when it was generated). The timing summary goes to stderr \
            unless --quiet.

            Examples:
              earshot generate --model qwen2.5-coder-1.5b-instruct.q8.ear --greedy "def fibonacci(n):"
              earshot generate --model m.ear --max-tokens 64 --temperature 0.7 --seed 7 "Once upon a time"
              echo "The capital of France is" | earshot generate --model m.ear --greedy -
            """)

    @OptionGroup var options: ModelOptions

    @Argument(help: "The prompt ('-' reads it from standard input).")
    var prompt: String?

    @Option(name: .long, help: ArgumentHelp("The prompt as token ids instead of text (a JSON array, e.g. [9707,11]).", valueName: "JSON"))
    var promptIds: String?

    @Flag(name: .long, help: "Print the generated ids as a JSON array instead of text.")
    var printIds = false

    @Flag(name: .long, help: "Print the prompt ids as a JSON array (on stderr) before generating.")
    var printPromptIds = false

    @Flag(name: .long, help: "Tokenize special-token strings in the prompt as plain text.")
    var noSpecial = false

    @Option(name: .long, help: ArgumentHelp("Write the last-prompt-position logits (f32 LE, vocab_size values) here.", valueName: "FILE"))
    var dumpLogits: String?

    func validate() throws {
        if (prompt == nil) == (promptIds == nil) { throw ValidationError("give a prompt, or --prompt-ids (one of them)") }
        if promptIds != nil && noSpecial { throw ValidationError("--no-special applies to a text prompt, not to --prompt-ids") }
    }

    func run() throws {
        do { try runThrowing() } catch let f as CLIFailure {
            printError(f.description)
            throw ExitCode(1)
        }
    }

    private func fail(_ message: String) -> CLIFailure { CLIFailure(command: "generate", message: message) }

    private func runThrowing() throws {
        var text = prompt ?? ""
        var ids: [Int]?
        if let promptIds {
            let body = promptIds.trimmingCharacters(in: .whitespacesAndNewlines)
            let items = body.hasPrefix("[") && body.hasSuffix("]")
                ? body.dropFirst().dropLast().split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } : []
            guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else {
                throw fail("--prompt-ids takes a non-empty JSON array of integers, not '\(promptIds.prefix(80))'")
            }
            ids = items.map { $0! }
        } else if prompt == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let s = String(data: data, encoding: .utf8) else { throw fail("standard input is not UTF-8 text") }
            text = s.hasSuffix("\n") ? String(s.dropLast()) : s
        }
        guard ids != nil || !text.isEmpty else { throw fail("the prompt is empty") }
        let model = try options.load(command: "generate")
        guard model.info.family != .whisper else {
            throw fail("a Whisper model cannot continue a text prompt (use transcribe or translate)")
        }
        if let first = options.unsupportedFlags(for: model.info.family).first { throw fail(first) }
        let session = model.makeSession()
        let prepared: PreparedPrompt
        if let ids {
            prepared = PreparedPrompt(ids: ids)
        } else {
            do { prepared = try session.prompt(raw: text, audios: [], special: noSpecial ? .none : .all) } catch { throw fail(error.description) }
        }
        if printPromptIds { printError("[" + prepared.ids.map(String.init).joined(separator: ",") + "]") }

        let d = model.defaults
        var opts = GenerationOptions(maxTokens: options.maxTokens ?? d.maxNewTokens, stopIds: model.stopIds, stopStrings: options.stop)
        do { opts.sampling = try options.sampling(d) } catch let e as ValidationError { throw fail(e.message) }

        let stream = !printIds
        var result: GenerationResult
        var lastLogits: [Float]?
        let probe: Probe? = dumpLogits == nil ? nil : { name, _, values in
            if name == "llm.last_logits" { lastLogits = Array(values) }
        }
        do throws(EarshotError) {
            result = try session.generate(prepared, options: opts, probe: probe, onToken: { (e: TokenEvent) -> Bool in
                if stream { writeOut(e.text) }
                return true
            })
        } catch { throw fail(error.description) }
        if let dumpLogits {
            guard let logits = lastLogits else { throw fail("the prefill gave no logits") }
            do { try OutputFile.writeAtomically(logits.withUnsafeBytes { Array($0) }, to: dumpLogits) } catch { throw fail(error.description) }
        }
        result.stats.loadSeconds = model.loadSeconds
        if printIds {
            print("[" + result.ids.map(String.init).joined(separator: ",") + "]")
        } else {
            writeOut("\n")
        }
        if options.verbose {
            printError("earshot: \(prepared.ids.count) prompt tokens, \(result.ids.count) generated, stopped on \(result.stopReason)")
        }
        if !options.quiet {
            printError(result.stats.summary.split(separator: "\n").filter { !$0.contains("audio") && !$0.contains("encode") }.joined(separator: "\n"))
        }
    }
}
