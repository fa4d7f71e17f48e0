#!/usr/bin/env bash
# install.sh: installs Earshot's C API and CLI under a prefix, so `cc app.c $(pkg-config --cflags --libs earshot)`
# works: PREFIX/include/earshot.h, PREFIX/lib/libearshot.so (SwiftPM builds it as libEarshotC.so: the product
# name "earshot" is the CLI's), PREFIX/lib/pkgconfig/earshot.pc, PREFIX/bin/earshot.
#
#     Tools/install.sh --prefix DIR [--configuration release|debug] [--no-build] [--bin-path DIR]
#
# --bin-path takes the built files from DIR (implies --no-build; the tests use it to run no SwiftPM command).
#
# The library needs the Swift runtime at run time: its RUNPATH names the toolchain's lib/swift/linux it was
# built with (plus $ORIGIN), so it runs where that toolchain is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=""
bin=""
configuration=release
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --configuration|-c) configuration="${2:?--configuration needs release or debug}"; shift 2 ;;
        --no-build) build=0; shift ;;
        --bin-path) bin="${2:?--bin-path needs a directory}"; build=0; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$prefix" ] || { echo "install.sh: --prefix DIR is required" >&2; exit 2; }
case "$configuration" in release|debug) ;; *) echo "install.sh: --configuration is release or debug" >&2; exit 2 ;; esac
if [ "$build" -eq 1 ]; then
    swift build -c "$configuration" --product EarshotC >&2
    swift build -c "$configuration" --product earshot >&2
fi
[ -n "$bin" ] || bin="$(swift build -c "$configuration" --show-bin-path)"
for f in "$bin/libEarshotC.so" "$bin/earshot"; do
    [ -f "$f" ] || { echo "install.sh: $f is missing (build it, or drop --no-build)" >&2; exit 1; }
done
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
install -d "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/bin"
install -m 644 Sources/CEarshot/include/earshot.h "$prefix/include/earshot.h"
install -m 755 "$bin/libEarshotC.so" "$prefix/lib/libearshot.so"
install -m 755 "$bin/earshot" "$prefix/bin/earshot"
version="$(sed -n 's/.*return "\([0-9.]*\)";.*/\1/p' Sources/CEarshot/earshot.c | head -1)"
cat > "$prefix/lib/pkgconfig/earshot.pc" <<PC
prefix=$prefix
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: earshot
Description: Earshot: Qwen-Audio and Whisper on the CPU, in-process (C API)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -learshot
PC
echo "installed earshot $version under $prefix (export PKG_CONFIG_PATH=$prefix/lib/pkgconfig)" >&2
