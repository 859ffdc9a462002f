/* cb_http: see cb_http.h. A thin, bounded layer over one libcurl easy handle. */
#include "cb_http.h"
#include "cb_driver.h"
#include "cb_text.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_CONNECT_MS 10000u
#define DEFAULT_TIMEOUT_MS 60000u
#define DEFAULT_MAX_RESPONSE ((size_t)32 << 20)
#define MAX_HEADER_BYTES ((size_t)256 << 10)

struct cb_http {
    CURL *curl;
};

/* A growable byte buffer with a hard cap; `overflow` records that the cap was hit. */
struct capped_buf {
    char *data;
    size_t len, cap, limit;
    int overflow;
};

/* One transfer in flight: the easy handle it runs on and what it collects. */
struct xfer {
    CURL *curl;
    struct curl_slist *hdrs;
    struct capped_buf body, head;
    size_t index; /* perform_many: the request's position; XFER_IDLE when unused */
    bool carries_deadline; /* perform_many: its timeout is what is left of the call's */
    char errbuf[CURL_ERROR_SIZE];
};

#define XFER_IDLE ((size_t)-1)

static int buf_append(struct capped_buf *b, const char *src, size_t n)
{
    if (n > b->limit - b->len) {
        b->overflow = 1;
        return -1;
    }
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *p = realloc(b->data, ncap);
        if (p == NULL)
            return -1;
        b->data = p;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    size_t n = size * nmemb;
    return buf_append(userdata, ptr, n) == 0 ? n : 0;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct capped_buf *b = userdata;
    size_t n = size * nmemb;

    /* A new status line starts a new header block (after 100-continue or a
     * proxy's response): keep only the final response's headers. */
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
        b->len = 0;
    return buf_append(b, ptr, n) == 0 ? n : 0;
}

int cb_http_new(struct cb_http **out, struct cb_err *err)
{
    *out = NULL;
    struct cb_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "http", "out of memory");
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        free(h);
        return cb_err_set(err, CB_ERR_INTERNAL, "http", "curl_easy_init failed");
    }
    *out = h;
    return 0;
}

void cb_http_free(struct cb_http *h)
{
    if (h == NULL)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

void cb_http_response_free(struct cb_http_response *resp)
{
    if (resp == NULL)
        return;
    free(resp->body);
    free(resp->headers);
    memset(resp, 0, sizeof *resp);
}

static enum cb_errcode classify_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return CB_ERR_TIMEOUT;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_PEER_FAILED_VERIFICATION:
        return CB_ERR_PERMANENT;
    case CURLE_OUT_OF_MEMORY:
        return CB_ERR_INTERNAL;
    default:
        return CB_ERR_TRANSIENT;
    }
}

/* Drop what a transfer holds and leave no pointers to it in its handle. */
static void xfer_release(struct xfer *x)
{
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    free(x->body.data);
    free(x->head.data);
    memset(&x->body, 0, sizeof x->body);
    memset(&x->head, 0, sizeof x->head);
    if (x->curl != NULL) {
        curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, NULL);
        curl_easy_setopt(x->curl, CURLOPT_HEADERDATA, NULL);
        curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(x->curl, CURLOPT_ERRORBUFFER, NULL);
    }
}

/* Configure x->curl for one request. The transfer must not move in memory
 * until xfer_release (the handle points at its buffers). */
static int xfer_setup(struct xfer *x, const char *origin, const struct cb_http_request *req,
                      struct cb_err *err)
{
    if (req->method == NULL || req->url == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "HTTP request without method or URL");
    memset(&x->body, 0, sizeof x->body);
    memset(&x->head, 0, sizeof x->head);
    x->hdrs = NULL;
    x->body.limit = req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE;
    x->head.limit = MAX_HEADER_BYTES;

    CURL *c = x->curl;
    curl_easy_reset(c);
    x->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    unsigned connect_ms = req->connect_timeout_ms ? req->connect_timeout_ms : DEFAULT_CONNECT_MS;
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     (long)(req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x->head);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "cloudburst/" PACKAGE_VERSION);
    /* curl would add "Expect: 100-continue" to larger POSTs: one wasted round trip. */
    x->hdrs = curl_slist_append(NULL, "Expect:");
    if (x->hdrs == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    for (const char *const *p = req->headers; p != NULL && *p != NULL; p++) {
        struct curl_slist *n = curl_slist_append(x->hdrs, *p);
        if (n == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
        x->hdrs = n;
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hdrs);

    /* libcurl transparently re-sends a request once when a reused connection
     * turns out to be dead, POST included; for a boot that can mean two VMs.
     * Non-idempotent methods therefore always get a fresh connection, and do
     * not leave it behind for another request either. */
    bool idempotent = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0 ||
                      strcmp(req->method, "PUT") == 0 || strcmp(req->method, "DELETE") == 0;
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, idempotent ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, idempotent ? 0L : 1L);

    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body != NULL || strcmp(req->method, "POST") == 0 ||
            strcmp(req->method, "PUT") == 0) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        }
    }
    return 0;
}

/* Turn a finished transfer into *resp (0) or err (-1). */
static int xfer_finish(struct xfer *x, CURLcode cc, const char *origin,
                       const struct cb_http_request *req, struct cb_http_response *resp,
                       struct cb_err *err)
{
    memset(resp, 0, sizeof *resp);
    if (cc != CURLE_OK) {
        if (x->body.overflow)
            return cb_err_set(err, CB_ERR_INVALID, origin,
                              "response body larger than %zu bytes: refused", x->body.limit);
        if (x->head.overflow)
            return cb_err_set(err, CB_ERR_INVALID, origin, "response headers larger than %zu bytes",
                              x->head.limit);
        return cb_err_set(err, classify_curl(cc), origin, "%s %s: %s", req->method, req->url,
                          x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
    }
    if ((x->body.data == NULL && buf_append(&x->body, "", 0) != 0) ||
        (x->head.data == NULL && buf_append(&x->head, "", 0) != 0))
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(x->curl, CURLINFO_TOTAL_TIME, &resp->total_time_s);
    resp->body = x->body.data;
    resp->body_len = x->body.len;
    resp->headers = x->head.data;
    resp->headers_len = x->head.len;
    x->body.data = x->head.data = NULL;
    return 0;
}

int cb_http_perform(struct cb_http *h, const char *origin, const struct cb_http_request *req,
                    struct cb_http_response *resp, struct cb_err *err)
{
    struct xfer x = { .curl = h->curl, .index = 0 };
    int rc = -1;

    memset(resp, 0, sizeof *resp);
    if (xfer_setup(&x, origin, req, err) == 0)
        rc = xfer_finish(&x, curl_easy_perform(h->curl), origin, req, resp, err);
    xfer_release(&x);
    return rc;
}

int cb_http_perform_many(const char *origin, const struct cb_http_request *reqs, size_t n,
                         unsigned max_parallel, unsigned timeout_ms, cb_http_done_fn done,
                         void *payload, struct cb_err *err)
{
    if (n == 0)
        return 0;
    if (max_parallel == 0)
        max_parallel = 1;
    size_t nslots = max_parallel < n ? max_parallel : n;
    int64_t deadline = cb_mono_ms() + (int64_t)(timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS);
    struct xfer *slots = calloc(nslots, sizeof *slots);
    CURLM *m = curl_multi_init();
    int rc = 0;

    if (slots == NULL || m == NULL) {
        rc = cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nslots; i++) {
        slots[i].index = XFER_IDLE;
        if ((slots[i].curl = curl_easy_init()) == NULL) {
            rc = cb_err_set(err, CB_ERR_INTERNAL, origin, "curl_easy_init failed");
            goto out;
        }
    }
    size_t next = 0, active = 0;
    bool stop = false;
    for (;;) {
        /* Keep every slot busy while there is work, time and no stop. */
        while (!stop && next < n && active < nslots) {
            struct xfer *x = NULL;
            for (size_t s = 0; s < nslots && x == NULL; s++)
                if (slots[s].index == XFER_IDLE)
                    x = &slots[s];
            int64_t left = deadline - cb_mono_ms();
            if (left <= 0) {
                stop = true; /* not started: the caller sees no report for them */
                break;
            }
            struct cb_http_request r = reqs[next];
            bool carries_deadline = r.timeout_ms == 0 || (int64_t)r.timeout_ms >= left;
            if (carries_deadline)
                r.timeout_ms = (unsigned)left;
            struct cb_err e = CB_ERR_INIT;
            size_t idx = next++;
            if (xfer_setup(x, origin, &r, &e) != 0 ||
                curl_multi_add_handle(m, x->curl) != CURLM_OK) {
                if (!cb_err_isset(&e))
                    cb_err_set(&e, CB_ERR_INTERNAL, origin, "curl_multi_add_handle failed");
                xfer_release(x);
                if (done(payload, idx, -1, NULL, &e) != 0)
                    stop = true;
                continue;
            }
            x->index = idx;
            x->carries_deadline = carries_deadline;
            active++;
        }
        if (active == 0)
            break;
        int running = 0;
        CURLMcode mc = curl_multi_perform(m, &running);
        if (mc != CURLM_OK) {
            rc = cb_err_set(err, CB_ERR_INTERNAL, origin, "curl_multi_perform: %s",
                            curl_multi_strerror(mc));
            break;
        }
        CURLMsg *msg;
        int queued;
        while ((msg = curl_multi_info_read(m, &queued)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct xfer *x = NULL;
            for (size_t s = 0; s < nslots && x == NULL; s++)
                if (slots[s].curl == msg->easy_handle && slots[s].index != XFER_IDLE)
                    x = &slots[s];
            if (x == NULL)
                continue;
            CURLcode cc = msg->data.result; /* msg is invalid once the handle is removed */
            curl_multi_remove_handle(m, x->curl);
            active--;
            size_t idx = x->index;
            bool carried_deadline = x->carries_deadline;
            struct cb_http_request r = reqs[idx];
            struct cb_http_response resp;
            struct cb_err e = CB_ERR_INIT;
            int xr = xfer_finish(x, cc, origin, &r, &resp, &e);
            x->index = XFER_IDLE;
            xfer_release(x);
            /* curl's timer and ours differ by a few milliseconds: a request
             * that timed out on the call's deadline means the deadline is
             * spent, even if our clock still shows a sliver left. */
            if (xr != 0 && e.code == CB_ERR_TIMEOUT && carried_deadline)
                stop = true;
            if (done(payload, idx, xr, xr == 0 ? &resp : NULL, &e) != 0)
                stop = true;
            cb_http_response_free(&resp);
        }
        if (active > 0 && running > 0) {
            mc = curl_multi_poll(m, NULL, 0, 200, NULL);
            if (mc != CURLM_OK) {
                rc = cb_err_set(err, CB_ERR_INTERNAL, origin, "curl_multi_poll: %s",
                                curl_multi_strerror(mc));
                break;
            }
        }
    }
out:
    for (size_t s = 0; slots != NULL && s < nslots; s++) {
        if (slots[s].index != XFER_IDLE && m != NULL) {
            /* The machinery failed under a request in flight: it may have
             * reached the server, so it is reported as a transport failure. */
            curl_multi_remove_handle(m, slots[s].curl);
            const struct cb_http_request *r = &reqs[slots[s].index];
            struct cb_err e = CB_ERR_INIT;
            cb_err_set(&e, CB_ERR_TRANSIENT, origin, "%s %s: aborted (%s)", r->method, r->url,
                       err->msg);
            done(payload, slots[s].index, -1, NULL, &e);
        }
        xfer_release(&slots[s]);
        if (slots[s].curl != NULL)
            curl_easy_cleanup(slots[s].curl);
    }
    free(slots);
    if (m != NULL)
        curl_multi_cleanup(m);
    return rc;
}

const char *cb_http_header(const struct cb_http_response *resp, const char *name, char *buf,
                           size_t len)
{
    size_t nlen = strlen(name);
    const char *p = resp->headers;

    if (p == NULL || len == 0)
        return NULL;
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t linelen = eol ? (size_t)(eol - p) : strlen(p);
        if (linelen > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            const char *end = p + linelen;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && isspace((unsigned char)end[-1]))
                end--;
            size_t vlen = (size_t)(end - v);
            if (vlen >= len)
                vlen = len - 1;
            memcpy(buf, v, vlen);
            buf[vlen] = '\0';
            return buf;
        }
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    return NULL;
}

char *cb_http_urlencode(const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *cb_base64_encode(const void *data, size_t len)
{
    const unsigned char *in = data;
    if (len > (SIZE_MAX / 4) * 3 - 3)
        return NULL;
    size_t olen = 4 * ((len + 2) / 3);
    char *out = malloc(olen + 1), *o = out;
    if (out == NULL)
        return NULL;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = b64[(v >> 6) & 63];
        *o++ = b64[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *p = (c != '\0') ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

int cb_base64_decode(const char *text, unsigned char **out, size_t *out_len)
{
    size_t len = strlen(text);

    *out = NULL;
    *out_len = 0;
    if (len % 4 != 0)
        return -1;
    unsigned char *buf = malloc(len / 4 * 3 + 1);
    if (buf == NULL)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = text[i + k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad > 0 || (v[k] = b64_value(c)) < 0) {
                free(buf);
                return -1;
            }
        }
        unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        buf[o++] = (unsigned char)(w >> 16);
        if (pad < 2)
            buf[o++] = (unsigned char)(w >> 8);
        if (pad < 1)
            buf[o++] = (unsigned char)w;
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 0;
}

unsigned cb_backoff_delay_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms, uint64_t *rng)
{
    uint64_t ceiling = base_ms;
    for (unsigned i = 0; i < attempt && ceiling < cap_ms; i++)
        ceiling *= 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    /* xorshift64*: tiny, good enough for jitter, and the state is the caller's. */
    uint64_t x = *rng ? *rng : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    return (unsigned)((x * 0x2545F4914F6CDD1Dull) % (ceiling + 1));
}
