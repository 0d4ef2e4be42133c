/* units.h: the config file's durations, sizes and integers, written in the OpenTelemetry Collector's syntax
 * ("5s", "1h30m", "64MiB"), parsed strictly and printed back in the form a user would write. */
#ifndef OG_UNITS_H
#define OG_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Accepts Go's time.ParseDuration syntax, as the Collector writes it: an optional leading '+', then one or more
 * <number><unit> groups ("200ms", "5s", "1m", "1h30m", "1.5s", ".5s", "1.s"), units ns us µs μs ms s m h
 * (case-sensitive); "0" (or "+0") alone needs no unit. The groups add up.
 * Refuses: "" ("empty duration"); any leading '-', even "-0s" ("negative duration"); a number without a unit
 * ("missing unit in duration (write 5s, 200ms, 1m or 1h)"); a unit without a number ("missing number in
 * duration"); any other unit ("unknown duration unit (use ms, s, m or h)"); spaces or tabs anywhere ("whitespace
 * in duration (write 5s, not 5 s)"); '+' or '-' after the start ("sign inside duration (write 1h30m, not
 * 1h+30m)"); any other character ("unexpected character in duration"); a total above INT64_MAX nanoseconds,
 * about 292 years, the Collector's own limit ("duration too large"); a total that is not a whole number of
 * milliseconds, e.g. "1500us" ("duration must be a whole number of milliseconds").
 * Returns 0 and sets *ms; returns -1, leaving *ms untouched, with *why pointing at a static one-line reason. */
int units_parse_duration(const char *s, int64_t *ms, const char **why);

/* Accepts a byte count: digits, an optional fraction (".5", which must leave a whole number of bytes), then an
 * optional unit with no space before it: B, KiB, MiB, GiB, TiB (1024-based) or KB, MB, GB, TB (1000-based),
 * case-sensitive ("512KiB", "1.5GiB", "100B", "5MB", "4096").
 * Refuses: "" ("empty size"); a leading '-' ("negative size"); anything else not starting with a digit, such as
 * "+5" or ".5KiB" ("size must start with a digit"); "1." or "1.KiB" ("digit expected after '.' in size");
 * spaces or tabs ("whitespace in size (write 64MiB, not 64 MiB)"); any other unit, e.g. "mb" ("unknown size
 * unit (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)"); trailing junk ("unexpected character in size"); more
 * than UINT64_MAX bytes ("size too large"); a fraction of a byte, e.g. "1.5" or "0.1KiB" ("size must be a whole
 * number of bytes"); more than 18 significant decimal places ("too many decimal places in size").
 * Returns 0 and sets *bytes; returns -1, leaving *bytes untouched, with *why pointing at a static reason. */
int units_parse_size(const char *s, uint64_t *bytes, const char **why);

/* Accepts a whole decimal integer with an optional '+' or '-' and leading zeros ("42", "-7", "+007").
 * Refuses "", whitespace, hex, exponents and any trailing character ("not an integer"), and values outside
 * INT64_MIN..INT64_MAX ("integer out of range").
 * Returns 0 and sets *out; returns -1, leaving *out untouched, with *why pointing at a static reason. */
int units_parse_int(const char *s, int64_t *out, const char **why);

/* Prints <ms> in the largest of h, m, s, ms that divides it exactly: 0 -> "0s", 200 -> "200ms", 5000 -> "5s",
 * 90000 -> "90s", 60000 -> "1m", 3600000 -> "1h", 5400000 -> "90m"; negatives keep their sign ("-5s").
 * units_parse_duration() reads the text back to <ms> for every 0 <= ms <= 9223372036854.
 * Writes nothing when <len> is 0; otherwise always NUL-terminates, truncating when <len> is too small.
 * Cannot fail. */
void units_format_duration(int64_t ms, char *buf, size_t len);

/* Prints <bytes> in the largest of TiB, GiB, MiB, KiB that divides it exactly, else as a plain number:
 * 0 -> "0", 512 -> "512", 1024 -> "1KiB", 20971520 -> "20MiB", 10737418240 -> "10GiB", 1500 -> "1500".
 * units_parse_size() reads every result back to <bytes>.
 * Writes nothing when <len> is 0; otherwise always NUL-terminates, truncating when <len> is too small.
 * Cannot fail. */
void units_format_size(uint64_t bytes, char *buf, size_t len);

#endif
