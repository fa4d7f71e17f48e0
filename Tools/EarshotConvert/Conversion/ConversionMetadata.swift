// ConversionMetadata: the metadata keys and blobs of a converted Qwen-Audio model (contract in the brief).
// Blobs are validated as the runtime will use them before anything is converted: the tokenizer ranks
// load (dense ranks 0..<n, unique tokens, valid base64, all 256 bytes) and put `<audio>` at
// `audio.audio_start_id`; the mel filters are finite, non-negative and not all zero.
import EarshotAudio
import EarshotTokenizer
import EarshotModels
import Foundation

public enum ConversionMetadata {
    /// Blob names in the file (one place: MetadataKeys).
    public static let tokenizerBlob = MetadataKeys.tokenizerBlob
    public static let melFiltersBlob = MetadataKeys.melFiltersBlob
    public static let configBlob = MetadataKeys.sourceConfigBlob
    public static let generationConfigBlob = MetadataKeys.generationConfigBlob

    /// Blobs in a fixed order: tokenizer ranks (required), mel filters (from mel_filters.npz, else
    /// computed), config.json, generation_config.json (if present).
    static func blobs(_ checkpoint: Checkpoint) throws(ConvertError) -> [(String, Data)] {
        let tiktokenPath = checkpoint.directory.appendingPathComponent("qwen.tiktoken").path
        guard let tiktoken = try checkpoint.optionalFile("qwen.tiktoken", limit: InputLimits.tokenizer) else {
            throw .missingFile(path: tiktokenPath, what: "tokenizer ranks (qwen.tiktoken, shipped with every Qwen-Audio checkpoint)")
        }
        try checkTokenizer(tiktoken, path: tiktokenPath, config: checkpoint.config)
        var out: [(String, Data)] = [(tokenizerBlob, tiktoken)]
        let filters = try melFilters(checkpoint)
        out.append((melFiltersBlob, filters.withUnsafeBufferPointer { Data(buffer: $0) }))
        out.append((configBlob, checkpoint.configBytes))
        if let gen = try checkpoint.optionalFile("generation_config.json") { out.append((generationConfigBlob, gen)) }
        return out
    }

    /// The ranks must load exactly as the runtime loads them, and the specials numbered after them must
    /// put `<audio>` where the config says (a truncated or foreign rank file shifts every special).
    static func checkTokenizer(_ bytes: Data, path: String, config: CheckpointConfig) throws(ConvertError) {
        let tokenizer: QwenTokenizer
        do { tokenizer = try QwenTokenizer(tiktoken: bytes) } catch {
            if bytes.isEmpty { throw .invalidTokenizer(path: path, reason: "the file is empty") }
            throw .invalidTokenizer(path: path, reason: error.description)
        }
        let audio = tokenizer.specialID("<audio>") ?? -1
        guard audio == config.audioStartId else {
            throw .invalidTokenizer(path: path, reason: "its \(tokenizer.ranks.count) ranks put <audio> at id \(audio), but config.json says "
                + "audio.audio_start_id = \(config.audioStartId) (a truncated or different qwen.tiktoken?)")
        }
    }

    /// [n_mels × 201] f32 little-endian: the `mel_<n>` array of mel_filters.npz when present, else computed.
    static func melFilters(_ checkpoint: Checkpoint) throws(ConvertError) -> [Float] {
        let nMels = checkpoint.config.nMels
        if let npz = try checkpoint.optionalFile("mel_filters.npz", limit: InputLimits.melFilters) {
            let path = checkpoint.directory.appendingPathComponent("mel_filters.npz").path
            let array = try NpzReader.float32Array(npz, key: "mel_\(nMels)", path: path)
            guard array.shape == [nMels, 201] else {
                throw .unsupportedConfigValue(key: "mel_filters.npz:mel_\(nMels)", value: "\(array.shape)", reason: "expected [\(nMels), 201]")
            }
            try checkMelFilters(array.values, path: path + ":mel_\(nMels)")
            return array.values
        }
        return MelFilterbank.slaney(bins: nMels).dense   // the runtime's own filterbank (EarshotAudio)
    }

    /// A filterbank weight is a triangle height: finite and ≥ 0; a bank of zeros gives silence for everything.
    static func checkMelFilters(_ values: [Float], path: String) throws(ConvertError) {
        let bins = 201
        if let k = values.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw .invalidMelFilters(path: path, reason: "weight [\(k / bins), \(k % bins)] is \(values[k]); weights must be finite and ≥ 0")
        }
        guard values.contains(where: { $0 > 0 }) else { throw .invalidMelFilters(path: path, reason: "every weight is zero") }
    }

    /// Every metadata key, in a fixed order.
    static func keys(_ checkpoint: Checkpoint, options: ConvertOptions, report: ConversionReport) -> [(key: String, value: MetaValue)] {
        let c = checkpoint.config
        var m: [(key: String, value: MetaValue)] = [
            (MetadataKeys.architecture, .string(MetadataKeys.Architecture.qwenAudio)),
            (MetadataKeys.source, .string(checkpoint.directory.standardizedFileURL.lastPathComponent)),
            (MetadataKeys.converter, .string("earshot-convert \(Converter.version)")),
            (MetadataKeys.quantization, .string(options.recipe.name)),
            (MetadataKeys.hiddenSize, .int(c.hiddenSize)),
            (MetadataKeys.numLayers, .int(c.numLayers)),
            (MetadataKeys.numHeads, .int(c.numHeads)),
            (MetadataKeys.headDim, .int(c.headDim)),
            (MetadataKeys.intermediateSize, .int(c.intermediateSize)),
            (MetadataKeys.vocabSize, .int(c.vocabSize)),
            (MetadataKeys.rmsNormEps, .double(c.rmsNormEps)),
            (MetadataKeys.ropeBase, .double(c.ropeBase)),
            (MetadataKeys.seqLength, .int(c.seqLength)),
            (MetadataKeys.useDynamicNTK, .bool(c.useDynamicNTK)),
            (MetadataKeys.useLognAttn, .bool(c.useLognAttn)),
            ("audio.n_mels", .int(c.nMels)),
            ("audio.n_ctx", .int(c.nCtx)),
            ("audio.n_state", .int(c.nState)),
            ("audio.n_head", .int(c.nHead)),
            ("audio.n_layer", .int(c.nLayer)),
            ("audio.output_dim", .int(c.outputDim)),
            ("audio.audio_start_id", .int(c.audioStartId)),
            (MetadataKeys.audioAvgPool, .bool(true)),            // the only value CheckpointConfig accepts
            (MetadataKeys.audioBosEos, .bool(c.addAudioBosEos)),
        ]
        if !options.overrides.isEmpty {
            m.append(("general.quantization.overrides",
                      .string(options.overrides.map { "\($0.pattern)=\($0.type)" }.joined(separator: ","))))
        }
        m.append(("convert.bits_per_weight", .double((report.bitsPerWeight * 1000).rounded() / 1000)))
        m.append(("convert.tensor_errors", .string(report.errorsJSON())))
        return m
    }
}
