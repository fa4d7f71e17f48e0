// WhisperByteAlphabet: GPT-2's reversible byte ↔ printable-unicode map (`bytes_to_unicode` in OpenAI's
// encoder.py): printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 upwards in byte order.

public enum WhisperByteAlphabet {
    /// byte → its unicode stand-in.
    public static let byteToUnicode: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// unicode stand-in → byte.
    public static let unicodeToByte: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (b, u) in byteToUnicode.enumerated() { map[u] = UInt8(b) }
        return map
    }()
}
