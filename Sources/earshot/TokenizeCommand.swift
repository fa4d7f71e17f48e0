// `earshot tokenize`: text ⇄ Qwen token ids on stdin/stdout, for debugging and outside checks.
import ArgumentParser
import Earshot
import EarshotFormat
import EarshotTokenizer
import EarshotModels
import Foundation

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode text to Qwen-Audio token ids, or decode ids to text (stdin → stdout, JSON).",
        discussion: """
            Encoding reads all of stdin as the text (exactly, including a final newline: use printf, or \
            --jsonl) and prints a JSON array of ids. The text is NFC-normalised first, no BOS/EOS is added, \
            and <audio>PATH</audio> stays <audio>, the path's tokens, </audio> (the model expands it).
            With --decode, stdin is a JSON array of ids and the output is the text as a JSON string.
            With --jsonl, every input line is one JSON string (or id array with --decode) and every output \
            line the matching result, in order; a line that fails prints {"error": "..."} and the rest go on.

            Examples (T=qwen.tiktoken):
              printf 'Hello world' | earshot tokenize --tokenizer $T → [9707,1879]
              echo '[9707,1879]' | earshot tokenize --tokenizer $T --decode → "Hello world"
              printf '"<|en|>"\\n' | earshot tokenize --tokenizer $T --jsonl --special none
            """)

    @Option(name: .long, help: ArgumentHelp("The tiktoken rank file (qwen.tiktoken of the checkpoint).", valueName: "FILE"))
    var tokenizer: String?

    @Option(name: .long, help: ArgumentHelp("A converted model; its tokenizer.tiktoken blob is used.", valueName: "FILE.ear"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("""
        Which special-token strings in the text become specials: all (base model, eval prompts), \
        audio (chat: task tags, timestamps, <audio>; not <|im_start|> etc.), none.
        """, valueName: "all|audio|none"))
    var special: SpecialMode = .all

    @Flag(name: .long, help: "Decode a JSON id array to text instead of encoding.")
    var decode = false

    @Flag(name: .long, help: "With --decode: drop every special id (≥ 151643), like skip_special_tokens.")
    var skipSpecial = false

    @Flag(name: .long, help: "One JSON value per input line, one JSON result per output line.")
    var jsonl = false

    @Flag(name: .long, help: "Print the load time and the encode/decode time (best of 3 runs) to stderr.")
    var timing = false

    func validate() throws {
        if tokenizer == nil && model == nil {
            throw ValidationError("give the tokenizer: --tokenizer qwen.tiktoken or --model FILE.ear")
        }
        if tokenizer != nil && model != nil {
            throw ValidationError("give either --tokenizer or --model, not both")
        }
        if skipSpecial && !decode { throw ValidationError("--skip-special only applies with --decode") }
    }

    func run() throws {
        let qwen: QwenTokenizer
        let loadStart = ContinuousClock.now
        let loadCPUStart = clock()
        do {
            if let tokenizer {
                qwen = try QwenTokenizer(contentsOf: URL(fileURLWithPath: tokenizer))
            } else {
                let ear = try EarFile(path: model!)
                let blob = try ear.blob(named: MetadataKeys.tokenizerBlob)
                if ModelFamily(file: ear) == .qwenText {   // a text LLM: its own specials (Qwen2's from the GGUF)
                    qwen = try QwenTokenizer(tiktoken: blob, textSpecials: try ear.metadata.strings(MetadataKeys.specialTokens))
                } else {
                    qwen = try QwenTokenizer(tiktoken: blob)
                }
            }
        } catch {
            throw fail("\(error)")
        }
        let loadTime = ContinuousClock.now - loadStart
        let loadCPU = Double(clock() - loadCPUStart) / Double(CLOCKS_PER_SEC)
        let input = FileHandle.standardInput.readDataToEndOfFile()
        if timing { try reportTiming(load: loadTime, loadCPU: loadCPU, input: input, qwen) }
        if jsonl {
            var out = ""
            var lines = input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() }
            for (number, line) in lines.enumerated() {
                do { out += try process(Data(line), qwen) } catch { out += errorJSON(line: number + 1, error) }
                out += "\n"
                if out.utf8.count > 1 << 16 { write(out); out = "" }
            }
            write(out)
        } else {
            do {
                write(try process(input, qwen) + "\n")
            } catch {
                throw fail("\(error)")
            }
        }
    }

    /// One input value → one JSON result.
    func process(_ data: Data, _ qwen: QwenTokenizer) throws -> String {
        if decode {
            let ids: [Int]
            do { ids = try JSONDecoder().decode([Int].self, from: data) } catch {
                throw TokenizeInputError(message: "expected a JSON array of integer ids, like [9707, 1879]")
            }
            return JSONText.string(try qwen.decode(ids, skipSpecial: skipSpecial))
        }
        let text: String
        if jsonl {
            text = try JSONDecoder().decode(String.self, from: data)
        } else {
            guard let utf8 = String(validating: data, as: UTF8.self) else { throw CLIError("stdin is not valid UTF-8") }
            text = utf8
        }
        return JSONText.ids(qwen.encode(text, special: special))
    }

    /// `{"error": "..."}` for a line that failed.
    func errorJSON(line: Int, _ error: Error) -> String {
        let message: String
        switch error {
        case let error as TokenizerError: message = "line \(line): \(error)"
        default: message = "line \(line): not a JSON \(decode ? "array of integer ids" : "string")"
        }
        return "{\"error\": \(JSONText.string(message))}"
    }

    /// Times the work of `run` without output (best of 3) and prints it with the load time to stderr.
    func reportTiming(load: Duration, loadCPU: Double, input: Data, _ qwen: QwenTokenizer) throws {
        var best = Duration.seconds(1_000_000)
        var tokens = 0
        for _ in 0 ..< 3 {
            let start = ContinuousClock.now
            if jsonl || decode {
                tokens = 0
                for line in input.split(separator: UInt8(ascii: "\n")) { tokens += (try? process(Data(line), qwen))?.count ?? 0 }
            } else {
                tokens = qwen.encode(String(decoding: input, as: UTF8.self), special: special).count
            }
            best = min(best, ContinuousClock.now - start)
        }
        func ms(_ d: Duration) -> String {
            let (s, a) = d.components
            return String(format: "%.1f", Double(s) * 1000 + Double(a) / 1e15)
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
        let what = jsonl || decode ? "lines" : "encode"
        FileHandle.standardError.write(Data(("load \(ms(load)) ms (CPU \(String(format: "%.1f", loadCPU * 1000)) ms); \(what) \(ms(best)) ms for \(input.count) bytes"
            + (what == "encode" ? " → \(tokens) tokens" : "")
            + String(format: " (%.2f MB/s)\n", Double(input.count) / seconds / 1e6)).utf8))
    }

    func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }

    func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("earshot tokenize: \(message)\n".utf8))
        return ExitCode.failure
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension SpecialMode: ExpressibleByArgument {}

/// Compact JSON for tokenize's lines: id arrays without spaces, strings through the library's JSON writer
/// (control characters and U+0085, U+2028, U+2029 escaped: every result stays on one line).
enum JSONText {
    static func ids(_ ids: [Int]) -> String { "[" + ids.map(String.init).joined(separator: ",") + "]" }

    static func string(_ s: String) -> String { JSONValue.string(s).serialized() }
}

/// A malformed input line of `tokenize` (reported in words, not as a decoder dump).
struct TokenizeInputError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
