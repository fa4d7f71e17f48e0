// QwenPreTokenizer: the Qwen pre-tokenization pattern, hand-written over UTF-8 with the exact
// leftmost-first / backtracking semantics of tiktoken's regex:
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// The text between two special tokens is one segment; `\s+(?!\S)` sees the segment end as end of text.

/// Splits one segment of valid UTF-8 into pre-tokens. Valid only while `text` and `classes` are alive.
struct QwenPreTokenizer {
    let text: UnsafePointer<UInt8>
    /// End of the segment (exclusive byte index).
    let end: Int
    /// `ScalarClass.basicPlane`.
    let classes: UnsafePointer<UInt8>

    /// Class flags and byte length of the scalar starting at byte i.
    @inline(__always)
    func classAt(_ i: Int) -> (flags: UInt8, length: Int) {
        let b0 = text[i]
        if b0 < 0x80 { return (classes[Int(b0)], 1) }
        if b0 < 0xE0 {
            let v = (Int(b0 & 0x1F) << 6) | Int(text[i + 1] & 0x3F)
            return (classes[v], 2)
        }
        if b0 < 0xF0 {
            let v = (Int(b0 & 0x0F) << 12) | (Int(text[i + 1] & 0x3F) << 6) | Int(text[i + 2] & 0x3F)
            return (classes[v], 3)
        }
        let v = (UInt32(b0 & 0x07) << 18) | (UInt32(text[i + 1] & 0x3F) << 12)
            | (UInt32(text[i + 2] & 0x3F) << 6) | UInt32(text[i + 3] & 0x3F)
        return (ScalarClass.compute(v), 4)
    }

    /// End of the run of letters starting at byte i.
    @inline(__always)
    func letterRunEnd(_ i: Int) -> Int {
        var k = i
        while k < end {
            let (flags, length) = classAt(k)
            if flags & ScalarClass.letter == 0 { break }
            k += length
        }
        return k
    }

    /// End (exclusive byte index) of the pre-token that starts at byte i (< end).
    @inline(__always)
    func pieceEnd(from i: Int) -> Int {
        let b0 = text[i]
        // 1. (?i:'s|'t|'re|'ve|'m|'ll|'d); (?i) also folds U+017F (ſ) to s.
        if b0 == 0x27 && i + 1 < end {
            let b1 = text[i + 1]
            switch b1 | 0x20 {
            case 0x73, 0x74, 0x6D, 0x64: return i + 2  // s t m d
            case 0x72, 0x76:  // r v + e
                if i + 2 < end && text[i + 2] | 0x20 == 0x65 { return i + 3 }
            case 0x6C:  // l + l
                if i + 2 < end && text[i + 2] | 0x20 == 0x6C { return i + 3 }
            default:
                if b1 == 0xC5 && i + 2 < end && text[i + 2] == 0xBF { return i + 3 }
            }
        }
        let (c0, n0) = classAt(i)
        // 2. [^\r\n\p{L}\p{N}]?\p{L}+
        if c0 & ScalarClass.letter != 0 { return letterRunEnd(i + n0) }
        if c0 & (ScalarClass.letter | ScalarClass.number | ScalarClass.newline) == 0 && i + n0 < end {
            let (c1, n1) = classAt(i + n0)
            if c1 & ScalarClass.letter != 0 { return letterRunEnd(i + n0 + n1) }
        }
        // 3. \p{N}
        if c0 & ScalarClass.number != 0 { return i + n0 }
        // 4.  ?[^\s\p{L}\p{N}]+[\r\n]*
        let notPunct = ScalarClass.space | ScalarClass.letter | ScalarClass.number
        var runStart = -1
        if c0 & notPunct == 0 {
            runStart = i
        } else if b0 == 0x20 && i + 1 < end && classAt(i + 1).flags & notPunct == 0 {
            runStart = i + 1
        }
        if runStart >= 0 {
            var k = runStart
            while k < end {
                let (flags, length) = classAt(k)
                if flags & notPunct != 0 { break }
                k += length
            }
            while k < end && (text[k] == 13 || text[k] == 10) { k += 1 }
            return k
        }
        // c0 is whitespace from here on.
        var k = i
        var lastNewline = -1
        var lastStart = i
        var count = 0
        while k < end {
            let (flags, length) = classAt(k)
            if flags & ScalarClass.space == 0 { break }
            if flags & ScalarClass.newline != 0 { lastNewline = k }
            lastStart = k
            k += length
            count += 1
        }
        // 5. \s*[\r\n]+ : up to the last \r or \n of the whitespace run.
        if lastNewline >= 0 { return lastNewline + 1 }
        // 6. \s+(?!\S) : the whole run at the end of the segment, else all but its last scalar.
        if k == end { return k }
        if count >= 2 { return lastStart }
        // 7. \s+
        return k
    }
}
