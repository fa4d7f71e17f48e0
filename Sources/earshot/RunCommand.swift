// `earshot run`: the raw path — a prompt with task tags and <audio>PATH</audio> tags exactly as the official
// base model takes it → generated text (or ids). Also the probes for outside checks: --dump-logits (the
// logits that choose the first token) and --dump (every named intermediate).
import ArgumentParser
import Earshot
import EarshotKernels
import EarshotModels
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a raw Qwen-Audio prompt (task tags and <audio> tags) and print the generated text.",
        discussion: """
            The prompt is tokenized with every special token allowed (the base-model / eval path). Each \
            <audio>PATH</audio> is read (PATH relative to the working directory), turned into a log-mel and \
            encoded; its tag expands to the audio's token span. Several audios are encoded as one padded \
            batch, exactly like the reference. --audio PATH prepends <audio>PATH</audio> to the prompt \
            (repeatable, in order). Generation stops at <|endoftext|> or after --max-tokens.

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
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
        if kvCache != "f16" && kvCache != "f32" { throw ValidationError("--kv-cache is f16 or f32, not '\(kvCache)'") }
    }

    func run() throws {
        if let threads { ThreadPool.shared.activeThreads = threads }
        let runtime: QwenAudioRuntime
        do { runtime = try QwenAudioRuntime(path: model) } catch { throw fail(error.description) }
        let text = audio.map { "<audio>\($0)</audio>" }.joined() + prompt
        let prepared: QwenAudioRuntime.Prompt
        do { prepared = try runtime.prepare(prompt: text) } catch { throw fail(error.description) }

        let gen = runtime.generationConfig ?? [:]
        let limit = maxTokens ?? (gen["max_new_tokens"] as? Int) ?? 512
        let eos = (gen["eos_token_id"] as? Int) ?? 151_643
        var params = SamplingParameters(greedy: greedy, seed: seed)
        if let p = gen["top_p"] as? Double { params.topP = Float(p) }
        if let k = gen["top_k"] as? Int { params.topK = k }
        if let t = gen["temperature"] as? Double { params.temperature = Float(t) }
        if let r = gen["repetition_penalty"] as? Double { params.repetitionPenalty = Float(r) }
        var sampler = Sampler(params)

        let cache = runtime.model.makeCache(capacity: prepared.ids.count + max(limit, 1),
                                            precision: kvCache == "f32" ? .f32 : .f16)
        var dumped: [(String, [Int])] = []
        if let dump {
            try? FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
        }
        let probe: Probe? = dump.map { dir in
            { name, shape, values in
                let data = Data(buffer: values)
                _ = FileManager.default.createFile(atPath: (dir as NSString).appendingPathComponent(name + ".f32"), contents: data)
                dumped.append((name, shape))
            }
        }
        var logits: [Float]
        do {
            logits = try runtime.model.prefill(ids: prepared.ids, mels: prepared.mels, cache: cache, probe: probe)
        } catch { throw fail(error.description) }
        if let dump {
            let entries = dumped.map { "  \"\($0.0)\": [\($0.1.map(String.init).joined(separator: ", "))]" }
            let json = "{\n" + entries.joined(separator: ",\n") + "\n}\n"
            _ = FileManager.default.createFile(atPath: (dump as NSString).appendingPathComponent("index.json"), contents: Data(json.utf8))
        }
        if let dumpLogits {
            guard FileManager.default.createFile(atPath: dumpLogits, contents: logits.withUnsafeBufferPointer { Data(buffer: $0) }) else {
                throw fail("cannot write \(dumpLogits)")
            }
        }

        var context = prepared.ids
        var generated: [Int] = []
        while generated.count < limit {
            let next = logits.withUnsafeMutableBufferPointer { sampler.next(logits: $0, context: context) }
            generated.append(next)
            context.append(next)
            if next == eos || generated.count == limit { break }
            do { logits = try runtime.model.decodeStep(id: next, cache: cache) } catch { throw fail(error.description) }
        }
        if printIds {
            print("[" + generated.map(String.init).joined(separator: ",") + "]")
        } else {
            let textIds = generated.last == eos ? Array(generated.dropLast()) : generated
            do { print(try runtime.tokenizer.decode(textIds)) } catch { throw fail("cannot decode the output: \(error)") }
        }
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("earshot run: \(message)\n".utf8))
        return ExitCode(1)
    }
}
