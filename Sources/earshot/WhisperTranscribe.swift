// The Whisper pipeline of `earshot transcribe`: used when --model is a Whisper `.ear` (general.architecture
// "whisper", e.g. tiny.en converted with earshot-convert from its CTranslate2 directory). Beam 5 like
// faster-whisper, --greedy for beam 1; srt/vtt/json output decode Whisper's timestamp tokens.
import ArgumentParser
import Earshot
import Foundation

func runWhisperTranscribe(model: String, audio: String, greedy: Bool, output: TaskOutputOptions) throws {
    let format = SubtitleFormat(rawValue: output.format) ?? .txt
    do {
        let t0 = Date()
        let transcriber = try WhisperTranscriber.load(path: model)
        let options = WhisperTranscribeOptions(beamSize: greedy ? 1 : 5, timestamps: format != .txt)
        let t1 = Date()
        let result = try transcriber.transcribe(file: audio, options: options)
        if ProcessInfo.processInfo.environment["EARSHOT_TIMING"] != nil {   // phase times on stderr
            printError(String(format: "timing: load %.3f s, log-mel %.3f s, encoder %.3f s, decoder %.3f s, total %.3f s",
                              t1.timeIntervalSince(t0), result.melSeconds, result.encodeSeconds, result.decodeSeconds, Date().timeIntervalSince(t0)))
        }
        if format == .txt {
            print(result.text)
        } else {
            print(format.render(result.segments.map {
                TimedText(start: $0.start, end: $0.end, text: $0.text.trimmingCharacters(in: .whitespaces))
            }))
        }
    } catch {
        printError("error: \(error)")
        throw ExitCode(1)
    }
}
