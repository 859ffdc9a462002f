/* test_ec2_xml: the EC2 driver's parsers on REAL recorded replies
 * (tests/fixtures/ec2), on hostile input, and the credential parsers; then
 * every recorded reply is replayed through every EC2 fuzz target under
 * ASan/UBSan. */
#include "ec2_cred.h"
#include "ec2_xml.h"
#include "fake_check.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define fixture(rel, len) check_fixture("ec2", rel, len)

#define LIFECYCLE "deltacloud-vcr-aws/extracted/test_0005_must_allow_to_create_a_new_instance_if_instance_supported/"

START_TEST(test_recorded_run_instances)
{
    size_t len;
    char *body = fixture(LIFECYCLE "001-RunInstances.response.xml", &len);
    struct cb_instance_list out = { 0 };
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(ec2_xml_parse_instances(body, len, "RunInstancesResponse", &out, NULL, 0, &err) ==
                      0,
                  "%s", err.msg);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_str_eq(out.items[0].id, "i-fd749186");
    ck_assert_str_eq(out.items[0].image, "ami-aecd60c7");
    ck_assert_str_eq(out.items[0].flavor, "t1.micro");
    ck_assert_int_eq(out.items[0].state, CB_INSTANCE_PENDING);
    ck_assert_int_eq(out.items[0].launch_time, 1343646404); /* 2012-07-30T11:06:44Z */
    ck_assert_str_eq(out.items[0].batch_id, "");            /* recorded without a ClientToken */
    ck_assert_str_eq(out.items[0].state_reason, "pending");
    /* as a DescribeInstancesResponse it is the wrong document */
    cb_err_clear(&err);
    ck_assert_int_eq(
        ec2_xml_parse_instances(body, len, "DescribeInstancesResponse", &out, NULL, 0, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "expected <DescribeInstancesResponse>"));
    ck_assert_uint_eq(out.n, 1);
    cb_instance_list_free(&out);
    free(body);

    body = fixture("libcloud/run_instances_idem.xml", &len);
    ck_assert_int_eq(ec2_xml_parse_instances(body, len, "RunInstancesResponse", &out, NULL, 0, &err),
                     0);
    ck_assert_str_eq(out.items[0].batch_id, "testclienttoken");
    ck_assert_str_eq(out.items[0].node_id, "testclienttoken-0");
    cb_instance_list_free(&out);
    free(body);
}
END_TEST

START_TEST(test_recorded_lifecycle)
{
    /* the recorded poll sequence: pending ... running, then shutting-down */
    size_t len;
    char *body = fixture(LIFECYCLE "002-DescribeInstances.response.xml", &len);
    struct cb_instance_list out = { 0 };
    struct cb_err err = CB_ERR_INIT;
    char token[64] = "junk";
    ck_assert_msg(ec2_xml_parse_instances(body, len, "DescribeInstancesResponse", &out, token,
                                          sizeof token, &err) == 0,
                  "%s", err.msg);
    ck_assert_str_eq(token, "");
    ck_assert_uint_eq(out.n, 1);
    ck_assert_int_eq(out.items[0].state, CB_INSTANCE_RUNNING);
    ck_assert_str_eq(out.items[0].private_ip, "10.248.129.53");
    ck_assert_str_eq(out.items[0].public_ip, "23.22.177.20");
    cb_instance_list_free(&out);
    free(body);

    body = fixture(LIFECYCLE "031-TerminateInstances.response.xml", &len);
    ck_assert_msg(ec2_xml_parse_terminate(body, len, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_int_eq(out.items[0].state, CB_INSTANCE_STOPPING);
    cb_instance_list_free(&out);
    free(body);

    /* every recorded DescribeInstances of the lifecycle parses */
    for (int i = 2; i <= 32; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, LIFECYCLE "%03d-DescribeInstances.response.xml", i);
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/fixtures/ec2/%s", getenv("top_srcdir"), rel);
        if (access(path, R_OK) != 0)
            continue;
        body = fixture(rel, &len);
        ck_assert_msg(ec2_xml_parse_instances(body, len, "DescribeInstancesResponse", &out, NULL, 0,
                                              &err) == 0,
                      "%s: %s", rel, err.msg);
        free(body);
    }
    ck_assert_uint_ge(out.n, 20);
    bool seen_shutting_down = false;
    for (size_t i = 0; i < out.n; i++)
        seen_shutting_down |= out.items[i].state == CB_INSTANCE_STOPPING;
    ck_assert(seen_shutting_down);
    cb_instance_list_free(&out);
}
END_TEST

START_TEST(test_recorded_tags_and_many_reservations)
{
    size_t len;
    char *body = fixture("libcloud/describe_instances.xml", &len);
    struct cb_instance_list out = { 0 };
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(ec2_xml_parse_instances(body, len, "DescribeInstancesResponse", &out, NULL, 0,
                                          &err) == 0,
                  "%s", err.msg);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_str_eq(out.items[0].id, "i-4382922a");
    ck_assert_str_eq(out.items[1].id, "i-8474834a");
    /* nested networkInterfaceSet addresses are not the instance's own field */
    ck_assert_str_eq(out.items[1].private_ip, "172.16.9.139");
    cb_instance_list_free(&out);
    free(body);

    body = fixture("jclouds/describe_instances_latest.xml", &len);
    ck_assert_msg(ec2_xml_parse_instances(body, len, "DescribeInstancesResponse", &out, NULL, 0,
                                          &err) == 0,
                  "%s", err.msg);
    ck_assert_uint_ge(out.n, 2);
    cb_instance_list_free(&out);
    free(body);
}
END_TEST

START_TEST(test_recorded_errors)
{
    size_t len;
    struct ec2_error_doc doc;
    struct cb_err err = CB_ERR_INIT;
    char *body = fixture("deltacloud-vcr-aws/extracted/test_0001_must_throw_error_when_wrong_"
                         "credentials/001-DescribeAvailabilityZones.response.xml",
                         &len);
    ck_assert_int_eq(ec2_xml_parse_error(body, len, &doc, &err), 0);
    ck_assert_str_eq(doc.code, "AuthFailure");
    ck_assert_str_eq(doc.message, "AWS was not able to validate the provided access credentials");
    ck_assert_str_eq(doc.request_id, "d6332a66-1bac-4843-80e4-5bcb65fe4ff5");
    free(body);
    body = fixture("deltacloud-vcr-aws/extracted/test_0004_must_allow_to_retrieve_single_instance/"
                   "004-DescribeInstances.response.xml",
                   &len);
    ck_assert_int_eq(ec2_xml_parse_error(body, len, &doc, &err), 0);
    ck_assert_str_eq(doc.code, "InvalidInstanceID.NotFound");
    free(body);
    /* a success document is not an error document */
    body = fixture(LIFECYCLE "001-RunInstances.response.xml", &len);
    ck_assert_int_eq(ec2_xml_parse_error(body, len, &doc, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "RunInstancesResponse"));
    free(body);
}
END_TEST

static void expect_invalid(const char *doc, const char *root, const char *needle)
{
    struct cb_instance_list out = { 0 };
    struct cb_err err = CB_ERR_INIT;
    char token[EC2_NEXT_TOKEN_MAX + 1];
    ck_assert_int_eq(
        ec2_xml_parse_instances(doc, strlen(doc), root, &out, token, sizeof token, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "'%s' lacks '%s'", err.msg, needle);
    ck_assert_uint_eq(out.n, 0);
    cb_instance_list_free(&out);
}

START_TEST(test_hostile_documents)
{
    expect_invalid("", "DescribeInstancesResponse", "empty");
    expect_invalid("<DescribeInstancesResponse><reservationSet>", "DescribeInstancesResponse",
                   "malformed XML at line 1");
    expect_invalid("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><DescribeInstancesResponse>&a;"
                   "</DescribeInstancesResponse>",
                   "DescribeInstancesResponse", "DTD");
    expect_invalid("<DescribeInstancesResponse/>", "DescribeInstancesResponse",
                   "missing <reservationSet>");
    expect_invalid("<DescribeInstancesResponse><reservationSet><item><instancesSet><item>"
                   "<instanceId>i-1</instanceId></item></instancesSet></item></reservationSet>"
                   "</DescribeInstancesResponse>",
                   "DescribeInstancesResponse", "instance 1 (i-1): missing <instanceState><name>");
    expect_invalid("<RunInstancesResponse><instancesSet><item><instanceId>i-1;rm</instanceId>"
                   "<instanceState><name>pending</name></instanceState></item></instancesSet>"
                   "</RunInstancesResponse>",
                   "RunInstancesResponse", "not an instance id");
    expect_invalid("<RunInstancesResponse><instancesSet><item><instanceId>i-1</instanceId>"
                   "<instanceState><name>pending</name></instanceState><amiLaunchIndex>-3"
                   "</amiLaunchIndex></item></instancesSet></RunInstancesResponse>",
                   "RunInstancesResponse", "amiLaunchIndex");
    expect_invalid("<RunInstancesResponse><instancesSet><item><instanceId>i-1</instanceId>"
                   "<instanceState><name>pending</name></instanceState><launchTime>yesterday"
                   "</launchTime></item></instancesSet></RunInstancesResponse>",
                   "RunInstancesResponse", "launchTime");
    expect_invalid("<RunInstancesResponse><instancesSet><item><instanceId>i-1</instanceId>"
                   "<instanceState><name>pending</name></instanceState><tagSet><item>"
                   "<key>cloudburst-batch</key><value>a b\n</value></item></tagSet></item>"
                   "</instancesSet></RunInstancesResponse>",
                   "RunInstancesResponse", "tag cloudburst-batch");

    /* a state word EC2 may add later is UNKNOWN, and reasons are sanitised */
    static const char ok[] =
        "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
        "<reservationSet><item><instancesSet><item><instanceId>i-0abc</instanceId>"
        "<instanceState><code>99</code><name>hibernating</name></instanceState>"
        "<stateReason><code>x</code><message>bad\tx\nline</message></stateReason>"
        "<tagSet><item><key>cloudburst-node</key><value>b1-7</value></item>"
        "<item><key>cloudburst-batch</key><value>b1</value></item></tagSet>"
        "</item></instancesSet></item></reservationSet><nextToken>tok+/=123</nextToken>"
        "</DescribeInstancesResponse>";
    struct cb_instance_list out = { 0 };
    struct cb_err err = CB_ERR_INIT;
    char token[EC2_NEXT_TOKEN_MAX + 1];
    ck_assert_int_eq(ec2_xml_parse_instances(ok, sizeof ok - 1, "DescribeInstancesResponse", &out,
                                             token, sizeof token, &err),
                     0);
    ck_assert_int_eq(out.items[0].state, CB_INSTANCE_UNKNOWN);
    ck_assert_str_eq(out.items[0].node_id, "b1-7");
    ck_assert_str_eq(out.items[0].batch_id, "b1");
    ck_assert_str_eq(token, "tok+/=123");
    ck_assert_ptr_null(strchr(out.items[0].state_reason, '\t'));
    ck_assert_ptr_null(strchr(out.items[0].state_reason, '\n'));
    ck_assert_int_eq(out.items[0].launch_time, -1);
    cb_instance_list_free(&out);

    /* an oversize nextToken is refused */
    char big[2400];
    int n = snprintf(big, sizeof big,
                     "<DescribeInstancesResponse><reservationSet/><nextToken>");
    memset(big + n, 'A', 1100);
    snprintf(big + n + 1100, sizeof big - (size_t)n - 1100,
             "</nextToken></DescribeInstancesResponse>");
    expect_invalid(big, "DescribeInstancesResponse", "nextToken");
}
END_TEST

START_TEST(test_next_token_scan)
{
    char tok[64];
    struct cb_err err = CB_ERR_INIT;
    static const char with[] = "<DescribeInstancesResponse xmlns=\"x\"><reservationSet><item>"
                               "<nextToken>inner</nextToken></item></reservationSet>"
                               "<nextToken> abc+/= </nextToken></DescribeInstancesResponse>";
    ck_assert_int_eq(ec2_xml_next_token(with, sizeof with - 1, tok, sizeof tok, &err), 0);
    ck_assert_str_eq(tok, "abc+/=");
    static const char without[] = "<DescribeInstancesResponse><reservationSet/>"
                                  "</DescribeInstancesResponse>";
    ck_assert_int_eq(ec2_xml_next_token(without, sizeof without - 1, tok, sizeof tok, &err), 0);
    ck_assert_str_eq(tok, "");
    struct {
        const char *doc, *needle;
    } bad[] = {
        { "<DescribeInstancesResponse><nextToken>abc", "malformed" },
        { "<RunInstancesResponse><nextToken>a</nextToken></RunInstancesResponse>", "malformed" },
        { "<!DOCTYPE d [<!ENTITY e \"x\">]><DescribeInstancesResponse><nextToken>&e;</nextToken>"
          "</DescribeInstancesResponse>",
          "malformed" },
        { "<DescribeInstancesResponse><nextToken>a<b/></nextToken></DescribeInstancesResponse>",
          "malformed" },
        { "<DescribeInstancesResponse><nextToken>a b</nextToken></DescribeInstancesResponse>",
          "bad character" },
        { "<DescribeInstancesResponse><nextToken>0123456789012345678901234567890123456789012345"
          "678901234567890123456789</nextToken></DescribeInstancesResponse>",
          "longer than 63" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cb_err_clear(&err);
        ck_assert_int_eq(ec2_xml_next_token(bad[i].doc, strlen(bad[i].doc), tok, sizeof tok, &err),
                         -1);
        ck_assert_msg(strstr(err.msg, bad[i].needle) != NULL, "case %zu: %s", i, err.msg);
        ck_assert_str_eq(tok, "");
    }
}
END_TEST

START_TEST(test_state_names)
{
    ck_assert_int_eq(ec2_state_from_name("pending"), CB_INSTANCE_PENDING);
    ck_assert_int_eq(ec2_state_from_name("running"), CB_INSTANCE_RUNNING);
    ck_assert_int_eq(ec2_state_from_name("shutting-down"), CB_INSTANCE_STOPPING);
    ck_assert_int_eq(ec2_state_from_name("stopped"), CB_INSTANCE_STOPPING);
    ck_assert_int_eq(ec2_state_from_name("terminated"), CB_INSTANCE_TERMINATED);
    ck_assert_int_eq(ec2_state_from_name(""), CB_INSTANCE_UNKNOWN);
}
END_TEST

/* ---- credentials ------------------------------------------------------------ */

START_TEST(test_credentials_file_formats)
{
    struct ec2_credentials c;
    struct cb_err err = CB_ERR_INIT;
    static const char ini[] = "[default]\r\naws_access_key_id=AKIDA\r\n"
                              "aws_secret_access_key = s3cr/t+\r\naws_session_token = tok\r\n";
    ck_assert_int_eq(ec2_cred_parse_file(ini, sizeof ini - 1, NULL, "f", &c, &err), 0);
    ck_assert_str_eq(c.access_key_id, "AKIDA");
    ck_assert_str_eq(c.secret_access_key, "s3cr/t+");
    ck_assert_str_eq(c.session_token, "tok");
    ck_assert_int_eq(c.expires, -1);
    ec2_cred_wipe(&c);
    ec2_cred_wipe(&c);

    static const char plain[] = "AKIDB\nsecretB";
    ck_assert_int_eq(ec2_cred_parse_file(plain, sizeof plain - 1, NULL, "f", &c, &err), 0);
    ck_assert_str_eq(c.access_key_id, "AKIDB");
    ck_assert_ptr_null(c.session_token);
    ec2_cred_wipe(&c);

    struct {
        const char *text, *needle;
    } bad[] = {
        { "[other]\naws_access_key_id=AKIDX\naws_secret_access_key=hidden1\n", "no [default]" },
        { "[default]\naws_access_key_id=AKIDX\n", "secret access key missing" },
        { "[default]\naws_access_key_id=AKI DX\naws_secret_access_key=hidden1\n", "access key id" },
        { "[default\naws_access_key_id=AKIDX\n", "line 1: malformed section" },
        { "aws_access_key_id=AKIDX\n", "before any [profile]" },
        { "AKIDX\nhidden1\ntoken\nextra\n", "line 4" },
        { "AKIDX\n", "'key id' and 'secret'" },
        { "AKIDX\nhid den1\n", "blanks" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cb_err_clear(&err);
        ck_assert_int_eq(ec2_cred_parse_file(bad[i].text, strlen(bad[i].text), NULL,
                                             "/etc/cb/aws", &c, &err),
                         -1);
        ck_assert_msg(strstr(err.msg, bad[i].needle) != NULL, "case %zu: '%s' lacks '%s'", i,
                      err.msg, bad[i].needle);
        ck_assert_str_eq(err.origin, "/etc/cb/aws");
        ck_assert_ptr_null(strstr(err.msg, "hidden"));
        ck_assert_ptr_null(c.access_key_id);
    }
}
END_TEST

START_TEST(test_imds_document)
{
    struct ec2_credentials c;
    struct cb_err err = CB_ERR_INIT;
    static const char doc[] =
        "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2026-11-22T04:00:00Z\",\n"
        "  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAEXAMPLE\",\n"
        "  \"SecretAccessKey\" : \"wJalr/EXAMPLE\",\n  \"Token\" : \"IQoJb3JpZ2luX2VjEXAMPLE==\",\n"
        "  \"Expiration\" : \"2026-11-22T10:00:00Z\"\n}\n";
    ck_assert_int_eq(ec2_cred_parse_imds(doc, sizeof doc - 1, &c, &err), 0);
    ck_assert_str_eq(c.access_key_id, "ASIAEXAMPLE");
    ck_assert_str_eq(c.session_token, "IQoJb3JpZ2luX2VjEXAMPLE==");
    ck_assert_int_eq(c.expires, 1795341600);
    ck_assert_str_eq(c.source, "imds");
    ec2_cred_wipe(&c);

    struct {
        const char *text, *needle;
        enum cb_errcode code;
    } bad[] = {
        { "{\"Code\":\"AssumeRoleUnauthorizedAccess\"}", "Code=AssumeRoleUnauthorizedAccess",
          CB_ERR_AUTH },
        { "{\"Code\":\"Success\",\"AccessKeyId\":\"A1\"}", "SecretAccessKey", CB_ERR_INVALID },
        { "{\"Code\":\"Success\",\"AccessKeyId\":\"A1\",\"SecretAccessKey\":\"s\",\"Token\":\"t\","
          "\"Expiration\":\"soon\"}",
          "Expiration", CB_ERR_INVALID },
        { "[1,2]", "not a JSON object", CB_ERR_INVALID },
        { "{\"Code\":", "malformed JSON", CB_ERR_INVALID },
        { "{} {}", "trailing", CB_ERR_INVALID },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cb_err_clear(&err);
        ck_assert_int_eq(ec2_cred_parse_imds(bad[i].text, strlen(bad[i].text), &c, &err), -1);
        ck_assert_msg(strstr(err.msg, bad[i].needle) != NULL, "case %zu: '%s'", i, err.msg);
        ck_assert_int_eq(err.code, bad[i].code);
    }
}
END_TEST

/* ---- fuzz replay -------------------------------------------------------------- */

struct files {
    char **v;
    size_t n, cap;
};

static void find_files(struct files *f, const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            find_files(f, p);
        } else if (strstr(e->d_name, ".xml") != NULL || strstr(e->d_name, ".json") != NULL ||
                   strstr(e->d_name, ".txt") != NULL) {
            if (f->n == f->cap) {
                f->cap = f->cap ? f->cap * 2 : 256;
                f->v = realloc(f->v, f->cap * sizeof *f->v);
                ck_assert_ptr_nonnull(f->v);
            }
            f->v[f->n++] = strdup(p);
        }
    }
    closedir(d);
}

START_TEST(test_fuzz_replay_recorded)
{
    static const char *const targets[] = { "fuzz_ec2_instances", "fuzz_ec2_terminate",
                                           "fuzz_ec2_error", "fuzz_ec2_credentials" };
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/ec2", getenv("top_srcdir"));
    struct files f = { 0 };
    find_files(&f, dir);
    ck_assert_uint_ge(f.n, 100);
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        char prog[4096];
        snprintf(prog, sizeof prog, "%s/tests/fuzz/%s", getenv("top_builddir"), targets[t]);
        char **argv = calloc(f.n + 2, sizeof *argv);
        ck_assert_ptr_nonnull(argv);
        argv[0] = prog;
        memcpy(argv + 1, f.v, f.n * sizeof *argv);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            execv(prog, argv);
            _exit(127);
        }
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s over %zu recorded replies: %s %d",
                      targets[t], f.n, WIFEXITED(st) ? "exit" : "signal",
                      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        free(argv);
    }
    for (size_t i = 0; i < f.n; i++)
        free(f.v[i]);
    free(f.v);
}
END_TEST

int main(void)
{
    if (getenv("top_srcdir") == NULL || getenv("top_builddir") == NULL) {
        fprintf(stderr, "test_ec2_xml: top_srcdir and top_builddir must be set\n");
        return 99;
    }
    ec2_xml_init();
    Suite *s = suite_create("ec2_xml");
    TCase *tc = tcase_create("parsers");
    tcase_add_test(tc, test_recorded_run_instances);
    tcase_add_test(tc, test_recorded_lifecycle);
    tcase_add_test(tc, test_recorded_tags_and_many_reservations);
    tcase_add_test(tc, test_recorded_errors);
    tcase_add_test(tc, test_hostile_documents);
    tcase_add_test(tc, test_next_token_scan);
    tcase_add_test(tc, test_state_names);
    tcase_add_test(tc, test_credentials_file_formats);
    tcase_add_test(tc, test_imds_document);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("fuzz replay");
    tcase_set_timeout(tf, 300);
    tcase_add_test(tf, test_fuzz_replay_recorded);
    suite_add_tcase(s, tf);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
