/* ext_spool.c: the spool extension: creates the directory, takes an exclusive
 * lock on it (a second otelgate pointed at the same directory is refused,
 * instead of sharing one LMDB writer role with it), and opens the LMDB spool
 * (spool.c) that exporters with sending_queue.storage keep their batches in. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "component.h"
#include "ext_spool.h"
#include "log.h"
#include "spool.h"

#define SPOOL_LOCK_NAME "otelgate.lock"

struct ext_spool_conf {
    char *directory;
    uint64_t max_size;
    int sync;
    int64_t sync_interval_ms;
};

static const char *const ext_spool_syncs[] = { "always", "interval", NULL };

static const struct og_config_key ext_spool_keys[] = {
    { "directory", KEY_STRING, "/var/lib/otelgate", offsetof(struct ext_spool_conf, directory),
      .doc = "directory holding the spool; created at start if missing" },
    { "max_size", KEY_SIZE, "1GiB", offsetof(struct ext_spool_conf, max_size), 1 << 20, INT64_MAX,
      .doc = "largest the LMDB map grows to; batches past 3/4 of it are refused" },
    { "sync", KEY_ENUM, "always", offsetof(struct ext_spool_conf, sync), .values = ext_spool_syncs,
      .doc = "always: every commit is flushed before clients are answered; interval: every sync_interval" },
    { "sync_interval", KEY_DURATION, "1s", offsetof(struct ext_spool_conf, sync_interval_ms), 10, 3600000,
      .doc = "with sync: interval, how often commits are flushed to the disk" },
    { NULL },
};

static int ext_spool_check(const void *conf, const char *id, const struct cfg_node *key,
                           const struct cfg_node *val, struct config_diag *d)
{
    const struct ext_spool_conf *c = conf;
    int line, col;

    if (c->directory == NULL || c->directory[0] == '\0') {
        config_yaml_pos(key, val, "directory", &line, &col);
        config_diag_error(d, line, col, "extensions.%s.directory: must not be empty", id);
        return -1;
    }
    return 0;
}

extern const struct og_component_type ext_spool_type;

struct ext_spool_state {
    int lock_fd;
    struct spool *spool;
};

/* mkdir -p: creates each missing component of <path> with mode 0750. */
static int ext_spool_mkdirs(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];

    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        snprintf(err, errlen, "directory path too long");
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0750) == -1 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory %s: %s", buf, strerror(errno));
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", path);
        return -1;
    }
    return 0;
}

static int ext_spool_lock(struct ext_spool_state *s, const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX], pid[32], held[32] = "";

    snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_LOCK_NAME);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (s->lock_fd == -1) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == -1) {
        ssize_t n = pread(s->lock_fd, held, sizeof(held) - 1, 0);
        held[n > 0 ? n : 0] = '\0';
        held[strcspn(held, "\n")] = '\0';
        snprintf(err, errlen, "spool directory %s is in use by another otelgate (pid %s)", dir,
                 held[0] ? held : "unknown");
        return -1;
    }
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(s->lock_fd, 0) == -1 || pwrite(s->lock_fd, pid, (size_t)len, 0) != len) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int ext_spool_start(struct component *c, struct gateway *gw, char *err, size_t errlen)
{
    const struct ext_spool_conf *conf = c->conf;
    struct ext_spool_state *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->lock_fd = -1;
    c->state = s;
    if (ext_spool_mkdirs(conf->directory, err, errlen) != 0 || ext_spool_lock(s, conf->directory, err, errlen) != 0)
        return -1;
    struct spool_conf sc = {
        .directory = conf->directory, .max_size = conf->max_size,
        .sync = conf->sync == 0 ? SPOOL_SYNC_ALWAYS : SPOOL_SYNC_INTERVAL, .sync_interval_ms = conf->sync_interval_ms,
    };
    if (spool_open(&s->spool, &sc, err, errlen) != 0)
        return -1;
    log_info(c->id, "ready directory=%s max_size=%llu sync=%s", conf->directory,
             (unsigned long long)conf->max_size, ext_spool_syncs[conf->sync]);
    return 0;
}

/* Every exporter has opened its queues by now: a queue none opened holds data nobody will send. */
static void ext_spool_started(struct component *c)
{
    struct ext_spool_state *s = c->state;
    struct spool_queue *q[SPOOL_MAX_QUEUES];
    struct spool_stats st;
    unsigned n = spool_unserved(s->spool, q, SPOOL_MAX_QUEUES);

    for (unsigned i = 0; i < n; i++) {
        spool_queue_stats(q[i], &st);
        log_warn(c->id, "queue '%s' holds %llu batches (%llu bytes) that no configured exporter sends "
                 "(exporter|tenant: was that exporter renamed or removed?); they stay in the spool until it is "
                 "configured again",
                 spool_queue_name(q[i]), (unsigned long long)st.queued_items, (unsigned long long)st.queued_bytes);
    }
}

static void ext_spool_stop(struct component *c)
{
    struct ext_spool_state *s = c->state;

    if (s == NULL)
        return;
    spool_close(s->spool);     /* before the lock goes: no other otelgate may open it meanwhile */
    if (s->lock_fd != -1)
        close(s->lock_fd);
    free(s);
    c->state = NULL;
}

struct spool *ext_spool_of(const struct component *c)
{
    const struct ext_spool_state *s = c->state;

    return c->type == &ext_spool_type && s != NULL ? s->spool : NULL;
}

const struct og_component_type ext_spool_type = {
    .name = "spool",
    .kind = OG_KIND_EXTENSION,
    .keys = ext_spool_keys,
    .conf_size = sizeof(struct ext_spool_conf),
    .check = ext_spool_check,
    .start = ext_spool_start,
    .started = ext_spool_started,
    .stop = ext_spool_stop,
};
