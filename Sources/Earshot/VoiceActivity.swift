// VoiceActivity: the Silero VAD v6 model (a small `.ear` converted from faster-whisper's ONNX file) as the
// library uses it — speech spans of a whole recording streamed from its source (faster-whisper's
// `get_speech_timestamps` on probabilities that match onnxruntime's), and a running probability stream
// for the Qwen-Audio window planner, which cuts windows where nobody speaks.
import EarshotAudio
import EarshotFormat
import EarshotModels
import Foundation

/// faster-whisper's VAD options (threshold 0.5, 2 s minimum silence, 400 ms padding, …).
public typealias VADOptions = EarshotAudio.VADOptions

/// A loaded voice activity detector. Immutable and `Sendable`: share it.
public final class VoiceActivityDetector: @unchecked Sendable {   // immutable after init
    /// The file it was loaded from.
    public let path: String
    let model: SileroVAD
    let file: EarFile

    /// Opens a Silero VAD `.ear` (`earshot-convert silero_vad_v6.onnx -o silero-vad-v6.ear`; Tools/get-default-model.sh
    /// puts one beside the default model).
    /// - Throws: `.modelFile` when the file cannot be opened, `.unknownArchitecture` when it is not a VAD,
    ///   `.modelContents` when its tensors do not fit the model.
    public init(path: String) throws(EarshotError) {
        self.path = path
        do { file = try EarFile(path: path) } catch { throw .modelFile(path: path, error) }
        let arch = (try? file.metadata.string(MetadataKeys.architecture)) ?? ""
        guard arch == MetadataKeys.Architecture.sileroVAD else { throw .unknownArchitecture(path: path, architecture: arch.isEmpty ? "(none)" : arch) }
        let weights = EarWeights(file: file)
        do { model = try SileroVAD(weights: weights, config: try SileroVADConfig(metadata: weights.configValues)) } catch {
            throw .modelContents(path: path, error)
        }
    }

    /// Speech spans (16 kHz sample ranges) of the whole input and its length in samples: one pass over the
    /// stream, probabilities of every 512-sample window, then faster-whisper's `get_speech_timestamps`.
    func speechSpans(_ input: AudioInput, options: VADOptions, limitSamples: Int? = nil,
                     cancel: CancellationFlag?) throws(EarshotError) -> (spans: [SpeechSpan], samples: Int) {
        let stream = try input.stream()
        var vad = SileroVADStream(model: model)
        var probabilities: [Float] = []
        var total = 0
        while true {
            if cancel?.isCancelled == true || Task.isCancelled { throw .cancelled }
            var block: [Float]
            do throws(AudioError) { block = try stream.read() } catch { throw .audio(path: input.name, error) }
            if let limit = limitSamples { block = Array(block.prefix(max(0, limit - total))) }
            if block.isEmpty { break }
            total += block.count
            probabilities += block.withUnsafeBufferPointer { vad.push($0) }
        }
        probabilities += vad.finish()
        return (SpeechTimestamps.speechSpans(probabilities: probabilities, audioSamples: total, options: options), total)
    }

    /// A probability provider for `PauseAlignedWindowPlanner` (its own stream state).
    func probabilityProvider() -> PauseAlignedWindowPlanner.SpeechProbabilities {
        let box = StreamBox(SileroVADStream(model: model))
        return { windows in box.stream.push(windows) }
    }

    final class StreamBox {
        var stream: SileroVADStream
        init(_ s: SileroVADStream) { stream = s }
    }
}
