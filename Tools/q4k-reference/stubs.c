// Link stubs for the few ggml.c symbols ggml-quants.c references but the Q4_K path never calls.
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
void ggml_abort(const char *file, int line, const char *fmt, ...) { fprintf(stderr, "abort %s:%d\n", file, line); abort(); }
size_t ggml_row_size(int type, long ne) { abort(); }
size_t ggml_type_size(int type) { abort(); }
const char * ggml_type_name(int type) { abort(); }
