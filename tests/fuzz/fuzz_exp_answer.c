/* fuzz_exp_answer.c: what an upstream sends back to the otlp exporters, which is untrusted network input.
 * The first byte chooses the mode; the rest is the upstream's bytes.
 *   bit 0 clear: the answer-body readers of exp_otlp_answer.c on the rest: the partial success, the
 *     google.rpc.Status (and, differentially, the same Status base64-encoded as grpc-status-details-bin: both
 *     must say the same), the raw bytes as a grpc-status-details-bin value, and the message cleaner. Bit 1:
 *     a message is already there; bits 2-3: URL-safe alphabet, padding.
 *   bit 0 set: the rest is the HTTP/1.1 response of a real upstream to a batch sent by the real OTLP/HTTP
 *     transport (exp_otlp_http.c) on an event_base. The harness is the server, on a listening socket on
 *     127.0.0.1: it writes the response in pieces of (bits 1-3) bytes, after the request arrived or (bit 5)
 *     at once, then (bit 4) closes its side, (bit 6) with a reset, or leaves the connection open for expire()
 *     to end. Bit 7: a second batch as soon as the first is back (on the same connection, when kept).
 * Every answer's message is one NUL-terminated line, Retry-After and RetryInfo stay within a day, and each
 * batch comes back exactly once (abort otherwise, and when one does not within 2 s of the server closing). */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "exp_otlp_answer.h"
#include "exp_otlp_conn.h"
#include "exp_otlp_queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DAY_MS 86400000            /* the longest delay an upstream may ask for, as Retry-After is capped */
#define FUZZ_BOUND_S 2                  /* a transport that has not answered 2 s after EOF hangs */

/* ---- checks on one answer ---- */

/* The message is NUL-terminated in its array and has no control characters (it goes to a log line). */
static void fuzz_check_line(const struct exp_otlp_answer *a)
{
    size_t n = strnlen(a->message, sizeof a->message);

    if (n == sizeof a->message)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)a->message[i] < 0x20 || a->message[i] == 0x7f)
            abort();
}

/* What exp_otlp_answer_message() promises beyond that: no space at either end, no two in a row. */
static void fuzz_check_clean(const struct exp_otlp_answer *a)
{
    size_t n = strlen(a->message);

    fuzz_check_line(a);
    if (n > 0 && (a->message[0] == ' ' || a->message[n - 1] == ' '))
        abort();
    if (strstr(a->message, "  ") != NULL)
        abort();
}

static void fuzz_check_retry(const struct exp_otlp_answer *a)
{
    if (a->retry_after_ms < -1 || a->retry_after_ms > FUZZ_DAY_MS)
        abort();
}

/* Structurally valid UTF-8: lead bytes and the number of continuation bytes after them. */
static bool fuzz_utf8(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t more = s[i] < 0x80 ? 0 : (s[i] & 0xe0) == 0xc0 ? 1 : (s[i] & 0xf0) == 0xe0 ? 2 :
                      (s[i] & 0xf8) == 0xf0 ? 3 : 4;
        if (more == 4 || n - i - 1 < more)
            return false;
        for (size_t k = 1; k <= more; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += more + 1;
    }
    return true;
}

/* ---- mode 1: the answer-body readers ---- */

static void fuzz_answer_init(struct exp_otlp_answer *a, const char *message)
{
    memset(a, 0, sizeof *a);
    a->grpc_status = -1;
    a->retry_after_ms = -1;
    snprintf(a->message, sizeof a->message, "%s", message);
}

/* A reader may fill the message, the retry fields (status) and rejected (partial); nothing else. */
static void fuzz_check_reader(const struct exp_otlp_answer *a, const char *preset)
{
    fuzz_check_line(a);
    fuzz_check_retry(a);
    if (a->transport || a->grpc_status != -1 || a->http_status != 0)
        abort();
    if (preset[0] != '\0' && strcmp(a->message, preset) != 0)
        abort();                        /* a message already there is never replaced */
    if (a->retry_after_ms > 0 && !a->retry_info)
        abort();
}

static bool fuzz_same(const struct exp_otlp_answer *a, const struct exp_otlp_answer *b)
{
    return a->transport == b->transport && a->grpc_status == b->grpc_status && a->http_status == b->http_status &&
           a->retry_info == b->retry_info && a->retry_after_ms == b->retry_after_ms && a->rejected == b->rejected &&
           strcmp(a->message, b->message) == 0;
}

/* Base64 of <n> bytes, standard or URL-safe alphabet, with or without padding. Returns the length. */
static size_t fuzz_base64(const uint8_t *p, size_t n, char *out, bool url, bool pad)
{
    const char *digits = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        size_t k = n - i >= 3 ? 4 : n - i + 1;
        for (size_t j = 0; j < 4; j++) {
            if (j < k)
                out[o++] = digits[(v >> (18 - 6 * j)) & 63];
            else if (pad)
                out[o++] = '=';
        }
    }
    return o;
}

static void fuzz_readers(uint8_t sel, const uint8_t *p, size_t n)
{
    static char enc[(2 * EXP_OTLP_ANSWER_DETAILS_MAX / 3 + 1) * 4];
    const char *preset = sel & 2 ? "already said" : "";
    struct exp_otlp_answer a, b;

    fuzz_answer_init(&a, preset);
    exp_otlp_answer_partial(p, n, &a);
    fuzz_check_reader(&a, preset);
    if (a.retry_info || a.retry_after_ms != -1)
        abort();

    fuzz_answer_init(&a, preset);
    exp_otlp_answer_status(p, n, &a);
    fuzz_check_reader(&a, preset);
    if (a.rejected != 0)
        abort();

    /* the same Status as grpc-status-details-bin says the same when it is short enough to be read, else
     * nothing at all */
    if (n <= 2 * EXP_OTLP_ANSWER_DETAILS_MAX) {
        struct exp_otlp_answer none;
        size_t digits = (4 * n + 2) / 3, len = fuzz_base64(p, n, enc, sel & 4, sel & 8);
        fuzz_answer_init(&b, preset);
        fuzz_answer_init(&none, preset);
        exp_otlp_answer_status_bin((const uint8_t *)enc, len, &b);
        if (!fuzz_same(digits / 4 * 3 + 3 <= EXP_OTLP_ANSWER_DETAILS_MAX ? &a : &none, &b))
            abort();
    }

    fuzz_answer_init(&a, preset);
    exp_otlp_answer_status_bin(p, n, &a);
    fuzz_check_reader(&a, preset);

    fuzz_answer_init(&a, "");
    exp_otlp_answer_message(&a, p, n);
    fuzz_check_clean(&a);
    if (fuzz_utf8(p, n) && !fuzz_utf8((const uint8_t *)a.message, strlen(a.message)))
        abort();                        /* a cut never splits a character */
}

/* ---- mode 2: the OTLP/HTTP transport against a response we write ---- */

#define FUZZ_BATCHES 2

struct fuzz_http {
    struct event_base *base;
    void *t;
    int lfd;                            /* the upstream's listening socket */
    int fd[FUZZ_BATCHES + 1];           /* the server ends of the connections the transport opened, -1: none */
    struct exp_otlp_batch *batch[FUZZ_BATCHES];
    unsigned n_batches;                 /* submitted */
    unsigned answers[FUZZ_BATCHES];
    unsigned closed;                    /* on_closed calls */
    bool timed_out;
};

static const uint8_t fuzz_body[] = "fuzz-batch-body";     /* a request's last bytes: the server knows it is whole */
#define FUZZ_BODY_LEN (sizeof fuzz_body - 1)

static void fuzz_check_http(const struct exp_otlp_answer *a)
{
    fuzz_check_line(a);
    fuzz_check_retry(a);
    if (a->grpc_status != -1)
        abort();
    if (a->transport ? a->http_status != 0 || a->message[0] == '\0'
                     : a->http_status < 200 || a->http_status > 999)
        abort();                        /* a failure says why; an answer is a final status */
}

static void fuzz_on_answer(void *arg, struct exp_otlp_batch *b, const struct exp_otlp_answer *a)
{
    struct fuzz_http *x = arg;
    unsigned i = 0;

    while (i < x->n_batches && x->batch[i] != b)
        i++;
    if (i == x->n_batches || ++x->answers[i] > 1)
        abort();                        /* only ours, each exactly once */
    fuzz_check_http(a);
}

static bool fuzz_all_answered(const struct fuzz_http *x)
{
    for (unsigned i = 0; i < x->n_batches; i++)
        if (x->answers[i] == 0)
            return false;
    return true;
}

static void fuzz_on_ready(void *arg)
{
    (void)arg;
}

static void fuzz_on_closed(void *arg, const char *why)
{
    struct fuzz_http *x = arg;
    (void)why;

    x->closed++;
}

static void fuzz_on_server(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;                          /* only wakes the loop: a connection or a request arrived */
}

static void fuzz_on_bound(evutil_socket_t fd, short what, void *arg)
{
    struct fuzz_http *x = arg;
    (void)fd;
    (void)what;

    x->timed_out = true;
}

/* The upstream's listening socket, one for the whole run (an ephemeral port on 127.0.0.1). */
static int fuzz_listener(char *port, size_t len)
{
    static int fd = -1;
    static char name[8];

    if (fd < 0) {
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t slen = sizeof sin;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(fd, 64) != 0 ||
            getsockname(fd, (struct sockaddr *)&sin, &slen) != 0)
            abort();
        snprintf(name, sizeof name, "%u", ntohs(sin.sin_port));
    }
    snprintf(port, len, "%s", name);
    return fd;
}

/* Closes a server end with a reset: no TIME_WAIT per run, and no FIN the transport could mistake for one. */
static void fuzz_reset(int *fd)
{
    struct linger lin = { .l_onoff = 1, .l_linger = 0 };

    if (*fd < 0)
        return;
    setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
    close(*fd);
    *fd = -1;
}

/* Takes a connection waiting on the listener into x->fd[], ending it at once (FIN, or RST with <reset>) when
 * <end>. Returns whether there was one. */
static bool fuzz_take(struct fuzz_http *x, bool end, bool reset)
{
    int fd = accept4(x->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    unsigned i = 0;

    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
            abort();
        return false;
    }
    while (i < FUZZ_BATCHES + 1 && x->fd[i] >= 0)
        i++;
    if (i == FUZZ_BATCHES + 1)
        abort();                        /* more connections than batches */
    x->fd[i] = fd;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));  /* each piece now: no Nagle wait */
    if (end && reset)
        fuzz_reset(&x->fd[i]);
    else if (end)
        shutdown(fd, SHUT_WR);
    return true;
}

/* Reads and drops what the transport wrote. Returns whether a request's body (its last bytes) came. */
static bool fuzz_drain(int fd, uint8_t *tail, size_t *seen)
{
    uint8_t buf[4096];
    ssize_t n;

    while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            memmove(tail, tail + 1, FUZZ_BODY_LEN - 1);
            tail[FUZZ_BODY_LEN - 1] = buf[i];
            (*seen)++;
        }
    }
    return *seen >= FUZZ_BODY_LEN && memcmp(tail, fuzz_body, FUZZ_BODY_LEN) == 0;
}

/* Writes <len> bytes to the transport, less when it went away (it may, once it has its answer). */
static void fuzz_send(struct event_base *base, int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
            continue;
        }
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

/* Batch <i>: traces without a tenant, then logs with one. */
static void fuzz_submit(struct fuzz_http *x, unsigned i)
{
    enum og_signal sig = i == 0 ? OG_SIGNAL_TRACES : OG_SIGNAL_LOGS;
    struct exp_otlp_batch *b = exp_otlp_batch_new(i == 0 ? "" : "fuzz-tenant", FUZZ_BODY_LEN);

    if (b == NULL)
        abort();
    memcpy(b->data, fuzz_body, FUZZ_BODY_LEN);
    b->signal = sig;
    b->items = 1;
    x->batch[i] = b;
    x->n_batches = i + 1;
    /* with one connection allowed and nothing in flight, there is always room */
    if (exp_otlp_http_transport.room(x->t, sig, 1) != 1 || exp_otlp_http_transport.submit(x->t, b, 0) != 0)
        abort();
}

static void fuzz_http(uint8_t sel, const uint8_t *p, size_t n)
{
    static const size_t pieces[] = { SIZE_MAX, 1, 2, 3, 7, 16, 100, 1000 };
    static const struct timeval bound = { FUZZ_BOUND_S, 0 };
    struct fuzz_http x = { .fd = { -1, -1, -1 } };
    char port[8], err[256];
    uint8_t tail[FUZZ_BODY_LEN] = { 0 };
    size_t seen = 0, piece = pieces[(sel >> 1) & 7];
    bool end = sel & 16, early = sel & 32, reset = sel & 64, second = sel & 128;

    signal(SIGPIPE, SIG_IGN);
    x.lfd = fuzz_listener(port, sizeof port);
    while (fuzz_take(&x, true, true))
        ;                               /* nothing of an earlier run may be taken for this one's */
    x.base = event_base_new();
    if (x.base == NULL)
        abort();
    struct exp_otlp_conn_env env = {
        .base = x.base, .id = "fuzz", .max_inflight = 1,
        .on_answer = fuzz_on_answer, .on_ready = fuzz_on_ready, .on_closed = fuzz_on_closed, .arg = &x,
    };
    for (size_t s = 0; s < OG_SIGNAL_COUNT; s++)
        env.targets[s] = (struct exp_otlp_target){ .host = "127.0.0.1", .port = port };
    x.t = exp_otlp_http_transport.open(&env, err, sizeof err);
    struct event *timer = event_new(x.base, -1, 0, fuzz_on_bound, &x);
    struct event *listener = event_new(x.base, x.lfd, EV_READ | EV_PERSIST, fuzz_on_server, NULL);
    if (x.t == NULL || timer == NULL || listener == NULL || event_add(listener, NULL) != 0)
        abort();
    event_add(timer, &bound);
    fuzz_submit(&x, 0);
    while (!fuzz_take(&x, false, false)) {
        if (x.timed_out || x.answers[0] > 0)
            abort();                    /* no connection, or an answer before the upstream said anything */
        event_base_loop(x.base, EVLOOP_ONCE);
    }

    /* the response after the request, or (bit 5) at once, while the request may still be on its way */
    struct event *server = event_new(x.base, x.fd[0], EV_READ | EV_PERSIST, fuzz_on_server, NULL);
    if (server == NULL || event_add(server, NULL) != 0)
        abort();
    while (!early && !fuzz_drain(x.fd[0], tail, &seen)) {
        if (x.timed_out || x.answers[0] > 0)
            abort();
        event_base_loop(x.base, EVLOOP_ONCE);
    }
    event_free(server);

    /* the response in pieces; (bit 7) a second batch as soon as the first is back, which goes on the same
     * connection when the transport kept it: the rest of the input is then its response */
    for (size_t off = 0; off < n; off += piece) {
        fuzz_send(x.base, x.fd[0], p + off, n - off < piece ? n - off : piece);
        event_base_loop(x.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        fuzz_drain(x.fd[0], tail, &seen);
        if (second && x.n_batches == 1 && x.answers[0] > 0)
            fuzz_submit(&x, 1);
    }
    if (second && x.n_batches == 1 && x.answers[0] > 0)
        fuzz_submit(&x, 1);

    if (end) {
        /* (bit 4) the upstream closes, (bit 6) with a reset, this connection and any the transport opens
         * from now on: every batch must come back within the bound */
        if (reset)
            fuzz_reset(&x.fd[0]);
        else
            shutdown(x.fd[0], SHUT_WR);
        event_del(timer);
        x.timed_out = false;
        event_add(timer, &bound);
        for (;;) {
            while (fuzz_take(&x, true, reset))
                ;
            if (fuzz_all_answered(&x) || x.timed_out)
                break;
            event_base_loop(x.base, EVLOOP_ONCE);
        }
        if (!fuzz_all_answered(&x))
            abort();
        for (int i = 0; i < 4; i++)
            event_base_loop(x.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);  /* the end of a connection kept idle */
    } else {
        /* the upstream stays and says no more: a complete response is answered by now, else the deadline */
        for (int i = 0; i < 4 && !fuzz_all_answered(&x); i++) {
            event_base_loop(x.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
            fuzz_take(&x, false, false);
        }
        if (!fuzz_all_answered(&x))
            exp_otlp_http_transport.expire(x.t, 1, 1);
        if (!fuzz_all_answered(&x))
            abort();
    }

    exp_otlp_http_transport.close(x.t, "fuzz: done");
    if (x.closed != 1)
        abort();
    for (unsigned i = 0; i < FUZZ_BATCHES + 1; i++)
        fuzz_reset(&x.fd[i]);
    event_free(listener);
    event_free(timer);
    event_base_free(x.base);
    for (unsigned i = 0; i < x.n_batches; i++)
        free(x.batch[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_http(data[0], data + 1, size - 1);
    else
        fuzz_readers(data[0], data + 1, size - 1);
    return 0;
}
