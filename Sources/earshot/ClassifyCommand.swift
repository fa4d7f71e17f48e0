// `earshot classify`: closed-set classification — speech emotion, acoustic scene, vocal sound (spec §6).
import ArgumentParser
import Earshot

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify a sound: emotion (speech), scene (acoustic scene) or vocal (vocal sounds).",
        discussion: """
            Prompts (after <audio>FILE</audio>):
              emotion  <|startofanalysis|><|en|><|keyword|><|en|><|notimestamps|><|emotion_recognition|>
              scene    <|startofanalysis|><|unknown|><|keyword|><|en|><|notimestamps|><|scene|>
              vocal    <|startofanalysis|><|en|><|keyword|><|en|><|notimestamps|><|vocal_classification|>
            Qwen2-Audio (after <|audio_bos|><|AUDIO|><|audio_eos|>):
              emotion  Recognize the emotion with keywords in English:
              vocal    Classify the human vocal sound to VocalSound in English:
              (scene has no Qwen2-Audio prompt and is refused)

            Example:
              earshot classify --model m.ear scene station.wav
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: TaskOutputOptions

    @Argument(help: ArgumentHelp("What to classify.", valueName: "emotion|scene|vocal"))
    var kind: String

    @Argument(help: ArgumentHelp("The audio files ('-' reads standard input).", valueName: "AUDIO"))
    var audio: [String]

    func validate() throws {
        guard ClassificationTask(rawValue: kind) != nil else { throw ValidationError("the kind is emotion, scene or vocal, not '\(kind)'") }
    }

    func run() throws {
        try TaskRunner(command: "classify", options: options, output: output).run(.task(.classify(ClassificationTask(rawValue: kind)!)), inputs: audio)
    }
}
