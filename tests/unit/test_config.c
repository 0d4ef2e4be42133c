/* test_config.c: the config loader against every kind of mistake a user can
 * make, with the exact line each one prints. Pipelines are exercised with two
 * test-only component types, since the real receivers and exporters need a
 * running gateway to start but not to load. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "registry.h"

struct test_conf {
    char *endpoint;
    int64_t size;
    bool flag;
};

static const struct og_config_key test_grpc_keys[] = {
    { "endpoint", KEY_ENDPOINT, "localhost:4317", offsetof(struct test_conf, endpoint), .doc = "x" },
    { NULL },
};
static const struct og_config_key test_protocols_keys[] = {
    { "grpc", KEY_SECTION, NULL, 0, .sub = test_grpc_keys, .doc = "x" },
    { NULL },
};
static const struct og_config_key test_recv_keys[] = {
    { "protocols", KEY_SECTION, NULL, 0, .sub = test_protocols_keys, .doc = "x" },
    { "max_size", KEY_SIZE, "4MiB", offsetof(struct test_conf, size), 1, 1 << 30, .doc = "x" },
    { "flag", KEY_BOOL, "false", offsetof(struct test_conf, flag), .doc = "x" },
    { NULL },
};
static const struct og_component_type test_recv_type = {
    .name = "otlp", .kind = OG_KIND_RECEIVER, .keys = test_recv_keys,
    .conf_size = sizeof(struct test_conf), .signals = OG_SIGNAL_ALL,
};
static const struct og_config_key test_exp_keys[] = { { NULL } };
static const struct og_component_type test_exp_type = {
    .name = "debug", .kind = OG_KIND_EXPORTER, .keys = test_exp_keys, .conf_size = 1,
    .signals = OG_SIGNAL_BIT(OG_SIGNAL_TRACES) | OG_SIGNAL_BIT(OG_SIGNAL_LOGS),
};

static const struct og_component_type *test_types[8];

static int test_setup(void **state)
{
    size_t n = 0;

    /* the real extensions; receivers and exporters are the test's own */
    for (size_t i = 0; registry_types[i] != NULL; i++)
        if (registry_types[i]->kind == OG_KIND_EXTENSION)
            test_types[n++] = registry_types[i];
    test_types[n++] = &test_recv_type;
    test_types[n++] = &test_exp_type;
    test_types[n] = NULL;
    return 0;
}

/* Loads <yaml> as "t.yaml"; returns the config (or NULL) and the diagnostics
 * in *diag (caller frees). */
static struct config *test_load(const char *yaml, char **diag)
{
    size_t len = 0;
    FILE *f = open_memstream(diag, &len);
    struct config *cfg = config_load_text("t.yaml", yaml, strlen(yaml), test_types, f);

    fclose(f);
    return cfg;
}

/* Asserts that <yaml> fails to load and that its first diagnostic is <want>. */
static void test_fails_with(const char *yaml, const char *want)
{
    char *diag = NULL;
    struct config *cfg = test_load(yaml, &diag);

    assert_null(cfg);
    char *nl = strchr(diag, '\n');
    if (nl != NULL)
        *nl = '\0';
    assert_string_equal(diag, want);
    free(diag);
}

static void test_unknown_key_suggests(void **state)
{
    test_fails_with("receivers:\n"
                    "  otlp:\n"
                    "    protocols:\n"
                    "      grpc:\n"
                    "        endpiont: localhost:4317\n",
                    "t.yaml:5:9: unknown key 'endpiont' in receivers.otlp.protocols.grpc (did you mean 'endpoint'?)");
}

static void test_unknown_key_no_suggestion(void **state)
{
    test_fails_with("extensions:\n  health_check:\n    zzzzzz: 1\n",
                    "t.yaml:3:5: unknown key 'zzzzzz' in extensions.health_check");
}

static void test_unknown_top_level(void **state)
{
    test_fails_with("recievers: {}\n", "t.yaml:1:1: unknown top-level key 'recievers' (did you mean 'receivers'?)");
}

static void test_wrong_kind(void **state)
{
    test_fails_with("extensions:\n  health_check:\n    endpoint: [a, b]\n",
                    "t.yaml:3:15: extensions.health_check.endpoint: expected a value, found a list");
    test_fails_with("extensions:\n  health_check: 5\n",
                    "t.yaml:2:17: extensions.health_check: expected a mapping, found a scalar");
    test_fails_with("service: [1]\n", "t.yaml:1:10: service: expected a mapping, found a list");
}

static void test_out_of_range(void **state)
{
    test_fails_with("service:\n  workers: 0\n", "t.yaml:2:12: service.workers: '0' is out of range (1 to 256)");
    test_fails_with("service:\n  shutdown_timeout: 2h\n",
                    "t.yaml:2:21: service.shutdown_timeout: '2h' is out of range (0s to 1h)");
    test_fails_with("receivers:\n  otlp:\n    max_size: 2GiB\n",
                    "t.yaml:3:15: receivers.otlp.max_size: '2GiB' is out of range (1 to 1GiB)");
}

static void test_bad_values(void **state)
{
    char *diag = NULL;

    test_fails_with("service:\n  workers: many\n", "t.yaml:2:12: service.workers: 'many': not an integer");
    test_fails_with("receivers:\n  otlp:\n    flag: yes\n",
                    "t.yaml:3:11: receivers.otlp.flag: 'yes': expected true or false");
    test_fails_with("service:\n  telemetry:\n    logs:\n      level: loud\n",
                    "t.yaml:4:14: service.telemetry.logs.level: 'loud' is not one of: debug, info, warn, error");
    test_fails_with("extensions:\n  health_check:\n    endpoint: localhost\n",
                    "t.yaml:3:15: extensions.health_check.endpoint: 'localhost': expected 'host:port' (for example localhost:4317)");
    test_fails_with("extensions:\n  health_check:\n    endpoint: localhost:70000\n",
                    "t.yaml:3:15: extensions.health_check.endpoint: 'localhost:70000': port must be a number from 1 to 65535");
    /* a bad duration names the value; the unit reason comes from units.c */
    struct config *cfg = test_load("service:\n  shutdown_grace: 5x\n", &diag);
    assert_null(cfg);
    assert_non_null(strstr(diag, "t.yaml:2:19: service.shutdown_grace: '5x': "));
    free(diag);
}

static void test_unknown_type(void **state)
{
    test_fails_with("extensions:\n  healthcheck: {}\n",
                    "t.yaml:2:3: unknown extension type 'healthcheck' (did you mean 'health_check'?)");
    test_fails_with("processors:\n  batch: {}\n",
                    "t.yaml:2:3: unknown processor type 'batch' (this build has no processors yet)");
    test_fails_with("exporters:\n  kafka/x: {}\n", "t.yaml:2:3: unknown exporter type 'kafka' (this build has: debug)");
    test_fails_with("receivers:\n  otlp/: {}\n", "t.yaml:2:3: invalid receiver id 'otlp/' (write type or type/name)");
}

static void test_pipeline_undefined(void **state)
{
    test_fails_with("receivers:\n  otlp: {}\nexporters:\n  debug: {}\n"
                    "service:\n  pipelines:\n    traces:\n      receivers: [otlp/x]\n      exporters: [debug]\n",
                    "t.yaml:8:19: pipeline 'traces' names receiver 'otlp/x', which is not defined in receivers");
    test_fails_with("service:\n  extensions: [health_check]\n",
                    "t.yaml:2:16: service.extensions names extension 'health_check', which is not defined in extensions");
}

static void test_pipeline_shape(void **state)
{
    test_fails_with("receivers:\n  otlp:\nexporters:\n  debug:\n"
                    "service:\n  pipelines:\n    spans:\n      receivers: [otlp]\n      exporters: [debug]\n",
                    "t.yaml:7:5: invalid pipeline id 'spans' (write traces, metrics or logs, optionally /name)");
    test_fails_with("receivers:\n  otlp:\nexporters:\n  debug:\n"
                    "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n",
                    "t.yaml:7:5: pipeline 'traces' needs at least one receiver and one exporter");
    test_fails_with("receivers:\n  otlp:\nexporters:\n  debug:\n"
                    "service:\n  pipelines:\n    metrics:\n      receivers: [otlp]\n      exporters: [debug]\n",
                    "t.yaml:7:5: pipeline 'metrics': exporter 'debug' does not handle metrics");
    test_fails_with("receivers:\n  otlp:\nexporters:\n  debug:\n"
                    "service:\n  pipelines:\n    logs:\n      receivers: [otlp, otlp]\n      exporters: [debug]\n",
                    "t.yaml:8:25: pipeline 'logs' lists receiver 'otlp' twice");
    test_fails_with("receivers:\n  otlp:\nexporters:\n  debug:\n"
                    "service:\n  pipelines:\n    logs:\n      receiver: [otlp]\n      exporters: [debug]\n",
                    "t.yaml:8:7: unknown key 'receiver' in service.pipelines.logs (did you mean 'receivers'?)");
}

static void test_pipeline_ok(void **state)
{
    char *diag = NULL;
    struct config *cfg = test_load("receivers:\n  otlp:\n  otlp/b:\n    protocols:\n      grpc:\n"
                                   "        endpoint: \"[::1]:5317\"\nexporters:\n  debug:\n"
                                   "service:\n  pipelines:\n    traces:\n      receivers: [otlp, otlp/b]\n"
                                   "      exporters: [debug]\n    logs/x:\n      receivers: [otlp]\n"
                                   "      exporters: [debug]\n",
                                   &diag);

    assert_non_null(cfg);
    assert_string_equal(diag, "");
    assert_int_equal(cfg->npipelines, 2);
    assert_int_equal(cfg->pipelines[1].signal, OG_SIGNAL_LOGS);
    assert_int_equal(cfg->pipelines[0].nreceivers, 2);
    const struct test_conf *b = cfg->sections[OG_KIND_RECEIVER].v[1].conf;
    assert_string_equal(b->endpoint, "[::1]:5317");
    assert_int_equal(b->size, 4 << 20);
    config_free(cfg);
    free(diag);
}

static void test_unused_warns(void **state)
{
    char *diag = NULL;
    struct config *cfg = test_load("extensions:\n  health_check:\nreceivers:\n  otlp:\n", &diag);

    assert_non_null(cfg);
    assert_string_equal(diag, "t.yaml:4:3: warning: receiver 'otlp' is defined but used by no pipeline\n"
                              "t.yaml:2:3: warning: extension 'health_check' is defined but not listed in "
                              "service.extensions\n");
    config_free(cfg);
    free(diag);
}

static void test_yaml_problems(void **state)
{
    test_fails_with("a: 1\na: 2\n", "t.yaml:2:1: duplicate key 'a'");
    test_fails_with("service:\n\tworkers: 1\n", "t.yaml:2:1: tab character in indentation (YAML indents with spaces only)");
    test_fails_with("", "t.yaml: configuration is empty");
    test_fails_with("# only a comment\n", "t.yaml: configuration is empty");
    test_fails_with("just text\n",
                    "t.yaml:1:1: the top level must be a mapping of sections (receivers, exporters, service, ...)");
    test_fails_with("a: [b\n", "t.yaml:2:1: not valid YAML: did not find expected ',' or ']' while parsing a flow sequence");
    test_fails_with("? [a]\n: 1\n", "t.yaml:1:3: mapping keys must be plain strings");
    test_fails_with("connectors:\n  x: {}\n", "t.yaml:2:3: connectors are not supported by otelgate");
}

static void test_env_expansion(void **state)
{
    char *diag = NULL;

    unsetenv("OG_TEST_UNSET");
    test_fails_with("extensions:\n  spool:\n    directory: ${env:OG_TEST_UNSET}\n",
                    "t.yaml:3:16: environment variable 'OG_TEST_UNSET' is not set (write "
                    "${env:OG_TEST_UNSET:-default} to give a default)");
    setenv("OG_TEST_PORT", "14000", 1);
    struct config *cfg = test_load("extensions:\n  health_check:\n    endpoint: 127.0.0.1:${OG_TEST_PORT}\n"
                                   "  spool:\n    directory: ${env:OG_TEST_UNSET:-/tmp/x}\n"
                                   "service:\n  extensions: [health_check, spool]\n",
                                   &diag);
    assert_non_null(cfg);
    assert_string_equal(diag, "");
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    config_print(cfg, f);
    fclose(f);
    assert_non_null(strstr(out, "    endpoint: 127.0.0.1:14000\n"));
    assert_non_null(strstr(out, "    directory: /tmp/x\n"));
    free(out);
    config_free(cfg);
    free(diag);
}

/* --print-config output must load back to the same output. */
static void test_print_round_trip(void **state)
{
    char *diag = NULL, *first = NULL, *second = NULL;
    size_t len = 0;
    struct config *cfg = test_load("receivers:\n  otlp:\n    max_size: 1536KiB\nexporters:\n  debug:\n"
                                   "extensions:\n  health_check:\n    path: \"/a b$$\"\n"
                                   "service:\n  extensions: [health_check]\n  workers: 3\n  pipelines:\n"
                                   "    traces:\n      receivers: [otlp]\n      exporters: [debug]\n",
                                   &diag);
    assert_non_null(cfg);
    FILE *f = open_memstream(&first, &len);
    config_print(cfg, f);
    fclose(f);
    config_free(cfg);
    free(diag);
    cfg = test_load(first, &diag);
    assert_non_null(cfg);
    f = open_memstream(&second, &len);
    config_print(cfg, f);
    fclose(f);
    assert_string_equal(first, second);
    assert_non_null(strstr(first, "max_size: 1536KiB"));
    assert_non_null(strstr(first, "workers: 3"));
    config_free(cfg);
    free(diag);
    free(first);
    free(second);
}

static void test_too_many_errors(void **state)
{
    char yaml[4096] = "service:\n";
    char *diag = NULL;

    for (int i = 0; i < 30; i++)
        snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml), "  k%d: 1\n", i);
    struct config *cfg = test_load(yaml, &diag);
    assert_null(cfg);
    assert_non_null(strstr(diag, "t.yaml: too many errors, stopping here\n"));
    assert_null(strstr(diag, "'k25'"));
    free(diag);
}

static void test_log_level_parse(void **state)
{
    enum log_level l;

    assert_int_equal(log_level_parse("WARN", &l), 0);
    assert_int_equal(l, LOG_LEVEL_WARN);
    assert_int_equal(log_level_parse("warning", &l), 0);
    assert_int_equal(log_level_parse("verbose", &l), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_key_suggests),
        cmocka_unit_test(test_unknown_key_no_suggestion),
        cmocka_unit_test(test_unknown_top_level),
        cmocka_unit_test(test_wrong_kind),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_pipeline_undefined),
        cmocka_unit_test(test_pipeline_shape),
        cmocka_unit_test(test_pipeline_ok),
        cmocka_unit_test(test_unused_warns),
        cmocka_unit_test(test_yaml_problems),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_print_round_trip),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_log_level_parse),
    };
    return cmocka_run_group_tests(tests, test_setup, NULL);
}
