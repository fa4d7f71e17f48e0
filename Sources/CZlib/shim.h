// CZlib: the system zlib (Debian: zlib1g-dev), found through pkg-config `zlib`. Used only to measure the
// compression ratio of decoded text exactly as Python's zlib.compress does (Whisper's repetition check).
#include <zlib.h>
