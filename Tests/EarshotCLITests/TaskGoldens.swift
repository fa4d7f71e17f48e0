// TaskGoldens: reads the tiny-model goldens (reference-code runs, Tests/Fixtures/qwen-audio-tiny/goldens/
// manifest.json) and runs the built `earshot` on the converted tiny model from Tests/Fixtures, so the
// audio paths in prompts are the goldens' own (`audio/jfk.wav`, …).
import Foundation
import EarshotTestSupport

enum TaskGoldens {
    nonisolated(unsafe) static let manifest: [String: Any] = {
        let data = try! Data(contentsOf: Fixtures.url("qwen-audio-tiny/goldens/manifest.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func run(_ name: String) -> [String: Any] { (manifest["runs"] as! [String: Any])[name] as! [String: Any] }
    static func ints(_ v: Any?) -> [Int] { (v as! [Any]).map { ($0 as! NSNumber).intValue } }
    static func chatTurns() -> [[String: Any]] { run("chat")["turns"] as! [[String: Any]] }

    /// Runs `earshot ARGS --model tiny.ear` in Tests/Fixtures.
    static func earshot(_ args: [String], input: Data? = nil) throws -> CLIResult {
        try CLIRunner.run(args + ["--model", try TinyEarModel.path()], input: input,
                          currentDirectory: Fixtures.directory, timeout: 300)
    }

    /// Every line of stdout that is a JSON array of ints, parsed.
    static func idLines(_ out: String) -> [[Int]] {
        out.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("["), let data = line.data(using: .utf8),
                  let arr = try? JSONSerialization.jsonObject(with: data) as? [Any] else { return nil }
            return arr.compactMap { ($0 as? NSNumber)?.intValue }
        }
    }
}
