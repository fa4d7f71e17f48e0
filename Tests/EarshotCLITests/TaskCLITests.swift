// Task commands on the tiny model: each prints its exact spec §6 prompt ids, greedy outputs equal the
// reference goldens (ids exact: every golden step has a top-1/top-2 margin ≥ 0.0169, far above f32 noise),
// output formats, 30 s windows, and the refusals.
import Foundation
import Testing
import EarshotTestSupport

@Suite(.serialized) struct TaskCLITests {
    // Special ids of spec §5.
    static let sot = 151852, soa = 151853, translate = 151854, transcribe = 151855, caption = 151856, keyword = 151857
    static let unknown = 151858, en = 151859, zh = 151860, de = 151861, notimestamps = 151868, timestamps = 151870
    static let t0 = 151871, itn = 154876, woItn = 154877, captionAudiocaps = 154872, captionClotho = 154873
    static let captionPlain = 154875, emotion = 154887, notes = 154889, question = 155152, answer = 155153
    static let scene = 155155, vocal = 155157

    /// `<audio>` + placeholders + `</audio>` of jfk.wav: the first 277 ids of the asr golden (span 277).
    static let jfkSpan: [Int] = Array(TaskGoldens.ints(TaskGoldens.run("asr")["input_ids"]).prefix(277))

    func promptIds(_ args: [String]) throws -> [Int] {
        let r = try TaskGoldens.earshot(args + ["--print-prompt-ids"])
        #expect(r.exitCode == 0, "\(r)")
        let lines = TaskGoldens.idLines(r.stdout)
        #expect(lines.count == 1, "\(r)")
        return lines.first ?? []
    }

    @Test func asrPromptIsTheSpecSequence() throws {
        // Spec §6: the 5.855 s flac gives [155163] + [151851]×146 + [155164, 151852, 151859, 151855, 151859, 151868, 154877].
        let expected = [155163] + Array(repeating: 151851, count: 146) + [155164, 151852, 151859, 151855, 151859, 151868, 154877]
        #expect(try promptIds(["transcribe", "audio/1272-128104-0000.flac"]) == expected)
        // And the asr golden's 283 ids for jfk.wav.
        #expect(try promptIds(["transcribe", "audio/jfk.wav"]) == TaskGoldens.ints(TaskGoldens.run("asr")["input_ids"]))
    }

    @Test func captionPromptIsTheGoldens() throws {
        #expect(try promptIds(["caption", "audio/1272-128104-0000.flac"]) == TaskGoldens.ints(TaskGoldens.run("caption")["input_ids"]))
    }

    @Test func everyTaskBuildsItsSpecTags() throws {
        typealias T = TaskCLITests
        let cases: [([String], [Int])] = [
            (["transcribe", "--lang", "zh", "--itn"], [T.sot, T.zh, T.transcribe, T.zh, T.notimestamps, T.itn]),
            (["translate", "--from", "de", "--to", "en"], [T.sot, T.de, T.translate, T.en, T.notimestamps, T.itn]),
            (["timestamps"], [T.sot, T.en, T.transcribe, T.en, T.timestamps, T.t0]),
            (["caption", "--style", "audiocaps"], [T.soa, T.unknown, T.caption, T.en, T.notimestamps, T.captionAudiocaps]),
            (["caption", "--style", "plain"], [T.soa, T.unknown, T.caption, T.en, T.notimestamps, T.captionPlain]),
            (["classify", "emotion"], [T.soa, T.en, T.keyword, T.en, T.notimestamps, T.emotion]),
            (["classify", "scene"], [T.soa, T.unknown, T.keyword, T.en, T.notimestamps, T.scene]),
            (["classify", "vocal"], [T.soa, T.en, T.keyword, T.en, T.notimestamps, T.vocal]),
            (["notes"], [T.soa, T.unknown, T.keyword, T.en, T.notimestamps, T.notes]),
        ]
        for (args, tags) in cases {
            #expect(try promptIds(args + ["audio/jfk.wav"]) == T.jfkSpan + tags, "\(args)")
        }
        // ask: the question's BPE ids between the tags ("Hello world" = [9707, 1879], spec §5).
        #expect(try promptIds(["ask", "Hello world", "audio/jfk.wav"]) == T.jfkSpan + [T.soa, T.en, T.question, 9707, 1879, T.answer])
    }

    @Test func greedyTranscribeAndCaptionEqualTheGoldens() throws {
        for (name, args) in [("asr", ["transcribe", "audio/jfk.wav", "--max-tokens", "20"]),
                             ("caption", ["caption", "audio/1272-128104-0000.flac", "--max-tokens", "12"])] {
            let golden = TaskGoldens.run(name)
            let ids = try TaskGoldens.earshot(args + ["--greedy", "--print-ids", "--quiet"])
            #expect(ids.exitCode == 0, "\(ids)")
            #expect(TaskGoldens.idLines(ids.stdout) == [TaskGoldens.ints(golden["greedy_ids"])], "\(name)")
            let text = try TaskGoldens.earshot(args + ["--greedy"])
            #expect(text.stdout == (golden["greedy_text"] as! String) + "\n", "\(name)")
            // The timing summary goes to stderr.
            for key in ["load", "encode", "prefill", "decode"] { #expect(text.stderr.contains("earshot: \(key)"), "\(text)") }
            #expect(text.stderr.contains("tok/s"))
        }
    }

    @Test func captionTimestampBecomesSegments() throws {
        // The caption golden's greedy text holds <|5.67|>: the text before it spans 0–5.67 s.
        let args = ["caption", "audio/1272-128104-0000.flac", "--max-tokens", "12", "--greedy", "--quiet"]
        let srt = try TaskGoldens.earshot(args + ["--format", "srt"])
        #expect(srt.exitCode == 0, "\(srt)")
        #expect(srt.stdout.hasPrefix("1\n00:00:00,000 --> 00:00:05,670\n"), "\(srt.stdout)")
        let vtt = try TaskGoldens.earshot(args + ["--format", "vtt"])
        #expect(vtt.stdout.hasPrefix("WEBVTT\n\n00:00:00.000 --> 00:00:05.670\n"), "\(vtt.stdout)")
        let json = try TaskGoldens.earshot(args + ["--format", "json"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let windows = obj?["windows"] as? [[String: Any]]
        #expect(windows?.count == 1)
        #expect(TaskGoldens.ints(windows?.first?["ids"]) == TaskGoldens.ints(TaskGoldens.run("caption")["greedy_ids"]))
        #expect((obj?["segments"] as? [Any])?.isEmpty == false)
    }

    @Test func longAudioRunsInPauseAlignedWindows() throws {
        // music-31s.wav is 31 s: two windows of at most 30 s that tile the file, the cut placed in the
        // quietest stretch the planner finds before 30 s; --truncate keeps only the first window.
        let args = ["transcribe", "audio/music-31s.wav", "--greedy", "--max-tokens", "3", "--format", "json", "--quiet"]
        let r = try TaskGoldens.earshot(args)
        #expect(r.exitCode == 0, "\(r)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let windows = (obj?["windows"] as? [[String: Any]]) ?? []
        let starts = windows.compactMap { ($0["start"] as? NSNumber)?.doubleValue }
        let ends = windows.compactMap { ($0["end"] as? NSNumber)?.doubleValue }
        #expect(starts.count == 2 && ends.count == 2, "\(windows)")
        if starts.count == 2 && ends.count == 2 {
            #expect(starts[0] == 0 && ends[1] == 31, "windows cover the file: \(starts) \(ends)")
            #expect(abs(ends[0] - starts[1]) < 1e-9, "windows are contiguous: \(starts) \(ends)")
            #expect(zip(starts, ends).allSatisfy { $1 - $0 <= 30 + 1e-9 && $1 > $0 }, "\(starts) \(ends)")
        }
        let segments = (obj?["segments"] as? [[String: Any]]) ?? []
        #expect(segments.allSatisfy { (($0["start"] as? NSNumber)?.doubleValue ?? -1) >= 0 })
        let truncated = try TaskGoldens.earshot(args + ["--truncate"])
        let one = try JSONSerialization.jsonObject(with: Data(truncated.stdout.utf8)) as? [String: Any]
        #expect((one?["windows"] as? [Any])?.count == 1)
    }

    @Test func samplingIsSeededAndFlagsApply() throws {
        let base = ["transcribe", "audio/jfk.wav", "--max-tokens", "8", "--print-ids", "--quiet"]
        let a = try TaskGoldens.earshot(base + ["--seed", "7", "--temperature", "1.5", "--top-p", "1"])
        let b = try TaskGoldens.earshot(base + ["--seed", "7", "--temperature", "1.5", "--top-p", "1"])
        let c = try TaskGoldens.earshot(base + ["--seed", "8", "--temperature", "1.5", "--top-p", "1"])
        #expect(a.exitCode == 0 && !TaskGoldens.idLines(a.stdout).isEmpty, "\(a)")
        #expect(a.stdout == b.stdout)                  // same seed, same tokens
        #expect(a.stdout != c.stdout)                  // 8 tokens from a near-flat distribution: seeds differ
        // top-k 1 is greedy whatever the temperature and seed.
        let k1 = try TaskGoldens.earshot(base + ["--top-k", "1", "--seed", "99", "--temperature", "2"])
        #expect(TaskGoldens.idLines(k1.stdout) == [Array(TaskGoldens.ints(TaskGoldens.run("asr")["greedy_ids"]).prefix(8))])
        // --stop cuts the text; --quiet prints no summary; --verbose adds the window and stop lines.
        let stopped = try TaskGoldens.earshot(["transcribe", "audio/jfk.wav", "--greedy", "--stop", "happy", "--quiet"])
        #expect(stopped.stdout == "airport쯧 Также \n" && stopped.stderr.isEmpty, "\(stopped)")
        let verbose = try TaskGoldens.earshot(["transcribe", "audio/jfk.wav", "--greedy", "--max-tokens", "2", "--verbose"])
        #expect(verbose.stderr.contains("window 0 at 0.00 s") && verbose.stderr.contains("stopped on max tokens"), "\(verbose)")
        #expect(verbose.stderr.contains("earshot: decode"))
    }

    @Test func refusalsAreOneClearLine() throws {
        let noModel = try CLIRunner.run(["caption", "audio/jfk.wav"], currentDirectory: Fixtures.directory)
        #expect(noModel.exitCode == 1)
        #expect(noModel.stderr.contains("--model FILE.ear is required"), "\(noModel)")
        let missing = try TaskGoldens.earshot(["transcribe", "audio/nope.wav"])
        #expect(missing.exitCode == 1)
        #expect(missing.stderrLines.count == 1 && missing.stderr.contains("nope.wav"), "\(missing)")
        let badLang = try TaskGoldens.earshot(["transcribe", "--lang", "xx", "audio/jfk.wav"])
        #expect(badLang.exitCode != 0 && badLang.stderr.contains("--lang"), "\(badLang)")
        let badFormat = try TaskGoldens.earshot(["caption", "--format", "doc", "audio/jfk.wav"])
        #expect(badFormat.exitCode != 0 && badFormat.stderr.contains("--format"), "\(badFormat)")
    }
}
