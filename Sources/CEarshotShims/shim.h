// CEarshotShims: C one-liners the executables need that Swift 6 cannot write safely (C's stdio globals).
#include <stdio.h>

/// Makes stdout line-buffered, also into a pipe or a file (results reach a consumer line by line).
static inline void earshot_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

/// Writes a string to stdout through stdio (so it stays in order with Swift's print) and flushes.
static inline void earshot_write_stdout(const char *s) { fputs(s, stdout); fflush(stdout); }
