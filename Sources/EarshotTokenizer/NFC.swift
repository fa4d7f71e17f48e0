// NFC: Unicode NFC normalisation to UTF-8 bytes (the reference normalises every text before encoding).
// Only the regions around characters that NFC may change are normalised; the rest is copied.

enum NFC {
    /// UTF-8 of the NFC form of `text`.
    static func utf8(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { p -> [UInt8] in
            let n = p.count
            var out: [UInt8] = []
            var copied = 0  // bytes before this are in `out` already (only once a region was normalised)
            var lastStable = 0  // start of the last stable scalar seen
            var i = 0
            while i < n {
                let (value, length) = scalar(p, i)
                if isStable(value) { lastStable = i; i += length; continue }
                // An unstable scalar: normalise from the last stable scalar (which may compose with what
                // follows) up to the next stable scalar (a safe boundary: it interacts with nothing before it).
                let regionStart = max(lastStable, copied)
                var j = i + length
                while j < n {
                    let (next, nextLength) = scalar(p, j)
                    if isStable(next) { break }
                    j += nextLength
                }
                if out.isEmpty { out.reserveCapacity(n + 16) }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: p[copied ..< regionStart]))
                let region = String(decoding: UnsafeBufferPointer(rebasing: p[regionStart ..< j]), as: UTF8.self)
                out.append(contentsOf: decomposingNonStarters(region)._nfcCodeUnits)
                copied = j
                i = j
            }
            if copied == 0 { return bytes }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: p[copied ..< n]))
            return out
        }
    }

    @inline(__always)
    static func scalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let b0 = p[i]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        if b0 < 0xE0 { return ((UInt32(b0 & 0x1F) << 6) | UInt32(p[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((UInt32(b0 & 0x0F) << 12) | (UInt32(p[i + 1] & 0x3F) << 6) | UInt32(p[i + 2] & 0x3F), 3)
        }
        return ((UInt32(b0 & 0x07) << 18) | (UInt32(p[i + 1] & 0x3F) << 12)
            | (UInt32(p[i + 2] & 0x3F) << 6) | UInt32(p[i + 3] & 0x3F), 4)
    }

    /// True for scalars NFC never changes and that never interact with a preceding character:
    /// canonical combining class 0, NFC of itself, not the second character of any canonical
    /// decomposition (NFC_Quick_Check = Yes). Listed ranges only; every code point in them was checked
    /// with Python's unicodedata (Unicode 14, the reference's). Anything else is normalised.
    @inline(__always)
    static func isStable(_ v: UInt32) -> Bool {
        if v < 0x300 { return true }
        switch v {
        case 0x0400 ... 0x0482, 0x048A ... 0x052F,  // Cyrillic letters
             0x05D0 ... 0x05EA,  // Hebrew letters
             0x0620 ... 0x064A, 0x0660 ... 0x0669, 0x0671 ... 0x06D3,  // Arabic letters and digits
             0x0904 ... 0x0939, 0x0966 ... 0x096F,  // Devanagari letters and digits
             0x0E01 ... 0x0E30, 0x0E32 ... 0x0E33, 0x0E3F ... 0x0E46, 0x0E4F ... 0x0E5B,  // Thai
             0x1100 ... 0x1112,  // Hangul leading jamo
             0x1E00 ... 0x1EFF,  // Latin Extended Additional (Vietnamese)
             0x200B ... 0x200F, 0x2010 ... 0x2027, 0x2030 ... 0x205E,  // ZWJ & co., punctuation
             0x20A0 ... 0x20C0, 0x2190 ... 0x2328, 0x232B ... 0x23FF, 0x2500 ... 0x27BF,  // symbols
             0x3000 ... 0x3029, 0x3030 ... 0x303F, 0x3041 ... 0x3096, 0x309D ... 0x309F, 0x30A0 ... 0x30FF,
             0x3131 ... 0x318E,  // CJK punctuation, kana, compatibility jamo
             0x3400 ... 0x4DBF, 0x4E00 ... 0x9FFF,  // CJK ideographs
             0xAC00 ... 0xD7A3,  // Hangul syllables
             0xE000 ... 0xF8FF, 0xFE00 ... 0xFE0F, 0xFF01 ... 0xFFEE,  // private use, variation selectors, full width
             0x1F000 ... 0x1FAFF,  // emoji
             0x20000 ... 0x2A6DF, 0x2A700 ... 0x2EBE0, 0x30000 ... 0x3134A,  // CJK extensions
             0xE0000 ... 0xE007F:  // tags
            return true
        default:
            return false
        }
    }

    /// The four characters whose canonical decomposition starts with a non-starter (U+0344, U+0F73,
    /// U+0F75, U+0F81; all composition exclusions) replaced by that decomposition. The standard library's
    /// normaliser does not reorder them after a preceding combining mark (e.g. U+0332 U+0F75 stays
    /// instead of becoming U+0F71 U+0F74 U+0332); pre-decomposing them gives the exact NFC.
    static func decomposingNonStarters(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { [0x344, 0xF73, 0xF75, 0xF81].contains($0.value) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x344: out.append(contentsOf: ["\u{308}", "\u{301}"])
            case 0xF73: out.append(contentsOf: ["\u{F71}", "\u{F72}"])
            case 0xF75: out.append(contentsOf: ["\u{F71}", "\u{F74}"])
            case 0xF81: out.append(contentsOf: ["\u{F71}", "\u{F80}"])
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}
