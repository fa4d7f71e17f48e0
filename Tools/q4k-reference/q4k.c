// ggml Q4_K reference driver (Tools/q4k-reference/make-fixtures.sh): f32 file in, Q4_K quantize→dequantize out.
// Reads f32 values (n multiple of 256) from argv[1], writes ggml Q4_K quantize->dequantize to argv[2].
#include <stdio.h>
#include <stdlib.h>
#include "ggml-quants.h"
#include "ggml-common.h"
int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb"); fseek(f, 0, SEEK_END); long n = ftell(f) / 4; fseek(f, 0, SEEK_SET);
    float *x = malloc(n * 4), *y = malloc(n * 4); fread(x, 4, n, f); fclose(f);
    block_q4_K *q = malloc((n / 256) * sizeof(block_q4_K));
    quantize_row_q4_K_ref(x, q, n);
    dequantize_row_q4_K(q, y, n);
    f = fopen(argv[2], "wb"); fwrite(y, 4, n, f); fclose(f);
    return 0;
}
