/* earshot_internal.h: the one helper the Swift half of libearshot (Sources/EarshotC) calls in the C half:
 * it stores the calling thread's error message. Not installed, not part of the API (hidden symbol). */
#ifndef EARSHOT_INTERNAL_H
#define EARSHOT_INTERNAL_H

/* Copies `message` (UTF-8, truncated at a character boundary to fit) into this thread's error buffer. */
__attribute__((visibility("hidden"))) void earshot_internal_set_error(const char *message);

#endif
