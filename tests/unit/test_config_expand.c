/* test_config_expand.c: ${env:...} expansion in config values: set, unset and empty variables with and
 * without defaults, escapes and literal '$', every refusal with its exact reason, and the err buffer contract. */
/* setenv() and unsetenv() are POSIX, not C11; ask for them here rather than rely on the compiler's flags. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_expand.h"

/* A name no environment sets, so "unset" tests do not depend on the machine. */
#define UNSET "OG_TEST_EXPAND_UNSET"

static int setup_env(void **state)
{
    (void)state;
    if (setenv("OG_TEST_A", "alpha", 1) != 0 || setenv("OG_TEST_B", "beta", 1) != 0
        || setenv("OG_TEST_EMPTY", "", 1) != 0 || setenv("OG_TEST_HOST", "collector.example", 1) != 0
        || setenv("OG_TEST_PORT", "4317", 1) != 0 || setenv("OG_TEST_TRICKY", "${env:OG_TEST_A}$$ $x}", 1) != 0
        || setenv("_og_test_lower9", "lower", 1) != 0)
        return -1;
    return unsetenv(UNSET);
}

static int teardown_env(void **state)
{
    static const char *const names[] = {"OG_TEST_A", "OG_TEST_B", "OG_TEST_EMPTY", "OG_TEST_HOST",
                                         "OG_TEST_PORT", "OG_TEST_TRICKY", "_og_test_lower9", "OG_TEST_LONG"};
    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unsetenv(names[i]);
    return 0;
}

/* Frees before failing, so a failing case reports its strings and ASan does not add a leak to the noise. */
static void expand_ok(const char *in, const char *want)
{
    char err[256] = "";
    char *out = NULL;
    int same;

    if (config_expand(in, &out, err, sizeof(err)) != 0)
        fail_msg("\"%s\": refused: %s", in, err);
    assert_non_null(out);
    same = strcmp(out, want) == 0;
    if (!same)
        print_error("\"%s\": got \"%s\", want \"%s\"\n", in, out, want);
    free(out);
    assert_true(same);
}

static void expand_refused(const char *in, const char *why)
{
    char err[256] = "";
    char sentinel[] = "sentinel";
    char *out = sentinel;

    if (config_expand(in, &out, err, sizeof(err)) == 0) {
        print_error("\"%s\": accepted as \"%s\", want \"%s\"\n", in, out, why);
        free(out);
        fail();
    }
    assert_null(out);
    if (strcmp(err, why) != 0)
        fail_msg("\"%s\": reason \"%s\", want \"%s\"", in, err, why);
}

static void test_plain_text_is_copied(void **state)
{
    static const char in[] = "plain value";
    char err[8];
    char *out = NULL;
    (void)state;
    assert_int_equal(config_expand(in, &out, err, sizeof(err)), 0);
    assert_string_equal(out, in);
    assert_ptr_not_equal(out, in);
    free(out);
    expand_ok("", "");
    expand_ok("a}b{c}", "a}b{c}");
    expand_ok("{env:OG_TEST_A}", "{env:OG_TEST_A}");
    expand_ok("env:OG_TEST_A", "env:OG_TEST_A");
}

static void test_env_form(void **state)
{
    (void)state;
    expand_ok("${env:OG_TEST_A}", "alpha");
    expand_ok("${env:_og_test_lower9}", "lower");
}

static void test_bare_form(void **state)
{
    (void)state;
    expand_ok("${OG_TEST_A}", "alpha");
    expand_ok("${_og_test_lower9}", "lower");
}

static void test_adjacent_text(void **state)
{
    (void)state;
    expand_ok("pre-${env:OG_TEST_A}-post", "pre-alpha-post");
    expand_ok("x${OG_TEST_A}y", "xalphay");
    expand_ok("${env:OG_TEST_A}${OG_TEST_B}", "alphabeta");
    expand_ok("{${OG_TEST_A}}", "{alpha}");
    expand_ok("line1\n${OG_TEST_A}\nline3", "line1\nalpha\nline3");
}

static void test_several_references(void **state)
{
    (void)state;
    expand_ok("http://${env:OG_TEST_HOST}:${env:OG_TEST_PORT}/v1/traces", "http://collector.example:4317/v1/traces");
    expand_ok("${OG_TEST_A} ${OG_TEST_A} ${OG_TEST_A}", "alpha alpha alpha");
    expand_ok("${env:" UNSET ":-a}${env:OG_TEST_B}${env:" UNSET ":-c}", "abetac");
}

static void test_unset_without_default_is_refused(void **state)
{
    (void)state;
    expand_refused("${env:" UNSET "}",
                   "environment variable '" UNSET "' is not set (write ${env:" UNSET ":-default} to give a default)");
    expand_refused("x ${" UNSET "} y",
                   "environment variable '" UNSET "' is not set (write ${env:" UNSET ":-default} to give a default)");
}

static void test_unset_uses_default(void **state)
{
    (void)state;
    expand_ok("${env:" UNSET ":-localhost}", "localhost");
    expand_ok("${env:" UNSET ":-localhost:4317}", "localhost:4317");
    expand_ok("${env:" UNSET ":-a:-b}", "a:-b");
    expand_ok("${env:" UNSET ":-}", "");
    expand_ok("[${env:" UNSET ":- spaced }]", "[ spaced ]");
    expand_ok("${env:" UNSET ":--}", "-");
}

/* Shell ":-" semantics: an empty variable takes the default too, where the Collector would use "". */
static void test_empty_variable(void **state)
{
    (void)state;
    expand_ok("${env:OG_TEST_EMPTY}", "");
    expand_ok("${OG_TEST_EMPTY}", "");
    expand_ok("[${env:OG_TEST_EMPTY}]", "[]");
    expand_ok("${env:OG_TEST_EMPTY:-fallback}", "fallback");
    expand_ok("${env:OG_TEST_EMPTY:-}", "");
}

static void test_set_variable_ignores_default(void **state)
{
    (void)state;
    expand_ok("${env:OG_TEST_A:-fallback}", "alpha");
    expand_ok("${env:OG_TEST_PORT:-0}", "4317");
}

static void test_dollar_escape(void **state)
{
    (void)state;
    expand_ok("$$", "$");
    expand_ok("$$$$", "$$");
    expand_ok("$$$", "$$");
    expand_ok("$${env:OG_TEST_A}", "${env:OG_TEST_A}");
    expand_ok("$$${env:OG_TEST_A}", "$alpha");
    expand_ok("a$$b", "a$b");
    expand_ok("$${", "${");
}

static void test_lone_dollar_is_literal(void **state)
{
    (void)state;
    expand_ok("US$5", "US$5");
    expand_ok("trailing$", "trailing$");
    expand_ok("$", "$");
    expand_ok("$a", "$a");
    expand_ok("$ {x}", "$ {x}");
    expand_ok("$OG_TEST_A", "$OG_TEST_A");
    expand_ok("^[a-z]+$", "^[a-z]+$");
    expand_ok("$(cmd)", "$(cmd)");
}

/* A lone '$' in a default is kept; "$$" there is not unescaped, because defaults are inserted as written. */
static void test_default_is_verbatim(void **state)
{
    (void)state;
    expand_ok("${env:" UNSET ":-a$b}", "a$b");
    expand_ok("${env:" UNSET ":-$$}", "$$");
    expand_ok("${env:" UNSET ":-{x}", "{x");
    expand_ok("${env:" UNSET ":-a}b}", "ab}");
}

static void test_value_is_not_expanded_again(void **state)
{
    (void)state;
    expand_ok("${env:OG_TEST_TRICKY}", "${env:OG_TEST_A}$$ $x}");
    expand_ok("[${OG_TEST_TRICKY}]", "[${env:OG_TEST_A}$$ $x}]");
}

static void test_long_values_grow_the_output(void **state)
{
    char *big = malloc(20001);
    char *want = malloc(60003);
    (void)state;
    assert_non_null(big);
    assert_non_null(want);
    memset(big, 'v', 20000);
    big[20000] = '\0';
    assert_int_equal(setenv("OG_TEST_LONG", big, 1), 0);
    snprintf(want, 60003, "%s-%s-%s", big, big, big);
    expand_ok("${OG_TEST_LONG}-${env:OG_TEST_LONG}-${env:OG_TEST_LONG:-x}", want);
    free(big);
    free(want);
}

static void test_unterminated(void **state)
{
    static const char why[] = "unterminated '${' in value";
    (void)state;
    expand_refused("${", why);
    expand_refused("${env:OG_TEST_A", why);
    expand_refused("abc ${env:OG_TEST_A", why);
    expand_refused("${env:" UNSET ":-x", why);
    expand_refused("${OG_TEST_A} ${", why);
    expand_refused("$$${", why);
}

static void test_nested_reference(void **state)
{
    static const char why[] = "nested '${' in value (expansion is not recursive)";
    (void)state;
    expand_refused("${env:" UNSET ":-${env:OG_TEST_A}}", why);
    expand_refused("${env:OG_TEST_A:-${x}", why);
    expand_refused("${${OG_TEST_A}}", why);
}

static void test_invalid_name(void **state)
{
    (void)state;
    expand_refused("${a-b}", "invalid environment variable name 'a-b'");
    expand_refused("${env:a-b}", "invalid environment variable name 'a-b'");
    expand_refused("${1A}", "invalid environment variable name '1A'");
    expand_refused("${}", "invalid environment variable name ''");
    expand_refused("${env:}", "invalid environment variable name ''");
    expand_refused("${env::-x}", "invalid environment variable name ''");
    expand_refused("${env:A:B}", "invalid environment variable name 'A:B'");
    expand_refused("${ OG_TEST_A }", "invalid environment variable name ' OG_TEST_A '");
    expand_refused("${env: OG_TEST_A}", "invalid environment variable name ' OG_TEST_A'");
    expand_refused("${:x}", "invalid environment variable name ':x'");
    expand_refused("${env:a.b:-x}", "invalid environment variable name 'a.b'");
}

static void test_other_provider(void **state)
{
    (void)state;
    expand_refused("${file:/etc/otelgate/extra.yaml}", "unsupported config provider 'file' (only env is supported)");
    expand_refused("${http://config.example/otelgate.yaml}",
                   "unsupported config provider 'http' (only env is supported)");
    expand_refused("${https:x}", "unsupported config provider 'https' (only env is supported)");
    expand_refused("${yaml:processors::batch}", "unsupported config provider 'yaml' (only env is supported)");
    expand_refused("${ENV:OG_TEST_A}", "unsupported config provider 'ENV' (only env is supported)");
    expand_refused("${s3+x.y-z:k}", "unsupported config provider 's3+x.y-z' (only env is supported)");
}

static void test_default_without_env_prefix(void **state)
{
    (void)state;
    expand_refused("${OG_TEST_A:-x}", "'${OG_TEST_A:-...}' needs the env: prefix (write ${env:OG_TEST_A:-default})");
    expand_refused("${" UNSET ":-}", "'${" UNSET ":-...}' needs the env: prefix (write ${env:" UNSET ":-default})");
}

/* The first problem from the left is the one reported. */
static void test_first_error_wins(void **state)
{
    (void)state;
    expand_refused("${file:x} ${env:" UNSET "}", "unsupported config provider 'file' (only env is supported)");
    expand_refused("${OG_TEST_A} ${a-b} ${", "invalid environment variable name 'a-b'");
}

static void test_reason_is_one_printable_line(void **state)
{
    char in[300];
    char want[128];
    (void)state;
    expand_refused("${a\nb}", "invalid environment variable name 'a?b'");
    expand_refused("${a\x7f\tb}", "invalid environment variable name 'a??b'");
    memset(want, 0, sizeof(want));
    snprintf(in, sizeof(in), "${%0200d}", 0);
    snprintf(want, sizeof(want), "invalid environment variable name '%064d...'", 0);
    expand_refused(in, want);
    /* A cut must not leave half of a UTF-8 sequence: 63 ASCII bytes, then a 2-byte "é" across byte 64. */
    snprintf(in, sizeof(in), "${%063d\xc3\xa9xyz}", 0);
    snprintf(want, sizeof(want), "invalid environment variable name '%063d...'", 0);
    expand_refused(in, want);
}

static void test_err_buffer_contract(void **state)
{
    char err[16];
    char sentinel[] = "sentinel";
    char *out = sentinel;
    (void)state;
    memset(err, 'x', sizeof(err));
    assert_int_equal(config_expand("${", &out, err, sizeof(err)), -1);
    assert_null(out);
    assert_string_equal(err, "unterminated '$");
    memset(err, 'x', sizeof(err));
    assert_int_equal(config_expand("${", &out, err, 1), -1);
    assert_int_equal(err[0], '\0');
    assert_int_equal(err[1], 'x');
    memset(err, 'x', sizeof(err));
    assert_int_equal(config_expand("${", &out, err, 0), -1);
    assert_int_equal(err[0], 'x');
    assert_int_equal(config_expand("${", &out, NULL, 0), -1);
}

static void test_null_input(void **state)
{
    char err[64];
    char sentinel[] = "sentinel";
    char *out = sentinel;
    (void)state;
    assert_int_equal(config_expand(NULL, &out, err, sizeof(err)), -1);
    assert_null(out);
    assert_string_equal(err, "no value to expand");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_is_copied),
        cmocka_unit_test(test_env_form),
        cmocka_unit_test(test_bare_form),
        cmocka_unit_test(test_adjacent_text),
        cmocka_unit_test(test_several_references),
        cmocka_unit_test(test_unset_without_default_is_refused),
        cmocka_unit_test(test_unset_uses_default),
        cmocka_unit_test(test_empty_variable),
        cmocka_unit_test(test_set_variable_ignores_default),
        cmocka_unit_test(test_dollar_escape),
        cmocka_unit_test(test_lone_dollar_is_literal),
        cmocka_unit_test(test_default_is_verbatim),
        cmocka_unit_test(test_value_is_not_expanded_again),
        cmocka_unit_test(test_long_values_grow_the_output),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_nested_reference),
        cmocka_unit_test(test_invalid_name),
        cmocka_unit_test(test_other_provider),
        cmocka_unit_test(test_default_without_env_prefix),
        cmocka_unit_test(test_first_error_wins),
        cmocka_unit_test(test_reason_is_one_printable_line),
        cmocka_unit_test(test_err_buffer_contract),
        cmocka_unit_test(test_null_input),
    };

    return cmocka_run_group_tests(tests, setup_env, teardown_env);
}
