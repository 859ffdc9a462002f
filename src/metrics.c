/* metrics: see metrics.h. */
#include "metrics.h"
#include "cb_text.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_NAME 128
#define MAX_LABELS 1024
#define MAX_BUCKETS 32

struct sample {
    char *labels;                 /* rendered: k="v",k2="v2" (no braces), "" for none */
    double value;                 /* counter/gauge; histogram: sum */
    unsigned long long count;     /* histogram: observations */
    unsigned long long *buckets;  /* histogram: cumulative counts per bound */
};

struct family {
    char name[MAX_NAME];
    char *help;
    enum cb_metric_type type;
    double bounds[MAX_BUCKETS];
    size_t n_bounds;
    struct sample *samples;
    size_t n, cap;
};

struct cb_metrics {
    struct family *families;
    size_t n, cap;
};

static bool valid_name(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) >= MAX_NAME)
        return false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

int cb_metrics_new(struct cb_metrics **out, struct cb_err *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : cb_err_set(err, CB_ERR_INTERNAL, "metrics", "out of memory");
}

void cb_metrics_free(struct cb_metrics *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++) {
        struct family *f = &m->families[i];
        for (size_t k = 0; k < f->n; k++) {
            free(f->samples[k].labels);
            free(f->samples[k].buckets);
        }
        free(f->samples);
        free(f->help);
    }
    free(m->families);
    free(m);
}

static struct family *find_family(const struct cb_metrics *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->families[i].name, name) == 0)
            return &m->families[i];
    return NULL;
}

int cb_metrics_family(struct cb_metrics *m, const char *name, enum cb_metric_type type,
                      const char *help, const double *buckets, size_t n_buckets,
                      struct cb_err *err)
{
    if (!valid_name(name))
        return cb_err_set(err, CB_ERR_INTERNAL, "metrics", "invalid metric name '%s'", name);
    struct family *f = find_family(m, name);
    if (f != NULL)
        return f->type == type ? 0
                               : cb_err_set(err, CB_ERR_INTERNAL, "metrics",
                                            "metric %s registered twice with different types", name);
    if (n_buckets > MAX_BUCKETS)
        return cb_err_set(err, CB_ERR_INTERNAL, "metrics", "%s: too many buckets", name);
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 32;
        struct family *p = realloc(m->families, ncap * sizeof *p);
        if (p == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, "metrics", "out of memory");
        m->families = p;
        m->cap = ncap;
    }
    f = &m->families[m->n];
    memset(f, 0, sizeof *f);
    cb_strlcpy(f->name, name, sizeof f->name);
    f->type = type;
    f->help = cb_strdup(help ? help : "");
    if (f->help == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "metrics", "out of memory");
    for (size_t i = 0; i < n_buckets; i++)
        f->bounds[i] = buckets[i];
    f->n_bounds = n_buckets;
    m->n++;
    return 0;
}

/* Render the NULL-terminated k, v, ... list into buf: k="v",... with escapes. */
static int render_labels(char *buf, size_t len, va_list ap)
{
    size_t o = 0;
    const char *k;

    buf[0] = '\0';
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        if (!valid_name(k) || v == NULL)
            return -1;
        int n = snprintf(buf + o, len - o, "%s%s=\"", o ? "," : "", k);
        if (n < 0 || (size_t)n >= len - o)
            return -1;
        o += (size_t)n;
        for (const char *p = v; *p; p++) {
            const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
            size_t need = esc ? 2 : 1;
            if (o + need + 2 >= len)
                return -1;
            if (esc) {
                memcpy(buf + o, esc, 2);
            } else {
                buf[o] = *p;
            }
            o += need;
        }
        buf[o++] = '"';
        buf[o] = '\0';
    }
    return 0;
}

static struct sample *find_sample(struct family *f, const char *labels, bool create)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->samples[i].labels, labels) == 0)
            return &f->samples[i];
    if (!create)
        return NULL;
    if (f->n == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 8;
        struct sample *p = realloc(f->samples, ncap * sizeof *p);
        if (p == NULL)
            return NULL;
        f->samples = p;
        f->cap = ncap;
    }
    struct sample *s = &f->samples[f->n];
    memset(s, 0, sizeof *s);
    s->labels = cb_strdup(labels);
    if (s->labels == NULL)
        return NULL;
    if (f->type == CB_METRIC_HISTOGRAM) {
        s->buckets = calloc(f->n_bounds ? f->n_bounds : 1, sizeof *s->buckets);
        if (s->buckets == NULL) {
            free(s->labels);
            return NULL;
        }
    }
    f->n++;
    return s;
}

enum op { OP_SET, OP_ADD, OP_OBSERVE };

static int update(struct cb_metrics *m, const char *name, enum op op, double value, va_list ap)
{
    char labels[MAX_LABELS];
    struct family *f = find_family(m, name);

    if (f == NULL || render_labels(labels, sizeof labels, ap) != 0)
        return -1;
    if ((op == OP_OBSERVE) != (f->type == CB_METRIC_HISTOGRAM))
        return -1;
    if (op == OP_ADD && f->type == CB_METRIC_COUNTER && value < 0)
        return -1; /* counters only go up */
    struct sample *s = find_sample(f, labels, true);
    if (s == NULL)
        return -1;
    switch (op) {
    case OP_SET: s->value = value; break;
    case OP_ADD: s->value += value; break;
    case OP_OBSERVE:
        s->value += value;
        s->count++;
        for (size_t i = 0; i < f->n_bounds; i++)
            if (value <= f->bounds[i])
                s->buckets[i]++;
        break;
    }
    return 0;
}

int cb_metrics_set(struct cb_metrics *m, const char *name, double value, ...)
{
    va_list ap;
    va_start(ap, value);
    int rc = update(m, name, OP_SET, value, ap);
    va_end(ap);
    return rc;
}

int cb_metrics_add(struct cb_metrics *m, const char *name, double delta, ...)
{
    va_list ap;
    va_start(ap, delta);
    int rc = update(m, name, OP_ADD, delta, ap);
    va_end(ap);
    return rc;
}

int cb_metrics_observe(struct cb_metrics *m, const char *name, double value, ...)
{
    va_list ap;
    va_start(ap, value);
    int rc = update(m, name, OP_OBSERVE, value, ap);
    va_end(ap);
    return rc;
}

void cb_metrics_clear(struct cb_metrics *m, const char *name)
{
    struct family *f = find_family(m, name);
    if (f == NULL)
        return;
    for (size_t k = 0; k < f->n; k++) {
        free(f->samples[k].labels);
        free(f->samples[k].buckets);
    }
    f->n = 0;
}

/* A growable output buffer for rendering. */
struct outbuf {
    char *data;
    size_t len, cap;
    bool oom;
};

static void out_printf(struct outbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct outbuf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->data != NULL && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 4096;
        while (ncap < b->len + (size_t)n + 1)
            ncap *= 2;
        char *p = realloc(b->data, ncap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->data = p;
        b->cap = ncap;
    }
}

static void out_value(struct outbuf *b, double v)
{
    if (isnan(v))
        out_printf(b, "NaN");
    else if (isinf(v))
        out_printf(b, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(long long)v && fabs(v) < 1e15)
        out_printf(b, "%lld", (long long)v);
    else {
        /* The shortest text that reads back as the same double. */
        char tmp[64];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
        out_printf(b, "%s", tmp);
    }
}

static const char *type_word(enum cb_metric_type t)
{
    return t == CB_METRIC_COUNTER ? "counter" : t == CB_METRIC_GAUGE ? "gauge" : "histogram";
}

int cb_metrics_render(const struct cb_metrics *m, char **out, size_t *len, struct cb_err *err)
{
    struct outbuf b = { 0 };

    for (size_t i = 0; i < m->n; i++) {
        const struct family *f = &m->families[i];
        out_printf(&b, "# HELP %s ", f->name);
        for (const char *p = f->help; *p; p++) /* HELP escapes \ and newline */
            out_printf(&b, "%s", *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : (char[]){ *p, 0 });
        out_printf(&b, "\n# TYPE %s %s\n", f->name, type_word(f->type));
        for (size_t k = 0; k < f->n; k++) {
            const struct sample *s = &f->samples[k];
            const char *sep = s->labels[0] ? "," : "";
            if (f->type != CB_METRIC_HISTOGRAM) {
                if (s->labels[0])
                    out_printf(&b, "%s{%s} ", f->name, s->labels);
                else
                    out_printf(&b, "%s ", f->name);
                out_value(&b, s->value);
                out_printf(&b, "\n");
                continue;
            }
            for (size_t q = 0; q < f->n_bounds; q++) {
                out_printf(&b, "%s_bucket{%s%sle=\"", f->name, s->labels, sep);
                out_value(&b, f->bounds[q]);
                out_printf(&b, "\"} %llu\n", s->buckets[q]);
            }
            out_printf(&b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", f->name, s->labels, sep, s->count);
            out_printf(&b, "%s_sum%s%s%s ", f->name, s->labels[0] ? "{" : "", s->labels,
                       s->labels[0] ? "}" : "");
            out_value(&b, s->value);
            out_printf(&b, "\n%s_count%s%s%s %llu\n", f->name, s->labels[0] ? "{" : "", s->labels,
                       s->labels[0] ? "}" : "", s->count);
        }
    }
    if (b.oom || (b.data == NULL && (out_printf(&b, "%s", ""), b.oom))) {
        free(b.data);
        return cb_err_set(err, CB_ERR_INTERNAL, "metrics", "out of memory");
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

int cb_metrics_write_textfile(const struct cb_metrics *m, const char *path, struct cb_err *err)
{
    char *text;
    size_t len;
    char tmp[4096];

    if (cb_metrics_render(m, &text, &len, err) != 0)
        return -1;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        free(text);
        return cb_err_set(err, CB_ERR_INVALID, path, "metrics textfile path too long");
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        free(text);
        return cb_err_errno(err, CB_ERR_IO, errno, tmp, "cannot create metrics textfile");
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            free(text);
            return cb_err_errno(err, CB_ERR_IO, e, tmp, "cannot write metrics textfile");
        }
        off += (size_t)w;
    }
    free(text);
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cb_err_errno(err, CB_ERR_IO, e, path, "cannot install metrics textfile");
    }
    return 0;
}

/* ---- HTTP server --------------------------------------------------------- */

#define REQUEST_MAX 8192
#define IDLE_TIMEOUT_MS 10000

struct cb_metrics_server {
    uv_tcp_t tcp;
    const struct cb_metrics *metrics;
    int port;
    bool stopping;
};

struct client {
    uv_tcp_t tcp;
    uv_timer_t timer;
    const struct cb_metrics *metrics; /* outlives every client: owned by the daemon */
    char req[REQUEST_MAX];
    size_t len;
    bool answered;
    int closing; /* handles still to close */
    uv_write_t write;
    char *response;
};

static void client_handle_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    if (--c->closing == 0) {
        free(c->response);
        free(c);
    }
}

static void client_close(struct client *c)
{
    if (c->closing)
        return;
    c->closing = 2;
    uv_close((uv_handle_t *)&c->tcp, client_handle_closed);
    uv_close((uv_handle_t *)&c->timer, client_handle_closed);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    client_close(w->data);
}

static void respond(struct client *c, int code, const char *reason, const char *ctype,
                    const char *body, size_t body_len)
{
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n", code, reason, ctype, body_len);
    c->answered = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->response = malloc((size_t)hl + body_len);
    if (c->response == NULL) {
        client_close(c);
        return;
    }
    memcpy(c->response, head, (size_t)hl);
    memcpy(c->response + hl, body, body_len);
    uv_buf_t buf = uv_buf_init(c->response, (unsigned)((size_t)hl + body_len));
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0)
        client_close(c);
}

static void handle_request(struct client *c)
{
    /* Only the request line matters: "GET /metrics HTTP/1.x". */
    char method[8] = "", path[256] = "";
    if (sscanf(c->req, "%7s %255s", method, path) != 2) {
        static const char msg[] = "bad request\n";
        respond(c, 400, "Bad Request", "text/plain", msg, sizeof msg - 1);
        return;
    }
    if (strcmp(method, "GET") != 0) {
        static const char msg[] = "only GET\n";
        respond(c, 405, "Method Not Allowed", "text/plain", msg, sizeof msg - 1);
        return;
    }
    if (strcmp(path, "/metrics") != 0 && strcmp(path, "/") != 0) {
        static const char msg[] = "not found: try /metrics\n";
        respond(c, 404, "Not Found", "text/plain", msg, sizeof msg - 1);
        return;
    }
    char *text;
    size_t len;
    struct cb_err err = CB_ERR_INIT;
    if (cb_metrics_render(c->metrics, &text, &len, &err) != 0) {
        static const char msg[] = "internal error\n";
        respond(c, 500, "Internal Server Error", "text/plain", msg, sizeof msg - 1);
        return;
    }
    respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct client *c = h->data;
    (void)suggested;
    size_t room = sizeof c->req - 1 - c->len;
    *buf = uv_buf_init(c->req + c->len, (unsigned)room);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct client *c = s->data;
    (void)buf;
    if (n < 0) {
        client_close(c);
        return;
    }
    c->len += (size_t)n;
    c->req[c->len] = '\0';
    if (strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL) {
        handle_request(c);
    } else if (c->len >= sizeof c->req - 1) {
        static const char msg[] = "request too large\n";
        respond(c, 431, "Request Header Fields Too Large", "text/plain", msg, sizeof msg - 1);
    }
}

static void on_idle(uv_timer_t *t)
{
    client_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct cb_metrics_server *srv = server->data;
    if (status != 0 || srv->stopping)
        return;
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->metrics = srv->metrics;
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        client_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_idle, IDLE_TIMEOUT_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_server_closed(uv_handle_t *h)
{
    free(h->data);
}

/* "host:port" or "[v6]:port" into a sockaddr. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, struct cb_err *err)
{
    char host[128];
    const char *colon;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof host)
            return cb_err_set(err, CB_ERR_INVALID, "metrics.listen", "bad address '%s'", listen);
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL || (size_t)(colon - listen) >= sizeof host)
            return cb_err_set(err, CB_ERR_INVALID, "metrics.listen",
                              "'%s' is not host:port", listen);
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535)
        return cb_err_set(err, CB_ERR_INVALID, "metrics.listen", "bad port in '%s'", listen);
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) != 0 &&
        uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) != 0)
        return cb_err_set(err, CB_ERR_INVALID, "metrics.listen",
                          "'%s' is not a numeric IPv4 or IPv6 address", host);
    return 0;
}

int cb_metrics_server_start(struct cb_metrics_server **out, uv_loop_t *loop,
                            const struct cb_metrics *m, const char *listen, struct cb_err *err)
{
    struct sockaddr_storage ss;
    *out = NULL;
    if (parse_listen(listen, &ss, err) != 0)
        return -1;
    struct cb_metrics_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "metrics", "out of memory");
    s->metrics = m;
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    int rc = uv_tcp_bind(&s->tcp, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->tcp, 16, on_connection);
    if (rc != 0) {
        cb_err_set(err, CB_ERR_IO, "metrics.listen", "cannot listen on %s: %s", listen,
                   uv_strerror(rc));
        s->stopping = true;
        uv_close((uv_handle_t *)&s->tcp, on_server_closed);
        return -1;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&bound, &blen);
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    *out = s;
    return 0;
}

int cb_metrics_server_port(const struct cb_metrics_server *s)
{
    return s->port;
}

void cb_metrics_server_stop(struct cb_metrics_server *s)
{
    if (s == NULL)
        return;
    s->stopping = true;
    /* Clients in flight finish on their own: each closes itself and never
     * touches the server after it was accepted. */
    uv_close((uv_handle_t *)&s->tcp, on_server_closed);
}
