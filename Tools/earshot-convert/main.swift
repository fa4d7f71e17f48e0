// earshot-convert: converts a Hugging Face Qwen-Audio checkpoint (or a Whisper model) to one `.ear` file.
import ArgumentParser
import EarshotConvert

@main
struct EarshotConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "earshot-convert",
        abstract: "Convert a Hugging Face Qwen-Audio checkpoint to a self-contained .ear model file.")

    func run() throws {
        throw ValidationError("conversion is not implemented yet")
    }
}
