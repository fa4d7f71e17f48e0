// OutputPath: the one rule for where this package's executables may write a file (a converted model, a
// session, a mel dump, logits). Checked when a writer is created and again just before the finished
// file is moved into place (AtomicFileWriter):
//
//   1. The path must name a file in an existing, writable directory.
//   2. Whatever exists at the path must be a regular file: a directory, FIFO, socket, character or block
//      device (/dev/null, /dev/full, a disk) is never replaced, with or without `overwrite` (--force).
//   3. An existing regular file is replaced only with `overwrite`.
//   4. The output may not be one of the inputs: same device and inode as an input file, or as any file
//      directly inside an input directory (the converter passes its checkpoint directory: config, shards,
//      tokenizer, README, …; only `*.ear` files there, earlier outputs, may be replaced), so hard links
//      and other spellings of the same file are caught too.
//
// Symbolic links are followed, as `cp` and shell redirection do: a link to a regular file is a regular
// file (and the new content goes to the link's target, the link itself stays); a link to a device is a
// device; a dangling link is refused (we would not know whether the user meant the link or a new file).
// The finished file is written next to the resolved target and renamed over it, so the final step is
// atomic on the target's file system.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an output goes, after the rule was checked.
public struct OutputDestination: Sendable, Equatable {
    /// The path as given (for messages).
    public let path: String
    /// The path with symbolic links of its last component resolved: the file that is created or replaced.
    public let target: String
    /// Whether a regular file is there now (and will be replaced).
    public let replacesExistingFile: Bool
    /// Whether replacing is allowed at all.
    public let overwrite: Bool
    /// (device, inode) of every input, checked again before the final rename.
    let inputIdentities: [FileIdentity]
}

struct FileIdentity: Sendable, Equatable, Hashable {
    let device: UInt64
    let inode: UInt64
    let path: String

    init(_ st: stat, path: String) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        self.path = path
    }

    func sameFile(as other: FileIdentity) -> Bool { device == other.device && inode == other.inode }
}

public enum OutputPath {
    /// Checks `path` against the rule (see the top of this file). `inputs` are files or directories the
    /// caller reads; a directory stands for every file directly in it. Throws `.outputExists`,
    /// `.outputNotRegularFile`, `.outputIsInput` or `.outputDirectoryUnusable`.
    public static func check(_ path: String, overwrite: Bool, inputs: [String] = []) throws(EarError) -> OutputDestination {
        guard !path.isEmpty else { throw .outputDirectoryUnusable(path: path, directory: "", reason: "the output path is empty") }
        guard !path.hasSuffix("/") else { throw .outputNotRegularFile(path: path, kind: "a directory") }
        let target = try resolveLinks(path)
        let identities = inputIdentities(inputs)
        var st = stat()
        var exists = false
        if lstat(target, &st) == 0 {
            exists = true
            try checkExisting(st, path: path, overwrite: overwrite, inputs: identities, target: target)
        } else if errno != ENOENT && errno != ENOTDIR {   // missing: the directory check names the problem
            throw .io(path: path, operation: "stat", errno: errno)
        }
        try checkDirectory(of: target, path: path)
        return OutputDestination(path: path, target: target, replacesExistingFile: exists, overwrite: overwrite,
                                 inputIdentities: identities)
    }

    /// The rule for something that exists at the target now.
    static func checkExisting(_ st: stat, path: String, overwrite: Bool, inputs: [FileIdentity], target: String) throws(EarError) {
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .outputNotRegularFile(path: path, kind: InputFile.kind(ofMode: st.st_mode))
        }
        let me = FileIdentity(st, path: target)
        if let input = inputs.first(where: { $0.sameFile(as: me) }) {
            throw .outputIsInput(path: path, input: input.path)
        }
        guard overwrite else { throw .outputExists(path: path) }
    }

    /// Follows symbolic links of the last path component (at most 32, like the kernel's limit of 40).
    static func resolveLinks(_ path: String) throws(EarError) -> String {
        var current = path
        for _ in 0..<32 {
            var st = stat()
            guard lstat(current, &st) == 0 else {
                if errno == ENOENT, current != path {
                    throw .outputNotRegularFile(path: path, kind: "a symbolic link to the missing '\(current)'")
                }
                return current
            }
            guard (st.st_mode & S_IFMT) == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buffer, buffer.count - 1)
            guard n > 0 else { throw .io(path: path, operation: "readlink", errno: errno) }
            let link = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : directory(of: current) + "/" + link
        }
        throw .outputNotRegularFile(path: path, kind: "a chain of more than 32 symbolic links")
    }

    /// The directory part of `path` ("." for a bare name, "/" for "/x").
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    /// The target's directory must exist, be a directory and be writable.
    static func checkDirectory(of target: String, path: String) throws(EarError) {
        let dir = directory(of: target)
        var st = stat()
        guard stat(dir, &st) == 0 else {
            let e = errno
            throw .outputDirectoryUnusable(path: path, directory: dir,
                                           reason: e == ENOENT ? "it does not exist" : e == ENOTDIR ? "a part of it is not a directory"
                                                                : String(cString: strerror(e)))
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw .outputDirectoryUnusable(path: path, directory: dir, reason: "it is \(InputFile.kind(ofMode: st.st_mode)), not a directory")
        }
        guard access(dir, W_OK) == 0 else {
            throw .outputDirectoryUnusable(path: path, directory: dir, reason: String(cString: strerror(errno)))
        }
    }

    /// (device, inode) of each input file, and of every regular file directly inside each input directory
    /// except `*.ear` files (earlier outputs written next to the checkpoint).
    static func inputIdentities(_ inputs: [String]) -> [FileIdentity] {
        var out: [FileIdentity] = []
        for input in inputs {
            var st = stat()
            guard stat(input, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) != S_IFDIR {
                out.append(FileIdentity(st, path: input))
                continue
            }
            guard let dir = opendir(input) else { continue }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." || name.hasSuffix(".ear") { continue }
                let child = input.hasSuffix("/") ? input + name : input + "/" + name
                var cst = stat()
                if stat(child, &cst) == 0, (cst.st_mode & S_IFMT) == S_IFREG { out.append(FileIdentity(cst, path: child)) }
            }
        }
        return out
    }
}
