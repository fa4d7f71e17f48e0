// Handles: the objects behind the C API's opaque handles and the table that hands them out. A handle is
// a token (a never-reused number shaped like a pointer), not an address: a freed, closed or made-up handle
// is looked up, not dereferenced, so it yields EARSHOT_ERR_INVALID_HANDLE instead of a crash. The table
// holds the one strong reference the C caller owns; a call in flight holds its own, so freeing a handle
// while another thread uses it is memory-safe (the object goes when the last call returns).
import CEarshot
import Earshot
import Foundation

/// A C string owned by a Swift object (malloc'd, freed with the object).
final class OwnedCString {
    let pointer: UnsafeMutablePointer<CChar>
    init(_ s: String) { pointer = strdup(s)! }
    deinit { free(pointer) }
    var const: UnsafePointer<CChar> { UnsafePointer(pointer) }
}

/// A model handle: the model, and the strings of its info struct.
final class ModelBox: @unchecked Sendable {   // immutable
    let model: EarshotModel
    let familyName, architecture, quantization, languages, translationTargets: OwnedCString

    init(_ model: EarshotModel) {
        self.model = model
        let i = model.info
        familyName = OwnedCString(i.family.rawValue)
        architecture = OwnedCString(i.architecture)
        quantization = OwnedCString(i.quantization ?? "")
        languages = OwnedCString(i.languages.joined(separator: ","))
        translationTargets = OwnedCString(i.translationTargets.joined(separator: ","))
    }
}

/// A session handle: a library session for tasks, the chat (made on the first chat turn, on its own session
/// of the same model), and the cancellation flag of the job running now.
final class SessionBox: @unchecked Sendable {   // `chat` and `running` guarded by `lock`; jobs serialised by `jobLock`
    let model: EarshotModel
    let session: Session
    private let lock = NSLock()
    /// Held for the whole of a job: one job at a time per session handle.
    let jobLock = NSLock()
    private var _chat: Chat?
    private var running: CancellationFlag?

    init(model: EarshotModel) {
        self.model = model
        session = model.makeSession()
    }

    /// The chat of this session, made on first use.
    func chat() throws(EarshotError) -> Chat {
        lock.lock(); defer { lock.unlock() }
        if let c = _chat { return c }
        let c = try model.makeChat()
        _chat = c
        return c
    }

    /// Runs `body` as this session's job with a fresh cancellation flag that `cancel()` sets.
    func job<R, E: Error>(_ body: (CancellationFlag) throws(E) -> R) throws(E) -> R {
        jobLock.lock(); defer { jobLock.unlock() }
        let flag = CancellationFlag()
        lock.lock(); running = flag; lock.unlock()
        defer { lock.lock(); running = nil; lock.unlock() }
        return try body(flag)
    }

    func cancel() {
        lock.lock(); defer { lock.unlock() }
        running?.cancel()
    }

    func reset() {
        jobLock.lock(); defer { jobLock.unlock() }
        session.reset()
        lock.lock(); let c = _chat; lock.unlock()
        c?.reset()
    }
}

/// A result handle: the text and segments as C strings, and the transcript for rendering.
final class ResultBox: @unchecked Sendable {   // immutable
    let text: OwnedCString
    let language: OwnedCString
    let duration: Double
    let segments: [(start: Double, end: Double, text: OwnedCString)]
    /// nil for a chat turn.
    let transcript: Transcript?

    init(transcript: Transcript) {
        self.transcript = transcript
        text = OwnedCString(transcript.text)
        language = OwnedCString(transcript.language ?? "")
        duration = transcript.duration
        segments = transcript.segments.map { ($0.start, $0.end, OwnedCString($0.text)) }
    }

    init(chatResponse: String) {
        transcript = nil
        text = OwnedCString(chatResponse)
        language = OwnedCString("")
        duration = 0
        segments = []
    }
}

/// The live handles. Numbers start high and step by 16 (they look like aligned pointers) and are never reused.
final class HandleTable: @unchecked Sendable {   // guarded by `lock`
    static let shared = HandleTable()
    private let lock = NSLock()
    private var objects: [UInt: AnyObject] = [:]
    private var next: UInt = 0x4541_0000   // "EA"

    func insert(_ object: AnyObject) -> OpaquePointer {
        lock.lock(); defer { lock.unlock() }
        next += 16
        objects[next] = object
        return OpaquePointer(bitPattern: next)!
    }

    func get<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type) -> T? {
        guard let handle else { return nil }
        lock.lock(); defer { lock.unlock() }
        return objects[UInt(bitPattern: handle)] as? T
    }

    /// Removes the handle if it is a live `T`; returns whether it was.
    func remove<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type) -> Bool {
        guard let handle else { return false }
        let key = UInt(bitPattern: handle)
        lock.lock()
        guard objects[key] is T else { lock.unlock(); return false }
        let object = objects.removeValue(forKey: key)
        lock.unlock()
        _ = object   // released here, outside the lock (a deinit may take other locks)
        return true
    }

    /// Live handles (for tests).
    var count: Int { lock.lock(); defer { lock.unlock() }; return objects.count }
}
