// DefaultModel: the model `earshot transcribe` uses when no --model is given — Whisper tiny.en at q8 in the
// cache directory, put there by Tools/get-default-model.sh (Tools/demo.sh runs it).
import Foundation

enum DefaultModel {
    static let fileName = "whisper-tiny.en.q8.ear"

    /// `$EARSHOT_CACHE`, else `$XDG_CACHE_HOME/earshot`, else `~/.cache/earshot` (the same rule as the script).
    static var cacheDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let c = env["EARSHOT_CACHE"], !c.isEmpty { return c }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return (x as NSString).appendingPathComponent("earshot") }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".cache/earshot")
    }

    static var path: String { (cacheDirectory as NSString).appendingPathComponent(fileName) }

    /// The Silero VAD model the same script converts beside it.
    static var vadPath: String { (cacheDirectory as NSString).appendingPathComponent("silero-vad-v6.ear") }

    /// The given model, or the default one; a clear error naming the command that fetches it when it is missing.
    static func resolve(_ given: String?, command: String = "transcribe") throws -> String {
        if let given { return given }
        let p = path
        guard FileManager.default.fileExists(atPath: p) else {
            throw CLIFailure(command: command, message: "no --model given and the default model \(p) is not installed: "
                + "fetch it with Tools/get-default-model.sh (Whisper tiny.en, ~43 MB) or pass --model FILE.ear")
        }
        return p
    }
}
