// CTranslate2ConverterTests: WhisperConverter on the tiny random CTranslate2 fixture — storage types per recipe,
// metadata, blobs, the error report, determinism, and typed errors for incomplete directories.
import EarshotConvert
import EarshotKernels
import EarshotModels
import EarshotTestSupport
import Foundation
import Testing

@Suite struct CTranslate2ConverterTests {
    static let dir = Fixtures.url("whisper/tiny-random")

    static func convert(_ recipe: String) throws -> (WhisperMemorySink, ConversionReport) {
        let ckpt = try CTranslate2Whisper.load(directory: dir)
        let sink = WhisperMemorySink()
        let report = try WhisperConverter.convert(ckpt, blobs: [("config.json", Data("{}".utf8))],
                                                  options: ConvertOptions(recipe: try QuantRecipe(parsing: recipe)), to: sink)
        return (sink, report)
    }

    @Test func typesFollowTheRecipe() throws {
        let (sink, report) = try Self.convert("q8")
        // width 16: no matrix row is a multiple of 32 long except ffn_down (64) and conv1/conv2 (24, 48 → f16 fallback only for 24).
        #expect(sink.types["audio.blk.0.attn_norm.weight"] == .f32)
        #expect(sink.types["dec.blk.1.cross_v.bias"] == .f32)
        #expect(sink.types["dec.pos_embd.weight"] == .f32)
        #expect(sink.types["audio.pos_embd.weight"] == .f32)
        #expect(sink.types["dec.blk.0.ffn_down.weight"] == .q8)      // [16, 64]
        #expect(sink.types["audio.conv2.weight"] == .f16)             // [16, 48]: 48 % 32 ≠ 0 → f16
        #expect(sink.types["dec.token_embd.weight"] == .f16)          // [80, 16]
        #expect(report.tensors.count == sink.weights.names.count)
        let q8 = report.tensors.first { $0.name == "dec.blk.0.ffn_down.weight" }!
        // q8 with one f16 scale per 32: relative RMSE of random normal weights ≈ 0.4 % (ggml Q8_0 level); f16 exact here.
        #expect(q8.error.relativeRMSE > 0 && q8.error.relativeRMSE < 0.01)
        #expect(report.tensors.first { $0.name == "audio.conv2.weight" }!.error.relativeRMSE == 0)  // f16 source → f16: exact
    }

    @Test func metadataAndBlobs() throws {
        let (sink, _) = try Self.convert("f16")
        let meta = Dictionary(uniqueKeysWithValues: sink.metadata.map { ($0.key, $0.value) })
        #expect(meta["general.architecture"] == .string("whisper"))
        #expect(meta["general.quantization"] == .string("f16"))
        #expect(meta["whisper.n_text_layer"] == .int(2) && meta["whisper.n_vocab"] == .int(80) && meta["whisper.n_mels"] == .int(8))
        #expect(meta["whisper.suppress_ids_begin"] == .string("[7,50]"))
        let config = WhisperConfig { key in if case .int(let v) = meta[key] { return v } else { return nil } }
        #expect(config == WhisperConfig(nMels: 8, nAudioCtx: 20, nAudioState: 16, nAudioHead: 2, nAudioLayer: 2,
                                        nVocab: 80, nTextCtx: 24, nTextState: 16, nTextHead: 2, nTextLayer: 2))
        #expect(sink.blobs["config.json"] == Data("{}".utf8))
    }

    @Test func conversionIsDeterministic() throws {
        let a = try Self.convert("q4").0, b = try Self.convert("q4").0
        for name in a.weights.names {
            let ta = a.weights.tensor(named: name)!, tb = b.weights.tensor(named: name)!
            let n = ta.type.rowBytes(cols: ta.shape.last ?? 1)! * ta.shape.dropLast().reduce(1, *)
            #expect(ta.type == tb.type && memcmp(ta.base, tb.base, n) == 0, "\(name)")
        }
    }

    @Test func directoryWithoutTokenizerIsATypedError() {
        // The fixture has model.bin and config.json but no tokenizer.json.
        #expect(throws: ConvertError.missingFile(path: Self.dir.appendingPathComponent("tokenizer.json").path,
                                                 what: "the Whisper tokenizer (tokenizer.json)")) {
            try WhisperConverter.convert(directory: Self.dir, options: ConvertOptions(), to: WhisperMemorySink())
        }
        #expect(WhisperConverter.isCTranslate2Directory(Self.dir))
        #expect(!WhisperConverter.isCTranslate2Directory(Fixtures.url("whisper")))
    }
}
