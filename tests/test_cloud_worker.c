/* Unit tests: cloud_worker runs driver calls off the loop thread and delivers
 * results on it, in order, and shuts down without losing a call. */
#include "cloud_worker.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[4096];
static struct cb_provider_module module;
static uv_loop_t loop;
static pthread_t loop_thread;

struct record {
    int delivered;
    int order[16];
    struct cb_cloud_call *calls[16];
    bool on_loop_thread[16];
};

static void on_done(struct cb_cloud_call *c, void *payload)
{
    struct record *r = payload;
    r->on_loop_thread[r->delivered] = pthread_equal(pthread_self(), loop_thread);
    r->calls[r->delivered] = c;
    r->order[r->delivered] = (int)c->op;
    r->delivered++;
}

static void setup(void)
{
    const char *b = getenv("top_builddir");
    struct cb_err err = CB_ERR_INIT;
    snprintf(dir, sizeof dir, "%s/tests/loader", b ? b : ".");
    ck_assert_msg(cb_provider_load(&module, dir, "loadergood", &err) == 0, "%s", err.msg);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    loop_thread = pthread_self();
}

static void teardown(void)
{
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    cb_provider_unload(&module);
}

static const struct cb_provider_init args = {
    .version = CB_PROVIDER_ABI_VERSION, .cloud_name = "test-cloud", .pool_name = "pool",
};

START_TEST(test_calls_round_trip_in_order)
{
    struct cb_cloud_worker *w;
    struct cb_err err = CB_ERR_INIT;
    struct record r = { 0 };
    ck_assert_int_eq(cb_cloud_worker_new(&w, &loop, &module, &args, &err), 0);

    struct cb_boot_spec ok = { .batch_id = "cb-7", .count = 1, .flavor = "m5.large",
                               .image = "ami-1", .user_data = "#cloud-config\n", .user_data_len = 14 };
    struct cb_boot_spec quota = { .batch_id = "cb-8", .count = 5, .flavor = "m5.large", .image = "ami-1" };
    const char *ids[] = { "i-1", "stuck-2" };
    ck_assert_int_eq(cb_cloud_worker_submit(w, cb_cloud_call_new_list(on_done, &r), &err), 0);
    ck_assert_int_eq(cb_cloud_worker_submit(w, cb_cloud_call_new_boot(&ok, on_done, &r), &err), 0);
    ck_assert_int_eq(cb_cloud_worker_submit(w, cb_cloud_call_new_boot(&quota, on_done, &r), &err), 0);
    ck_assert_int_eq(cb_cloud_worker_submit(w, cb_cloud_call_new_terminate(ids, 2, on_done, &r), &err), 0);
    while (r.delivered < 4)
        uv_run(&loop, UV_RUN_ONCE);
    ck_assert_uint_eq(cb_cloud_worker_pending(w), 0);

    for (int i = 0; i < 4; i++)
        ck_assert(r.on_loop_thread[i]);
    ck_assert_int_eq(r.order[0], CB_CLOUD_LIST);
    ck_assert_int_eq(r.calls[0]->rc, 0);
    ck_assert_uint_eq(r.calls[0]->instances.n, 1);

    ck_assert_int_eq(r.calls[1]->rc, 0);
    ck_assert_str_eq(r.calls[1]->instances.items[0].id, "i-cb-7");
    ck_assert_str_eq(r.calls[1]->instances.items[0].node_id, "cb-7-0");
    ck_assert_str_eq(r.calls[1]->boot.user_data, "#cloud-config\n"); /* copied, not borrowed */

    ck_assert_int_eq(r.calls[2]->rc, -1);
    ck_assert_int_eq(r.calls[2]->err.code, CB_ERR_QUOTA);

    ck_assert_int_eq(r.calls[3]->rc, -1);
    ck_assert(!r.calls[3]->failed[0]);
    ck_assert(r.calls[3]->failed[1]);
    ck_assert_ptr_nonnull(strstr(r.calls[3]->err.msg, "stuck-2 did not terminate"));
    for (int i = 0; i < 4; i++) {
        ck_assert(r.calls[i]->seconds >= 0.0);
        cb_cloud_call_free(r.calls[i]);
    }
    ck_assert_ptr_null(cb_cloud_worker_init_error(w));
    cb_cloud_worker_free(w);
}
END_TEST

START_TEST(test_shutdown_fails_queued_calls)
{
    struct cb_cloud_worker *w;
    struct cb_err err = CB_ERR_INIT;
    struct record r = { 0 };
    ck_assert_int_eq(cb_cloud_worker_new(&w, &loop, &module, &args, &err), 0);
    struct cb_boot_spec slow = { .batch_id = "cb-1", .count = 999, .flavor = "f", .image = "i" };
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(cb_cloud_worker_submit(w, cb_cloud_call_new_boot(&slow, on_done, &r), &err), 0);
    /* Free while the first call sleeps: every call still gets its callback. */
    cb_cloud_worker_free(w);
    ck_assert_int_eq(r.delivered, 5);
    int shut = 0;
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(r.calls[i]->rc, -1);
        if (strstr(r.calls[i]->err.msg, "shutting down") != NULL)
            shut++;
        cb_cloud_call_free(r.calls[i]);
    }
    ck_assert_int_ge(shut, 3); /* at most the first one or two ran */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cloud_worker");
    TCase *tc = tcase_create("all");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_calls_round_trip_in_order);
    tcase_add_test(tc, test_shutdown_fails_queued_calls);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
