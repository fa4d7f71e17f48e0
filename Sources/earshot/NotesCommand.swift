// `earshot notes`: music note analysis (NSynth-style pitch, velocity, instrument; spec §6).
import ArgumentParser
import Earshot

struct NotesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notes",
        abstract: "Analyse a musical note: pitch, velocity, instrument (Qwen-Audio note-analysis task tags).",
        discussion: """
            Prompt: <audio>FILE</audio><|startofanalysis|><|unknown|><|keyword|><|en|><|notimestamps|><|note_analysis|>.

            Example:
              earshot notes --model m.ear note.wav
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: TaskOutputOptions

    @Argument(help: ArgumentHelp("The audio files ('-' reads standard input).", valueName: "AUDIO"))
    var audio: [String]

    func run() throws {
        try TaskRunner(command: "notes", options: options, output: output).run(.task(.notes), inputs: audio)
    }
}
