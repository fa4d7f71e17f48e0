// ModelSink: where converted tensors, blobs and metadata go. The `.ear` writer is one small adapter
// (EarFileSink); tests may use an in-memory one.
import Foundation
import EarshotKernels

/// A metadata value as the converter produces it (the format adapter maps it to the file's types).
public enum MetaValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    /// A list of strings (stored as a JSON array of strings, e.g. the special tokens).
    case strings([String])
}

/// Receives the converted model. Calls come in this order: any number of `addTensor`/`addBlob`, then
/// exactly one of `finish` (output complete and in place) or `abort` (no output left behind).
public protocol ModelSink: AnyObject {
    /// One tensor of `byteCount` bytes, in the layout the kernels read ([rows × rowBytes]). `produce`
    /// calls `write` with consecutive chunks; the sink checks the total.
    func addTensor(name: String, type: WeightType, shape: [Int], byteCount: Int,
                   produce: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws
    /// A named non-weight blob (tokenizer ranks, mel filters, configs).
    func addBlob(name: String, bytes: Data) throws
    /// Writes the metadata and completes the output atomically. Returns the file size in bytes.
    func finish(metadata: [(key: String, value: MetaValue)]) throws -> Int
    /// Discards everything written so far. Safe to call more than once.
    func abort()
    /// The output path (for messages).
    var outputDescription: String { get }
}
