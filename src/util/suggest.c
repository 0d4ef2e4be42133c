/* suggest.c: typo suggestions by optimal-string-alignment distance, the
 * measure that counts "endpiont" -> "endpoint" as one edit. */
#include "autoconf.h"

#include <stdint.h>
#include <string.h>

#include "util/suggest.h"

#define SUGGEST_MAX_LEN 64

static unsigned suggest_min3(unsigned a, unsigned b, unsigned c)
{
    unsigned m = a < b ? a : b;
    return m < c ? m : c;
}

unsigned suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];

    if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
        return UINT32_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            d[i][j] = suggest_min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;
        }
    }
    return d[la][lb];
}

const char *suggest_nearest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    unsigned best_d = UINT32_MAX;
    size_t len = strlen(word);

    for (size_t i = 0; n == SIZE_MAX ? candidates[i] != NULL : i < n; i++) {
        unsigned dist = suggest_distance(word, candidates[i]);
        if (dist < best_d) {
            best_d = dist;
            best = candidates[i];
        }
    }
    if (best == NULL || best_d == 0 || best_d > 2 || best_d * 2 >= len)
        return NULL;
    return best;
}
