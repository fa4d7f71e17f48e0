// The 3522 specials generated from the reference's recipe: count, ids the spec lists, mode recognition.
import EarshotTokenizer
import Testing

@Suite struct SpecialTokenTests {
    let tokenizer = TokenizerFixtures.tokenizer

    @Test func countsAndVocabularySize() {
        #expect(tokenizer.ranks.count == 151_643)
        #expect(tokenizer.specials.count == 3522)
        #expect(tokenizer.specials.firstAudioIndex == 208)
        #expect(tokenizer.vocabularySize == QwenTokenID.vocabularySize)
        #expect(Set(tokenizer.specials.surfaces).count == 3522)
    }

    /// Ids listed in spec §5 (taken from the reference's enumeration).
    @Test(arguments: [
        ("<|endoftext|>", 151643), ("<|im_start|>", 151644), ("<|im_end|>", 151645), ("<|extra_0|>", 151646),
        ("<|extra_204|>", 151850), ("[[[AUDIO:modality]]]", 151851), ("<|startoftranscript|>", 151852),
        ("<|startofanalysis|>", 151853), ("<|translate|>", 151854), ("<|transcribe|>", 151855),
        ("<|caption|>", 151856), ("<|keyword|>", 151857), ("<|unknown|>", 151858), ("<|en|>", 151859),
        ("<|zh|>", 151860), ("<|it|>", 151866), ("<|zh_tr|>", 151867), ("<|notimestamps|>", 151868),
        ("<|sil|>", 151869), ("<|timestamps|>", 151870), ("<|0.00|>", 151871), ("<|2.33|>", 152104),
        ("<|3.26|>", 152197), ("<|6.28|>", 152499), ("<|30.00|>", 154871), ("<|caption_audiocaps|>", 154872),
        ("<|wo_itn|>", 154877), ("<|named_entity_recognition|>", 154882), ("<|delim|>", 154886),
        ("<|note_analysis|>", 154889), ("<|pitch|>", 154890), ("<|midi_pitch_0|>", 154891),
        ("<|midi_pitch_127|>", 155018), ("<|velocity|>", 155019), ("<|midi_velocity_127|>", 155147),
        ("<|sonic|>", 155148), ("<|question|>", 155152), ("<|answer|>", 155153), ("<|scene|>", 155155),
        ("<|vocal_classification|>", 155157), ("<|speech_edit|>", 155162), ("<audio>", 155163), ("</audio>", 155164),
    ])
    func specIDs(surface: String, id: Int) {
        #expect(tokenizer.specialID(surface) == id)
        #expect(tokenizer.specials.surface(of: id) == surface)
    }

    @Test func namedConstantsMatchTheRecipe() {
        let s = tokenizer.specials
        #expect(s.endOfTextID == QwenTokenID.endOfText)
        #expect(s.imStartID == QwenTokenID.imStart)
        #expect(s.imEndID == QwenTokenID.imEnd)
        #expect(s.audioPlaceholderID == QwenTokenID.audioPlaceholder)
        #expect(s.audioStartID == QwenTokenID.audioStart)
        #expect(s.audioEndID == QwenTokenID.audioEnd)
        #expect(s.id(of: "<|startoftranscript|>") == QwenTokenID.startOfTranscript)
        #expect(s.id(of: "<|startofanalysis|>") == QwenTokenID.startOfAnalysis)
        #expect(s.id(of: "<|notimestamps|>") == QwenTokenID.noTimestamps)
        #expect(s.id(of: "<|timestamps|>") == QwenTokenID.timestamps)
        for k in [0, 1, 9, 10, 99, 100, 233, 2999, 3000] {
            #expect(s.id(of: QwenSpecialTokens.timestampSurface(centiseconds: k)) == QwenTokenID.firstTimestamp + k)
        }
    }

    @Test func timestampsAndLanguages() {
        let s = tokenizer.specials
        #expect(s.timestampID(centiseconds: 233) == 152104)
        #expect(s.timestampID(centiseconds: 3001) == nil)
        #expect(s.timestampCentiseconds(of: 152197) == 326)
        #expect(s.timestampCentiseconds(of: 154871) == 3000)
        #expect(s.timestampCentiseconds(of: 151870) == nil)
        #expect(s.timestampCentiseconds(of: 154872) == nil)
        #expect(s.languageID("zh") == 151860)
        #expect(s.languageID("zh_tr") == nil)
        #expect(s.languageID("xx") == nil)
    }

    /// Every special encodes to itself in `all` mode, audio specials only in `audio` mode, none in `none`.
    @Test func recognitionModes() {
        let s = tokenizer.specials
        for (index, surface) in s.surfaces.enumerated() {
            let id = s.firstID + index
            let isAudio = index >= s.firstAudioIndex
            #expect(tokenizer.encode(surface, special: .all) == [id])
            #expect((tokenizer.encode(surface, special: .audio) == [id]) == isAudio)
            #expect(!tokenizer.encode(surface, special: .none).contains { $0 >= s.firstID })
        }
    }
}
