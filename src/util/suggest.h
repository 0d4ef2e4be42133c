/* suggest.h: "did you mean" for config keys and component types. */
#ifndef OG_SUGGEST_H
#define OG_SUGGEST_H

#include <stddef.h>

/* Returns the candidate nearest to <word> by edit distance when it is close
 * enough to be a plausible typo (at most 2 edits, and fewer than half the
 * word's length), else NULL. <candidates> is NULL-terminated when n is
 * SIZE_MAX, else n long. Borrows everything; the result points into
 * <candidates>. */
const char *suggest_nearest(const char *word, const char *const *candidates, size_t n);

/* Edit distance (insert, delete, substitute, transpose adjacent) between a and
 * b, capped at 64-character inputs (longer words compare as far apart). */
unsigned suggest_distance(const char *a, const char *b);

#endif
