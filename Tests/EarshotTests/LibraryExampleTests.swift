// The README's library example (Docs/library-example.md), compiled and run here on the tiny model.
// The snippet between the EXAMPLE markers must equal the Markdown file's code block (with the paths).
import Foundation
import Testing
import Earshot
import EarshotTestSupport

// EXAMPLE BEGIN
func libraryExample(modelPath: String, audioPath: String) async throws -> String {
    let model = try EarshotModel(path: modelPath)          // any .ear: Whisper, Qwen-Audio, Qwen-Audio-Chat
    print(model.info.family, model.info.tasks)             // what it is and what it can do
    let session = model.makeSession()                      // safe to use from any thread

    // Speech to text, any length, any family: segments come as they are decoded (return false to stop).
    var options = TranscriptionOptions()
    options.language = "en"
    let transcript = try session.transcribe(.file(audioPath), options: options) { event in
        if case .segment(let s) = event { print(TranscriptFormat.clock(s.start, comma: false), s.text) }
        return true
    }
    print(TranscriptFormat.srt.render(transcript))
    print(transcript.stats.summary)

    // The same from Swift concurrency: cancelling the task stops the work.
    let again = try await session.transcribe(.file(audioPath), options: options)
    precondition(again.text == transcript.text)

    // A conversation about the audio (Qwen-Audio models), tokens as an AsyncSequence.
    if model.info.chats {
        let chat = try model.makeChat()
        var chatOptions = chat.defaultOptions                // top_p 0.5, stop on <|im_end|> …
        chatOptions.maxTokens = 16
        for try await token in chat.stream("What does the speaker say?", audios: [.file(audioPath)], options: chatOptions) {
            print(token.text, terminator: "")
        }
    }
    return transcript.text
}
// EXAMPLE END

@Suite struct LibraryExampleTests {
    @Test func exampleRunsOnAQwenAudioModel() async throws {
        let text = try await libraryExample(modelPath: try TinyEarModel.path(), audioPath: Fixtures.url("audio/jfk.wav").path)
        #expect(!text.isEmpty)
    }

    @Test func exampleRunsOnAWhisperModelWithTheSameCalls() async throws {
        // The tiny random Whisper's text is noise; what matters is that the same calls run end to end.
        _ = try await libraryExample(modelPath: try TinyWhisperEar.path(), audioPath: Fixtures.url("audio/jfk.wav").path)
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
    let model = try EarshotModel(path: "whisper-tiny.en.q8.ear")   // or a Qwen-Audio .ear: same calls
    let session = model.makeSession()                             // safe from any thread
    let transcript = try session.transcribe(.file("speech.wav")) { event in
        if case .segment(let s) = event { print(s.text) }         // segments as they are decoded
        return true                                               // false stops
    }
    print(TranscriptFormat.srt.render(transcript))
}
