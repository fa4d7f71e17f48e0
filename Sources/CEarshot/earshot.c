/* earshot.c: the parts of the C API that need no model: version, status names, the per-thread error
 * message (a fixed thread-local buffer, so nothing leaks when a thread ends) and earshot_string_free.
 * Everything handle-based is implemented in Swift (Sources/EarshotC) behind the same header. */
#include "earshot.h"
#include "earshot_internal.h"

#include <stdlib.h>
#include <string.h>

#define EARSHOT_ERROR_CAPACITY 4096

static _Thread_local char earshot_error_message[EARSHOT_ERROR_CAPACITY];

int32_t earshot_api_version(void) { return EARSHOT_API_VERSION; }

const char *earshot_version(void) { return "1.0.0"; }

const char *earshot_last_error(void) { return earshot_error_message; }

void earshot_internal_set_error(const char *message) {
    if (message == NULL) { earshot_error_message[0] = '\0'; return; }
    size_t n = strlen(message);
    if (n >= EARSHOT_ERROR_CAPACITY) {
        n = EARSHOT_ERROR_CAPACITY - 1;
        /* Do not cut a UTF-8 sequence: step back over continuation bytes (10xxxxxx) to a lead byte. */
        while (n > 0 && ((unsigned char)message[n] & 0xC0) == 0x80) n--;
    }
    memcpy(earshot_error_message, message, n);
    earshot_error_message[n] = '\0';
}

const char *earshot_status_string(earshot_status status) {
    switch (status) {
    case EARSHOT_OK: return "ok";
    case EARSHOT_ERR_INVALID_ARGUMENT: return "invalid argument";
    case EARSHOT_ERR_INVALID_HANDLE: return "invalid handle";
    case EARSHOT_ERR_MODEL: return "model error";
    case EARSHOT_ERR_AUDIO: return "audio error";
    case EARSHOT_ERR_UNSUPPORTED: return "unsupported";
    case EARSHOT_ERR_GENERATION: return "generation error";
    case EARSHOT_CANCELLED: return "cancelled";
    case EARSHOT_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

void earshot_string_free(char *string) { free(string); }
