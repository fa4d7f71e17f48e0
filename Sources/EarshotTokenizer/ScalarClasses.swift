// ScalarClasses: the Unicode classes the Qwen pre-tokenizer pattern uses (\p{L}, \p{N}, \s, [\r\n]),
// one byte of flags per scalar: a table for the BMP (built once) and direct property lookups above it.

enum ScalarClass {
    /// General category L* (Lu Ll Lt Lm Lo): `\p{L}`.
    static let letter: UInt8 = 1
    /// General category N* (Nd Nl No): `\p{N}`.
    static let number: UInt8 = 2
    /// White_Space property: `\s` of the Rust regex crate tiktoken uses.
    static let space: UInt8 = 4
    /// `\r` or `\n` (also flagged `space`).
    static let newline: UInt8 = 8

    /// Flags of one scalar value, from the standard library's Unicode properties.
    static func compute(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return 0 }  // surrogates: never in a String
        var flags: UInt8 = 0
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            flags |= number
        default:
            break
        }
        if properties.isWhitespace { flags |= space }
        if value == 10 || value == 13 { flags |= newline }
        return flags
    }

    /// [65536] flags of every BPE scalar (surrogate slots are 0).
    static let basicPlane: [UInt8] = (0 ..< 65536).map { compute(UInt32($0)) }
}
