// `earshot chat` on the tiny model: the chat goldens' two turns (prompt ids and greedy ids identical,
// responses by the reference's drop-the-last-token rule), session save → load → continue, and the
// KV-prefix / audio-encoding cache (turn 2 reuses turn 1's prefix; same ids as without the cache).
import Foundation
import Testing
import EarshotTestSupport

@Suite(.serialized) struct ChatCLITests {
    nonisolated(unsafe) static let turns = TaskGoldens.chatTurns()
    static let q1 = "What does the speaker say?", q2 = "Summarise it in three words."

    @Test func goldenTurnsReproduce() throws {
        let r = try TaskGoldens.earshot(["chat", "--greedy", "--print-ids", "--print-prompt-ids", "--max-tokens", "16",
                                         "--audio", "audio/jfk.wav", "--turn", Self.q1, "--turn", Self.q2])
        #expect(r.exitCode == 0, "\(r)")
        let lines = TaskGoldens.idLines(r.stdout)
        #expect(lines.count == 4, "\(r)")
        guard lines.count == 4 else { return }
        for k in 0..<2 {
            #expect(lines[2 * k] == TaskGoldens.ints(Self.turns[k]["input_ids"]), "turn \(k) prompt")
            #expect(lines[2 * k + 1] == TaskGoldens.ints(Self.turns[k]["greedy_ids"]), "turn \(k) greedy ids")
        }
        // Turn 2 reused turn 1's KV prefix and its audio encoding.
        #expect(r.stderr.contains("earshot[turn 1]: encode  =      0.00 ms /   0 audios (1 cached)"), "\(r.stderr)")
    }

    @Test func responsesFollowTheReferenceRule() throws {
        let r = try TaskGoldens.earshot(["chat", "--greedy", "--json", "--max-tokens", "16", "--quiet",
                                         "--turn", "/audio audio/jfk.wav", "--turn", Self.q1, "--turn", Self.q2])
        #expect(r.exitCode == 0, "\(r)")
        let objects = r.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == 2)
        for (k, o) in objects.enumerated() {
            #expect(o["response"] as? String == Self.turns[k]["response"] as? String, "turn \(k)")
            #expect(o["query"] as? String == Self.turns[k]["query"] as? String, "turn \(k)")
        }
    }

    @Test func withoutTheCacheTurnTwoRecomputesEverythingAndAgrees() throws {
        func run(_ extra: [String]) throws -> CLIResult {
            try TaskGoldens.earshot(["chat", "--greedy", "--print-ids", "--max-tokens", "16", "--audio", "audio/jfk.wav",
                                     "--turn", Self.q1, "--turn", Self.q2] + extra)
        }
        let cached = try run([]), plain = try run(["--no-cache"])
        #expect(TaskGoldens.idLines(cached.stdout) == TaskGoldens.idLines(plain.stdout))
        // Turn 2's prompt is 340 ids: with the cache only the tail after the shared prefix runs.
        let reused = cached.stderr.split(separator: "\n").first { $0.contains("earshot[turn 1]: prefill") } ?? ""
        let full = plain.stderr.split(separator: "\n").first { $0.contains("earshot[turn 1]: prefill") } ?? ""
        #expect(full.contains("  340 tokens") && full.contains(" 0 reused"), "\(full)")
        #expect(!reused.contains(" 0 reused") && reused.contains("reused from the KV cache"), "\(reused)")
        #expect(plain.stderr.contains("earshot[turn 1]: encode") && plain.stderr.contains("1 audios (0 cached)"))
    }

    @Test func saveLoadContinueGivesTheSameTokens() throws {
        let dir = try TemporaryDirectory("earshot-chat-session")
        let file = dir.path("s.chat")
        let first = try TaskGoldens.earshot(["chat", "--greedy", "--print-ids", "--max-tokens", "16", "--quiet",
                                             "--turn", "/audio audio/jfk.wav", "--turn", Self.q1, "--turn", "/save \(file)"])
        #expect(first.exitCode == 0, "\(first)")
        #expect(FileManager.default.fileExists(atPath: file))
        let second = try TaskGoldens.earshot(["chat", "--greedy", "--print-ids", "--max-tokens", "16",
                                              "--load", file, "--turn", Self.q2])
        #expect(second.exitCode == 0, "\(second)")
        #expect(TaskGoldens.idLines(second.stdout) == [TaskGoldens.ints(Self.turns[1]["greedy_ids"])])
        // The restored KV cache is used: turn 2 only prefills its new tokens.
        #expect(!second.stderr.contains(" 0 reused from the KV cache"), "\(second.stderr)")
        // Interactive commands through stdin: /load, then a turn.
        let piped = try TaskGoldens.earshot(["chat", "--greedy", "--print-ids", "--max-tokens", "16", "--quiet"],
                                            input: Data("/load \(file)\n\(Self.q2)\n".utf8))
        #expect(TaskGoldens.idLines(piped.stdout) == [TaskGoldens.ints(Self.turns[1]["greedy_ids"])], "\(piped)")
        // A damaged file is one clear error.
        try Data("EARSESS\0garbage".utf8).write(to: URL(fileURLWithPath: file))
        let bad = try TaskGoldens.earshot(["chat", "--load", file, "--turn", "hi"])
        #expect(bad.exitCode == 1 && bad.stderr.contains("session file"), "\(bad)")
    }

    @Test func turnsFromJSON() throws {
        let dir = try TemporaryDirectory("earshot-chat-json")
        let turns = #"[{"text": "What does the speaker say?", "audios": ["audio/jfk.wav"]}, {"text": "Summarise it in three words."}]"#
        try Data(turns.utf8).write(to: URL(fileURLWithPath: dir.path("t.json")))
        let r = try TaskGoldens.earshot(["chat", "--greedy", "--json", "--max-tokens", "16", "--quiet", "--turns-json", dir.path("t.json")])
        let objects = r.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.map { $0["response"] as? String } == Self.turns.map { $0["response"] as? String }, "\(r)")
        let bad = try TaskGoldens.earshot(["chat", "--turns-json", "-"], input: Data("{}".utf8))
        #expect(bad.exitCode == 1 && bad.stderrLines.count == 1, "\(bad)")
    }

    @Test func severalAudiosInOneTurn() throws {
        // "Audio 1:<audio>jfk</audio>\nAudio 2:<audio>flac</audio>\nCompare." → two spans (277 and 148) in order.
        let r = try TaskGoldens.earshot(["chat", "--greedy", "--print-prompt-ids", "--print-ids", "--max-tokens", "2", "--quiet",
                                         "--turn", "/audio audio/jfk.wav", "--turn", "/audio audio/1272-128104-0000.flac",
                                         "--turn", "Compare."])
        #expect(r.exitCode == 0, "\(r)")
        let prompt = TaskGoldens.idLines(r.stdout).first ?? []
        let starts = prompt.indices.filter { prompt[$0] == 155163 }, ends = prompt.indices.filter { prompt[$0] == 155164 }
        #expect(starts.count == 2 && ends.count == 2)
        if starts.count == 2 && ends.count == 2 {
            #expect(ends[0] - starts[0] + 1 == 277 && ends[1] - starts[1] + 1 == 148)
            // "Audio 2:" = [14755, 220, 17, 25] sits between the spans, after "\n" (198).
            #expect(Array(prompt[(ends[0] + 1)...(ends[0] + 5)]) == [198, 14755, 220, 17, 25])
        }
    }

    @Test func resetForgetsTheHistory() throws {
        // After /reset, turn 2 is a first turn again: its prompt has no history.
        let r = try TaskGoldens.earshot(["chat", "--greedy", "--print-prompt-ids", "--max-tokens", "2", "--quiet", "--print-ids",
                                         "--turn", Self.q1, "--turn", "/reset", "--turn", Self.q1])
        let lines = TaskGoldens.idLines(r.stdout)
        #expect(lines.count == 4 && lines[0] == lines[2], "\(r)")
    }
}
