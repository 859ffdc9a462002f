/* Unit tests: providers/common/cb_http against a real loopback socket. */
#include "cb_driver.h"
#include "cb_http.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A one-shot HTTP server on 127.0.0.1: reads one request, replies `reply`,
 * and (if hang) never replies, so the client's deadline is exercised. */
struct one_shot {
    int fd;
    int port;
    const char *reply;
    size_t reply_len;
    char request[8192];
    pthread_t thread;
};

static void *serve(void *arg)
{
    struct one_shot *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof s->request - 1 && (r = read(c, s->request + n, sizeof s->request - 1 - n)) > 0) {
        n += (size_t)r;
        s->request[n] = '\0';
        char *end = strstr(s->request, "\r\n\r\n");
        if (end != NULL) {
            const char *cl = strstr(s->request, "Content-Length: ");
            size_t want = cl ? strtoul(cl + 16, NULL, 10) : 0;
            if (n >= (size_t)(end + 4 - s->request) + want)
                break;
        }
    }
    if (s->reply != NULL) {
        ssize_t w = write(c, s->reply, s->reply_len);
        (void)w;
        close(c);
    } else {
        sleep(2); /* longer than the client's deadline */
        close(c);
    }
    return NULL;
}

static void one_shot_start(struct one_shot *s, const char *reply, size_t reply_len)
{
    memset(s, 0, sizeof *s);
    s->reply = reply;
    s->reply_len = reply_len;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s->fd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(s->fd, 1), 0);
    socklen_t al = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void one_shot_stop(struct one_shot *s)
{
    pthread_join(s->thread, NULL);
    close(s->fd);
}

START_TEST(test_post_and_headers)
{
    static const char reply[] = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n"
                                "X-Subject-Token:  tok123 \r\nConnection: close\r\n\r\nhello";
    struct one_shot s;
    one_shot_start(&s, reply, sizeof reply - 1);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v3/auth", s.port);
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    struct cb_http_request req = { .method = "POST", .url = url, .headers = hdrs,
                                   .body = "{\"a\":1}", .body_len = 7, .timeout_ms = 5000 };
    struct cb_http *h;
    struct cb_err err = CB_ERR_INIT;
    struct cb_http_response resp;
    ck_assert_int_eq(cb_http_new(&h, &err), 0);
    ck_assert_int_eq(cb_http_perform(h, "test", &req, &resp, &err), 0);
    one_shot_stop(&s);
    ck_assert_int_eq(resp.status, 201);
    ck_assert_str_eq(resp.body, "hello");
    ck_assert_uint_eq(resp.body_len, 5);
    char buf[64];
    ck_assert_str_eq(cb_http_header(&resp, "x-subject-token", buf, sizeof buf), "tok123");
    ck_assert_ptr_null(cb_http_header(&resp, "X-Missing", buf, sizeof buf));
    ck_assert_ptr_nonnull(strstr(s.request, "POST /v3/auth HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(s.request, "Content-Type: application/json\r\n"));
    ck_assert_ptr_nonnull(strstr(s.request, "\r\n\r\n{\"a\":1}"));
    ck_assert_ptr_null(strstr(s.request, "Expect:"));
    cb_http_response_free(&resp);
    cb_http_response_free(&resp);
    cb_http_free(h);
}
END_TEST

START_TEST(test_body_cap)
{
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
                                "01234567890123456789";
    struct one_shot s;
    one_shot_start(&s, reply, sizeof reply - 1);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", s.port);
    struct cb_http_request req = { .method = "GET", .url = url, .max_response = 10 };
    struct cb_http *h;
    struct cb_err err = CB_ERR_INIT;
    struct cb_http_response resp;
    ck_assert_int_eq(cb_http_new(&h, &err), 0);
    ck_assert_int_eq(cb_http_perform(h, "cap", &req, &resp, &err), -1);
    one_shot_stop(&s);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "larger than 10 bytes"));
    ck_assert_ptr_null(resp.body);
    cb_http_free(h);
}
END_TEST

START_TEST(test_timeout_and_refused)
{
    struct one_shot s;
    one_shot_start(&s, NULL, 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", s.port);
    struct cb_http_request req = { .method = "GET", .url = url, .timeout_ms = 300 };
    struct cb_http *h;
    struct cb_err err = CB_ERR_INIT;
    struct cb_http_response resp;
    ck_assert_int_eq(cb_http_new(&h, &err), 0);
    ck_assert_int_eq(cb_http_perform(h, "ec2:DescribeInstances", &req, &resp, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_TIMEOUT);
    ck_assert_str_eq(err.origin, "ec2:DescribeInstances");
    one_shot_stop(&s);

    /* The port is closed now: connection refused is transient. */
    cb_err_clear(&err);
    ck_assert_int_eq(cb_http_perform(h, "x", &req, &resp, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_TRANSIENT);
    /* Only http(s). */
    cb_err_clear(&err);
    struct cb_http_request bad = { .method = "GET", .url = "file:///etc/passwd" };
    ck_assert_int_eq(cb_http_perform(h, "x", &bad, &resp, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_PERMANENT);
    cb_http_free(h);
}
END_TEST

START_TEST(test_encodings)
{
    char *e = cb_http_urlencode("a b/c~d=é", strlen("a b/c~d=é"));
    ck_assert_str_eq(e, "a%20b%2Fc~d%3D%C3%A9");
    free(e);
    static const struct { const char *plain, *enc; } v[] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *b = cb_base64_encode(v[i].plain, strlen(v[i].plain));
        ck_assert_str_eq(b, v[i].enc);
        free(b);
        unsigned char *d;
        size_t dl;
        ck_assert_int_eq(cb_base64_decode(v[i].enc, &d, &dl), 0);
        ck_assert_uint_eq(dl, strlen(v[i].plain));
        ck_assert_mem_eq(d, v[i].plain, dl);
        free(d);
    }
    unsigned char *d;
    size_t dl;
    ck_assert_int_eq(cb_base64_decode("Zm9", &d, &dl), -1);
    ck_assert_int_eq(cb_base64_decode("Zm=v", &d, &dl), -1);
    ck_assert_int_eq(cb_base64_decode("Z!9v", &d, &dl), -1);
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(test_backoff)
{
    uint64_t rng = 42;
    for (unsigned attempt = 0; attempt < 12; attempt++) {
        unsigned ceiling = 100u << (attempt < 5 ? attempt : 5);
        if (ceiling > 3000)
            ceiling = 3000;
        for (int k = 0; k < 50; k++)
            ck_assert_uint_le(cb_backoff_delay_ms(attempt, 100, 3000, &rng), ceiling);
    }
    /* jitter: not all equal */
    unsigned a = cb_backoff_delay_ms(5, 100, 3000, &rng), same = 0;
    for (int k = 0; k < 20; k++)
        same += cb_backoff_delay_ms(5, 100, 3000, &rng) == a;
    ck_assert_uint_lt(same, 20);
}
END_TEST

/* What cb_http_perform_many reported, per request index. */
struct many_seen {
    int calls;
    size_t order[8];
    int rc[8];
    long status[8];
    enum cb_errcode code[8];
    char body[8][32];
    int stop_after; /* > 0: ask to stop after that many reports */
};

static int many_done(void *payload, size_t i, int rc, struct cb_http_response *resp,
                     const struct cb_err *err)
{
    struct many_seen *m = payload;
    ck_assert_uint_lt(i, 8);
    ck_assert_int_lt(m->calls, 8);
    m->order[m->calls++] = i;
    m->rc[i] = rc;
    if (rc == 0) {
        ck_assert_ptr_nonnull(resp);
        m->status[i] = resp->status;
        snprintf(m->body[i], sizeof m->body[i], "%s", resp->body);
        free(resp->body); /* the callee may take the body */
        resp->body = NULL;
    } else {
        ck_assert_ptr_null(resp);
        m->code[i] = err->code;
    }
    return m->stop_after > 0 && m->calls >= m->stop_after;
}

START_TEST(test_perform_many)
{
    static const char ok[] = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nConnection: close\r\n\r\nalpha";
    static const char busy[] = "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy";
    struct one_shot a, b, c;
    one_shot_start(&a, ok, sizeof ok - 1);
    one_shot_start(&b, busy, sizeof busy - 1);
    one_shot_start(&c, NULL, 0); /* never answers */
    char ua[64], ub[64], uc[64];
    snprintf(ua, sizeof ua, "http://127.0.0.1:%d/create", a.port);
    snprintf(ub, sizeof ub, "http://127.0.0.1:%d/", b.port);
    snprintf(uc, sizeof uc, "http://127.0.0.1:%d/slow", c.port);
    const char *hdr[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
    struct cb_http_request reqs[4] = {
        { .method = "POST", .url = ua, .headers = hdr, .body = "x=1", .body_len = 3 },
        { .method = "GET", .url = ub },
        { .method = "GET", .url = uc },
        { .method = "GET", .url = "file:///etc/passwd" },
    };
    struct many_seen m = { 0 };
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_http_perform_many("dc:create", reqs, 4, 4, 800, many_done, &m, &err), 0);
    ck_assert(!cb_err_isset(&err));
    ck_assert_int_eq(m.calls, 4); /* every started request is reported once */
    ck_assert_int_eq(m.rc[0], 0);
    ck_assert_int_eq(m.status[0], 201);
    ck_assert_str_eq(m.body[0], "alpha");
    ck_assert_int_eq(m.rc[1], 0);
    ck_assert_int_eq(m.status[1], 503); /* a status is not an error here */
    ck_assert_int_eq(m.rc[2], -1);
    ck_assert_int_eq(m.code[2], CB_ERR_TIMEOUT); /* cut to the whole call's 800 ms */
    ck_assert_int_eq(m.rc[3], -1);
    ck_assert_int_eq(m.code[3], CB_ERR_PERMANENT);
    ck_assert_uint_eq(m.order[3], 2); /* the slow one finishes last */
    one_shot_stop(&a);
    one_shot_stop(&b);
    one_shot_stop(&c);
    ck_assert_ptr_nonnull(strstr(a.request, "POST /create HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(a.request, "\r\n\r\nx=1"));

    /* A stop from the callback starts nothing more (one slot: one request). */
    struct one_shot d;
    one_shot_start(&d, ok, sizeof ok - 1);
    snprintf(ua, sizeof ua, "http://127.0.0.1:%d/", d.port);
    struct cb_http_request three[3] = {
        { .method = "GET", .url = ua },
        { .method = "GET", .url = "http://127.0.0.1:1/never" },
        { .method = "GET", .url = "http://127.0.0.1:1/never" },
    };
    memset(&m, 0, sizeof m);
    m.stop_after = 1;
    ck_assert_int_eq(cb_http_perform_many("x", three, 3, 1, 5000, many_done, &m, &err), 0);
    ck_assert_int_eq(m.calls, 1);
    ck_assert_int_eq(m.status[0], 201);
    one_shot_stop(&d);

    /* The whole call's deadline passes during the first: the rest never start. */
    struct one_shot e;
    one_shot_start(&e, NULL, 0);
    snprintf(uc, sizeof uc, "http://127.0.0.1:%d/slow", e.port);
    three[0].url = uc;
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(cb_http_perform_many("x", three, 3, 1, 300, many_done, &m, &err), 0);
    ck_assert_int_eq(m.calls, 1);
    ck_assert_int_eq(m.code[0], CB_ERR_TIMEOUT);
    one_shot_stop(&e);

    /* Requests that cannot even be set up are each reported, and do not
     * keep the others from running. */
    struct one_shot f;
    one_shot_start(&f, ok, sizeof ok - 1);
    snprintf(ua, sizeof ua, "http://127.0.0.1:%d/", f.port);
    struct cb_http_request mixed[5] = {
        { .url = ua }, { .url = ua }, { .method = "GET", .url = ua }, { .url = ua }, { .url = ua },
    };
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(cb_http_perform_many("x", mixed, 5, 2, 5000, many_done, &m, &err), 0);
    ck_assert_int_eq(m.calls, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(m.rc[i], i == 2 ? 0 : -1);
    ck_assert_int_eq(m.code[0], CB_ERR_INTERNAL);
    ck_assert_int_eq(m.status[2], 201);
    one_shot_stop(&f);

    /* Nothing to do is no error. */
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(cb_http_perform_many("x", three, 0, 4, 300, many_done, &m, &err), 0);
    ck_assert_int_eq(m.calls, 0);
}
END_TEST

START_TEST(test_driver_helpers)
{
    static const struct {
        long status;
        bool quota;
        enum cb_errcode want;
    } map[] = {
        { 400, false, CB_ERR_PERMANENT }, { 401, false, CB_ERR_AUTH },
        { 403, false, CB_ERR_AUTH },      { 403, true, CB_ERR_QUOTA },
        { 404, false, CB_ERR_NOT_FOUND }, { 405, false, CB_ERR_PERMANENT },
        { 409, false, CB_ERR_TRANSIENT }, { 413, false, CB_ERR_THROTTLED },
        { 413, true, CB_ERR_QUOTA },      { 429, false, CB_ERR_THROTTLED },
        { 500, false, CB_ERR_TRANSIENT }, { 502, true, CB_ERR_QUOTA },
        { 503, false, CB_ERR_TRANSIENT }, { 302, false, CB_ERR_PERMANENT },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        ck_assert_msg(cb_http_status_errcode(map[i].status, map[i].quota) == map[i].want,
                      "HTTP %ld quota=%d", map[i].status, map[i].quota);

    /* A setting's origin: file and line when it was in the file, else its path. */
    struct cb_setting items[] = {
        { .name = "api_url", .type = CB_SETTING_STRING, .str = "http://x/api", .line = 12 },
        { .name = "realm", .type = CB_SETTING_STRING, .str = "", .is_default = true },
    };
    struct cb_settings set = { .items = items, .n = 2, .file = "/etc/cloudburst/cloudburst.conf",
                               .path = "clouds.[1].deltacloud" };
    char buf[128];
    ck_assert_str_eq(cb_setting_origin(&set, "deltacloud", "api_url", buf, sizeof buf),
                     "/etc/cloudburst/cloudburst.conf:12 (api_url)");
    ck_assert_str_eq(cb_setting_origin(&set, "deltacloud", "realm", buf, sizeof buf),
                     "clouds.[1].deltacloud.realm");
    ck_assert_str_eq(cb_setting_origin(NULL, "deltacloud", "realm", buf, sizeof buf),
                     "deltacloud.realm");
    ck_assert_str_eq(cb_setting_text(&set, "api_url"), "http://x/api");
    ck_assert_ptr_null(cb_setting_text(&set, "realm")); /* empty is unset */
    ck_assert_ptr_null(cb_setting_text(&set, "nothing"));

    /* Deadlines on the monotonic clock. */
    int64_t t0 = cb_mono_ms();
    ck_assert_uint_eq(cb_remaining_ms(t0 - 1), 0);
    ck_assert_uint_le(cb_remaining_ms(t0 + 10000), 10000);
    ck_assert_uint_gt(cb_remaining_ms(t0 + 10000), 9000);
    cb_sleep_ms(20);
    ck_assert_int_ge(cb_mono_ms() - t0, 20);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("all");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_post_and_headers);
    tcase_add_test(tc, test_body_cap);
    tcase_add_test(tc, test_timeout_and_refused);
    tcase_add_test(tc, test_encodings);
    tcase_add_test(tc, test_backoff);
    tcase_add_test(tc, test_perform_many);
    tcase_add_test(tc, test_driver_helpers);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
