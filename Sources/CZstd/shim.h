// CZstd: the system libzstd (Debian: libzstd-dev), found through pkg-config `libzstd`.
#include <zstd.h>
