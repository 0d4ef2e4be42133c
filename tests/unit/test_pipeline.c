/* test_pipeline.c: the fan-out's verdicts. Exporters that answer at once, refuse, fail or hold the request
 * (as the spool does until its commit) in one pipeline and across pipelines: the caller gets either a result
 * at once or OG_PENDING and then exactly one done() with the worst status, never both, never done() twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pipeline.h"

/* A fake exporter: answers <result>; with OG_PENDING it holds the request and keeps it for release(). */
struct fake {
    int result;
    struct og_wait *held[4];
    int nheld;
};

static int fake_consume(struct component *c, struct reactor *r, const struct otlp_payload *p, struct og_wait *w)
{
    struct fake *f = c->state;
    (void)r;
    (void)p;

    if (f->result != OG_PENDING)
        return f->result;
    og_wait_hold(w);
    f->held[f->nheld++] = w;
    return OG_PENDING;
}

static void fake_release(struct fake *f, int status)
{
    for (int i = 0; i < f->nheld; i++)
        og_wait_release(f->held[i], status);
    f->nheld = 0;
}

static const struct og_config_key fake_keys[] = { { .name = NULL } };
static const struct og_component_type fake_type = {
    .name = "fake", .kind = OG_KIND_EXPORTER, .keys = fake_keys, .signals = OG_SIGNAL_ALL, .consume = fake_consume,
};

static int dones, done_status;

static void on_done(struct og_wait *w)
{
    dones++;
    done_status = w->status;
}

struct rig {
    struct fake fakes[4];
    struct component comps[4];
    struct component *ptrs[4];
    struct pipeline pipes[2];
    struct pipeline *pipev[2];
    struct og_wait w;
};

/* Pipeline 0 gets exporters [0, split), pipeline 1 gets [split, n); results in <res>. */
static void rig_init(struct rig *g, const int *res, int n, int split)
{
    *g = (struct rig){ .w = { .done = on_done } };
    for (int i = 0; i < n; i++) {
        g->fakes[i].result = res[i];
        g->comps[i] = (struct component){ .type = &fake_type, .id = "fake", .state = &g->fakes[i] };
        g->ptrs[i] = &g->comps[i];
    }
    g->pipes[0] = (struct pipeline){ .exporters = g->ptrs, .nexporters = (size_t)split };
    g->pipes[1] = (struct pipeline){ .exporters = g->ptrs + split, .nexporters = (size_t)(n - split) };
    g->pipev[0] = &g->pipes[0];
    g->pipev[1] = &g->pipes[1];
    dones = 0;
    done_status = -99;
}

static int rig_consume(struct rig *g, int npipes)
{
    struct otlp_payload p = { .signal = OG_SIGNAL_TRACES, .data = (const uint8_t *)"", .tenant = "" };
    return pipeline_consume(g->pipev, (size_t)npipes, NULL, &p, &g->w);
}

static void test_sync_results(void **state)
{
    struct rig g;
    (void)state;

    rig_init(&g, (int[]){ 0, 0 }, 2, 2);
    assert_int_equal(rig_consume(&g, 1), 0);
    rig_init(&g, (int[]){ 0, OG_RETRY, 0 }, 3, 3);
    assert_int_equal(rig_consume(&g, 1), OG_RETRY);
    rig_init(&g, (int[]){ OG_RETRY, -1 }, 2, 1);
    assert_int_equal(rig_consume(&g, 2), -1);
    assert_int_equal(dones, 0);             /* settled now: no callback */
    assert_int_equal(g.w.pending, 0);
}

static void test_one_pending(void **state)
{
    struct rig g;
    (void)state;

    rig_init(&g, (int[]){ OG_PENDING }, 1, 1);
    assert_int_equal(rig_consume(&g, 1), OG_PENDING);
    assert_int_equal(dones, 0);
    fake_release(&g.fakes[0], 0);
    assert_int_equal(dones, 1);
    assert_int_equal(done_status, 0);
}

/* A synchronous refusal next to a held request: the verdict waits for the holder and keeps the refusal. */
static void test_pending_with_sync_retry(void **state)
{
    struct rig g;
    (void)state;

    rig_init(&g, (int[]){ OG_PENDING, OG_RETRY }, 2, 2);
    assert_int_equal(rig_consume(&g, 1), OG_PENDING);
    fake_release(&g.fakes[0], 0);
    assert_int_equal(dones, 1);
    assert_int_equal(done_status, OG_RETRY);
}

/* Holders across two pipelines, nested fan-outs: done() once, after the last release, with the worst. */
static void test_pending_across_pipelines(void **state)
{
    struct rig g;
    (void)state;

    rig_init(&g, (int[]){ 0, OG_PENDING, OG_PENDING, 0 }, 4, 2);
    assert_int_equal(rig_consume(&g, 2), OG_PENDING);
    fake_release(&g.fakes[2], -1);
    assert_int_equal(dones, 0);
    fake_release(&g.fakes[1], 0);
    assert_int_equal(dones, 1);
    assert_int_equal(done_status, -1);
}

/* A sync-only pipeline after a holding one: its result is merged, not returned as the verdict. */
static void test_sync_pipeline_after_pending(void **state)
{
    struct rig g;
    (void)state;

    rig_init(&g, (int[]){ OG_PENDING, 0, 0 }, 3, 1);
    assert_int_equal(rig_consume(&g, 2), OG_PENDING);
    assert_int_equal(g.w.pending, 1);       /* only the holder: the guards are gone */
    fake_release(&g.fakes[0], OG_RETRY);
    assert_int_equal(dones, 1);
    assert_int_equal(done_status, OG_RETRY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_results),
        cmocka_unit_test(test_one_pending),
        cmocka_unit_test(test_pending_with_sync_retry),
        cmocka_unit_test(test_pending_across_pipelines),
        cmocka_unit_test(test_sync_pipeline_after_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
