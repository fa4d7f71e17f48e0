// UTF8Repair: bytes → text exactly like Python's bytes.decode("utf-8", errors="replace"): one U+FFFD per
// maximal subpart of an ill-formed sequence (the Unicode-recommended practice), incrementally if asked.

enum UTF8Repair {
    /// Decodes all of `bytes`; a truncated sequence at the end becomes one U+FFFD.
    static func decode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        _ = bytes.withUnsafeBufferPointer { repair($0, final: true, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the well-formed UTF-8 of `input` to `out` (U+FFFD for each maximal invalid subpart) and
    /// returns how many bytes were consumed. With `final == false` a trailing sequence that is still
    /// valid but incomplete is left unconsumed (at most 3 bytes), so that more bytes can complete it.
    static func repair(_ input: UnsafeBufferPointer<UInt8>, final: Bool, into out: inout [UInt8]) -> Int {
        let n = input.count
        var i = 0
        outer: while i < n {
            let b0 = input[i]
            if b0 < 0x80 { out.append(b0); i += 1; continue }
            let need: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch b0 {
            case 0xC2 ... 0xDF: need = 1
            case 0xE0: need = 2; low = 0xA0
            case 0xE1 ... 0xEC, 0xEE ... 0xEF: need = 2
            case 0xED: need = 2; high = 0x9F
            case 0xF0: need = 3; low = 0x90
            case 0xF1 ... 0xF3: need = 3
            case 0xF4: need = 3; high = 0x8F
            default:  // 80…C1, F5…FF never start a sequence
                appendReplacement(&out); i += 1; continue outer
            }
            var j = i + 1
            for k in 0 ..< need {
                if j >= n {
                    if !final { return i }
                    appendReplacement(&out)
                    return n
                }
                let b = input[j]
                if b < (k == 0 ? low : 0x80) || b > (k == 0 ? high : 0xBF) {
                    appendReplacement(&out)
                    i = j
                    continue outer
                }
                j += 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: input[i ..< j]))
            i = j
        }
        return n
    }

    @inline(__always)
    static func appendReplacement(_ out: inout [UInt8]) {
        out.append(0xEF); out.append(0xBF); out.append(0xBD)
    }
}
