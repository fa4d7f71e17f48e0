// ConcurrencyTests: the library's thread-safety claims, exercised (and run under ThreadSanitizer by
// Tools/sanitize.sh): two sessions of one model driven from several threads at once, a session shared by two
// threads, and a chat's history and settings read while a turn streams on another thread.
import Foundation
import Testing
import EarshotTestSupport
@testable import Earshot

@Suite(.serialized) struct ConcurrencyTests {
    let model = LibGoldens.model

    @Test func sessionsAndChatsFromSeveralThreads() async throws {
        let golden = LibGoldens.ints(LibGoldens.run("asr")["greedy_ids"])
        let m = model
        let shared = m.makeSession()
        let chat = try m.makeChat()
        var chatOptions = chat.defaultOptions
        chatOptions.sampling = .greedy
        chatOptions.maxTokens = 8
        let chatOpts = chatOptions
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Two private sessions and one shared session, each used by two tasks.
            for _ in 0..<2 {
                let own = m.makeSession()
                for _ in 0..<2 {
                    group.addTask {
                        let ids = try own.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(6)).ids
                        #expect(ids == Array(golden.prefix(6)))
                    }
                }
                group.addTask {
                    let ids = try shared.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(6)).ids
                    #expect(ids == Array(golden.prefix(6)))
                    var s = shared.settings
                    s.cachesAudio.toggle()
                    shared.settings = s
                    _ = shared.contextIds
                }
            }
            // A chat streams while other tasks read its history, system prompt and window.
            group.addTask {
                for try await _ in chat.stream("What does the speaker say?", audios: [.file(LibGoldens.jfk)], options: chatOpts) {}
                _ = try await chat.send("Again?", options: chatOpts)
            }
            group.addTask {
                var reads = 0
                while chat.history.count < 2 && reads < 100_000 {
                    _ = chat.history.map(\.response)
                    _ = chat.system
                    _ = chat.maxWindowTokens
                    reads += 1
                    try await Task.sleep(nanoseconds: 1_000_000)
                }
                #expect(chat.history.count == 2)
            }
            try await group.waitForAll()
        }
    }

    @Test func cancellingTheAwaitingTaskStopsGeneration() async throws {
        // Cancelled before the worker starts: the flag is set at once, so generation stops at its first
        // check (deterministic, unlike cancelling after a delay on a model that may finish first).
        let session = model.makeSession()
        let task = Task {
            try await session.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(200))
        }
        task.cancel()
        do {
            let result = try await task.value
            #expect(result.stopReason == .cancelled && result.ids.count <= 1, "\(result.stopReason) after \(result.ids.count) ids")
        } catch let error as EarshotError {
            guard case .cancelled = error else { Issue.record("expected .cancelled, got \(error)"); return }
        }
        // Mid-stream: the consumer stops after 3 tokens; the session is free again at once.
        var seen = 0
        for try await _ in session.stream(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(200)) {
            seen += 1
            if seen == 3 { break }
        }
        #expect(seen == 3)
        let after = try await session.run(.transcribe(language: .en), audio: .file(LibGoldens.jfk), options: LibGoldens.greedy(4))
        #expect(after.ids.count == 4 || after.stopReason != .cancelled)
    }
}
