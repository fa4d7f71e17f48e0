// InspectReport: formats an opened EarFile for `earshot inspect` (text tables or JSON).
import Earshot
import EarshotFormat

enum InspectReport {
    // MARK: Text

    static func text(_ ear: EarFile, path: String) -> String {
        var out = ""
        let indexBytes = ear.fileSize - ear.dataOffset - ear.dataSize
        out += "file:     \(path) (\(human(ear.fileSize)), \(ear.fileSize) bytes)\n"
        out += "format:   .ear version \(ear.formatVersion); data region at \(ear.dataOffset), \(ear.dataSize) bytes; index \(indexBytes) bytes, checksum \(hex(ear.indexChecksum))\n"
        if let family = family(ear) { out += "model:    \(family.displayName) (family \(family.rawValue))\n" }

        out += "\nmetadata (\(ear.metadata.keys.count) keys):\n"
        let keyWidth = ear.metadata.keys.map(\.count).max() ?? 0
        for key in ear.metadata.keys {
            out += "  " + key.padding(keyWidth) + " = " + clip(ear.metadata[key]!.description, 100) + "\n"
        }

        out += "\nblobs (\(ear.blobs.count)):\n"
        if !ear.blobs.isEmpty {
            out += table(header: ["name", "compression", "stored", "raw", "offset"],
                         rows: ear.blobs.map { [$0.name, $0.compression.description, "\($0.storedSize)", "\($0.rawSize)", "\($0.offset)"] },
                         rightAligned: [2, 3, 4])
        }

        out += "\ntensors (\(ear.tensors.count)):\n"
        if !ear.tensors.isEmpty {
            out += table(header: ["name", "dtype", "shape", "size", "offset"],
                         rows: ear.tensors.map { [$0.name, $0.dtype.name, $0.shapeDescription, human($0.byteCount), "\($0.offset)"] },
                         rightAligned: [3, 4])
        }

        out += "\ntotals by dtype:\n"
        let totals = Totals(ear.tensors)
        var rows = totals.byDType.map { t in
            [t.dtype.name, "\(t.tensors)", "\(t.values)", human(t.bytes), bits(t.bytes, t.values)]
        }
        rows.append(["all", "\(totals.tensors)", "\(totals.values)", human(totals.bytes), bits(totals.bytes, totals.values)])
        out += table(header: ["dtype", "tensors", "values", "bytes", "bits/weight"], rows: rows, rightAligned: [1, 2, 3, 4])
        return out
    }

    // MARK: JSON

    static func json(_ ear: EarFile, path: String, verified: Bool?) -> String {
        func q(_ s: String) -> String { MetadataValue.string(s).description }
        var parts: [String] = []
        parts.append("\"file\":\(q(path))")
        parts.append("\"file_size\":\(ear.fileSize)")
        parts.append("\"format_version\":\(ear.formatVersion)")
        parts.append("\"data_offset\":\(ear.dataOffset)")
        parts.append("\"data_size\":\(ear.dataSize)")
        parts.append("\"index_checksum\":\(q(hex(ear.indexChecksum)))")
        parts.append("\"family\":\(family(ear).map { q($0.rawValue) } ?? "null")")
        parts.append("\"metadata\":\(ear.metadata.json)")
        let blobs = ear.blobs.map { b in
            "{\"name\":\(q(b.name)),\"compression\":\(q(b.compression.description)),\"offset\":\(b.offset),\"stored_size\":\(b.storedSize),\"raw_size\":\(b.rawSize),\"checksum\":\(q(hex(b.checksum)))}"
        }
        parts.append("\"blobs\":[\(blobs.joined(separator: ","))]")
        let tensors = ear.tensors.map { t in
            "{\"name\":\(q(t.name)),\"dtype\":\(q(t.dtype.name)),\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"offset\":\(t.offset),\"byte_count\":\(t.byteCount),\"checksum\":\(q(hex(t.checksum)))}"
        }
        parts.append("\"tensors\":[\(tensors.joined(separator: ","))]")
        let totals = Totals(ear.tensors).byDType.map { t in
            "{\"dtype\":\(q(t.dtype.name)),\"tensors\":\(t.tensors),\"values\":\(t.values),\"bytes\":\(t.bytes)}"
        }
        parts.append("\"totals\":[\(totals.joined(separator: ","))]")
        parts.append("\"verified\":\(verified.map { $0 ? "true" : "false" } ?? "null")")
        return "{" + parts.joined(separator: ",") + "}"
    }

    // MARK: Helpers

    /// The library's model family of the file (from its architecture and generation config), nil when unknown.
    static func family(_ ear: EarFile) -> ModelFamily? { ModelFamily(file: ear) }

    struct Totals {
        struct Row { let dtype: EarDType; var tensors = 0; var values = 0; var bytes = 0 }
        var byDType: [Row] = []
        var tensors = 0, values = 0, bytes = 0

        init(_ list: [TensorInfo]) {
            for dtype in EarDType.allCases {
                var row = Row(dtype: dtype)
                for t in list where t.dtype == dtype {
                    row.tensors += 1; row.values += t.elementCount; row.bytes += t.byteCount
                }
                if row.tensors > 0 { byDType.append(row) }
            }
            tensors = list.count
            values = byDType.reduce(0) { $0 + $1.values }
            bytes = byDType.reduce(0) { $0 + $1.bytes }
        }
    }

    static func bits(_ bytes: Int, _ values: Int) -> String {
        values == 0 ? "-" : fixed(Double(bytes * 8) / Double(values), 2)
    }

    static func human(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while v >= 1024, u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : "\(fixed(v, 2)) \(units[u])"
    }

    static func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded() / scale
        var s = "\(r)"
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
        }
        return s
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - s.count) + s
    }

    static func clip(_ s: String, _ n: Int) -> String {
        s.count <= n ? s : String(s.prefix(n - 1)) + "…"
    }

    static func table(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            "  " + cells.enumerated().map { i, c in
                rightAligned.contains(i) ? c.padding(widths[i], left: true) : c.padding(widths[i])
            }.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        return line(header) + rows.map(line).joined()
    }
}

extension String {
    func padding(_ width: Int, left: Bool = false) -> String {
        let pad = String(repeating: " ", count: max(0, width - count))
        return left ? pad + self : self + pad
    }

    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
