// `earshot run`: the raw path — a prompt with task tags and <audio>PATH</audio> tags exactly as the official
// base model takes it → generated text (or ids), through the library's one generation loop. Also the probes
// for outside checks: --dump-logits (the logits that choose the first token) and --dump (every named
// intermediate of the prefill), both written through the loop's probe hook.
import ArgumentParser
import Earshot
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a raw Qwen-Audio prompt (task tags and <audio> tags), or a raw text-LLM prompt, and print the generated text.",
        discussion: """
            The prompt is tokenized with every special token allowed (the base-model / eval path). Each \
            <audio>PATH</audio> is read (PATH relative to the working directory), turned into a log-mel and \
            encoded; its tag expands to the audio's token span (the first 30 s of each audio). Several audios \
            are encoded as one padded batch, exactly like the reference. --audio PATH prepends \
            <audio>PATH</audio> to the prompt (repeatable, in order). Generation stops at <|endoftext|> or \
            after --max-tokens (never beyond the model's context).
            On Qwen2-Audio each <audio>PATH</audio> (or --audio) becomes its \
            <|audio_bos|><|AUDIO|><|audio_eos|> span, expanded to the audio's length; the rest \
            of the prompt is its natural-language task text, e.g. "Generate the caption in English:".
            On a text-only Qwen LLM (Qwen2 from a GGUF) the prompt is text and specials only (no audio; \
            --audio is refused) and generation also stops at <|im_end|> and the model's eos.

            Output: the generated text on stdout; with --print-ids the generated ids as one JSON array \
            (the stop token included when it was generated).
            --dump-logits FILE writes the logits at the last prompt position (the ones that choose the \
            first generated token) as little-endian float32, vocab_size values.
            --dump DIR writes every named intermediate of the prefill (encoder stages, spans, LLM block \
            outputs) as DIR/<name>.f32 (little-endian float32, row-major) and DIR/index.json {name: shape}.

            Examples:
              earshot run --model qwen-audio.q4.ear --greedy \\
                --prompt '<audio>jfk.wav</audio><|startoftranscript|><|en|><|transcribe|><|en|><|notimestamps|><|wo_itn|>'
              earshot run --model m.ear --audio bird.wav --max-tokens 30 \\
                --prompt '<|startofanalysis|><|unknown|><|caption|><|en|><|notimestamps|><|caption_clotho|>'
              earshot run --model m.ear --prompt 'Hello' --greedy --print-ids --dump-logits logits.f32
            """)

    @Option(name: .long, help: ArgumentHelp("The converted model.", valueName: "FILE.ear"))
    var model: String

    @Option(name: .long, help: "The raw prompt text (task tags and <audio>PATH</audio> allowed).")
    var prompt: String

    @Option(name: .long, help: ArgumentHelp("Prepend <audio>PATH</audio> to the prompt (repeatable).", valueName: "PATH"))
    var audio: [String] = []

    @Option(name: .long, help: "Most tokens to generate (default: the model's generation config, else 512).")
    var maxTokens: Int?

    @Flag(name: .long, help: "Greedy decoding (argmax) instead of the model's sampling settings.")
    var greedy = false

    @Option(name: .long, help: "Sampling seed (same seed, same model → same output).")
    var seed: UInt64 = 1234

    @Flag(name: .long, help: "Print the generated ids as a JSON array instead of text.")
    var printIds = false

    @Option(name: .long, help: ArgumentHelp("Write the last-prompt-position logits (f32 LE) here.", valueName: "FILE"))
    var dumpLogits: String?

    @Option(name: .long, help: ArgumentHelp("Write every named prefill intermediate into this directory.", valueName: "DIR"))
    var dump: String?

    @Option(name: .long, help: "Threads for the kernels (default: all cores, or EARSHOT_THREADS).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("KV cache precision.", valueName: "f16|f32"))
    var kvCache: String = "f16"

    func validate() throws {
        if let maxTokens, maxTokens < 0 { throw ValidationError("--max-tokens must be ≥ 0") }
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be 1…1024") }
        if kvCache != "f16" && kvCache != "f32" { throw ValidationError("--kv-cache is f16 or f32, not '\(kvCache)'") }
    }

    func run() throws {
        do { try runThrowing() } catch let f as CLIFailure {
            printError(f.description)
            throw ExitCode(1)
        }
    }

    private func fail(_ message: String) -> CLIFailure { CLIFailure(command: "run", message: message) }

    private func runThrowing() throws {
        let model = try ModelOptions.open(self.model, command: "run", threads: threads, kv: kvCache)
        if !audio.isEmpty && !model.info.takesAudio {
            throw fail("--audio: a \(model.info.family.displayName) model takes no audio (it is a text-only LLM)")
        }
        let session = model.makeSession()
        let text = audio.map { "<audio>\($0)</audio>" }.joined() + prompt
        let prepared: PreparedPrompt
        do { prepared = try session.prompt(rawReadingAudioTags: text) } catch { throw fail(error.description) }

        let d = model.defaults
        let sampling = d.sampling(seed: seed, greedy: greedy)
        let options = GenerationOptions(sampling: sampling, maxTokens: maxTokens ?? d.maxNewTokens, stopIds: model.stopIds)

        if let dump { try Self.prepareDirectory(dump) }
        var dumped: [(String, [Int])] = []
        var failure: String?
        var lastLogits: [Float]?
        let wantsProbe = dump != nil || dumpLogits != nil
        let probe: Probe? = wantsProbe ? { name, shape, values in
            if name == "llm.last_logits" { lastLogits = Array(values) }
            guard let dir = dump, failure == nil else { return }
            let file = (dir as NSString).appendingPathComponent(name + ".f32")
            do throws(EarshotError) { try OutputFile.writeAtomically(Array(UnsafeRawBufferPointer(values)), to: file) } catch {
                failure = error.description
            }
            dumped.append((name, shape))
        } : nil
        let result: GenerationResult
        do throws(EarshotError) { result = try session.generate(prepared, options: options, probe: probe) } catch { throw fail(error.description) }
        if let failure { throw fail(failure) }
        if let dump {
            let index = JSONValue.object(dumped.map { ($0.0, JSONValue.ints($0.1)) }).serialized() + "\n"
            do { try OutputFile.writeAtomically(Array(index.utf8), to: (dump as NSString).appendingPathComponent("index.json")) } catch {
                throw fail(error.description)
            }
        }
        if let dumpLogits {
            guard let logits = lastLogits else { throw fail("the prefill gave no logits") }
            do { try OutputFile.writeAtomically(logits.withUnsafeBytes { Array($0) }, to: dumpLogits) } catch { throw fail(error.description) }
        }
        if printIds {
            print("[" + result.ids.map(String.init).joined(separator: ",") + "]")
        } else {
            print(result.text)
        }
    }

    /// Creates `dir` (and parents) unless it exists as a directory; anything else in the way is an error.
    static func prepareDirectory(_ dir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw CLIFailure(command: "run", message: "--dump \(dir): it exists and is not a directory") }
            return
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw CLIFailure(command: "run", message: "--dump \(dir): cannot create the directory (\((error as NSError).localizedFailureReason ?? "permission denied or a file in the way"))")
        }
    }
}
