// WhisperPreTokenizer: GPT-2's pre-tokenizer regex, hand-written (no regex engine), as used by Whisper:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Alternatives are tried in order at each position, exactly like the regex (leftmost, first alternative).

public enum WhisperPreTokenizer {
    /// Splits `text` into pieces; concatenating them gives `text` back.
    public static func split(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        var pieces: [String] = []
        var i = 0
        while i < s.count {
            let end = match(s, at: i)
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: s[i..<end])
            pieces.append(String(piece))
            i = end
        }
        return pieces
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    private static func isNumber(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }

    private static func isOther(_ c: Unicode.Scalar) -> Bool { !isSpace(c) && !isLetter(c) && !isNumber(c) }

    /// End index (exclusive) of the match starting at `i` (always > i).
    private static func match(_ s: [Unicode.Scalar], at i: Int) -> Int {
        let n = s.count
        // Contractions.
        if s[i] == "'" && i + 1 < n {
            let c1 = s[i + 1]
            if c1 == "s" || c1 == "t" || c1 == "m" || c1 == "d" { return i + 2 }
            if i + 2 < n {
                let c2 = s[i + 2]
                if (c1 == "r" && c2 == "e") || (c1 == "v" && c2 == "e") || (c1 == "l" && c2 == "l") { return i + 3 }
            }
        }
        // ` ?` + class run, for letters, numbers, other.
        let start = (s[i] == " " && i + 1 < n) ? i + 1 : i
        for cls in [isLetter, isNumber, isOther] as [(Unicode.Scalar) -> Bool] {
            if cls(s[start]) && (start == i + 1 || cls(s[i])) {
                var j = start
                while j < n && cls(s[j]) { j += 1 }
                return j
            }
        }
        // A lone leading space followed by a class char would have matched above; now the plain class run
        // starting at i (when s[i] is not a space) is covered too. Whitespace: \s+(?!\S) then \s+.
        var j = i
        while j < n && isSpace(s[j]) { j += 1 }
        if j == i { return i + 1 }   // unreachable: every scalar is a space, letter, number or other
        if j == n { return j }       // run reaches the end: (?!\S) holds
        return j - i > 1 ? j - 1 : j // leave the last space to prefix the next word; a single one matches \s+
    }
}
