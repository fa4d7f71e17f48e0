// SlotPool: the `--parallel N` sessions of the one mapped model and the bounded queue in front of them.
// A request takes a free slot (preferring the one whose KV cache holds its conversation's prefix), waits
// in line when all are busy, or is refused with 429 + Retry-After when the line is full. A waiter whose
// task is cancelled (client gone, timeout) leaves the line.
import Earshot
import Foundation

/// One session and what its KV cache last held.
public final class Slot: @unchecked Sendable {   // `conversationKey` guarded by `lock`
    public let id: Int
    public let session: Session
    private let lock = NSLock()
    private var _conversationKey: UInt64?
    /// The conversation (content hash of the history + reply) whose KV rows the session holds. A cancelled
    /// turn's generation thread may still write it after the slot was handed on, hence the lock.
    var conversationKey: UInt64? {
        get { lock.lock(); defer { lock.unlock() }; return _conversationKey }
        set { lock.lock(); _conversationKey = newValue; lock.unlock() }
    }

    init(id: Int, session: Session) {
        self.id = id
        self.session = session
    }
}

public actor SlotPool {
    private var free: [Slot]
    private var waiters: [(id: UInt64, preferred: UInt64?, continuation: CheckedContinuation<Slot, any Error>)] = []
    private var nextWaiter: UInt64 = 0
    public let slots: [Slot]
    public let queueLimit: Int

    public init(model: EarshotModel, parallel: Int, queueLimit: Int) {
        slots = (0..<parallel).map { Slot(id: $0, session: model.makeSession()) }
        free = slots
        self.queueLimit = queueLimit
    }

    /// Requests waiting for a slot.
    public var queueDepth: Int { waiters.count }
    /// Slots running a request.
    public var busy: Int { slots.count - free.count }

    /// A free slot (the one that last held `conversation`, if free), after waiting in line if need be.
    /// - Throws: `APIError` 429 when the line is full; `CancellationError` when the task is cancelled while waiting.
    public func acquire(conversation: UInt64? = nil) async throws -> Slot {
        if !free.isEmpty && waiters.isEmpty { return take(preferring: conversation) }
        guard waiters.count < queueLimit else {
            throw APIError(.tooManyRequests, "all \(slots.count) sessions are busy and \(waiters.count) requests are waiting; retry later",
                           type: "rate_limit_error", code: "server_busy", retryAfter: 1)
        }
        let id = nextWaiter
        nextWaiter += 1
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { c in
                if Task.isCancelled { c.resume(throwing: CancellationError()); return }
                waiters.append((id, conversation, c))
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Gives a slot back (to the first waiter, if any).
    public func release(_ slot: Slot) {
        if !waiters.isEmpty {
            let w = waiters.removeFirst()
            w.continuation.resume(returning: slot)
            return
        }
        free.append(slot)
    }

    private func take(preferring key: UInt64?) -> Slot {
        if let key, let i = free.firstIndex(where: { $0.conversationKey == key }) { return free.remove(at: i) }
        // Otherwise the slot that holds no conversation, else the one used longest ago (front of the list).
        if let i = free.firstIndex(where: { $0.conversationKey == nil }) { return free.remove(at: i) }
        return free.removeFirst()
    }

    private func cancelWaiter(_ id: UInt64) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(throwing: CancellationError())
    }
}

/// A slot held by a streamed response: given back once, when the stream ends — or, should the response
/// never be written (the client gone before its head), when the response is dropped.
final class SlotLease: @unchecked Sendable {   // `released` guarded by `lock`
    let pool: SlotPool
    let slot: Slot
    private let lock = NSLock()
    private var released = false

    init(pool: SlotPool, slot: Slot) {
        self.pool = pool
        self.slot = slot
    }

    func release() {
        lock.lock()
        let first = !released
        released = true
        lock.unlock()
        guard first else { return }
        let (pool, slot) = (self.pool, self.slot)
        Task { await pool.release(slot) }
    }

    deinit { release() }
}
