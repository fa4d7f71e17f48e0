// SessionAsync: the async face of Session and Chat for Swift concurrency. The blocking work runs on a
// thread of its own (never on the cooperative pool, which a long transcription would starve); cancelling
// the awaiting task stops it after the current token or window, and errors stay typed (`EarshotError`).
import Foundation

/// Runs `work` on its own thread; cancelling the calling task sets the flag `work` watches.
func runDetached<R: Sendable>(_ work: @escaping @Sendable (CancellationFlag) throws(EarshotError) -> R) async throws(EarshotError) -> R {
    let flag = CancellationFlag()
    let box = ResultBox<R>()
    await withTaskCancellationHandler {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                do throws(EarshotError) { box.set(.success(try work(flag))) } catch { box.set(.failure(error)) }
                c.resume()
            }
        }
    } onCancel: { flag.cancel() }
    return try box.get()
}

/// A result handed from the worker thread to the awaiting task.
final class ResultBox<R: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<R, EarshotError>?
    func set(_ r: Result<R, EarshotError>) { lock.lock(); result = r; lock.unlock() }
    func get() throws(EarshotError) -> R {
        lock.lock(); defer { lock.unlock() }
        switch result {
        case .success(let v)?: return v
        case .failure(let e)?: throw e
        case nil: throw .cancelled
        }
    }
}

extension Session {
    /// `transcribe` for async callers; cancelling the task stops the transcription.
    public func transcribe(_ audio: AudioInput, options: TranscriptionOptions = TranscriptionOptions()) async throws(EarshotError) -> Transcript {
        try await runDetached { flag throws(EarshotError) in
            try self.transcribe(audio, options: options, cancel: flag)
        }
    }

    /// `run` for async callers; cancelling the task stops generation.
    public func run(_ task: AudioTask, audio: AudioInput, options: GenerationOptions? = nil,
                    truncate: Bool = false) async throws(EarshotError) -> TaskResult {
        try await runDetached { flag throws(EarshotError) in
            try self.run(task, audio: audio, options: options, truncate: truncate, cancel: flag)
        }
    }

    /// Streams a task's tokens as an AsyncSequence; cancelling the consuming task (or dropping the
    /// stream) stops generation. The stream ends with the task's `EarshotError` if it fails.
    public func stream(_ task: AudioTask, audio: AudioInput, options: GenerationOptions? = nil,
                       truncate: Bool = false) -> AsyncThrowingStream<TokenEvent, any Error> {
        Session.makeStream { flag, yield throws(EarshotError) in
            _ = try self.run(task, audio: audio, options: options, truncate: truncate, cancel: flag, onToken: { yield($0); return true })
        }
    }

    /// Streams a transcription's events (language, windows, segments, progress).
    public func transcriptionEvents(_ audio: AudioInput, options: TranscriptionOptions = TranscriptionOptions())
        -> AsyncThrowingStream<TranscriptionEvent, any Error> {
        Session.makeStream { flag, yield throws(EarshotError) in
            _ = try self.transcribe(audio, options: options, cancel: flag) { yield($0); return true }
        }
    }

    /// Runs blocking generation work on its own thread and exposes what it yields as an AsyncThrowingStream.
    static func makeStream<T: Sendable>(_ work: @escaping @Sendable (CancellationFlag, (T) -> Void) throws(EarshotError) -> Void)
        -> AsyncThrowingStream<T, any Error> {
        AsyncThrowingStream { continuation in
            let flag = CancellationFlag()
            continuation.onTermination = { _ in flag.cancel() }
            Thread.detachNewThread {
                do {
                    try work(flag) { continuation.yield($0) }
                    continuation.finish()
                } catch { continuation.finish(throwing: error) }
            }
        }
    }
}

extension Chat {
    /// `send` for async callers; cancelling the task stops the reply (the turn then stays out of the history).
    public func send(_ text: String, audios: [AudioInput] = [], options: GenerationOptions? = nil) async throws(EarshotError) -> ChatReply {
        try await runDetached { flag throws(EarshotError) in
            try self.send(text, audios: audios, options: options, cancel: flag)
        }
    }

    /// Streams one turn's tokens; the turn joins the history when the stream finishes.
    public func stream(_ text: String, audios: [AudioInput] = [], options: GenerationOptions? = nil)
        -> AsyncThrowingStream<TokenEvent, any Error> {
        Session.makeStream { flag, yield throws(EarshotError) in
            _ = try self.send(text, audios: audios, options: options, cancel: flag) { yield($0); return true }
        }
    }

    /// Convenience: audio file paths.
    public func stream(_ text: String, audios paths: [String], options: GenerationOptions? = nil)
        -> AsyncThrowingStream<TokenEvent, any Error> {
        stream(text, audios: paths.map { AudioInput.file($0) }, options: options)
    }
}
