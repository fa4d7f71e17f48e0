// EarFileSink: the ModelSink that writes a `.ear` file through EarshotFormat's EarWriter.
// TEMPORARY stub until EarshotFormat lands on main: it refuses to write.
import Foundation
import EarshotKernels

public final class EarFileSink: ModelSink {
    public let path: String
    public var outputDescription: String { path }

    /// Opens the output (creating its temporary file) so an unwritable path fails before any work.
    public init(path: String) throws(ConvertError) {
        self.path = path
        throw .outputNotWritable(path: path, reason: "the .ear writer (EarshotFormat) is not available in this build yet")
    }

    public func addTensor(name: String, type: WeightType, shape: [Int], byteCount: Int,
                          produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {}
    public func addBlob(name: String, bytes: Data) throws {}
    public func finish(metadata: [(key: String, value: MetaValue)]) throws -> Int { 0 }
    public func abort() {}
}
