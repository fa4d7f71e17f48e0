#!/usr/bin/env bash
# Proves how another package can depend on Earshot (issue #16.10): clones this checkout's HEAD into a temp
# dir, tags it, and builds a one-file consumer package against it twice:
#   1. `.package(url:, from: "<tag>")`  — expected to be refused: SwiftPM rejects unsafe build flags
#      (our per-CPU kernel flags, -march=…) in version-based dependencies;
#   2. `.package(url:, revision: "<sha>")` — expected to build and run (unsafe flags are allowed for
#      revision, branch and path dependencies).
# Exit 0 when both behave as expected. Needs a few minutes (a full debug build of the library).
#   Tools/consumer-check.sh [--keep]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
[ "${1:-}" = "--keep" ] || trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/earshot"
git -C "$work/earshot" tag 9.9.9
sha=$(git -C "$work/earshot" rev-parse HEAD)
mkdir -p "$work/app/Sources/App"
cat > "$work/app/Sources/App/main.swift" <<'SWIFT'
import Earshot
// Any public symbol proves the product links; the model families are what an app switches on.
print("Earshot families:", ModelFamily.allCases.map(\.rawValue).joined(separator: ", "))
SWIFT
manifest() {
    cat > "$work/app/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "App",
    dependencies: [.package(url: "file://$work/earshot", $1)],
    targets: [.executableTarget(name: "App", dependencies: [.product(name: "Earshot", package: "earshot")])]
)
SWIFT
    rm -rf "$work/app/.build" "$work/app/Package.resolved"
}

manifest 'from: "9.9.9"'
if out=$(cd "$work/app" && swift build 2>&1); then
    echo "consumer-check: a version-based dependency built: SwiftPM now accepts it (update Docs/packaging.md)"
else
    echo "$out" | grep -q "contains unsafe build flags" || { echo "$out" | tail -5; echo "consumer-check: unexpected failure"; exit 1; }
    echo "consumer-check: from: \"9.9.9\" refused as documented ($(echo "$out" | grep -c 'unsafe build flags') targets with unsafe flags)"
fi

manifest "revision: \"$sha\""
(cd "$work/app" && swift build 2>&1 | grep -E "error|Build complete" ) || true
(cd "$work/app" && .build/debug/App)
echo "consumer-check: revision: \"$sha\" builds and runs"
