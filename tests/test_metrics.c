/* Unit tests: metrics exposition format, textfile, and the HTTP endpoint on loopback. */
#include "metrics.h"

#include <arpa/inet.h>
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct cb_metrics *build(void)
{
    struct cb_metrics *m;
    struct cb_err err = CB_ERR_INIT;
    static const double b[] = { 0.1, 1, 10 };
    ck_assert_int_eq(cb_metrics_new(&m, &err), 0);
    ck_assert_int_eq(cb_metrics_family(m, "cloudburst_nodes", CB_METRIC_GAUGE, "Nodes by cloud and state.", NULL, 0, &err), 0);
    ck_assert_int_eq(cb_metrics_family(m, "cloudburst_boots_total", CB_METRIC_COUNTER, "Instances booted.", NULL, 0, &err), 0);
    ck_assert_int_eq(cb_metrics_family(m, "cloudburst_cycle_duration_seconds", CB_METRIC_HISTOGRAM, "Cycle wall time.", b, 3, &err), 0);
    ck_assert_int_eq(cb_metrics_family(m, "cloudburst_nodes", CB_METRIC_GAUGE, "again", NULL, 0, &err), 0);
    ck_assert_int_eq(cb_metrics_family(m, "cloudburst_nodes", CB_METRIC_COUNTER, "clash", NULL, 0, &err), -1);
    cb_err_clear(&err);
    ck_assert_int_eq(cb_metrics_family(m, "9bad", CB_METRIC_GAUGE, "", NULL, 0, &err), -1);
    ck_assert_int_eq(cb_metrics_set(m, "cloudburst_nodes", 3, "cloud", "aws-east", "state", "idle", NULL), 0);
    ck_assert_int_eq(cb_metrics_set(m, "cloudburst_nodes", 1, "cloud", "os \"q\"\\x\n", "state", "busy", NULL), 0);
    ck_assert_int_eq(cb_metrics_add(m, "cloudburst_boots_total", 2, NULL), 0);
    ck_assert_int_eq(cb_metrics_add(m, "cloudburst_boots_total", 3, NULL), 0);
    ck_assert_int_eq(cb_metrics_add(m, "cloudburst_boots_total", -1, NULL), -1);
    ck_assert_int_eq(cb_metrics_observe(m, "cloudburst_cycle_duration_seconds", 0.05, NULL), 0);
    ck_assert_int_eq(cb_metrics_observe(m, "cloudburst_cycle_duration_seconds", 2.5, NULL), 0);
    ck_assert_int_eq(cb_metrics_set(m, "cloudburst_cycle_duration_seconds", 1, NULL), -1);
    ck_assert_int_eq(cb_metrics_set(m, "cloudburst_nope", 1, NULL), -1);
    return m;
}

static const char expected[] =
    "# HELP cloudburst_nodes Nodes by cloud and state.\n"
    "# TYPE cloudburst_nodes gauge\n"
    "cloudburst_nodes{cloud=\"aws-east\",state=\"idle\"} 3\n"
    "cloudburst_nodes{cloud=\"os \\\"q\\\"\\\\x\\n\",state=\"busy\"} 1\n"
    "# HELP cloudburst_boots_total Instances booted.\n"
    "# TYPE cloudburst_boots_total counter\n"
    "cloudburst_boots_total 5\n"
    "# HELP cloudburst_cycle_duration_seconds Cycle wall time.\n"
    "# TYPE cloudburst_cycle_duration_seconds histogram\n"
    "cloudburst_cycle_duration_seconds_bucket{le=\"0.1\"} 1\n"
    "cloudburst_cycle_duration_seconds_bucket{le=\"1\"} 1\n"
    "cloudburst_cycle_duration_seconds_bucket{le=\"10\"} 2\n"
    "cloudburst_cycle_duration_seconds_bucket{le=\"+Inf\"} 2\n"
    "cloudburst_cycle_duration_seconds_sum 2.55\n"
    "cloudburst_cycle_duration_seconds_count 2\n";

START_TEST(test_exposition_format)
{
    struct cb_metrics *m = build();
    char *text;
    size_t len;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_metrics_render(m, &text, &len, &err), 0);
    ck_assert_str_eq(text, expected);
    ck_assert_uint_eq(len, strlen(expected));
    free(text);
    cb_metrics_clear(m, "cloudburst_nodes");
    ck_assert_int_eq(cb_metrics_render(m, &text, &len, &err), 0);
    ck_assert_ptr_null(strstr(text, "cloudburst_nodes{"));
    ck_assert_ptr_nonnull(strstr(text, "# TYPE cloudburst_nodes gauge\n"));
    free(text);
    cb_metrics_free(m);
}
END_TEST

START_TEST(test_textfile)
{
    struct cb_metrics *m = build();
    struct cb_err err = CB_ERR_INIT;
    char dir[] = "/tmp/cbmetricsXXXXXX", path[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/cloudburst.prom", dir);
    ck_assert_int_eq(cb_metrics_write_textfile(m, path, &err), 0);
    FILE *f = fopen(path, "r");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    ck_assert_str_eq(buf, expected);
    unlink(path);
    snprintf(path, sizeof path, "%s/missing-dir/x.prom", dir);
    ck_assert_int_eq(cb_metrics_write_textfile(m, path, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_IO);
    rmdir(dir);
    cb_metrics_free(m);
}
END_TEST

struct fetch {
    int port;
    const char *request;
    char reply[8192];
};

static void *fetch_thread(void *arg)
{
    struct fetch *f = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)f->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        ssize_t w = write(fd, f->request, strlen(f->request));
        (void)w;
        size_t n = 0;
        ssize_t r;
        while ((r = read(fd, f->reply + n, sizeof f->reply - 1 - n)) > 0)
            n += (size_t)r;
        f->reply[n] = '\0';
    }
    close(fd);
    return NULL;
}

static void do_fetch(uv_loop_t *loop, struct fetch *f)
{
    pthread_t t;
    f->reply[0] = '\0';
    pthread_create(&t, NULL, fetch_thread, f);
    /* Serve until the client thread has its answer. */
    for (int i = 0; i < 2000; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(1000);
        if (strstr(f->reply, "\r\n\r\n") != NULL)
            break;
    }
    pthread_join(t, NULL);
}

START_TEST(test_http_endpoint)
{
    struct cb_metrics *m = build();
    struct cb_err err = CB_ERR_INIT;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cb_metrics_server *s;
    ck_assert_int_eq(cb_metrics_server_start(&s, &loop, m, "127.0.0.1:0", &err), 0);
    struct fetch f = { .port = cb_metrics_server_port(s), .request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" };
    ck_assert_int_gt(f.port, 0);
    do_fetch(&loop, &f);
    ck_assert_ptr_nonnull(strstr(f.reply, "HTTP/1.0 200 OK\r\n"));
    ck_assert_ptr_nonnull(strstr(f.reply, "Content-Type: text/plain; version=0.0.4"));
    ck_assert_ptr_nonnull(strstr(f.reply, expected));
    f.request = "GET /admin HTTP/1.1\r\n\r\n";
    do_fetch(&loop, &f);
    ck_assert_ptr_nonnull(strstr(f.reply, "HTTP/1.0 404 Not Found"));
    f.request = "POST /metrics HTTP/1.1\r\n\r\n";
    do_fetch(&loop, &f);
    ck_assert_ptr_nonnull(strstr(f.reply, "HTTP/1.0 405"));
    cb_metrics_server_stop(s);
    ck_assert_int_eq(cb_metrics_server_start(&s, &loop, m, "localhost:9464", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a numeric IPv4 or IPv6 address"));
    cb_err_clear(&err);
    ck_assert_int_eq(cb_metrics_server_start(&s, &loop, m, "127.0.0.1", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "is not host:port"));
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    cb_metrics_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("all");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_exposition_format);
    tcase_add_test(tc, test_textfile);
    tcase_add_test(tc, test_http_endpoint);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
