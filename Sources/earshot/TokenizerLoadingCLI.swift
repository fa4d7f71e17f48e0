// Tokenizer loading for the CLI: from a `.ear` model's `tokenizer.tiktoken` blob (needs EarshotFormat).
import EarshotTokenizer

/// Loads the tokenizer stored in a `.ear` model file.
func loadTokenizer(fromModel path: String) throws -> QwenTokenizer {
    throw CLIError("--model needs the .ear reader, which has not landed yet; use --tokenizer qwen.tiktoken")
}
