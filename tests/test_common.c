/* Unit tests: cb_error (first cause wins, sanitising), cb_text, lifecycle table. */
#include "cb_error.h"
#include "cb_text.h"
#include "core/lifecycle.h"
#include "core/observe.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_err_first_cause_wins)
{
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_err_set(&err, CB_ERR_QUOTA, "ec2:RunInstances", "capacity %d", 7), -1);
    cb_err_set(&err, CB_ERR_INTERNAL, "cycle", "generic wrapper");
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    ck_assert_str_eq(err.origin, "ec2:RunInstances");
    ck_assert_str_eq(err.msg, "capacity 7");
    char buf[256];
    ck_assert_str_eq(cb_err_format(&err, buf, sizeof buf), "ec2:RunInstances: capacity 7");
    cb_err_clear(&err);
    ck_assert(!cb_err_isset(&err));
    ck_assert_str_eq(cb_err_format(&err, buf, sizeof buf), "no error");
}
END_TEST

START_TEST(test_err_sanitises_and_classifies)
{
    struct cb_err err = CB_ERR_INIT;
    cb_err_set(&err, 999, NULL, "line1\r\nFAKE LOG LINE\x1b[31m");
    ck_assert_int_eq(err.code, CB_ERR_INTERNAL); /* unknown code is a bug */
    ck_assert_str_eq(err.msg, "line1??FAKE LOG LINE?[31m");
    ck_assert_str_eq(cb_errcode_name(CB_ERR_THROTTLED), "throttled");
    ck_assert_str_eq(cb_errcode_name(CB_ERR__COUNT), "unknown");
    ck_assert(cb_err_is_retryable(CB_ERR_TIMEOUT));
    ck_assert(!cb_err_is_retryable(CB_ERR_AUTH));
    ck_assert_int_eq(cb_err_set(NULL, CB_ERR_IO, "x", "dropped"), -1);
    cb_err_errno(&err, CB_ERR_IO, 2, "f", "ignored because first cause wins");
    ck_assert_int_eq(err.code, CB_ERR_INTERNAL);
}
END_TEST

START_TEST(test_sanitize_utf8)
{
    char out[64];
    ck_assert_str_eq(cb_sanitize(out, sizeof out, "caf\xc3\xa9 ok"), "caf\xc3\xa9 ok");
    ck_assert_str_eq(cb_sanitize(out, sizeof out, "bad\xc3(x"), "bad?(x");
    ck_assert_str_eq(cb_sanitize(out, sizeof out, "overlong\xc0\xaf"), "overlong??");
    ck_assert_str_eq(cb_sanitize(out, sizeof out, "surrogate\xed\xa0\x80"), "surrogate???");
    ck_assert_str_eq(cb_sanitize(out, 4, "abcdef"), "abc");
    /* truncation never splits a multi-byte character */
    ck_assert_str_eq(cb_sanitize(out, 3, "a\xc3\xa9"), "a");
    char in[] = "tab\there\x7f";
    cb_sanitize_inplace(in);
    ck_assert_str_eq(in, "tab?here?");
    ck_assert_uint_eq(cb_strlcpy(out, "0123456789", 5), 10);
    ck_assert_str_eq(out, "0123");
    ck_assert(cb_is_safe_name("cms-t2_de.desy"));
    ck_assert(!cb_is_safe_name("a b"));
    ck_assert(!cb_is_safe_name(""));
    ck_assert(!cb_is_safe_name("x;rm"));
    ck_assert_ptr_null(cb_strdup(NULL));
}
END_TEST

/* The complete table, written out independently of lifecycle.c, so a change
 * to either side shows up here. */
START_TEST(test_lifecycle_table_exhaustive)
{
    static const char *const edges[] = {
        "requested>booting", "requested>gone", "requested>failed",
        "booting>bootstrapping", "booting>idle", "booting>terminating", "booting>gone", "booting>failed",
        "bootstrapping>idle", "bootstrapping>busy", "bootstrapping>terminating",
        "bootstrapping>gone", "bootstrapping>failed",
        "idle>busy", "idle>draining", "idle>terminating", "idle>gone", "idle>failed",
        "busy>idle", "busy>draining", "busy>gone", "busy>failed",
        "draining>idle", "draining>busy", "draining>terminating", "draining>gone", "draining>failed",
        "terminating>gone", "terminating>failed",
        "failed>terminating", "failed>gone",
    };
    unsigned allowed = 0;
    for (unsigned f = 0; f < CB_NODE__COUNT; f++) {
        for (unsigned t = 0; t < CB_NODE__COUNT; t++) {
            char edge[64];
            snprintf(edge, sizeof edge, "%s>%s", cb_node_state_name(f), cb_node_state_name(t));
            bool expect = false;
            for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
                if (strcmp(edges[i], edge) == 0)
                    expect = true;
            ck_assert_msg(cb_node_transition_allowed(f, t) == expect, "edge %s: expected %d", edge,
                          expect);
            allowed += expect;
        }
    }
    ck_assert_uint_eq(allowed, sizeof edges / sizeof edges[0]);
    /* a running job is never killed: busy cannot go straight to terminating */
    ck_assert(!cb_node_transition_allowed(CB_NODE_BUSY, CB_NODE_TERMINATING));
    ck_assert(!cb_node_transition_allowed(CB_NODE_GONE, CB_NODE_FAILED));
    ck_assert(!cb_node_transition_allowed(CB_NODE__COUNT, CB_NODE_GONE));
    ck_assert(!cb_node_transition_allowed(CB_NODE_IDLE, CB_NODE__COUNT));
}
END_TEST

START_TEST(test_lifecycle_names_and_classes)
{
    for (unsigned s = 0; s < CB_NODE__COUNT; s++) {
        enum cb_node_state back;
        ck_assert_int_eq(cb_node_state_parse(cb_node_state_name(s), &back), 0);
        ck_assert_uint_eq(back, s);
    }
    enum cb_node_state st;
    ck_assert_int_eq(cb_node_state_parse("running", &st), -1);
    ck_assert_str_eq(cb_node_state_name(CB_NODE__COUNT), "unknown");
    ck_assert(!cb_node_state_is_live(CB_NODE_GONE));
    ck_assert(cb_node_state_is_live(CB_NODE_FAILED));
    ck_assert(cb_node_state_counts_as_capacity(CB_NODE_BOOTING));
    ck_assert(!cb_node_state_counts_as_capacity(CB_NODE_DRAINING));
    ck_assert(cb_node_state_is_initial(CB_NODE_REQUESTED));
    ck_assert(!cb_node_state_is_initial(CB_NODE_TERMINATING));
}
END_TEST

START_TEST(test_observe_containers)
{
    struct cb_instance_list l = { 0 };
    for (int i = 0; i < 100; i++) {
        struct cb_instance *in = cb_instance_list_add(&l);
        ck_assert_ptr_nonnull(in);
        ck_assert_int_eq(in->state, CB_INSTANCE_UNKNOWN);
        snprintf(in->id, sizeof in->id, "i-%d", i);
    }
    ck_assert_uint_eq(l.n, 100);
    ck_assert_str_eq(l.items[99].id, "i-99");
    cb_instance_list_free(&l);
    cb_instance_list_free(&l); /* harmless twice */
    ck_assert_uint_eq(l.n, 0);

    struct cb_demand d = { 0 };
    ck_assert_int_eq(cb_demand_add(&d)->runtime_s, -1);
    cb_demand_free(&d);
    struct cb_supply s = { 0 };
    ck_assert_int_eq(cb_supply_add(&s)->idle_since, -1);
    cb_supply_free(&s);

    enum cb_instance_state is;
    ck_assert_int_eq(cb_instance_state_parse("terminated", &is), 0);
    ck_assert_int_eq(is, CB_INSTANCE_TERMINATED);
    ck_assert_int_eq(cb_instance_state_parse("stopped", &is), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("all");
    tcase_add_test(tc, test_err_first_cause_wins);
    tcase_add_test(tc, test_err_sanitises_and_classifies);
    tcase_add_test(tc, test_sanitize_utf8);
    tcase_add_test(tc, test_lifecycle_table_exhaustive);
    tcase_add_test(tc, test_lifecycle_names_and_classes);
    tcase_add_test(tc, test_observe_containers);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
