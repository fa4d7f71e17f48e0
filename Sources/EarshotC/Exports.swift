// Exports: the handle-based functions of include/earshot.h (Sources/CEarshot/include), as `@_cdecl`
// functions over the Earshot library. Each one checks every pointer, size, enum and handle it is given,
// turns every failure into an `earshot_status` plus the thread's error message, and never traps on input.
// Version, status names, the error buffer and earshot_string_free live in C (Sources/CEarshot/earshot.c).
import CEarshot
import Earshot
import Foundation

// MARK: - Errors

/// A failure to report across the C boundary.
struct CError: Error {
    let status: earshot_status
    let message: String

    static func invalid(_ message: String) -> CError { CError(status: EARSHOT_ERR_INVALID_ARGUMENT, message: message) }
    static func handle(_ what: String) -> CError {
        CError(status: EARSHOT_ERR_INVALID_HANDLE, message: "\(what) is not a live handle (freed, closed, or never created)")
    }

    init(status: earshot_status, message: String) { self.status = status; self.message = message }

    /// The status for a library error.
    init(_ e: EarshotError) {
        let status: earshot_status
        switch e {
        case .modelFile, .modelContents, .unknownArchitecture, .whisperTokenizer: status = EARSHOT_ERR_MODEL
        case .tokenizer: status = EARSHOT_ERR_GENERATION
        case .audio: status = EARSHOT_ERR_AUDIO
        case .unsupported, .unsupportedCPU: status = EARSHOT_ERR_UNSUPPORTED
        case .invalidOption: status = EARSHOT_ERR_INVALID_ARGUMENT
        case .model, .prompt, .contextFull: status = EARSHOT_ERR_GENERATION
        case .cancelled: status = EARSHOT_CANCELLED
        case .sessionFile, .output: status = EARSHOT_ERR_INTERNAL
        }
        self.init(status: status, message: e.description)
    }
}

/// Runs `body`; a failure sets the thread's message and becomes its status.
@inline(__always) func guarded(_ function: String, _ body: () throws(CError) -> Void) -> earshot_status {
    do {
        try body()
        return EARSHOT_OK
    } catch {
        earshot_internal_set_error("\(function): \(error.message)")
        return error.status
    }
}

/// A required C string argument, as valid UTF-8.
func string(_ p: UnsafePointer<CChar>?, _ name: String) throws(CError) -> String {
    guard let p else { throw .invalid("\(name) is NULL") }
    guard let s = String(validatingCString: p) else { throw .invalid("\(name) is not valid UTF-8") }
    return s
}

/// An optional C string argument (NULL → nil).
func optionalString(_ p: UnsafePointer<CChar>?, _ name: String) throws(CError) -> String? {
    guard let p else { return nil }
    return try string(p, name)
}

// MARK: - Models

@_cdecl("earshot_model_open")
public func cModelOpen(_ path: UnsafePointer<CChar>?, _ options: UnsafePointer<earshot_model_options>?,
                       _ out: UnsafeMutablePointer<OpaquePointer?>?) -> earshot_status {
    guarded("earshot_model_open") { () throws(CError) in
        guard let out else { throw .invalid("out_model is NULL") }
        out.pointee = nil
        let path = try string(path, "path")
        var o = ModelOptions()
        if let options {
            let t = options.pointee.threads
            guard t >= 0 else { throw .invalid("threads is \(t); give 0 (all cores) or a positive count") }
            if t > 0 { o.threads = Int(t) }
            switch options.pointee.kv_precision {
            case EARSHOT_KV_F16: o.kvPrecision = .f16
            case EARSHOT_KV_F32: o.kvPrecision = .f32
            default: throw .invalid("kv_precision \(options.pointee.kv_precision.rawValue) is not an earshot_kv_precision")
            }
        }
        let model: EarshotModel
        do throws(EarshotError) { model = try EarshotModel(path: path, options: o) } catch { throw CError(error) }
        out.pointee = HandleTable.shared.insert(ModelBox(model))
    }
}

@_cdecl("earshot_model_close")
public func cModelClose(_ model: OpaquePointer?) -> earshot_status {
    guarded("earshot_model_close") { () throws(CError) in
        guard model != nil else { return }
        guard HandleTable.shared.remove(model, as: ModelBox.self) else { throw .handle("model") }
    }
}

@_cdecl("earshot_model_get_info")
public func cModelGetInfo(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<earshot_model_info>?) -> earshot_status {
    guarded("earshot_model_get_info") { () throws(CError) in
        guard let out else { throw .invalid("out_info is NULL") }
        guard let box = HandleTable.shared.get(model, as: ModelBox.self) else { throw .handle("model") }
        let i = box.model.info
        var info = earshot_model_info()
        switch i.family {
        case .whisper: info.family = EARSHOT_FAMILY_WHISPER
        case .qwenAudio: info.family = EARSHOT_FAMILY_QWEN_AUDIO
        case .qwenAudioChat: info.family = EARSHOT_FAMILY_QWEN_AUDIO_CHAT
        case .qwenText: info.family = EARSHOT_FAMILY_QWEN_TEXT
        case .qwen2Audio: info.family = EARSHOT_FAMILY_QWEN2_AUDIO
        }
        info.family_name = box.familyName.const
        info.architecture = box.architecture.const
        info.quantization = box.quantization.const
        info.languages = box.languages.const
        info.translation_targets = box.translationTargets.const
        info.tasks = i.tasks.reduce(UInt32(0)) { $0 | (UInt32(1) << cTask($1).rawValue) }
        info.detects_language = i.detectsLanguage ? 1 : 0
        info.sample_rate = Int32(clamping: i.sampleRate)
        info.context_length = Int32(clamping: i.contextLength)
        info.window_seconds = i.windowSeconds
        info.parameter_count = Int64(i.parameterCount)
        out.pointee = info
    }
}

func cTask(_ t: TaskKind) -> earshot_task {
    switch t {
    case .transcribe: return EARSHOT_TASK_TRANSCRIBE
    case .translate: return EARSHOT_TASK_TRANSLATE
    case .timestamps: return EARSHOT_TASK_TIMESTAMPS
    case .caption: return EARSHOT_TASK_CAPTION
    case .ask: return EARSHOT_TASK_ASK
    case .classify: return EARSHOT_TASK_CLASSIFY
    case .notes: return EARSHOT_TASK_NOTES
    case .chat: return EARSHOT_TASK_CHAT
    }
}

// MARK: - Sessions

@_cdecl("earshot_session_create")
public func cSessionCreate(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> earshot_status {
    guarded("earshot_session_create") { () throws(CError) in
        guard let out else { throw .invalid("out_session is NULL") }
        out.pointee = nil
        guard let box = HandleTable.shared.get(model, as: ModelBox.self) else { throw .handle("model") }
        out.pointee = HandleTable.shared.insert(SessionBox(model: box.model))
    }
}

@_cdecl("earshot_session_free")
public func cSessionFree(_ session: OpaquePointer?) -> earshot_status {
    guarded("earshot_session_free") { () throws(CError) in
        guard session != nil else { return }
        guard HandleTable.shared.remove(session, as: SessionBox.self) else { throw .handle("session") }
    }
}

@_cdecl("earshot_session_reset")
public func cSessionReset(_ session: OpaquePointer?) -> earshot_status {
    guarded("earshot_session_reset") { () throws(CError) in
        guard let box = HandleTable.shared.get(session, as: SessionBox.self) else { throw .handle("session") }
        box.reset()
    }
}

@_cdecl("earshot_session_cancel")
public func cSessionCancel(_ session: OpaquePointer?) -> earshot_status {
    guarded("earshot_session_cancel") { () throws(CError) in
        guard let box = HandleTable.shared.get(session, as: SessionBox.self) else { throw .handle("session") }
        box.cancel()
    }
}

// MARK: - Audio and options

/// Most floats one sample buffer may hold (2^31: an hour of 8-channel 48 kHz audio is 1.4 G). The buffer is
/// copied, so the caller may free it when the call returns.
let maxSampleCount = 1 << 31

func audioInput(_ a: earshot_audio, _ name: String) throws(CError) -> AudioInput {
    switch (a.path, a.samples) {
    case (nil, nil): throw .invalid("\(name): set either path or samples")
    case (.some, .some): throw .invalid("\(name): set path or samples, not both")
    case (let path?, nil): return .file(try string(path, "\(name).path"))
    case (nil, let samples?):
        let count = a.sample_count
        guard count > 0 else { throw .invalid("\(name).sample_count is 0") }
        guard count <= maxSampleCount else { throw .invalid("\(name).sample_count \(count) is more than \(maxSampleCount)") }
        let channels = a.channels == 0 ? 1 : Int(a.channels)
        guard (1...64).contains(channels) else { throw .invalid("\(name).channels is \(a.channels); give 1 … 64 (0 means 1)") }
        guard count % channels == 0 else {
            throw .invalid("\(name).sample_count \(count) is not a whole number of \(channels)-channel frames")
        }
        let rate = a.sample_rate == 0 ? 16_000 : Int(a.sample_rate)
        guard (1...1_000_000).contains(rate) else { throw .invalid("\(name).sample_rate is \(a.sample_rate); give 1 … 1000000 Hz (0 means 16000)") }
        let values = Array(UnsafeBufferPointer(start: samples, count: count))
        return .samples(values, sampleRate: rate, channels: channels, name: "samples")
    }
}

/// The options of a run, checked (strings copied).
struct RunOptions {
    var task: earshot_task = EARSHOT_TASK_TRANSCRIBE
    var language: String?
    var target: String?
    var question: String?
    var variant: String?
    var maxTokens: Int?
    var greedy = false
    var itn = false
    var truncate = false
    var beamSize: Int?
    var seed: UInt64?

    init(_ p: UnsafePointer<earshot_task_options>?) throws(CError) {
        guard let o = p?.pointee else { return }
        guard o.task.rawValue <= EARSHOT_TASK_CHAT.rawValue else { throw .invalid("task \(o.task.rawValue) is not an earshot_task") }
        task = o.task
        language = try optionalString(o.language, "options.language")
        target = try optionalString(o.target_language, "options.target_language")
        question = try optionalString(o.question, "options.question")
        variant = try optionalString(o.variant, "options.variant")
        guard o.max_tokens >= 0 else { throw .invalid("options.max_tokens is \(o.max_tokens); give 0 (the default) or more") }
        if o.max_tokens > 0 { maxTokens = Int(o.max_tokens) }
        guard o.beam_size >= 0 else { throw .invalid("options.beam_size is \(o.beam_size); give 0 (the default) or more") }
        if o.beam_size > 0 { beamSize = Int(o.beam_size) }
        greedy = o.greedy != 0
        itn = o.itn != 0
        truncate = o.truncate != 0
        if o.seed != 0 { seed = o.seed }
    }

    func qwenLanguage(_ code: String?, _ field: String) throws(CError) -> AudioLanguage {
        let c = code ?? "en"
        guard let l = AudioLanguage(rawValue: c) else {
            throw .invalid("\(field) '\(c)': Qwen-Audio knows \(AudioLanguage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return l
    }

    /// The Qwen-Audio (or Qwen2-Audio) task prompt of a non-transcription task.
    func audioTask(family: ModelFamily) throws(CError) -> AudioTask {
        switch task {
        case EARSHOT_TASK_TIMESTAMPS: return .timestamps(language: try qwenLanguage(language, "options.language"))
        case EARSHOT_TASK_CAPTION:
            let v = variant ?? (family == .qwen2Audio ? "plain" : "clotho")
            guard let style = CaptionStyle(rawValue: v) else { throw .invalid("options.variant '\(v)' is not a caption style (clotho, audiocaps, plain)") }
            return .caption(style: style)
        case EARSHOT_TASK_ASK:
            guard let q = question, !q.isEmpty else { throw .invalid("the ask task needs options.question") }
            return .ask(question: q)
        case EARSHOT_TASK_CLASSIFY:
            guard let v = variant else { throw .invalid("the classify task needs options.variant: scene, emotion or vocal") }
            guard let kind = ClassificationTask(rawValue: v) else { throw .invalid("options.variant '\(v)' is not scene, emotion or vocal") }
            return .classify(kind)
        case EARSHOT_TASK_NOTES: return .notes
        default: throw .invalid("task \(task.rawValue) is not a Qwen-Audio task prompt")
        }
    }

    func transcriptionOptions(family: ModelFamily) -> TranscriptionOptions {
        var o = TranscriptionOptions()
        o.language = language
        if task == EARSHOT_TASK_TRANSLATE { o.task = .translate(target: target ?? "en") }
        o.itn = itn
        o.truncate = truncate
        o.maxNewTokens = maxTokens
        if let b = beamSize { o.beamSize = b }
        if greedy { o.beamSize = 1; o.bestOf = 1; o.temperatures = [0] }
        if let s = seed { o.seed = s }
        return o
    }

    func apply(to options: inout GenerationOptions) {
        if greedy { options.sampling = .greedy }
        if let s = seed { options.sampling.seed = s }
        if let m = maxTokens { options.maxTokens = m }
    }
}

/// Calls the C callback with a text; true to go on.
func deliver(_ callback: earshot_token_callback?, _ userData: UnsafeMutableRawPointer?, _ text: String, _ id: Int) -> Bool {
    guard let callback else { return true }
    return text.withCString { callback($0, Int32(truncatingIfNeeded: id), userData) } == 0
}

// MARK: - Running

@_cdecl("earshot_session_run")
public func cSessionRun(_ session: OpaquePointer?, _ audio: UnsafePointer<earshot_audio>?,
                        _ options: UnsafePointer<earshot_task_options>?, _ callback: earshot_token_callback?,
                        _ userData: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> earshot_status {
    guarded("earshot_session_run") { () throws(CError) in
        guard let out else { throw .invalid("out_result is NULL") }
        out.pointee = nil
        guard let box = HandleTable.shared.get(session, as: SessionBox.self) else { throw .handle("session") }
        guard let audio else { throw .invalid("audio is NULL") }
        let input = try audioInput(audio.pointee, "audio")
        let o = try RunOptions(options)
        let model = box.model
        let family = model.info.family
        if o.task == EARSHOT_TASK_CHAT { throw .invalid("chat is not a run task: use earshot_session_chat") }
        var stopped = false
        let (transcript, cancelled): (Transcript, Bool) = try box.job { (flag) throws(CError) -> (Transcript, Bool) in
            do {
                if o.task == EARSHOT_TASK_TRANSCRIBE || o.task == EARSHOT_TASK_TRANSLATE {
                    if o.task == EARSHOT_TASK_TRANSLATE && !model.info.supports(.translate) {
                        throw CError(.unsupported(family: family, what: "translate (this Whisper model is English-only)"))
                    }
                    let t = try box.session.transcribe(input, options: o.transcriptionOptions(family: family), cancel: flag) { event in
                        switch event {
                        case .token(let e): stopped = !deliver(callback, userData, e.text, e.id)
                        case .segment(let s) where family == .whisper: stopped = !deliver(callback, userData, s.text, -1)
                        default: break
                        }
                        return !stopped
                    }
                    return (t, stopped || flag.isCancelled)
                }
                guard family != .whisper else {
                    throw CError(.unsupported(family: family, what: "run Qwen-Audio task prompts (Whisper does transcribe and translate)"))
                }
                let task = try o.audioTask(family: family)
                var g = box.session.defaultOptions(for: task)
                o.apply(to: &g)
                let r = try box.session.run(task, audio: input, options: g, truncate: o.truncate, cancel: flag) { e in
                    stopped = !deliver(callback, userData, e.text, e.id)
                    return !stopped
                }
                let language: String?
                if case .timestamps(let l) = task { language = l.rawValue } else { language = nil }
                let name = ["transcribe", "translate", "timestamps", "caption", "ask", "classify", "notes"][Int(o.task.rawValue)]
                return (Transcript(result: r, model: model, task: name, audio: input.name, language: language),
                        stopped || flag.isCancelled || r.stopReason == .cancelled)
            } catch let e as EarshotError {
                if case .cancelled = e {
                    return (Transcript(model: (model.path as NSString).lastPathComponent, family: family, task: "cancelled",
                                       audio: input.name, duration: 0), true)
                }
                throw CError(e)
            } catch let e as CError {
                throw e
            } catch {
                throw CError(status: EARSHOT_ERR_INTERNAL, message: "\(error)")
            }
        }
        out.pointee = HandleTable.shared.insert(ResultBox(transcript: transcript))
        if cancelled { throw CError(status: EARSHOT_CANCELLED, message: "cancelled") }
    }
}

@_cdecl("earshot_session_chat")
public func cSessionChat(_ session: OpaquePointer?, _ text: UnsafePointer<CChar>?, _ audios: UnsafePointer<earshot_audio>?,
                         _ audioCount: Int, _ options: UnsafePointer<earshot_task_options>?,
                         _ callback: earshot_token_callback?, _ userData: UnsafeMutableRawPointer?,
                         _ out: UnsafeMutablePointer<OpaquePointer?>?) -> earshot_status {
    guarded("earshot_session_chat") { () throws(CError) in
        guard let out else { throw .invalid("out_result is NULL") }
        out.pointee = nil
        guard let box = HandleTable.shared.get(session, as: SessionBox.self) else { throw .handle("session") }
        let text = try string(text, "text")
        guard audioCount >= 0, audioCount <= 10 else { throw .invalid("audio_count is \(audioCount); give 0 … 10") }
        if audioCount > 0 && audios == nil { throw .invalid("audios is NULL but audio_count is \(audioCount)") }
        var inputs: [AudioInput] = []
        for k in 0..<audioCount { inputs.append(try audioInput(audios![k], "audios[\(k)]")) }
        let o = try RunOptions(options)
        var stopped = false
        let (response, cancelled): (String, Bool) = try box.job { (flag) throws(CError) -> (String, Bool) in
            do throws(EarshotError) {
                let chat = try box.chat()
                var g = chat.defaultOptions
                o.apply(to: &g)
                let reply = try chat.send(text, audios: inputs, options: g, cancel: flag) { e in
                    stopped = !deliver(callback, userData, e.text, e.id)
                    return !stopped
                }
                return (reply.response, stopped || reply.generation.stopReason == .cancelled)
            } catch {
                if case .cancelled = error { return ("", true) }
                throw CError(error)
            }
        }
        out.pointee = HandleTable.shared.insert(ResultBox(chatResponse: response))
        if cancelled { throw CError(status: EARSHOT_CANCELLED, message: "cancelled") }
    }
}

// MARK: - Results

@_cdecl("earshot_result_free")
public func cResultFree(_ result: OpaquePointer?) -> earshot_status {
    guarded("earshot_result_free") { () throws(CError) in
        guard result != nil else { return }
        guard HandleTable.shared.remove(result, as: ResultBox.self) else { throw .handle("result") }
    }
}

@_cdecl("earshot_result_text")
public func cResultText(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let box = HandleTable.shared.get(result, as: ResultBox.self) else {
        earshot_internal_set_error("earshot_result_text: result is not a live handle (freed, closed, or never created)")
        return nil
    }
    return box.text.const
}

@_cdecl("earshot_result_language")
public func cResultLanguage(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let box = HandleTable.shared.get(result, as: ResultBox.self) else {
        earshot_internal_set_error("earshot_result_language: result is not a live handle (freed, closed, or never created)")
        return nil
    }
    return box.language.const
}

@_cdecl("earshot_result_duration")
public func cResultDuration(_ result: OpaquePointer?) -> Double {
    HandleTable.shared.get(result, as: ResultBox.self)?.duration ?? 0
}

@_cdecl("earshot_result_segment_count")
public func cResultSegmentCount(_ result: OpaquePointer?) -> Int {
    HandleTable.shared.get(result, as: ResultBox.self)?.segments.count ?? 0
}

@_cdecl("earshot_result_segment")
public func cResultSegment(_ result: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<earshot_segment>?) -> earshot_status {
    guarded("earshot_result_segment") { () throws(CError) in
        guard let out else { throw .invalid("out_segment is NULL") }
        guard let box = HandleTable.shared.get(result, as: ResultBox.self) else { throw .handle("result") }
        guard index >= 0, index < box.segments.count else {
            throw .invalid("segment index \(UInt(bitPattern: index)) is out of range (the result has \(box.segments.count))")
        }
        let s = box.segments[index]
        out.pointee = earshot_segment(start: s.start, end: s.end, text: s.text.const)
    }
}

@_cdecl("earshot_result_render")
public func cResultRender(_ result: OpaquePointer?, _ format: UnsafePointer<CChar>?,
                          _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> earshot_status {
    guarded("earshot_result_render") { () throws(CError) in
        guard let out else { throw .invalid("out_text is NULL") }
        out.pointee = nil
        guard let box = HandleTable.shared.get(result, as: ResultBox.self) else { throw .handle("result") }
        let name = try string(format, "format")
        guard let f = TranscriptFormat(rawValue: name) else { throw .invalid("format '\(name)' is not txt, json, srt, vtt or tsv") }
        let rendered: String
        if let t = box.transcript {
            rendered = f.render(t)
        } else {
            let text = String(cString: box.text.const)
            switch f {
            case .txt: rendered = text.isEmpty ? "" : text + "\n"
            case .json: rendered = JSONValue.object([("text", .string(text))]).serialized() + "\n"
            default: throw .invalid("a chat turn has no timed segments to render as \(name)")
            }
        }
        guard let p = strdup(rendered) else { throw CError(status: EARSHOT_ERR_INTERNAL, message: "out of memory") }
        out.pointee = p
    }
}
