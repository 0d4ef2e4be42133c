/* exp_file.c: the Collector's file exporter: OTLP/JSON lines, or protobuf
 * messages each preceded by a 4-byte big-endian length. Workers only append
 * to a bounded in-memory buffer; one writer thread per exporter does the
 * disk I/O (flush_interval), so no worker ever waits on the disk. */
#include "autoconf.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "component.h"
#include "log.h"
#include "otlp_json.h"
#include "util/thread.h"

enum exp_file_format { EXP_FILE_JSON, EXP_FILE_PROTO };

struct exp_file_rotation {
    bool enabled;
    int64_t max_megabytes;
    int64_t max_backups;
};

struct exp_file_conf {
    char *path;
    int format;
    int64_t flush_interval_ms;
    bool append;
    uint64_t max_buffer;
    struct exp_file_rotation rotation;
};

static const char *const exp_file_formats[] = { "json", "proto", NULL };

static const struct og_config_key exp_file_rotation_keys[] = {
    { "max_megabytes", KEY_INT, "100", offsetof(struct exp_file_rotation, max_megabytes), 1, 1000000,
      .doc = "rotate when the file reaches this size" },
    { "max_backups", KEY_INT, "100", offsetof(struct exp_file_rotation, max_backups), 0, 100000,
      .doc = "rotated files kept (path.1 is the newest)" },
    { NULL },
};

static const struct og_config_key exp_file_keys[] = {
    { "path", KEY_STRING, NULL, offsetof(struct exp_file_conf, path), .flags = OG_KEY_REQUIRED,
      .doc = "file written" },
    { "format", KEY_ENUM, "json", offsetof(struct exp_file_conf, format), .values = exp_file_formats,
      .doc = "json: one OTLP/JSON request per line; proto: 4-byte length + protobuf" },
    { "flush_interval", KEY_DURATION, "1s", offsetof(struct exp_file_conf, flush_interval_ms), 1, 3600000,
      .doc = "how often buffered requests are written" },
    { "append", KEY_BOOL, "false", offsetof(struct exp_file_conf, append),
      .doc = "keep the file's content at start instead of truncating it" },
    { "max_buffer", KEY_SIZE, "64MiB", offsetof(struct exp_file_conf, max_buffer), 65536, 1 << 30,
      .doc = "requests waiting for the disk; beyond, clients are told to retry" },
    { "rotation", KEY_SECTION, NULL, offsetof(struct exp_file_conf, rotation), .flags = OG_KEY_PRESENCE,
      .sub = exp_file_rotation_keys, .doc = "rotate by size; off when absent" },
    { NULL },
};

struct exp_file {
    const char *id;
    const struct exp_file_conf *conf;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;                /* guards pending and stopping */
    pthread_cond_t wake;
    struct evbuffer *pending;
    bool stopping;
    int fd;
    uint64_t size;
};

static int exp_file_open(struct exp_file *f, bool truncate, char *err, size_t errlen)
{
    struct stat st;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND | (truncate ? O_TRUNC : 0);

    f->fd = open(f->conf->path, flags, 0640);
    if (f->fd == -1 || fstat(f->fd, &st) == -1) {
        snprintf(err, errlen, "cannot open %s: %s", f->conf->path, strerror(errno));
        return -1;
    }
    f->size = (uint64_t)st.st_size;
    return 0;
}

/* path.N-1 -> path.N, ..., path -> path.1, then a new empty path. */
static void exp_file_rotate(struct exp_file *f)
{
    char from[PATH_MAX], to[PATH_MAX], err[256];
    const char *path = f->conf->path;

    close(f->fd);
    f->fd = -1;
    for (int64_t i = f->conf->rotation.max_backups; i >= 1; i--) {
        if (i == 1)
            snprintf(from, sizeof(from), "%s", path);
        else
            snprintf(from, sizeof(from), "%s.%lld", path, (long long)(i - 1));
        snprintf(to, sizeof(to), "%s.%lld", path, (long long)i);
        rename(from, to);
    }
    if (f->conf->rotation.max_backups == 0)
        unlink(path);
    if (exp_file_open(f, true, err, sizeof(err)) != 0)
        log_error(f->id, "%s", err);
}

static void exp_file_write(struct exp_file *f, struct evbuffer *buf)
{
    while (evbuffer_get_length(buf) > 0) {
        if (f->fd == -1) {
            log_error(f->id, "dropping %zu bytes: file not open", evbuffer_get_length(buf));
            evbuffer_drain(buf, evbuffer_get_length(buf));
            return;
        }
        int n = evbuffer_write(buf, f->fd);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_error(f->id, "write to %s failed, dropping %zu bytes: %s", f->conf->path, evbuffer_get_length(buf),
                      strerror(errno));
            evbuffer_drain(buf, evbuffer_get_length(buf));
            return;
        }
        f->size += (uint64_t)n;
    }
    if (f->conf->rotation.enabled && f->size >= (uint64_t)f->conf->rotation.max_megabytes << 20)
        exp_file_rotate(f);
}

static void *exp_file_main(void *arg)
{
    struct exp_file *f = arg;
    struct evbuffer *batch = evbuffer_new();
    bool stopping = false;

    while (!stopping && batch != NULL) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += f->conf->flush_interval_ms / 1000;
        until.tv_nsec += (f->conf->flush_interval_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&f->lock);
        if (!f->stopping)
            pthread_cond_timedwait(&f->wake, &f->lock, &until);
        stopping = f->stopping;
        evbuffer_add_buffer(batch, f->pending);     /* moves chains, no copy */
        pthread_mutex_unlock(&f->lock);
        exp_file_write(f, batch);
    }
    if (batch != NULL)
        evbuffer_free(batch);
    return NULL;
}

/* Appends one record to the pending buffer. Worker thread. */
static int exp_file_consume(struct component *c, struct reactor *r, const struct otlp_payload *p, struct og_wait *w)
{
    struct exp_file *f = c->state;
    const uint8_t *data = otlp_payload_bytes(p);
    struct evbuffer *rec = data != NULL ? evbuffer_new() : NULL;
    char err[256];
    int rc = 0;

    (void)w;    /* the writer thread syncs later: never holds the request */

    if (rec == NULL)
        return OG_RETRY;
    if (f->conf->format == EXP_FILE_PROTO) {
        unsigned char len[4] = { (unsigned char)(p->len >> 24), (unsigned char)(p->len >> 16),
                                 (unsigned char)(p->len >> 8), (unsigned char)p->len };
        evbuffer_add(rec, len, 4);
        evbuffer_add(rec, data, p->len);
    } else if (otlp_proto_to_json(p->signal, data, p->len, rec, err, sizeof(err)) == 0) {
        evbuffer_add(rec, "\n", 1);
    } else {
        log_error(c->id, "cannot write a request as JSON: %s", err);
        rc = -1;
    }
    if (rc == 0) {
        pthread_mutex_lock(&f->lock);
        size_t pending = evbuffer_get_length(f->pending);
        /* An empty buffer takes any request, so one larger than max_buffer
         * is not refused forever. */
        if (pending > 0 && pending + evbuffer_get_length(rec) > f->conf->max_buffer) {
            rc = OG_RETRY;
        } else {
            evbuffer_add_buffer(f->pending, rec);
            if (evbuffer_get_length(f->pending) > f->conf->max_buffer / 2)
                pthread_cond_signal(&f->wake);     /* write now, not at the next tick */
        }
        pthread_mutex_unlock(&f->lock);
    }
    evbuffer_free(rec);
    return rc;
}

static void exp_file_stop(struct component *c)
{
    struct exp_file *f = c->state;

    if (f == NULL)
        return;
    if (f->thread_started) {
        pthread_mutex_lock(&f->lock);
        f->stopping = true;
        pthread_cond_signal(&f->wake);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
    }
    if (f->fd != -1)
        close(f->fd);
    if (f->pending != NULL)
        evbuffer_free(f->pending);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    free(f);
    c->state = NULL;
}

static int exp_file_start(struct component *c, struct gateway *gw, char *err, size_t errlen)
{
    struct exp_file *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->state = f;
    f->id = c->id;
    f->conf = c->conf;
    f->fd = -1;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->wake, NULL);
    f->pending = evbuffer_new();
    if (f->pending == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (exp_file_open(f, !f->conf->append, err, errlen) != 0)
        return -1;
    int rc = pthread_create(&f->thread, NULL, exp_file_main, f);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start writer thread: %s", strerror(rc));
        return -1;
    }
    f->thread_started = true;
    thread_name(f->thread, "exp/", c->id);
    (void)thread_bulk(f->thread);       /* the workers answer clients; this only has to keep up */
    log_info(c->id, "writing path=%s format=%s", f->conf->path, exp_file_formats[f->conf->format]);
    return 0;
}

const struct og_component_type exp_file_type = {
    .name = "file",
    .kind = OG_KIND_EXPORTER,
    .keys = exp_file_keys,
    .conf_size = sizeof(struct exp_file_conf),
    .signals = OG_SIGNAL_ALL,
    .start = exp_file_start,
    .consume = exp_file_consume,
    .stop = exp_file_stop,
};
