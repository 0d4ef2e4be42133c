/* units.c: durations, sizes and integers from the config file. Every value is computed exactly in integers
 * (a fraction such as "1.5GiB" is scaled by cancelling powers of 2 and 5, never through a double), so a
 * config that names a byte or a millisecond gets exactly that, and anything inexact is refused, not rounded. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/units.h"

/* Fraction digits kept after dropping trailing zeros; 10^18 still fits in uint64_t. No duration with more
 * significant places can be a whole millisecond (the units hold at most 2^13 and 5^11), so only sizes
 * ever need to say so. */
#define UNITS_MAX_FRAC_DIGITS 18

#define UNITS_NS_PER_MS 1000000u

/* Index of TiB, the largest binary unit, in units_size_table; KiB is 1. */
#define UNITS_SIZE_TIB 4

struct units_unit {
    const char *name;
    uint64_t mult;       /* one unit in the base: nanoseconds or bytes */
    unsigned char twos;  /* power of 2 in mult, cancelled against a fraction's 10^k */
    unsigned char fives; /* power of 5 in mult */
};

static const struct units_unit units_duration_table[] = {
    {"ns", 1, 0, 0},
    {"us", 1000, 3, 3},
    {"\xc2\xb5s", 1000, 3, 3}, /* U+00B5 MICRO SIGN, which Go accepts */
    {"\xce\xbcs", 1000, 3, 3}, /* U+03BC GREEK SMALL LETTER MU, which Go accepts too */
    {"ms", 1000000, 6, 6},
    {"s", 1000000000, 9, 9},
    {"m", UINT64_C(60000000000), 11, 10},
    {"h", UINT64_C(3600000000000), 13, 11},
    {NULL, 0, 0, 0},
};

/* Entry 0 doubles as the unit of a bare number. */
static const struct units_unit units_size_table[] = {
    {"B", 1, 0, 0},
    {"KiB", UINT64_C(1) << 10, 10, 0},
    {"MiB", UINT64_C(1) << 20, 20, 0},
    {"GiB", UINT64_C(1) << 30, 30, 0},
    {"TiB", UINT64_C(1) << 40, 40, 0},
    {"KB", UINT64_C(1000), 3, 3},
    {"MB", UINT64_C(1000000), 6, 6},
    {"GB", UINT64_C(1000000000), 9, 9},
    {"TB", UINT64_C(1000000000000), 12, 12},
    {NULL, 0, 0, 0},
};

/* A number as written: <whole>.<frac>, the fraction meaning frac / 10^frac_digits. */
struct units_decimal {
    uint64_t whole;
    uint64_t frac;
    unsigned frac_digits;
    bool has_whole;      /* a digit came before any '.' */
    bool has_dot;
    bool has_frac;       /* a digit came after the '.' */
    bool whole_overflow; /* whole exceeded uint64_t; whatever the unit, the value is too large */
    bool frac_overflow;  /* more than UNITS_MAX_FRAC_DIGITS significant places */
};

enum units_scale_result { UNITS_EXACT, UNITS_OVERFLOW, UNITS_INEXACT, UNITS_TOO_PRECISE };

static bool units_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Not isspace(): the locale must not change what a config file means. */
static bool units_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Bytes >= 0x80 count so that "µs" and a mistyped non-ASCII unit are read as one (unknown) unit. */
static bool units_is_unit_char(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

static uint64_t units_pow(uint64_t base, unsigned exp)
{
    uint64_t r = 1;
    for (; exp > 0; exp--)
        r *= base;
    return r;
}

static void units_add_whole_digit(struct units_decimal *d, unsigned digit)
{
    d->has_whole = true;
    if (d->whole > (UINT64_MAX - digit) / 10)
        d->whole_overflow = true;
    else
        d->whole = d->whole * 10 + digit;
}

/* Trailing zeros are held back in <zeros> so that "1.50000000000000000000s" is as precise as "1.5s". */
static void units_add_frac_digit(struct units_decimal *d, unsigned digit, unsigned *zeros)
{
    d->has_frac = true;
    if (digit == 0) {
        (*zeros)++;
        return;
    }
    if (d->frac_overflow || d->frac_digits + *zeros + 1 > UNITS_MAX_FRAC_DIGITS) {
        d->frac_overflow = true;
        return;
    }
    d->frac = d->frac * units_pow(10, *zeros + 1) + digit;
    d->frac_digits += *zeros + 1;
    *zeros = 0;
}

/* Reads [0-9]*(\.[0-9]*)? from <p> into <d>; returns where it stopped. Never fails: the caller judges. */
static const char *units_scan_decimal(const char *p, struct units_decimal *d)
{
    unsigned zeros = 0;

    memset(d, 0, sizeof(*d));
    for (; units_is_digit(*p); p++)
        units_add_whole_digit(d, (unsigned)(*p - '0'));
    if (*p != '.')
        return p;
    d->has_dot = true;
    for (p++; units_is_digit(*p); p++)
        units_add_frac_digit(d, (unsigned)(*p - '0'), &zeros);
    return p;
}

static size_t units_unit_len(const char *p)
{
    size_t n = 0;
    while (units_is_unit_char(p[n]))
        n++;
    return n;
}

static const struct units_unit *units_lookup(const struct units_unit *table, const char *p, size_t n)
{
    for (; table->name != NULL; table++) {
        if (strlen(table->name) == n && memcmp(table->name, p, n) == 0)
            return table;
    }
    return NULL;
}

/* frac / 10^k * mult, exactly. mult's own 2s and 5s cancel first; what is left of 10^k must divide frac,
 * because it shares no factor with what is left of mult. */
static enum units_scale_result units_scale_fraction(uint64_t frac, unsigned k, const struct units_unit *u,
                                                    uint64_t *out)
{
    unsigned c2 = k < u->twos ? k : u->twos;
    unsigned c5 = k < u->fives ? k : u->fives;
    uint64_t den = units_pow(2, k - c2) * units_pow(5, k - c5);
    uint64_t mult = (u->mult >> c2) / units_pow(5, c5);

    if (frac % den != 0)
        return UNITS_INEXACT;
    if (frac / den > UINT64_MAX / mult)
        return UNITS_OVERFLOW;
    *out = frac / den * mult;
    return UNITS_EXACT;
}

static enum units_scale_result units_scale(const struct units_decimal *d, const struct units_unit *u,
                                           uint64_t *out)
{
    uint64_t whole, frac;
    enum units_scale_result r;

    if (d->whole_overflow || d->whole > UINT64_MAX / u->mult)
        return UNITS_OVERFLOW;
    whole = d->whole * u->mult;
    if (d->frac_overflow)
        return UNITS_TOO_PRECISE;
    r = units_scale_fraction(d->frac, d->frac_digits, u, &frac);
    if (r != UNITS_EXACT)
        return r;
    if (frac > UINT64_MAX - whole)
        return UNITS_OVERFLOW;
    *out = whole + frac;
    return UNITS_EXACT;
}

/* Names the character at <p>, found where a number or unit was due, when it is a common slip. */
static const char *units_duration_stray(const char *p, const char *fallback)
{
    if (units_is_space(*p))
        return "whitespace in duration (write 5s, not 5 s)";
    if (*p == '+' || *p == '-')
        return "sign inside duration (write 1h30m, not 1h+30m)";
    return fallback;
}

static const char *units_duration_scale_reason(enum units_scale_result r)
{
    /* Past UNITS_MAX_FRAC_DIGITS no value can be whole milliseconds; see the comment on the constant. */
    return r == UNITS_OVERFLOW ? "duration too large" : "duration must be a whole number of milliseconds";
}

/* Reads one <number><unit> group at *pp into nanoseconds and moves *pp past it. */
static int units_duration_group(const char **pp, uint64_t *ns, const char **why)
{
    struct units_decimal d;
    const struct units_unit *u;
    const char *p = units_scan_decimal(*pp, &d);
    size_t n = units_unit_len(p);
    enum units_scale_result r;

    if (!d.has_whole && !d.has_frac) {
        *why = n > 0 || *p == '\0' ? "missing number in duration"
                                   : units_duration_stray(p, "unexpected character in duration");
        return -1;
    }
    if (n == 0) {
        *why = *p == '\0' ? "missing unit in duration (write 5s, 200ms, 1m or 1h)"
                          : units_duration_stray(p, "unexpected character in duration");
        return -1;
    }
    u = units_lookup(units_duration_table, p, n);
    if (u == NULL) {
        *why = "unknown duration unit (use ms, s, m or h)";
        return -1;
    }
    r = units_scale(&d, u, ns);
    if (r != UNITS_EXACT) {
        *why = units_duration_scale_reason(r);
        return -1;
    }
    *pp = p + n;
    return 0;
}

int units_parse_duration(const char *s, int64_t *ms, const char **why)
{
    uint64_t total = 0, ns;
    const char *p = s;

    if (*p == '\0') {
        *why = "empty duration";
        return -1;
    }
    if (*p == '-') {
        *why = "negative duration";
        return -1;
    }
    if (*p == '+')
        p++;
    if (strcmp(p, "0") == 0) {
        *ms = 0;
        return 0;
    }
    do {
        if (units_duration_group(&p, &ns, why) != 0)
            return -1;
        if (ns > (uint64_t)INT64_MAX - total) {
            *why = "duration too large";
            return -1;
        }
        total += ns;
    } while (*p != '\0');
    if (total % UNITS_NS_PER_MS != 0) {
        *why = "duration must be a whole number of milliseconds";
        return -1;
    }
    *ms = (int64_t)(total / UNITS_NS_PER_MS);
    return 0;
}

static const char *units_size_scale_reason(enum units_scale_result r)
{
    if (r == UNITS_OVERFLOW)
        return "size too large";
    if (r == UNITS_TOO_PRECISE)
        return "too many decimal places in size";
    return "size must be a whole number of bytes";
}

/* Reads the number that opens a size, refusing what cannot start one; on success *pp is left after it. */
static int units_size_number(const char **pp, struct units_decimal *d, const char **why)
{
    const char *s = *pp;

    if (*s == '\0')
        *why = "empty size";
    else if (*s == '-')
        *why = "negative size";
    else if (units_is_space(*s))
        *why = "whitespace in size (write 64MiB, not 64 MiB)";
    else if (!units_is_digit(*s))
        *why = "size must start with a digit";
    else {
        *pp = units_scan_decimal(s, d);
        if (!d->has_dot || d->has_frac)
            return 0;
        *why = "digit expected after '.' in size";
    }
    return -1;
}

int units_parse_size(const char *s, uint64_t *bytes, const char **why)
{
    struct units_decimal d;
    const struct units_unit *u = &units_size_table[0];
    const char *p = s;
    size_t n;
    enum units_scale_result r;

    if (units_size_number(&p, &d, why) != 0)
        return -1;
    n = units_unit_len(p);
    if (n > 0) {
        u = units_lookup(units_size_table, p, n);
        if (u == NULL) {
            *why = "unknown size unit (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)";
            return -1;
        }
        p += n;
    }
    if (*p != '\0') {
        *why = units_is_space(*p) ? "whitespace in size (write 64MiB, not 64 MiB)" : "unexpected character in size";
        return -1;
    }
    r = units_scale(&d, u, bytes);
    if (r != UNITS_EXACT) {
        *why = units_size_scale_reason(r);
        return -1;
    }
    return 0;
}

int units_parse_int(const char *s, int64_t *out, const char **why)
{
    struct units_decimal d;
    const char *p = s;
    bool neg = false;
    uint64_t limit;

    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!units_is_digit(*p)) {
        *why = "not an integer";
        return -1;
    }
    p = units_scan_decimal(p, &d);
    if (d.has_dot || *p != '\0') {
        *why = "not an integer";
        return -1;
    }
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (d.whole_overflow || d.whole > limit) {
        *why = "integer out of range";
        return -1;
    }
    /* Negating via whole - 1 keeps INT64_MIN's magnitude from passing through int64_t. */
    *out = !neg ? (int64_t)d.whole : d.whole == 0 ? 0 : -(int64_t)(d.whole - 1) - 1;
    return 0;
}

void units_format_duration(int64_t ms, char *buf, size_t len)
{
    static const struct {
        int64_t ms;
        const char *suffix;
    } steps[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
    size_t i = 0;

    if (len == 0)
        return;
    if (ms == 0) {
        snprintf(buf, len, "0s");
        return;
    }
    while (ms % steps[i].ms != 0)
        i++;
    snprintf(buf, len, "%" PRId64 "%s", ms / steps[i].ms, steps[i].suffix);
}

void units_format_size(uint64_t bytes, char *buf, size_t len)
{
    size_t i = UNITS_SIZE_TIB;

    if (len == 0)
        return;
    while (i > 0 && (bytes == 0 || bytes % units_size_table[i].mult != 0))
        i--;
    if (i == 0)
        snprintf(buf, len, "%" PRIu64, bytes);
    else
        snprintf(buf, len, "%" PRIu64 "%s", bytes / units_size_table[i].mult, units_size_table[i].name);
}
