// Task prompts: the exact tag strings of spec §6.
import Testing
@testable import Earshot

@Suite struct TaskPromptTests {
    @Test func asrPromptIsTheEvalScriptsOne() {
        #expect(AudioTask.transcribe(language: .en).prompt(audioPath: "a.wav")
                == "<audio>a.wav</audio><|startoftranscript|><|en|><|transcribe|><|en|><|notimestamps|><|wo_itn|>")
    }

    @Test func everyTaskHasItsTags() {
        #expect(AudioTask.translate(source: .de, target: .en).tags == "<|startoftranscript|><|de|><|translate|><|en|><|notimestamps|><|itn|>")
        #expect(AudioTask.timestamps(language: .zh).tags == "<|startoftranscript|><|zh|><|transcribe|><|zh|><|timestamps|><|0.00|>")
        #expect(AudioTask.caption(style: .clotho).tags == "<|startofanalysis|><|unknown|><|caption|><|en|><|notimestamps|><|caption_clotho|>")
        #expect(AudioTask.ask(question: "Is it raining?").tags == "<|startofanalysis|><|en|><|question|>Is it raining?<|answer|>")
        #expect(AudioTask.classify(.emotion).tags.hasSuffix("<|emotion_recognition|>"))
        #expect(AudioTask.classify(.scene).tags == "<|startofanalysis|><|unknown|><|keyword|><|en|><|notimestamps|><|scene|>")
        #expect(AudioTask.classify(.vocal).tags == "<|startofanalysis|><|en|><|keyword|><|en|><|notimestamps|><|vocal_classification|>")
        #expect(AudioTask.notes.tags == "<|startofanalysis|><|unknown|><|keyword|><|en|><|notimestamps|><|note_analysis|>")
    }
}
