// TokenizerLoading: the Qwen tokenizer from a `.ear` model file, whose `tokenizer.tiktoken` blob holds
// the bytes of the checkpoint's qwen.tiktoken (zstd-compressed in the file; size and checksum verified).
import EarshotFormat
import EarshotTokenizer

extension QwenTokenizer {
    /// Name of the blob holding the tiktoken ranks in `.ear` files.
    public static let earBlobName = "tokenizer.tiktoken"

    /// Loads the tokenizer of an opened model file. Throws `EarError` (missing or corrupt blob) or
    /// `TokenizerError` (malformed ranks).
    public init(ear: EarFile) throws {
        try self.init(tiktoken: ear.blob(named: QwenTokenizer.earBlobName))
    }

    /// Opens a `.ear` file and loads its tokenizer.
    public init(earPath path: String) throws {
        try self.init(ear: EarFile(path: path))
    }
}
