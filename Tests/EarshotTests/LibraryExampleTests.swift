// The README's library example (Docs/library-example.md), compiled and run here on the tiny model.
// The snippet between the EXAMPLE markers must equal the Markdown file's code block (with the paths).
import Foundation
import Testing
import Earshot
import EarshotTestSupport

// EXAMPLE BEGIN
func libraryExample(modelPath: String, audioPath: String) async throws -> String {
    let model = try EarshotModel(path: modelPath)          // load once; share it between threads and sessions
    let session = model.makeSession()

    // A task, tokens streamed through a callback (return false to stop early).
    let task = AudioTask.transcribe(language: .en)
    var options = session.defaultOptions(for: task)          // the model's generation config
    options.maxTokens = 64
    options.sampling.greedy = true
    let result = try session.run(task, audio: .file(audioPath), options: options) { token in
        print(token.text, terminator: "")
        return true
    }
    print("\n" + result.stats.summary)

    // A chat, tokens streamed as an AsyncSequence (cancelling the task stops generation).
    let chat = model.makeChat()
    var chatOptions = chat.defaultOptions                    // top_p 0.5, stop on <|im_end|> …
    chatOptions.maxTokens = 64
    for try await token in chat.stream("What does the speaker say?", audios: [audioPath], options: chatOptions) {
        print(token.text, terminator: "")
    }
    return chat.history.last?.response ?? ""
}
// EXAMPLE END

@Suite struct LibraryExampleTests {
    @Test func exampleRunsOnTheTinyModel() async throws {
        let response = try await libraryExample(modelPath: try TinyEarModel.path(), audioPath: Fixtures.url("audio/jfk.wav").path)
        #expect(!response.isEmpty)
    }

    @Test func docsShowTheCompiledExample() throws {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let begin = source.range(of: "// EXAMPLE BEGIN\n")!, end = source.range(of: "// EXAMPLE END")!
        let snippet = String(source[begin.upperBound..<end.lowerBound])
        let docs = try String(contentsOf: Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Docs/library-example.md"), encoding: .utf8)
        #expect(docs.contains("```swift\nimport Earshot\n\n" + snippet + "```"), "Docs/library-example.md is out of date")
    }
}

/// The README's short library snippet, compiled (not run: it names a model file the tests do not have).
func readmeSnippet() throws {
    let model = try EarshotModel(path: "qwen-audio.q4.ear")     // once; Sendable, share it
    let session = model.makeSession()
    let result = try session.run(.transcribe(language: .en), audio: .file("speech.wav")) { token in
        print(token.text, terminator: ""); return true          // return false to stop
    }
    _ = result
}
