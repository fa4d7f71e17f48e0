// NFC: Unicode NFC normalisation to UTF-8 bytes (the reference normalises every text before encoding),
// with a quick check that skips the work for text made only of characters that never change under NFC.

enum NFC {
    /// UTF-8 of the NFC form of `text`.
    static func utf8(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)
        if !isStable(bytes) {
            // The standard library's own normaliser (what String comparison uses); ~10× faster than
            // Foundation's `precomposedStringWithCanonicalMapping` on Linux.
            bytes = text._nfcCodeUnits
        }
        return bytes
    }

    /// True when every scalar has NFC_Quick_Check = Yes and canonical combining class 0, so the text is
    /// already NFC. Conservative: only ranges known to hold such characters count
    /// (everything below U+0300, basic Cyrillic, Hiragana, Katakana, CJK ideographs, Hangul syllables,
    /// full-width forms, emoji); anything else takes the full normaliser.
    static func isStable(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { p in
            let n = p.count
            var i = 0
            while i < n {
                let b0 = p[i]
                if b0 < 0xCC { i += b0 < 0x80 ? 1 : 2; continue }  // U+0000 ..< U+0300
                var v: UInt32
                if b0 < 0xE0 {
                    v = (UInt32(b0 & 0x1F) << 6) | UInt32(p[i + 1] & 0x3F); i += 2
                } else if b0 < 0xF0 {
                    v = (UInt32(b0 & 0x0F) << 12) | (UInt32(p[i + 1] & 0x3F) << 6) | UInt32(p[i + 2] & 0x3F); i += 3
                } else {
                    v = (UInt32(b0 & 0x07) << 18) | (UInt32(p[i + 1] & 0x3F) << 12)
                        | (UInt32(p[i + 2] & 0x3F) << 6) | UInt32(p[i + 3] & 0x3F); i += 4
                }
                switch v {
                case 0x0400 ... 0x0482,  // Cyrillic letters (combining marks start at U+0483)
                     0x3000 ... 0x3029,  // CJK symbols and punctuation (U+302A… are combining)
                     0x3041 ... 0x3096, 0x309D ... 0x309F,  // Hiragana (U+3099/309A are combining)
                     0x30A0 ... 0x30FF,  // Katakana
                     0x3400 ... 0x4DBF, 0x4E00 ... 0x9FFF,  // CJK ideographs (not the compatibility block)
                     0xAC00 ... 0xD7A3,  // Hangul syllables
                     0xFF01 ... 0xFF5E,  // full-width ASCII
                     0x1F300 ... 0x1FAFF:  // emoji
                    continue
                default:
                    return false
                }
            }
            return true
        }
    }
}
