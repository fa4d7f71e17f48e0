// Timestamps: turns generated text with `<|t.tt|>` timestamp tokens into timed words and segments,
// and renders them as SRT, WebVTT or JSON.
import Foundation

/// One timed unit: a word (or `<|sil|>` silence) between two timestamps, in seconds.
public struct TimedText: Sendable, Equatable, Codable {
    public var start: Double
    public var end: Double
    public var text: String
    public init(start: Double, end: Double, text: String) {
        self.start = start
        self.end = end
        self.text = text
    }
}

public enum TimestampParser {
    /// Parses SRWT output like `<|0.00|><|sil|><|0.54|>面<|0.86|>条<|1.17|>` into units: each text piece
    /// between two timestamps becomes one unit; `<|sil|>` pieces are dropped; `offset` (seconds) is
    /// added to every time (for 30 s windows of a long file). Text before the first or after the last
    /// timestamp is kept with a zero-length span at the nearest time.
    public static func parse(_ text: String, offset: Double = 0) -> [TimedText] {
        var units: [TimedText] = []
        var lastTime: Double? = nil
        var pending = ""
        var rest = Substring(text)
        func flush(until end: Double?) {
            let piece = pending.replacingOccurrences(of: "<|sil|>", with: "")
            pending = ""
            guard !piece.trimmingCharacters(in: .whitespaces).isEmpty else { return }
            let s = lastTime ?? end ?? 0
            units.append(TimedText(start: s + offset, end: (end ?? s) + offset, text: piece))
        }
        while let open = rest.range(of: "<|") {
            pending += rest[rest.startIndex..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "|>") else {
                pending += rest[open.lowerBound...]
                rest = rest[rest.endIndex...]
                break
            }
            let inner = rest[open.upperBound..<close.lowerBound]
            if let t = timestampValue(inner) {
                flush(until: t)
                lastTime = t
            } else {
                pending += rest[open.lowerBound..<close.upperBound]
            }
            rest = rest[close.upperBound...]
        }
        pending += rest
        flush(until: nil)
        return units
    }

    /// `2.33` for the inside of `<|2.33|>` (digits, a dot, exactly two decimals; at most 30.00).
    static func timestampValue(_ s: Substring) -> Double? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              parts[0].allSatisfy(\.isASCII), parts[0].allSatisfy(\.isNumber),
              parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber),
              let whole = Int(parts[0]), let hundredths = Int(parts[1]) else { return nil }
        let v = Double(whole * 100 + hundredths) / 100
        return v <= 30 ? v : nil
    }

    /// Groups word units into subtitle segments: a new segment starts after `maxGap` seconds of silence
    /// or when a segment would exceed `maxDuration` seconds.
    public static func segments(_ words: [TimedText], maxGap: Double = 0.6, maxDuration: Double = 6) -> [TimedText] {
        var out: [TimedText] = []
        for w in words {
            if var last = out.last, w.start - last.end <= maxGap, w.end - last.start <= maxDuration {
                let joiner = needsSpace(last.text, w.text) ? " " : ""
                last.text += joiner + w.text.trimmingCharacters(in: .whitespaces)
                last.end = w.end
                out[out.count - 1] = last
            } else {
                out.append(TimedText(start: w.start, end: w.end, text: w.text.trimmingCharacters(in: .whitespaces)))
            }
        }
        return out
    }

    /// Latin words are joined with spaces; CJK characters are not.
    static func needsSpace(_ a: String, _ b: String) -> Bool {
        guard let x = a.unicodeScalars.last, let y = b.trimmingCharacters(in: .whitespaces).unicodeScalars.first else { return false }
        return !(isCJK(x) || isCJK(y))
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x3000...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7AF, 0xF900...0xFAFF, 0xFF00...0xFFEF: return true
        default: return false
        }
    }
}
