/* spool.h: the LMDB spool. One environment per gateway, one named database per (exporter, tenant) queue.
 * Workers hand encoded batches to one writer thread, which commits them in groups and tells each worker (on
 * its reactor) when its batch is durable; exporters read with their own read transactions and ask the writer
 * to delete what the upstream acknowledged. Nothing here blocks a worker on disk. */
#ifndef OG_SPOOL_H
#define OG_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "component.h"

/* The on-disk format this build writes and the newest it can read (meta database, key "format"). */
#define SPOOL_FORMAT_VERSION 1u

/* Bytes of the header in front of every stored batch. */
#define SPOOL_HEADER_SIZE 32u

/* Longest queue name. */
#define SPOOL_NAME_MAX_LEN 200u

/* Most named databases (queues) one environment holds, plus the meta database. */
#define SPOOL_MAX_QUEUES 254u

/* How long deletes (spool_ack, expiries) wait for a put to commit with before they commit alone, ms. */
#define SPOOL_DELETE_WAIT_MS 10

struct reactor;
struct spool;               /* one LMDB environment per gateway */
struct spool_queue;         /* one named database per (exporter id, tenant) */
struct spool_reader;        /* one read transaction, reused; one per reading thread or exporter */

enum spool_sync { SPOOL_SYNC_ALWAYS, SPOOL_SYNC_INTERVAL };
enum spool_when_full { SPOOL_REJECT, SPOOL_DROP_OLDEST };

struct spool_conf {
    const char *directory;      /* must exist; holds data.mdb and lock.mdb */
    uint64_t max_size;          /* the map grows up to this; 0: 1 GiB */
    enum spool_sync sync;
    int64_t sync_interval_ms;   /* SPOOL_SYNC_INTERVAL only; <= 0: 1000 */
    uint64_t max_pending;       /* bytes waiting for the writer, all queues; 0: 64 MiB */
};

struct spool_item {             /* a stored batch, as a reader sees it */
    uint64_t seq;               /* FIFO position within its queue (big-endian key) */
    enum og_signal signal;
    uint64_t items;             /* spans / points / records */
    int64_t first_enqueue_ms;   /* CLOCK_REALTIME */
    uint32_t attempts;
    unsigned encoding;          /* what the writer said the bytes are (0: plain OTLP; exporters define others) */
    const uint8_t *data;        /* the batch's OTLP bytes, borrowed from the read transaction: */
    size_t len;                 /* valid until spool_read_end() */
};

struct spool_stats {            /* a snapshot; each field is read atomically on its own */
    uint64_t queued_items, queued_bytes;    /* batches, and their OTLP bytes, committed and not yet deleted */
    uint64_t dropped_full;      /* batches deleted by drop_oldest to make room */
    uint64_t dropped_age;       /* batches deleted because older than max_age */
    uint64_t dropped_full_items, dropped_age_items;     /* the spans / points / records those held */
    uint64_t refused;           /* puts answered OG_RETRY */
    uint64_t failed;            /* puts answered -1 (I/O error) */
};

typedef void (*spool_done_fn)(struct reactor *r, void *arg, int status);

/* Opens (creating) the environment in conf->directory, which must exist. Refuses a directory whose meta
 * database says it was written by a format newer than SPOOL_FORMAT_VERSION, with a message naming both
 * versions; counts what is queued; starts the writer thread. Main thread at start-up; may block.
 * Returns 0 and sets *out; returns -1 with a one-line reason in err, leaving nothing open. */
int spool_open(struct spool **out, const struct spool_conf *conf, char *err, size_t errlen);

/* Stops taking puts, lets the writer commit (and sync) everything already handed to it, runs the
 * completions, joins the writer and closes the environment. Every reader must have been destroyed and every
 * posted completion's reactor must still be running. NULL is fine. */
void spool_close(struct spool *sp);

/* Opens the queue <name> (any string without NUL, up to 200 bytes; the database is named "q/<name>"). Any
 * thread, before or after the writer runs; never blocks: a new queue's database is created by the writer's
 * next transaction, together with the queue's first batches, and reads find the queue empty until then.
 * Opening the same name twice returns the same queue with the new limits. <max_bytes> bounds the OTLP
 * bytes it holds (0: conf max_size); <max_age_ms> <= 0: no age limit.
 * Returns 0 and sets *out; -1 with a reason in err (too many queues, name too long, out of memory). */
int spool_queue_open(struct spool *sp, const char *name, uint64_t max_bytes, enum spool_when_full when_full,
                     int64_t max_age_ms, struct spool_queue **out, char *err, size_t errlen);

/* Asynchronous put. Copies <data> (borrowed) into the writer's input and returns 0; later, once the group
 * commit holding it is done, done(r, arg, status) runs on reactor <r> with status 0 (committed: synced with
 * sync: always, written to the OS with sync: interval), OG_RETRY (the queue is at max_bytes or the
 * environment is full and when_full is reject, or LMDB/the disk is full: nothing was stored), or -1 (I/O
 * error: nothing was stored). With drop_oldest the oldest batches are deleted and counted to make room.
 * Returns OG_RETRY without calling done when the writer's input is at max_pending bytes (backpressure), and
 * -1 without calling done when the batch can never fit (larger than the queue's max_bytes) or after
 * spool_close began. Any thread; never blocks on disk. */
int spool_put(struct spool_queue *q, enum og_signal signal, uint64_t items, unsigned encoding, const uint8_t *data,
              size_t len, struct reactor *r, spool_done_fn done, void *arg);
/* spool_put of all the bytes of <buf>, taken instead of copied: the spool copies them into the map straight
 * from it and evbuffer_free()s it on its writer's thread, whatever is returned. */
int spool_put_buf(struct spool_queue *q, enum og_signal signal, uint64_t items, unsigned encoding,
                  struct evbuffer *buf, struct reactor *r, spool_done_fn done, void *arg);

/* Asynchronous delete of <seq> (acknowledged upstream). Cheap: one small message to the writer; deleting a
 * seq that is gone is fine. Returns 0, or -1 when out of memory or closing (the batch stays: at-least-once). */
int spool_ack(struct spool_queue *q, uint64_t seq);

/* A reader: one LMDB read transaction (MDB_NOTLS) reset between reads, so any thread may use it, one thread
 * at a time. Returns 0, or -1 with a reason in err. */
int spool_reader_create(struct spool *sp, struct spool_reader **out, char *err, size_t errlen);
void spool_reader_destroy(struct spool_reader *rd);    /* must not be mid-read; NULL is fine */

/* Fills items[0..*n) with the oldest batches of <q> whose seq > <after>, up to <max>, skipping (and asking the
 * writer to delete and count) those older than the queue's max_age. The data is borrowed from <rd>'s
 * transaction until spool_read_end(rd), which must follow every spool_read that returned 0, soon: the map
 * cannot grow while a read is open (the writer waits up to 100 ms, then refuses what does not fit).
 * Returns 0 (*n may be 0: nothing newer); -1 on an LMDB error (the read is already ended) or when <rd>'s
 * previous read is still open (that read is left as it is). */
int spool_read(struct spool_queue *q, uint64_t after, struct spool_item *items, size_t max, size_t *n,
               struct spool_reader *rd);
void spool_read_end(struct spool_reader *rd);

/* Copies <n> bytes of an item <rd> read, from byte <off> of its data, to <dst>, before spool_read_end: while
 * the read is open, the writer never reuses the item's pages, even once the item is deleted. Returns 0, or
 * -1 when the range is not in the item or the file could not be read (the item stays where it is). */
int spool_item_copy(struct spool_reader *rd, const struct spool_item *it, size_t off, size_t n, uint8_t *dst);

/* Fills <out> with up to <max> queues whose name starts with <prefix> (those found at open included) and
 * returns how many there are. Main thread. */
unsigned spool_queues(struct spool *sp, const char *prefix, struct spool_queue **out, unsigned max);
const char *spool_queue_name(const struct spool_queue *q);
/* The non-empty queues (at most <max>, in <out>) that no spool_queue_open asked for since start: once every
 * exporter has started, data stranded by an exporter renamed or removed from the configuration. */
unsigned spool_unserved(struct spool *sp, struct spool_queue **out, unsigned max);

/* Counters of <q> (cannot fail), and the environment's map size in bytes. */
void spool_queue_stats(const struct spool_queue *q, struct spool_stats *st);
uint64_t spool_map_size(struct spool *sp);

#endif
