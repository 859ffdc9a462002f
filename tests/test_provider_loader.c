/* Unit tests: provider_loader refuses every kind of wrong module, loads a good one. */
#include "provider_loader.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[4096];

static void setup(void)
{
    const char *b = getenv("top_builddir");
    snprintf(dir, sizeof dir, "%s/tests/loader", b ? b : ".");
}

START_TEST(test_good_module_loads_and_runs)
{
    struct cb_provider_module m;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(cb_provider_load(&m, dir, "loadergood", &err) == 0, "%s", err.msg);
    ck_assert_str_eq(m.ops->name, "loadergood");
    void *st = NULL;
    struct cb_provider_init args = { .version = CB_PROVIDER_ABI_VERSION };
    ck_assert_int_eq(m.ops->init(&st, &args, &err), 0);
    struct cb_instance_list l = { 0 };
    ck_assert_int_eq(m.ops->list(st, &l, &err), 0);
    ck_assert_uint_eq(l.n, 1);
    cb_instance_list_free(&l);
    struct cb_boot_spec spec = { .batch_id = "b1", .count = 3 };
    ck_assert_int_eq(m.ops->boot(st, &spec, &l, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    ck_assert_str_eq(err.msg, "no capacity for 3");
    /* optional entry missing: the dispatcher answers, not a NULL call */
    cb_err_clear(&err);
    char buf[64];
    ck_assert_int_eq(cb_provider_host_keys(&m, st, "i-1", buf, sizeof buf, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_PERMANENT);
    ck_assert_ptr_nonnull(strstr(err.msg, "not supported by loadergood"));
    m.ops->fini(st);
    cb_provider_unload(&m);
    ck_assert_ptr_null(m.handle);
}
END_TEST

static void expect_refusal(const char *name, enum cb_errcode code, const char *fragment)
{
    struct cb_provider_module m;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_provider_load(&m, dir, name, &err), -1);
    ck_assert_msg(err.code == code, "%s: code %s, expected %s (%s)", name,
                  cb_errcode_name(err.code), cb_errcode_name(code), err.msg);
    ck_assert_msg(strstr(err.msg, fragment) != NULL, "%s: message '%s' lacks '%s'", name,
                  err.msg, fragment);
    ck_assert_ptr_null(m.handle);
    ck_assert_ptr_null(m.ops);
}

START_TEST(test_refusals)
{
    expect_refusal("loaderbadabi", CB_ERR_VERSION, "ABI version 2 not supported");
    expect_refusal("loaderwrongname", CB_ERR_PERMANENT, "calls itself 'somethingelse'");
    expect_refusal("loadernosymbol", CB_ERR_PERMANENT, "no symbol cb_provider_ops_v1");
    expect_refusal("loadernolist", CB_ERR_PERMANENT, "lacks a mandatory entry");
    expect_refusal("nosuchdriver", CB_ERR_NOT_FOUND, "no provider driver 'nosuchdriver'");
    expect_refusal("../etc", CB_ERR_INVALID, "invalid provider name");
}
END_TEST

START_TEST(test_writable_module_refused)
{
    /* Copy the good module into a private directory and make it group-writable. */
    char tmpl[] = "/tmp/cbloaderXXXXXX", src[4200], dst[4200], cmd[9000];
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    snprintf(src, sizeof src, "%s/.libs/loadergood.so", dir);
    snprintf(dst, sizeof dst, "%s/loadergood.so", tmpl);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, dst);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(chmod(dst, 0664), 0);
    struct cb_provider_module m;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_provider_load(&m, tmpl, "loadergood", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "writable by group or others (mode 0664)"));
    ck_assert_int_eq(chmod(dst, 0644), 0);
    cb_err_clear(&err);
    ck_assert_int_eq(cb_provider_load(&m, tmpl, "loadergood", &err), 0);
    cb_provider_unload(&m);
    unlink(dst);
    rmdir(tmpl);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("provider_loader");
    TCase *tc = tcase_create("all");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_good_module_loads_and_runs);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_writable_module_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
