// TranscriptFormat: a Transcript as txt, json, srt, vtt or tsv — one renderer for every model family and
// every task (the CLI, the server and the C ABI use it). JSON schema:
//   {"model", "task", "audio", "duration", "language", "text",
//    "segments": [{"start", "end", "text"[, "words": [{"start", "end", "word", "probability"}]]}],
//    "windows": [{"start", "end"[, extra fields per window]}]}
// Times are seconds rounded to the millisecond, clamped to [0, duration], end ≥ start.

public enum TranscriptFormat: String, CaseIterable, Sendable {
    case txt, json, srt, vtt, tsv

    /// The file extension of the format.
    public var fileExtension: String { rawValue }

    /// Renders `t`. `extraWindowFields[i]` are appended to window i's JSON object (e.g. ids, stop reason).
    public func render(_ t: Transcript, extraWindowFields: [[(String, JSONValue)]] = []) -> String {
        switch self {
        case .txt:
            let lines = t.segments.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
        case .srt:
            return t.segments.enumerated().map { i, s in
                "\(i + 1)\n\(Self.clock(s.start, comma: true)) --> \(Self.clock(s.end, comma: true))\n\(Self.trimmed(s.text))\n"
            }.joined(separator: "\n")
        case .vtt:
            return "WEBVTT\n\n" + t.segments.map { s in
                "\(Self.clock(s.start, comma: false)) --> \(Self.clock(s.end, comma: false))\n\(Self.trimmed(s.text))\n"
            }.joined(separator: "\n")
        case .tsv:
            return "start\tend\ttext\n" + t.segments.map { s in
                "\(Int((s.start * 1000).rounded()))\t\(Int((s.end * 1000).rounded()))\t\(Self.trimmed(s.text).replacingOccurrences(of: "\t", with: " "))\n"
            }.joined()
        case .json:
            return Self.json(t, extraWindowFields: extraWindowFields).serialized() + "\n"
        }
    }

    /// The JSON document of the schema above.
    public static func json(_ t: Transcript, extraWindowFields: [[(String, JSONValue)]] = []) -> JSONValue {
        let segments: [JSONValue] = t.segments.map { s in
            var fields: [(String, JSONValue)] = [("start", .seconds(s.start)), ("end", .seconds(s.end)), ("text", .string(trimmed(s.text)))]
            if let words = s.words {
                fields.append(("words", .array(words.map { w in
                    .object([("start", .seconds(w.start)), ("end", .seconds(w.end)), ("word", .string(w.word)),
                             ("probability", w.probability.map { .number($0, decimals: 4) } ?? .null)])
                })))
            }
            return .object(fields)
        }
        let windows: [JSONValue] = t.windows.enumerated().map { i, w in
            .object([("start", .seconds(w.start)), ("end", .seconds(w.end))] + (i < extraWindowFields.count ? extraWindowFields[i] : []))
        }
        return .object([
            ("model", .string(t.model)), ("task", .string(t.task)), ("audio", .string(t.audio)),
            ("duration", .seconds(t.duration)), ("language", t.language.map { .string($0) } ?? .null),
            ("text", .string(t.text)), ("segments", .array(segments)), ("windows", .array(windows)),
        ])
    }

    static func trimmed(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (VTT).
    public static func clock(_ seconds: Double, comma: Bool) -> String {
        let ms = max(0, Int((seconds * 1000).rounded()))
        let h = ms / 3_600_000, m = ms / 60_000 % 60, s = ms / 1000 % 60, f = ms % 1000
        func pad(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        return "\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2))\(comma ? "," : ".")\(pad(f, 3))"
    }
}
