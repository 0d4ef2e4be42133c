/* test_spool.c: the LMDB spool. FIFO order and acks; everything committed is found after a reopen
 * and after a kill -9 at a random moment (every batch reported durable is there); a full queue refuses with
 * OG_RETRY and keeps what it accepted, or drops its oldest and counts them; a newer format is refused; a
 * real full disk (a small tmpfs) refuses without a crash and reopens; max_age drops and counts; the map
 * grows. Also prints the commit throughput with sync: always. */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <lmdb.h>

#include "component.h"
#include "reactor.h"
#include "spool.h"

static struct reactor_pool *pool;
static struct reactor *rx;

/* ---- completions ---- */

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    unsigned ndone;
};

struct ticket {
    struct waiter *w;
    int status;
    bool done;
};

static struct waiter waiter = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };

static void on_done(struct reactor *r, void *arg, int status)
{
    struct ticket *t = arg;

    pthread_mutex_lock(&t->w->m);
    t->status = status;
    t->done = true;
    t->w->ndone++;
    pthread_cond_broadcast(&t->w->c);
    pthread_mutex_unlock(&t->w->m);
}

static void wait_tickets(struct ticket *t, size_t n)
{
    pthread_mutex_lock(&waiter.m);
    for (size_t i = 0; i < n; i++)
        while (!t[i].done)
            pthread_cond_wait(&waiter.c, &waiter.m);
    pthread_mutex_unlock(&waiter.m);
}

/* The cleanup of a chain added by reference: the spool writer frees the evbuffer, and so the bytes. */
static void free_chain(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    free(arg);
}

/* Payload i: "batch <i>" padded with a pattern to <len> bytes. */
static void fill(uint8_t *buf, size_t len, unsigned i)
{
    int n = snprintf((char *)buf, len, "batch %u;", i);
    for (size_t j = (size_t)n; j < len; j++)
        buf[j] = (uint8_t)(i + j);
}

static unsigned payload_index(const struct spool_item *it)
{
    unsigned i = 0;

    assert_true(it->len >= 8);
    assert_int_equal(sscanf((const char *)it->data, "batch %u;", &i), 1);
    return i;
}

/* Puts n batches of <len> bytes numbered from <first>, waits for every completion, returns how many got 0. */
static size_t put_many(struct spool_queue *q, unsigned first, size_t n, size_t len, struct ticket *t)
{
    uint8_t *buf = malloc(len + 32);
    size_t ok = 0;

    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        t[i] = (struct ticket){ .w = &waiter };
        fill(buf, len, first + (unsigned)i);
        assert_int_equal(spool_put(q, OG_SIGNAL_LOGS, 3, 0, buf, len, rx, on_done, &t[i]), 0);
    }
    wait_tickets(t, n);
    for (size_t i = 0; i < n; i++)
        ok += t[i].status == 0;
    free(buf);
    return ok;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- directories ---- */

static char *make_dir(void)
{
    char *d = strdup("/tmp/test_spool.XXXXXX");

    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void remove_dir(char *d)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
    free(d);
}

static struct spool *open_spool(const char *dir, uint64_t max_size)
{
    struct spool_conf conf = { .directory = dir, .max_size = max_size, .sync = SPOOL_SYNC_ALWAYS };
    struct spool *sp = NULL;
    char err[256];

    if (spool_open(&sp, &conf, err, sizeof(err)) != 0)
        fail_msg("spool_open: %s", err);
    return sp;
}

static struct spool_queue *open_queue(struct spool *sp, const char *name, uint64_t max_bytes,
                                      enum spool_when_full wf, int64_t max_age_ms)
{
    struct spool_queue *q = NULL;
    char err[256];

    if (spool_queue_open(sp, name, max_bytes, wf, max_age_ms, &q, err, sizeof(err)) != 0)
        fail_msg("spool_queue_open: %s", err);
    return q;
}

/* Reads the whole queue into idx[] (payload numbers, in order), returns the count. */
static size_t read_all(struct spool *sp, struct spool_queue *q, unsigned *idx, size_t max)
{
    struct spool_reader *rd;
    struct spool_item items[64];
    uint64_t after = 0;
    size_t total = 0, n;
    char err[256];

    assert_int_equal(spool_reader_create(sp, &rd, err, sizeof(err)), 0);
    do {
        assert_int_equal(spool_read(q, after, items, 64, &n, rd), 0);
        for (size_t i = 0; i < n; i++) {
            assert_true(items[i].seq > after);
            after = items[i].seq;
            if (total < max)
                idx[total] = payload_index(&items[i]);
            total++;
        }
        spool_read_end(rd);
    } while (n > 0);
    spool_reader_destroy(rd);
    return total;
}

static void wait_stat(struct spool_queue *q, size_t off, uint64_t want)
{
    struct spool_stats st;

    for (int i = 0; i < 500; i++) {
        spool_queue_stats(q, &st);
        if (*(uint64_t *)((char *)&st + off) == want)
            return;
        usleep(10000);
    }
    fail_msg("counter at offset %zu is %llu, want %llu", off,
             (unsigned long long)*(uint64_t *)((char *)&st + off), (unsigned long long)want);
}

/* ---- tests ---- */

static void test_fifo_ack(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 64 << 20);
    struct spool_queue *q = open_queue(sp, "otlp/t1", 0, SPOOL_REJECT, 0);
    struct ticket t[10];
    struct spool_item items[16];
    struct spool_reader *rd;
    size_t n;
    char err[256];

    assert_int_equal(put_many(q, 0, 10, 100, t), 10);
    assert_int_equal(spool_reader_create(sp, &rd, err, sizeof(err)), 0);
    assert_int_equal(spool_read(q, 0, items, 16, &n, rd), 0);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(payload_index(&items[i]), i);
        assert_int_equal(items[i].signal, OG_SIGNAL_LOGS);
        assert_int_equal(items[i].items, 3);
        assert_int_equal(items[i].attempts, 0);
        assert_int_equal(items[i].len, 100);
        assert_true(items[i].first_enqueue_ms > 0);
        if (i > 0)
            assert_true(items[i].seq > items[i - 1].seq);
    }
    uint64_t s5 = items[5].seq;
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(spool_ack(q, items[i].seq), 0);
    spool_read_end(rd);
    wait_stat(q, offsetof(struct spool_stats, queued_items), 5);
    assert_int_equal(spool_read(q, 0, items, 16, &n, rd), 0);
    assert_int_equal(n, 5);
    assert_int_equal(items[0].seq, s5);
    assert_int_equal(items[0].attempts, 0);
    assert_int_equal(payload_index(&items[0]), 5);
    /* a reader holds one read at a time */
    assert_int_equal(spool_read(q, s5, items + 8, 2, &n, rd), -1);
    spool_read_end(rd);
    assert_int_equal(spool_read(q, s5, items + 8, 2, &n, rd), 0);
    assert_int_equal(n, 2);
    assert_int_equal(payload_index(&items[8]), 6);
    assert_int_equal(payload_index(&items[9]), 7);
    spool_read_end(rd);
    spool_reader_destroy(rd);
    spool_close(sp);
    remove_dir(dir);
}

/* Acks alone wait for a put to share its commit (one sync for both, not one each), but only SPOOL_DELETE_WAIT_MS,
 * and not past spool_close. */
static void test_acks_ride_with_puts(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 64 << 20);
    struct spool_queue *q = open_queue(sp, "acks", 0, SPOOL_REJECT, 0);
    struct ticket t[4];
    struct spool_item items[4];
    struct spool_reader *rd;
    struct spool_stats st;
    unsigned idx[4];
    size_t n;
    char err[256];

    assert_int_equal(put_many(q, 0, 3, 100, t), 3);
    assert_int_equal(spool_reader_create(sp, &rd, err, sizeof(err)), 0);
    assert_int_equal(spool_read(q, 0, items, 4, &n, rd), 0);
    assert_int_equal(n, 3);
    spool_read_end(rd);
    spool_reader_destroy(rd);
    int64_t t0 = now_ms();
    assert_int_equal(spool_ack(q, items[0].seq), 0);
    usleep(SPOOL_DELETE_WAIT_MS * 1000 / 4);   /* had it committed alone, the stats would show it by now */
    spool_queue_stats(q, &st);
    if (now_ms() - t0 < SPOOL_DELETE_WAIT_MS)  /* else this thread slept past the wait: nothing to tell */
        assert_int_equal(st.queued_items, 3);   /* batches */
    assert_int_equal(put_many(q, 3, 1, 100, t), 1);
    spool_queue_stats(q, &st);      /* the ack, then the put: one less, one more */
    assert_int_equal(st.queued_items, 3);
    /* alone, it commits once the wait is over */
    assert_int_equal(spool_ack(q, items[1].seq), 0);
    wait_stat(q, offsetof(struct spool_stats, queued_items), 2);
    /* and spool_close commits what still waits */
    assert_int_equal(spool_ack(q, items[2].seq), 0);
    spool_close(sp);
    sp = open_spool(dir, 64 << 20);
    q = open_queue(sp, "acks", 0, SPOOL_REJECT, 0);
    assert_int_equal(read_all(sp, q, idx, 4), 1);
    assert_int_equal(idx[0], 3);
    spool_close(sp);
    remove_dir(dir);
}

/* Resident KiB of this process's mappings of files whose path ends in <suffix> (the spool's map). */
static long mapped_kib(const char *suffix)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512], perms[8];
    unsigned long lo, hi;
    bool in = false;
    long kib = 0, v;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = strcspn(line, "\n");
        line[n] = '\0';
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3)
            in = n >= strlen(suffix) && strcmp(line + n - strlen(suffix), suffix) == 0;
        else if (in && sscanf(line, "Rss: %ld kB", &v) == 1)
            kib += v;
    }
    fclose(f);
    return kib;
}

/* Batches come out byte for byte, whole or in slices, large ones (own overflow pages) and small ones (shared
 * leaf pages), moved in as an evbuffer's chains (spool_put_buf) or copied in; and reading 48 MiB of them
 * back, then deleting them, leaves almost none of the map resident in this process: batches are read from
 * the file, and the writer unmaps what its transactions read. */
static void test_copy_out_resident(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 256 << 20);
    struct spool_queue *q = open_queue(sp, "otlp/t1", 0, SPOOL_REJECT, 0);
    struct ticket t[64];
    struct spool_item it;
    struct spool_reader *rd;
    size_t n, big = 1 << 20;
    uint8_t *want = malloc(big), *got = malloc(big);
    uint64_t after = 0;
    char err[256];
    (void)state;

    assert_non_null(want);
    assert_non_null(got);
    for (unsigned i = 0; i < 64; i++) {
        size_t len = i % 4 == 3 ? 100 : big;
        uint8_t *buf = malloc(len);
        assert_non_null(buf);
        fill(buf, len, i);
        t[i] = (struct ticket){ .w = &waiter };
        if (i % 2 == 0) {
            /* in three chains, the last a reference, as a batch of moved requests is */
            struct evbuffer *eb = evbuffer_new();
            assert_non_null(eb);
            assert_int_equal(evbuffer_add(eb, buf, len / 3), 0);
            assert_int_equal(evbuffer_add(eb, buf + len / 3, len / 3), 0);
            assert_int_equal(evbuffer_add_reference(eb, buf + 2 * (len / 3), len - 2 * (len / 3), free_chain, buf), 0);
            assert_int_equal(spool_put_buf(q, OG_SIGNAL_TRACES, 1, 0, eb, rx, on_done, &t[i]), 0);
        } else {
            assert_int_equal(spool_put(q, OG_SIGNAL_TRACES, 1, 0, buf, len, rx, on_done, &t[i]), 0);
            free(buf);
        }
    }
    wait_tickets(t, 64);
    assert_int_equal(spool_reader_create(sp, &rd, err, sizeof(err)), 0);
    for (unsigned i = 0; i < 64; i++) {
        assert_int_equal(t[i].status, 0);
        assert_int_equal(spool_read(q, after, &it, 1, &n, rd), 0);
        assert_int_equal(n, 1);
        size_t len = i % 4 == 3 ? 100 : big;
        assert_int_equal(it.len, len);
        fill(want, len, i);
        if (i % 8 < 4) {
            assert_int_equal(spool_item_copy(rd, &it, 0, len, got), 0);
        } else {        /* in slices, as the exporter sends: odd sizes, the last one short */
            for (size_t off = 0, step = 65536 + 7; off < len; off += step)
                assert_int_equal(spool_item_copy(rd, &it, off, len - off < step ? len - off : step, got + off), 0);
        }
        assert_memory_equal(got, want, len);
        assert_int_equal(spool_item_copy(rd, &it, len, 1, got), -1);     /* past the end */
        assert_int_equal(spool_item_copy(rd, &it, 1, len, got), -1);
        assert_int_equal(spool_item_copy(rd, &it, len, 0, got), 0);
        after = it.seq;
        spool_read_end(rd);
        assert_int_equal(spool_ack(q, it.seq), 0);
    }
    wait_stat(q, offsetof(struct spool_stats, queued_items), 0);
    long kib = mapped_kib("/data.mdb");
    print_message("spool map resident after reading and deleting 48 MiB: %ld KiB\n", kib);
    assert_true(kib < 2048);
    spool_reader_destroy(rd);
    spool_close(sp);
    free(want);
    free(got);
    remove_dir(dir);
}

/* A queue opened while the writer runs (a new tenant) starts at seq 1, so a reader from 0 finds its first batch;
 * and spool_queues() lists queues by prefix. */
static void test_queue_opened_late(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 64 << 20);
    struct spool_queue *q1 = open_queue(sp, "otlp|a", 0, SPOOL_REJECT, 0), *found[16];
    struct ticket t[200], t2[1];
    uint8_t buf[100];
    unsigned idx[4];

    fill(buf, sizeof(buf), 0);
    for (unsigned k = 0; k < 10; k++) {
        char name[32];
        /* open each queue while the writer is busy with q1's group: its commit must not reset the new one */
        for (size_t i = 0; i < 20; i++) {
            t[k * 20 + i] = (struct ticket){ .w = &waiter };
            assert_int_equal(spool_put(q1, OG_SIGNAL_LOGS, 3, 0, buf, sizeof(buf), rx, on_done, &t[k * 20 + i]), 0);
        }
        snprintf(name, sizeof(name), "otlp|t%u", k);
        struct spool_queue *q2 = open_queue(sp, name, 0, SPOOL_REJECT, 0);
        assert_int_equal(put_many(q2, 10 + k, 1, 100, t2), 1);
        assert_int_equal(read_all(sp, q2, idx, 4), 1);
        assert_int_equal(idx[0], 10 + k);
    }
    wait_tickets(t, 200);
    assert_int_equal(spool_queues(sp, "otlp|", found, 16), 11);
    assert_int_equal(spool_queues(sp, "other|", found, 16), 0);
    assert_string_equal(spool_queue_name(found[1]), "otlp|t0");
    spool_close(sp);
    remove_dir(dir);
}

/* Runs this program again as "test_spool MODE DIR [ARG]" (a child of its own: LMDB allows one environment
 * per directory per process); *fd reads its stdout. */
static pid_t spawn_child(const char *mode, const char *dir, const char *arg, int *fd)
{
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl("/proc/self/exe", "test_spool", mode, dir, arg, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    *fd = fds[0];
    return pid;
}

/* How long lock-child holds the environment's write lock: as a commit on slow flash might. */
#define LOCK_HOLD_MS 1500

/* test_spool lock-child DIR: takes the write lock of the environment in DIR, says "held", keeps it
 * LOCK_HOLD_MS. */
static int lock_child(const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;

    if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 512) != 0 ||
        mdb_env_open(env, dir, MDB_NOTLS, 0640) != 0 || mdb_txn_begin(env, NULL, 0, &txn) != 0)
        return 1;
    fputs("held\n", stdout);
    fflush(stdout);
    usleep(LOCK_HOLD_MS * 1000);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return 0;
}

/* A new queue (a new tenant's) opens without waiting for the writer: while another process holds the write
 * lock, spool_queue_open returns at once, and the queue's first batch is stored, in a database the writer
 * creates, once the lock is free. */
static void test_open_never_waits(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 64 << 20);
    struct spool_queue *found[4];
    struct ticket t[1];
    unsigned idx[4];
    char line[8] = { 0 };
    int fd, ws;
    pid_t pid = spawn_child("lock-child", dir, NULL, &fd);

    assert_int_equal(read(fd, line, 5), 5);
    assert_string_equal(line, "held\n");
    int64_t t0 = now_ms();
    struct spool_queue *q = open_queue(sp, "otlp|late", 0, SPOOL_REJECT, 0);
    int64_t opened = now_ms() - t0;
    assert_int_equal(put_many(q, 7, 1, 100, t), 1);
    int64_t stored = now_ms() - t0;
    printf("# queue opened in %lld ms, its first batch stored after %lld ms (write lock held %d ms)\n",
           (long long)opened, (long long)stored, LOCK_HOLD_MS);
    assert_true(opened < LOCK_HOLD_MS / 3);
    assert_true(stored >= LOCK_HOLD_MS / 2);   /* the lock was really held: the commit had to wait */
    assert_int_equal(read_all(sp, q, idx, 4), 1);
    assert_int_equal(idx[0], 7);
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    close(fd);
    spool_close(sp);

    sp = open_spool(dir, 64 << 20);
    assert_int_equal(spool_queues(sp, "otlp|late", found, 4), 1);
    assert_int_equal(read_all(sp, found[0], idx, 4), 1);
    spool_close(sp);
    remove_dir(dir);
}

static void test_reopen_finds_all(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 64 << 20);
    struct spool_queue *a = open_queue(sp, "otlp/a", 0, SPOOL_REJECT, 0);
    struct spool_queue *b = open_queue(sp, "otlp/b", 0, SPOOL_REJECT, 0);
    struct ticket t[40];
    unsigned idx[64];
    struct spool_stats st;

    assert_int_equal(put_many(a, 0, 40, 5000, t), 40);
    assert_int_equal(put_many(b, 100, 7, 60000, t), 7);
    spool_close(sp);

    sp = open_spool(dir, 64 << 20);
    a = open_queue(sp, "otlp/a", 0, SPOOL_REJECT, 0);
    b = open_queue(sp, "otlp/b", 0, SPOOL_REJECT, 0);
    spool_queue_stats(a, &st);
    assert_int_equal(st.queued_items, 40);
    assert_int_equal(st.queued_bytes, 40 * 5000);
    assert_int_equal(read_all(sp, a, idx, 64), 40);
    for (unsigned i = 0; i < 40; i++)
        assert_int_equal(idx[i], i);
    assert_int_equal(read_all(sp, b, idx, 64), 7);
    assert_int_equal(idx[6], 106);
    /* new puts continue after the last seq, so FIFO order survives the restart */
    assert_int_equal(put_many(a, 40, 1, 10, t), 1);
    assert_int_equal(read_all(sp, a, idx, 64), 41);
    assert_int_equal(idx[40], 40);
    spool_close(sp);
    remove_dir(dir);
}

static void test_full_reject(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 64 << 20);
    struct spool_queue *q = open_queue(sp, "full", 10 * 1000, SPOOL_REJECT, 0);
    struct ticket t[15];
    unsigned idx[32];
    struct spool_stats st;

    assert_int_equal(put_many(q, 0, 15, 1000, t), 10);
    for (int i = 0; i < 15; i++)
        assert_int_equal(t[i].status, i < 10 ? 0 : OG_RETRY);
    spool_queue_stats(q, &st);
    assert_int_equal(st.refused, 5);
    assert_int_equal(st.dropped_full, 0);
    assert_int_equal(read_all(sp, q, idx, 32), 10);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(idx[i], i);
    /* a batch larger than the queue can ever hold is refused at once */
    uint8_t big[10001] = { 0 };
    assert_int_equal(spool_put(q, OG_SIGNAL_TRACES, 1, 0, big, sizeof(big), rx, on_done, NULL), -1);
    spool_close(sp);
    remove_dir(dir);
}

static void test_full_drop_oldest(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 64 << 20);
    struct spool_queue *q = open_queue(sp, "drop", 10 * 1000, SPOOL_DROP_OLDEST, 0);
    struct ticket t[15];
    unsigned idx[32];
    struct spool_stats st;

    assert_int_equal(put_many(q, 0, 15, 1000, t), 15);
    spool_queue_stats(q, &st);
    assert_int_equal(st.dropped_full, 5);
    assert_int_equal(st.queued_items, 10);
    assert_int_equal(read_all(sp, q, idx, 32), 10);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(idx[i], i + 5);
    spool_close(sp);
    remove_dir(dir);
}

static void test_newer_format_refused(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 16 << 20);
    struct spool_conf conf = { .directory = dir, .max_size = 16 << 20 };
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    uint8_t v99[4] = { 99, 0, 0, 0 };
    MDB_val k = { 6, "format" }, v = { 4, v99 };
    char err[512];

    spool_close(sp);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    sp = NULL;
    assert_int_equal(spool_open(&sp, &conf, err, sizeof(err)), -1);
    assert_null(sp);
    assert_non_null(strstr(err, "written by a newer otelgate (spool format 99; this one reads up to 1)"));
    assert_non_null(strstr(err, dir));
    remove_dir(dir);
}

static void test_max_age(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 16 << 20);
    struct spool_queue *q = open_queue(sp, "aged", 0, SPOOL_REJECT, 50);
    struct ticket t[3];
    unsigned idx[4];

    assert_int_equal(put_many(q, 0, 3, 100, t), 3);
    usleep(120000);
    assert_int_equal(read_all(sp, q, idx, 4), 0);
    wait_stat(q, offsetof(struct spool_stats, dropped_age), 3);
    wait_stat(q, offsetof(struct spool_stats, queued_items), 0);
    spool_close(sp);
    remove_dir(dir);
}

static void test_map_grows(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 256 << 20);
    struct spool_queue *q = open_queue(sp, "grow", 0, SPOOL_REJECT, 0);
    static struct ticket t[100];
    uint64_t before = spool_map_size(sp);

    for (int round = 0; round < 6; round++)
        assert_int_equal(put_many(q, (unsigned)round * 100, 100, 50 << 10, t), 100);
    assert_true(spool_map_size(sp) > before);
    assert_true(spool_map_size(sp) <= 256 << 20);
    spool_close(sp);
    remove_dir(dir);
}

/* A read held open blocks the map's growth (LMDB cannot remap under it): the puts that do not fit meet a
 * real MDB_MAP_FULL and are refused with OG_RETRY, never failed; once the read ends the map grows. */
static void test_map_full_while_reading(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 256 << 20);
    struct spool_queue *q = open_queue(sp, "mapfull", 0, SPOOL_REJECT, 0);
    static struct ticket t[300];
    static unsigned idx[600];
    struct spool_reader *rd;
    struct spool_item it;
    size_t n, accepted = 0;
    char err[256];
    uint64_t before = spool_map_size(sp);

    assert_int_equal(put_many(q, 0, 1, 100, t), 1);
    accepted++;
    assert_int_equal(spool_reader_create(sp, &rd, err, sizeof(err)), 0);
    assert_int_equal(spool_read(q, 0, &it, 1, &n, rd), 0);
    size_t ok = put_many(q, 1, 300, 50 << 10, t);
    for (int i = 0; i < 300; i++)
        assert_true(t[i].status == 0 || t[i].status == OG_RETRY);
    assert_true(ok < 300);
    assert_int_equal(spool_map_size(sp), before);
    assert_int_equal(payload_index(&it), 0);   /* the borrowed bytes are still good */
    spool_read_end(rd);
    spool_reader_destroy(rd);
    accepted += ok;
    assert_int_equal(put_many(q, 1000, 300, 50 << 10, t), 300);
    accepted += 300;
    assert_true(spool_map_size(sp) > before);
    spool_close(sp);
    sp = open_spool(dir, 256 << 20);
    q = open_queue(sp, "mapfull", 0, SPOOL_REJECT, 0);
    assert_int_equal(read_all(sp, q, idx, 600), accepted);
    spool_close(sp);
    remove_dir(dir);
}

/* sync: interval commits without fsync and syncs on a timer and at close; a clean close keeps everything. */
static void test_sync_interval(void **state)
{
    char *dir = make_dir();
    struct spool_conf conf = { .directory = dir, .max_size = 64 << 20, .sync = SPOOL_SYNC_INTERVAL,
                               .sync_interval_ms = 20 };
    struct spool *sp;
    struct spool_queue *q;
    struct ticket t[50];
    unsigned idx[64];
    char err[256];

    assert_int_equal(spool_open(&sp, &conf, err, sizeof(err)), 0);
    q = open_queue(sp, "interval", 0, SPOOL_REJECT, 0);
    assert_int_equal(put_many(q, 0, 50, 3000, t), 50);
    usleep(50000);
    spool_close(sp);
    sp = open_spool(dir, 64 << 20);
    q = open_queue(sp, "interval", 0, SPOOL_REJECT, 0);
    assert_int_equal(read_all(sp, q, idx, 64), 50);
    spool_close(sp);
    remove_dir(dir);
}

/* A real full disk: an 8 MiB tmpfs under a 64 MiB max_size, so ENOSPC comes from the commit, not from the
 * spool's own limits. */
static void test_disk_full(void **state)
{
    char *dir = make_dir();
    static struct ticket t[16];
    static unsigned idx[512];
    static bool ok_idx[640];
    size_t accepted = 0, refused = 0;

    if (mount("tmpfs", dir, "tmpfs", 0, "size=8m") != 0) {
        remove_dir(dir);
        skip();
    }
    struct spool *sp = open_spool(dir, 64 << 20);
    struct spool_queue *q = open_queue(sp, "disk", 0, SPOOL_REJECT, 0);
    for (unsigned round = 0; round < 40 && refused == 0; round++) {
        put_many(q, round * 16, 16, 50 << 10, t);
        for (unsigned i = 0; i < 16; i++) {
            assert_true(t[i].status == 0 || t[i].status == OG_RETRY);
            ok_idx[round * 16 + i] = t[i].status == 0;
            accepted += t[i].status == 0;
            refused += t[i].status == OG_RETRY;
        }
    }
    assert_true(refused > 0);
    assert_true(accepted > 0);
    spool_close(sp);

    /* exactly the accepted batches are there, in order: a refused one left nothing behind */
    sp = open_spool(dir, 64 << 20);
    q = open_queue(sp, "disk", 0, SPOOL_REJECT, 0);
    size_t n = read_all(sp, q, idx, 512);
    assert_int_equal(n, accepted);
    for (size_t i = 0; i < n; i++) {
        assert_true(ok_idx[idx[i]]);
        if (i > 0)
            assert_true(idx[i] > idx[i - 1]);
    }
    /* space returns when the exporter's acks delete batches: puts are accepted again */
    struct spool_reader *rd;
    struct spool_item items[512];
    char err[256];
    assert_int_equal(spool_reader_create(sp, &rd, err, sizeof(err)), 0);
    assert_int_equal(spool_read(q, 0, items, 512, &n, rd), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(spool_ack(q, items[i].seq), 0);
    spool_read_end(rd);
    spool_reader_destroy(rd);
    wait_stat(q, offsetof(struct spool_stats, queued_items), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(put_many(q, 1000, 1, 50 << 10, t), 1);
    assert_int_equal(put_many(q, 1000, 16, 50 << 10, t), 16);
    spool_close(sp);
    assert_int_equal(umount(dir), 0);
    remove_dir(dir);
}

/* ---- kill -9 ---- */

#define CRASH_CYCLES 5
#define CRASH_SPAN   200000u    /* batch numbers per cycle: more than a child puts before it is killed */

/* The child prints each batch number once done() says it is durable. */
static void crash_on_done(struct reactor *r, void *arg, int status)
{
    char line[32];

    if (status == 0) {
        int n = snprintf(line, sizeof(line), "%u\n", (unsigned)(uintptr_t)arg);
        if (write(STDOUT_FILENO, line, (size_t)n) != n)
            _exit(3);
    }
}

/* The child: puts batches numbered from <first> of 1000-20000 bytes, as fast as the writer takes them,
 * until it is killed. */
static int crash_child(const char *dir, const char *first)
{
    struct spool_conf conf = { .directory = dir, .max_size = 1ull << 30, .sync = SPOOL_SYNC_ALWAYS };
    unsigned start = (unsigned)strtoul(first, NULL, 10);
    struct spool *sp;
    struct spool_queue *q;
    char err[256];
    static uint8_t buf[20000];

    if (reactor_pool_create(&pool, 1, err, sizeof(err)) != 0 || reactor_pool_start(pool, err, sizeof(err)) != 0 ||
        spool_open(&sp, &conf, err, sizeof(err)) != 0 ||
        spool_queue_open(sp, "crash", 0, SPOOL_REJECT, 0, &q, err, sizeof(err)) != 0) {
        fprintf(stderr, "child: %s\n", err);
        return 2;
    }
    for (unsigned i = start; i < start + CRASH_SPAN; i++) {
        size_t len = 1000 + (i * 7919u) % 19000;
        fill(buf, len, i);
        while (spool_put(q, OG_SIGNAL_TRACES, 1, 0, buf, len, reactor_pool_get(pool, 0), crash_on_done,
                         (void *)(uintptr_t)i) == OG_RETRY)
            usleep(1000);
    }
    spool_close(sp);
    return 0;
}

/* Checks that every batch in <durable> is in the reopened spool; returns how many the spool holds. */
static size_t crash_check(const char *dir, const bool *durable, int cycle)
{
    const size_t cap = CRASH_CYCLES * CRASH_SPAN;
    unsigned *idx = malloc(cap * sizeof(*idx));
    bool *found = calloc(cap, sizeof(*found));
    struct spool *sp = open_spool(dir, 1ull << 30);
    struct spool_queue *q = open_queue(sp, "crash", 0, SPOOL_REJECT, 0);

    assert_non_null(idx);
    assert_non_null(found);
    size_t n = read_all(sp, q, idx, cap);
    assert_true(n <= cap);
    for (size_t j = 0; j < n; j++)
        if (idx[j] < cap)
            found[idx[j]] = true;
    for (unsigned j = 0; j < cap; j++)
        if (durable[j] && !found[j])
            fail_msg("cycle %d: batch %u was reported durable but is missing", cycle, j);
    spool_close(sp);
    free(idx);
    free(found);
    return n;
}

/* Reads the child's lines until EOF (it is dead by then: what it wrote before the kill is in the pipe). */
static size_t crash_collect(int fd, bool *durable)
{
    FILE *f = fdopen(fd, "r");
    size_t count = 0;
    unsigned i;

    assert_non_null(f);
    while (fscanf(f, "%u", &i) == 1)
        if (i < CRASH_CYCLES * CRASH_SPAN && !durable[i]) {
            durable[i] = true;
            count++;
        }
    fclose(f);
    return count;
}

static void test_kill9(void **state)
{
    bool *durable = calloc(CRASH_CYCLES * CRASH_SPAN, sizeof(*durable));
    char *dir = make_dir();
    size_t total = 0, stored = 0;

    assert_non_null(durable);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int cycle = 0; cycle < CRASH_CYCLES; cycle++) {
        char first[16];
        int fd, ws;
        snprintf(first, sizeof(first), "%u", (unsigned)cycle * CRASH_SPAN);
        pid_t pid = spawn_child("crash-child", dir, first, &fd);
        usleep(100000 + (useconds_t)(rand() % 300000));
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFSIGNALED(ws));   /* killed mid-way, not finished or failed */
        total += crash_collect(fd, durable);
        stored = crash_check(dir, durable, cycle);
    }
    printf("# kill -9: %d cycles, %zu batches reported durable, %zu stored (extra: at-least-once)\n", CRASH_CYCLES,
           total, stored);
    assert_true(total > 0);
    free(durable);
    remove_dir(dir);
}

/* ---- throughput (printed, not asserted) ---- */

static void test_throughput(void **state)
{
    char *dir = make_dir();
    struct spool *sp = open_spool(dir, 1ull << 30);
    struct spool_queue *q = open_queue(sp, "bench", 0, SPOOL_REJECT, 0);
    static struct ticket t[64];
    const size_t len = 50 << 10;
    int rounds = 60;
    struct timespec a, b;

    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int r = 0; r < rounds; r++)
        assert_int_equal(put_many(q, (unsigned)r * 64, 64, len, t), 64);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("# sync: always, %d x 64 batches of 50 KiB: %.0f batches/s, %.1f MB/s\n", rounds, rounds * 64 / s,
           rounds * 64.0 * (double)len / s / 1e6);
    spool_close(sp);
    remove_dir(dir);
}

static int group_setup(void **state)
{
    char err[256];

    if (reactor_pool_create(&pool, 1, err, sizeof(err)) != 0 || reactor_pool_start(pool, err, sizeof(err)) != 0)
        return -1;
    rx = reactor_pool_get(pool, 0);
    return 0;
}

static int group_teardown(void **state)
{
    reactor_pool_stop(pool);
    reactor_pool_destroy(pool);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "crash-child") == 0)
        return crash_child(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "lock-child") == 0)
        return lock_child(argv[2]);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_ack),
        cmocka_unit_test(test_acks_ride_with_puts),
        cmocka_unit_test(test_copy_out_resident),
        cmocka_unit_test(test_queue_opened_late),
        cmocka_unit_test(test_open_never_waits),
        cmocka_unit_test(test_reopen_finds_all),
        cmocka_unit_test(test_full_reject),
        cmocka_unit_test(test_full_drop_oldest),
        cmocka_unit_test(test_newer_format_refused),
        cmocka_unit_test(test_max_age),
        cmocka_unit_test(test_map_grows),
        cmocka_unit_test(test_map_full_while_reading),
        cmocka_unit_test(test_sync_interval),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_kill9),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests_name("spool", tests, group_setup, group_teardown);
}
