/* test_units.c: the config file's durations, sizes and integers: what is accepted and its exact value,
 * every refusal with its reason, the overflow boundaries, and that printed values parse back unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/units.h"

struct duration_case {
    const char *in;
    int64_t ms;
};

struct size_case {
    const char *in;
    uint64_t bytes;
};

struct int_case {
    const char *in;
    int64_t value;
};

/* An input and the reason it must be refused with. */
struct refusal {
    const char *in;
    const char *why;
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char R_DUR_MISSING_UNIT[] = "missing unit in duration (write 5s, 200ms, 1m or 1h)";
static const char R_DUR_UNKNOWN_UNIT[] = "unknown duration unit (use ms, s, m or h)";
static const char R_DUR_WHOLE_MS[] = "duration must be a whole number of milliseconds";
static const char R_DUR_TOO_LARGE[] = "duration too large";
static const char R_SIZE_UNKNOWN_UNIT[] = "unknown size unit (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)";

static void check_durations(const struct duration_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t ms = -1;
        const char *why = NULL;

        if (units_parse_duration(cases[i].in, &ms, &why) != 0)
            fail_msg("\"%s\": refused: %s", cases[i].in, why);
        if (ms != cases[i].ms)
            fail_msg("\"%s\": got %lld ms, want %lld", cases[i].in, (long long)ms, (long long)cases[i].ms);
    }
}

/* Also checks that a refusal leaves the output alone, so a caller may parse into its live default. */
static void check_duration_refusals(const struct refusal *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t ms = 42;
        const char *why = NULL;

        if (units_parse_duration(cases[i].in, &ms, &why) == 0)
            fail_msg("\"%s\": accepted as %lld ms, want \"%s\"", cases[i].in, (long long)ms, cases[i].why);
        if (why == NULL || strcmp(why, cases[i].why) != 0)
            fail_msg("\"%s\": reason \"%s\", want \"%s\"", cases[i].in, why ? why : "(null)", cases[i].why);
        assert_int_equal(ms, 42);
    }
}

static void check_sizes(const struct size_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t bytes = 1;
        const char *why = NULL;

        if (units_parse_size(cases[i].in, &bytes, &why) != 0)
            fail_msg("\"%s\": refused: %s", cases[i].in, why);
        if (bytes != cases[i].bytes)
            fail_msg("\"%s\": got %llu, want %llu", cases[i].in, (unsigned long long)bytes,
                     (unsigned long long)cases[i].bytes);
    }
}

static void check_size_refusals(const struct refusal *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t bytes = 42;
        const char *why = NULL;

        if (units_parse_size(cases[i].in, &bytes, &why) == 0)
            fail_msg("\"%s\": accepted as %llu, want \"%s\"", cases[i].in, (unsigned long long)bytes,
                     cases[i].why);
        if (why == NULL || strcmp(why, cases[i].why) != 0)
            fail_msg("\"%s\": reason \"%s\", want \"%s\"", cases[i].in, why ? why : "(null)", cases[i].why);
        assert_int_equal(bytes, 42);
    }
}

static void check_int_refusals(const struct refusal *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t value = 42;
        const char *why = NULL;

        if (units_parse_int(cases[i].in, &value, &why) == 0)
            fail_msg("\"%s\": accepted as %lld, want \"%s\"", cases[i].in, (long long)value, cases[i].why);
        if (why == NULL || strcmp(why, cases[i].why) != 0)
            fail_msg("\"%s\": reason \"%s\", want \"%s\"", cases[i].in, why ? why : "(null)", cases[i].why);
        assert_int_equal(value, 42);
    }
}

static void test_duration_single_units(void **state)
{
    static const struct duration_case cases[] = {
        {"200ms", 200},       {"5s", 5000},          {"1m", 60000},       {"1h", 3600000},
        {"0", 0},             {"+0", 0},             {"0s", 0},           {"0ms", 0},
        {"0h", 0},            {"+5s", 5000},         {"1000000ns", 1},    {"1000us", 1},
        {"1000\xc2\xb5s", 1}, {"1000\xce\xbcs", 1},  {"007s", 7000},      {"86400s", 86400000},
        {"1440m", 86400000},  {"0.000000000ms", 0},
    };
    (void)state;
    check_durations(cases, N_ELEMS(cases));
}

/* Go adds the groups up, in any order and repeated; so do we. */
static void test_duration_compound(void **state)
{
    static const struct duration_case cases[] = {
        {"1h30m", 5400000}, {"1h1m1s1ms", 3661001}, {"1s500ms", 1500}, {"500ms1s", 1500},
        {"1m1m", 120000},   {"1s1000us", 1001},     {"+1h30m", 5400000}, {"1h0m0s", 3600000},
    };
    (void)state;
    check_durations(cases, N_ELEMS(cases));
}

static void test_duration_fractions(void **state)
{
    static const struct duration_case cases[] = {
        {"1.5s", 1500},       {".5s", 500},        {"1.s", 1000},        {"1.5h", 5400000},
        {"0.001s", 1},        {"0.00001h", 36},    {"2.5m", 150000},     {"1.50000000000000000000000s", 1500},
        {"2000000ns", 2},     {"0.5s.5s", 1000},   {"1.25ms750us", 2},   {"0.1m", 6000},
    };
    (void)state;
    check_durations(cases, N_ELEMS(cases));
}

/* The largest duration is INT64_MAX nanoseconds, as in Go, so a Collector config means the same here. */
static void test_duration_boundaries(void **state)
{
    static const struct duration_case ok[] = {
        {"9223372036854ms", INT64_C(9223372036854)},
        {"9223372036854000000ns", INT64_C(9223372036854)},
        {"2562047h", INT64_C(2562047) * 3600000},
        {"2562047h47m16s854ms", INT64_C(9223372036854)},
    };
    static const struct refusal bad[] = {
        {"9223372036855ms", R_DUR_TOO_LARGE},
        {"2562048h", R_DUR_TOO_LARGE},
        {"2562047h47m16s855ms", R_DUR_TOO_LARGE},
        {"9223372036854775807h", R_DUR_TOO_LARGE},
        {"9223372036854775808ns", R_DUR_TOO_LARGE},
        {"99999999999999999999999s", R_DUR_TOO_LARGE},
        {"2562047h2562047h", R_DUR_TOO_LARGE},
        {"9223372036854775807ns", R_DUR_WHOLE_MS},
    };
    (void)state;
    check_durations(ok, N_ELEMS(ok));
    check_duration_refusals(bad, N_ELEMS(bad));
}

static void test_duration_refuses_empty_and_negative(void **state)
{
    static const struct refusal cases[] = {
        {"", "empty duration"},         {"-5s", "negative duration"}, {"-0", "negative duration"},
        {"-0s", "negative duration"},   {"-", "negative duration"},   {"-1h30m", "negative duration"},
    };
    (void)state;
    check_duration_refusals(cases, N_ELEMS(cases));
}

static void test_duration_refuses_missing_unit_or_number(void **state)
{
    static const struct refusal cases[] = {
        {"5", R_DUR_MISSING_UNIT},    {"00", R_DUR_MISSING_UNIT},   {"1.5", R_DUR_MISSING_UNIT},
        {"1h30", R_DUR_MISSING_UNIT}, {"0.0", R_DUR_MISSING_UNIT},  {"+5", R_DUR_MISSING_UNIT},
        {"1.", R_DUR_MISSING_UNIT},   {"s", "missing number in duration"}, {"ms", "missing number in duration"},
        {".s", "missing number in duration"}, {"+", "missing number in duration"},
        {"5s.", "missing number in duration"}, {"1h.m", "missing number in duration"},
        {".", "missing number in duration"},
    };
    (void)state;
    check_duration_refusals(cases, N_ELEMS(cases));
}

static void test_duration_refuses_unknown_unit(void **state)
{
    static const struct refusal cases[] = {
        {"5x", R_DUR_UNKNOWN_UNIT},    {"5S", R_DUR_UNKNOWN_UNIT},   {"5MS", R_DUR_UNKNOWN_UNIT},
        {"5sec", R_DUR_UNKNOWN_UNIT},  {"5d", R_DUR_UNKNOWN_UNIT},   {"5\xc2\xb5", R_DUR_UNKNOWN_UNIT},
        {"1h5y", R_DUR_UNKNOWN_UNIT},  {"5mss", R_DUR_UNKNOWN_UNIT}, {"5H", R_DUR_UNKNOWN_UNIT},
        {"1e3ms", R_DUR_UNKNOWN_UNIT}, {"5\xc3\xa9s", R_DUR_UNKNOWN_UNIT},
    };
    (void)state;
    check_duration_refusals(cases, N_ELEMS(cases));
}

static void test_duration_refuses_stray_characters(void **state)
{
    static const char ws[] = "whitespace in duration (write 5s, not 5 s)";
    static const char sign[] = "sign inside duration (write 1h30m, not 1h+30m)";
    static const char other[] = "unexpected character in duration";
    static const struct refusal cases[] = {
        {" 5s", ws},      {"5s ", ws},       {"5 s", ws},      {"1h 30m", ws},    {"5\ts", ws},
        {"5s\n", ws},     {"1h-5m", sign},   {"1h+5m", sign},  {"++5s", sign},    {"+-5s", sign},
        {"5,5s", other},  {"1_000ms", other}, {"5s,", other},  {"5s;", other},    {"..5s", other},
        {"5s/", other},   {"(5s)", other},
    };
    (void)state;
    check_duration_refusals(cases, N_ELEMS(cases));
}

static void test_duration_refuses_sub_millisecond(void **state)
{
    static const struct refusal cases[] = {
        {"1500us", R_DUR_WHOLE_MS},    {"1ns", R_DUR_WHOLE_MS},       {"0.5ms", R_DUR_WHOLE_MS},
        {"1.0005s", R_DUR_WHOLE_MS},   {"999999ns", R_DUR_WHOLE_MS},  {"1.000001h", R_DUR_WHOLE_MS},
        {"0.5ns", R_DUR_WHOLE_MS},     {"1500000ns", R_DUR_WHOLE_MS}, {"1s1ns", R_DUR_WHOLE_MS},
        {"1.00000000000000000001s", R_DUR_WHOLE_MS},
        {"0.0000000000000000000000001h", R_DUR_WHOLE_MS},
    };
    (void)state;
    check_duration_refusals(cases, N_ELEMS(cases));
}

static void test_duration_format(void **state)
{
    static const struct duration_case cases[] = {
        {"0s", 0},           {"200ms", 200},     {"5s", 5000},         {"90s", 90000},
        {"1m", 60000},       {"1h", 3600000},    {"90m", 5400000},     {"1ms", 1},
        {"1001ms", 1001},    {"25h", 90000000},  {"-5s", -5000},       {"-1ms", -1},
        {"9223372036854ms", INT64_C(9223372036854)},
        {"9223372036854775807ms", INT64_MAX},
        {"-9223372036854775808ms", INT64_MIN},
    };
    char buf[64];
    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        units_format_duration(cases[i].ms, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].in);
    }
}

static void test_duration_format_truncates(void **state)
{
    char buf[8];
    (void)state;
    memset(buf, 'x', sizeof(buf));
    units_format_duration(200, buf, 0);
    assert_int_equal(buf[0], 'x');
    units_format_duration(200, buf, 1);
    assert_string_equal(buf, "");
    units_format_duration(200, buf, 3);
    assert_string_equal(buf, "20");
    units_format_duration(200, buf, 6);
    assert_string_equal(buf, "200ms");
}

/* Marsaglia's xorshift64: a fixed, repeatable spread of values; the masks only make the bits a shift drops
 * explicit, which keeps clang's -fsanitize=integer quiet. */
static uint64_t xorshift64(uint64_t x)
{
    x ^= (x & (UINT64_MAX >> 13)) << 13;
    x ^= x >> 7;
    x ^= (x & (UINT64_MAX >> 17)) << 17;
    return x;
}

static void duration_round_trip(int64_t ms)
{
    char buf[32];
    int64_t back = -1;
    const char *why = NULL;

    units_format_duration(ms, buf, sizeof(buf));
    if (units_parse_duration(buf, &back, &why) != 0)
        fail_msg("%lld -> \"%s\": refused: %s", (long long)ms, buf, why);
    if (back != ms)
        fail_msg("%lld -> \"%s\" -> %lld", (long long)ms, buf, (long long)back);
}

static void test_duration_round_trip(void **state)
{
    static const int64_t units[] = {1, 1000, 60000, 3600000};
    uint64_t x = 88172645463325252u;
    (void)state;
    for (int64_t ms = 0; ms <= 200000; ms += 7)
        duration_round_trip(ms);
    for (size_t u = 0; u < N_ELEMS(units); u++) {
        for (int64_t k = 0; k <= 100; k++)
            duration_round_trip(k * units[u]);
    }
    for (int i = 0; i < 10000; i++) {
        x = xorshift64(x);
        duration_round_trip((int64_t)(x % (UINT64_C(9223372036854) + 1)));
    }
    duration_round_trip(INT64_C(9223372036854));
}

static void test_size_accepts(void **state)
{
    static const struct size_case cases[] = {
        {"0", 0},                       {"512", 512},                  {"100B", 100},
        {"512KiB", 524288},             {"64MiB", UINT64_C(67108864)}, {"10GiB", UINT64_C(10737418240)},
        {"1TiB", UINT64_C(1) << 40},    {"5KB", 5000},                 {"5MB", 5000000},
        {"5GB", UINT64_C(5000000000)},  {"5TB", UINT64_C(5000000000000)}, {"007", 7},
        {"0B", 0},                      {"0TiB", 0},                   {"1.0", 1},
    };
    (void)state;
    check_sizes(cases, N_ELEMS(cases));
}

static void test_size_fractions(void **state)
{
    static const struct size_case cases[] = {
        {"1.5GiB", UINT64_C(1610612736)}, {"0.5KiB", 512},           {"1.25KB", 1250},
        {"0.0009765625KiB", 1},           {"2.5MB", 2500000},       {"0.75TiB", UINT64_C(824633720832)},
        {"1.500000000000000000000000KiB", 1536},                     {"100.0B", 100},
    };
    (void)state;
    check_sizes(cases, N_ELEMS(cases));
}

static void test_size_boundaries(void **state)
{
    static const struct size_case ok[] = {
        {"18446744073709551615", UINT64_MAX},
        {"18446744073709551615B", UINT64_MAX},
        {"16777215TiB", UINT64_MAX - ((UINT64_C(1) << 40) - 1)},
        {"18446744073709551.615KB", UINT64_MAX},
        {"8388608TiB", UINT64_C(1) << 63},
    };
    static const struct refusal bad[] = {
        {"18446744073709551616", "size too large"},
        {"16777216TiB", "size too large"},
        {"99999999999999999999999999", "size too large"},
        {"18446744073709552KB", "size too large"},
        {"18446744073709551.616KB", "size too large"},
    };
    (void)state;
    check_sizes(ok, N_ELEMS(ok));
    check_size_refusals(bad, N_ELEMS(bad));
}

static void test_size_refuses_malformed(void **state)
{
    static const char ws[] = "whitespace in size (write 64MiB, not 64 MiB)";
    static const char start[] = "size must start with a digit";
    static const struct refusal cases[] = {
        {"", "empty size"},         {"-1", "negative size"},     {"-0", "negative size"},
        {"-5MiB", "negative size"}, {"+5", start},               {".5KiB", start},
        {"KiB", start},             {"abc", start},              {"1.", "digit expected after '.' in size"},
        {"1.KiB", "digit expected after '.' in size"},           {" 5", ws},
        {"5 MiB", ws},              {"5MiB ", ws},               {"\t5", ws},
        {"5MiB5", "unexpected character in size"},               {"5.5.5", "unexpected character in size"},
        {"5_000", "unexpected character in size"},               {"5,5MiB", "unexpected character in size"},
        {"5MiB,", "unexpected character in size"},
    };
    (void)state;
    check_size_refusals(cases, N_ELEMS(cases));
}

static void test_size_refuses_unknown_unit(void **state)
{
    static const struct refusal cases[] = {
        {"5mb", R_SIZE_UNKNOWN_UNIT},  {"5kib", R_SIZE_UNKNOWN_UNIT}, {"5Mi", R_SIZE_UNKNOWN_UNIT},
        {"5MiBs", R_SIZE_UNKNOWN_UNIT}, {"5K", R_SIZE_UNKNOWN_UNIT},  {"5k", R_SIZE_UNKNOWN_UNIT},
        {"5EiB", R_SIZE_UNKNOWN_UNIT}, {"5b", R_SIZE_UNKNOWN_UNIT},   {"5\xc2\xb5" "B", R_SIZE_UNKNOWN_UNIT},
        {"5Kb", R_SIZE_UNKNOWN_UNIT},  {"5bytes", R_SIZE_UNKNOWN_UNIT}, {"1e3", R_SIZE_UNKNOWN_UNIT},
    };
    (void)state;
    check_size_refusals(cases, N_ELEMS(cases));
}

/* Exact arithmetic means a fraction of a byte is refused, never rounded; precision is capped at 18 places. */
static void test_size_refuses_inexact(void **state)
{
    static const char whole[] = "size must be a whole number of bytes";
    static const char places[] = "too many decimal places in size";
    static const struct refusal cases[] = {
        {"1.5", whole},        {"0.1KiB", whole},     {"1.0000001KB", whole},     {"0.5B", whole},
        {"0.3GiB", whole},     {"1.0000001MB", whole},
        {"1.0000000000000000001KiB", places},
        {"0.0000000000009094947017729282379150390625TiB", places},
    };
    (void)state;
    check_size_refusals(cases, N_ELEMS(cases));
}

static void test_size_format(void **state)
{
    static const struct size_case cases[] = {
        {"0", 0},                 {"512", 512},            {"1KiB", 1024},
        {"20MiB", 20971520},      {"10GiB", UINT64_C(10737418240)},
        {"1500", 1500},           {"1TiB", UINT64_C(1) << 40},
        {"1536KiB", 1572864},     {"1025", 1025},          {"1024TiB", UINT64_C(1) << 50},
        {"18446744073709551615", UINT64_MAX},
        {"16777215TiB", UINT64_MAX - ((UINT64_C(1) << 40) - 1)},
    };
    char buf[32];
    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        units_format_size(cases[i].bytes, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].in);
    }
    memset(buf, 'x', sizeof(buf));
    units_format_size(1024, buf, 0);
    assert_int_equal(buf[0], 'x');
    units_format_size(20971520, buf, 4);
    assert_string_equal(buf, "20M");
}

static void size_round_trip(uint64_t bytes)
{
    char buf[32];
    uint64_t back = 1;
    const char *why = NULL;

    units_format_size(bytes, buf, sizeof(buf));
    if (units_parse_size(buf, &back, &why) != 0)
        fail_msg("%llu -> \"%s\": refused: %s", (unsigned long long)bytes, buf, why);
    if (back != bytes)
        fail_msg("%llu -> \"%s\" -> %llu", (unsigned long long)bytes, buf, (unsigned long long)back);
}

static void test_size_round_trip(void **state)
{
    uint64_t x = 2463534242u;
    (void)state;
    for (uint64_t b = 0; b <= 100000; b += 3)
        size_round_trip(b);
    for (unsigned shift = 0; shift < 64; shift++) {
        size_round_trip(UINT64_C(1) << shift);
        size_round_trip((UINT64_MAX >> shift) & ~UINT64_C(1023));
        size_round_trip((UINT64_C(1) << shift) - 1);
    }
    for (int i = 0; i < 10000; i++) {
        x = xorshift64(x);
        size_round_trip(x);
        size_round_trip((x & (UINT64_MAX >> 30)) << 30);
    }
    size_round_trip(UINT64_MAX);
}

static void test_int_accepts(void **state)
{
    static const struct int_case cases[] = {
        {"0", 0},   {"42", 42},   {"-7", -7},   {"+7", 7},   {"007", 7},   {"-0", 0},   {"+0", 0},
        {"9223372036854775807", INT64_MAX},     {"-9223372036854775808", INT64_MIN},
        {"-9223372036854775807", -INT64_MAX},   {"0009223372036854775807", INT64_MAX},
    };
    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        int64_t v = 1;
        const char *why = NULL;

        if (units_parse_int(cases[i].in, &v, &why) != 0)
            fail_msg("\"%s\": refused: %s", cases[i].in, why);
        if (v != cases[i].value)
            fail_msg("\"%s\": got %lld, want %lld", cases[i].in, (long long)v, (long long)cases[i].value);
    }
}

static void test_int_refuses(void **state)
{
    static const char junk[] = "not an integer";
    static const char range[] = "integer out of range";
    static const struct refusal cases[] = {
        {"", junk},      {"-", junk},     {"+", junk},      {" 5", junk},     {"5 ", junk},
        {"1e3", junk},   {"0x10", junk},  {"1.0", junk},    {"1.", junk},     {"12abc", junk},
        {"--5", junk},   {"5-", junk},    {"5s", junk},     {".5", junk},     {"99999999999999999999x", junk},
        {"9223372036854775808", range},   {"-9223372036854775809", range},
        {"99999999999999999999999", range}, {"18446744073709551616", range},
    };
    (void)state;
    check_int_refusals(cases, N_ELEMS(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_single_units),
        cmocka_unit_test(test_duration_compound),
        cmocka_unit_test(test_duration_fractions),
        cmocka_unit_test(test_duration_boundaries),
        cmocka_unit_test(test_duration_refuses_empty_and_negative),
        cmocka_unit_test(test_duration_refuses_missing_unit_or_number),
        cmocka_unit_test(test_duration_refuses_unknown_unit),
        cmocka_unit_test(test_duration_refuses_stray_characters),
        cmocka_unit_test(test_duration_refuses_sub_millisecond),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_duration_format_truncates),
        cmocka_unit_test(test_duration_round_trip),
        cmocka_unit_test(test_size_accepts),
        cmocka_unit_test(test_size_fractions),
        cmocka_unit_test(test_size_boundaries),
        cmocka_unit_test(test_size_refuses_malformed),
        cmocka_unit_test(test_size_refuses_unknown_unit),
        cmocka_unit_test(test_size_refuses_inexact),
        cmocka_unit_test(test_size_format),
        cmocka_unit_test(test_size_round_trip),
        cmocka_unit_test(test_int_accepts),
        cmocka_unit_test(test_int_refuses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
