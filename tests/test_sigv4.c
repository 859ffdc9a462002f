/* test_sigv4: the official AWS SigV4 test suite, every case, as Check tests.
 *
 *   tests/test_sigv4 [SUITE_DIR]
 *
 * SUITE_DIR (default $top_srcdir/tests/fixtures/sigv4) is searched
 * recursively; every case found there runs:
 * - the classic layout (aws4_testsuite, as vendored by botocore): a folder
 *   NAME holding NAME.req, NAME.creq, NAME.sts, NAME.authz, NAME.sreq, signed
 *   with the suite's fixed key, region us-east-1, service "service";
 * - the aws-c-auth layout: request.txt + context.json (credentials, region,
 *   service, timestamp, normalize, sign_body, omit_session_token), checked in
 *   header mode (header-*.txt) and query mode (query-*.txt).
 * Each case compares the canonical request, the string to sign, the signature
 * and what the signer adds to the request with the suite's expected files.
 */
#include "sigv4.h"

#include <check.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SUITE_ENV "CB_SIGV4_SUITE_DIR"

/* ---- files and case discovery ------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf != NULL && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

struct caselist {
    char **paths;
    size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(struct caselist *cl, const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/context.json", dir);
    bool crt = exists(p);
    snprintf(p, sizeof p, "%s/request.txt", dir);
    crt = crt && exists(p);
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    snprintf(p, sizeof p, "%s/%s.req", dir, base);
    if (crt || exists(p)) {
        if (cl->n == cl->cap) {
            cl->cap = cl->cap ? cl->cap * 2 : 64;
            cl->paths = realloc(cl->paths, cl->cap * sizeof *cl->paths);
            if (cl->paths == NULL)
                abort(); /* also runs outside a test (main), where ck_assert cannot */
        }
        cl->paths[cl->n++] = strdup(dir);
    }
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            collect(cl, p);
    }
    closedir(d);
}

static void caselist_load(struct caselist *cl)
{
    memset(cl, 0, sizeof *cl);
    const char *dir = getenv(SUITE_ENV);
    ck_assert_ptr_nonnull(dir);
    collect(cl, dir);
    qsort(cl->paths, cl->n, sizeof *cl->paths, cmp_str);
}

static void caselist_free(struct caselist *cl)
{
    for (size_t i = 0; i < cl->n; i++)
        free(cl->paths[i]);
    free(cl->paths);
}

/* ---- parsing a raw request ----------------------------------------------- */

struct raw_request {
    char *text;
    char method[16];
    char *path, *query;
    struct sigv4_header headers[SIGV4_MAX_HEADERS];
    size_t n_headers;
    const char *body;
    size_t body_len;
};

static void parse_request(struct raw_request *r, const char *file)
{
    memset(r, 0, sizeof *r);
    size_t len;
    r->text = read_file(file, &len);
    ck_assert_msg(r->text != NULL, "cannot read %s", file);
    char *line = r->text;
    char *eol = strchr(line, '\n');
    if (eol)
        *eol = '\0';
    char uri[8192];
    ck_assert_msg(sscanf(line, "%15s %8191s", r->method, uri) == 2, "%s: bad request line", file);
    /* uri and the strings below live in r->text after rewriting */
    char *sp = strchr(line, ' ') + 1;
    char *usp = strrchr(sp, ' ');
    ck_assert_ptr_nonnull(usp);
    *usp = '\0';
    r->path = sp;
    char *q = strchr(sp, '?');
    if (q != NULL) {
        *q = '\0';
        r->query = q + 1;
    }
    char *p = eol ? eol + 1 : NULL;
    while (p != NULL && *p != '\0') {
        eol = strchr(p, '\n');
        if (eol)
            *eol = '\0';
        if (*p == '\0') { /* blank line: the body follows */
            r->body = eol ? eol + 1 : "";
            r->body_len = strlen(r->body);
            break;
        }
        char *colon = strchr(p, ':');
        ck_assert_msg(colon != NULL, "%s: header line without ':'", file);
        *colon = '\0';
        ck_assert_uint_lt(r->n_headers, SIGV4_MAX_HEADERS);
        r->headers[r->n_headers].name = p;
        r->headers[r->n_headers++].value = colon + 1;
        p = eol ? eol + 1 : NULL;
    }
}

static void expect_file(const char *dir, const char *name, const char *got)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *want = read_file(path, NULL);
    ck_assert_msg(want != NULL, "cannot read %s", path);
    ck_assert_msg(strcmp(want, got) == 0, "%s differs:\n--- expected\n%s\n--- got\n%s", path, want,
                  got);
    free(want);
}

/* True if `line` is one of the lines of `text`. */
static bool has_line(const char *text, const char *line)
{
    size_t l = strlen(line);
    for (const char *p = text; p != NULL && *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n == l && strncmp(p, line, l) == 0)
            return true;
        p = eol ? eol + 1 : NULL;
    }
    return false;
}

/* ---- the classic layout -------------------------------------------------- */

static void run_classic(const char *dir)
{
    const char *base = strrchr(dir, '/') + 1;
    char path[4096], name[512];
    struct raw_request r;
    snprintf(path, sizeof path, "%s/%s.req", dir, base);
    parse_request(&r, path);

    /* the date is the request's own X-Amz-Date */
    const char *date = NULL;
    for (size_t i = 0; i < r.n_headers; i++)
        if (strcasecmp(r.headers[i].name, "X-Amz-Date") == 0)
            date = r.headers[i].value;
    ck_assert_msg(date != NULL, "%s: no X-Amz-Date", path);

    struct sigv4_request req = { .method = r.method, .path = r.path, .query = r.query,
                                 .headers = r.headers, .n_headers = r.n_headers,
                                 .body = r.body, .body_len = r.body_len };
    struct sigv4_credentials cred = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                      NULL };
    struct sigv4_params pr = { .region = "us-east-1", .service = "service", .amz_date = date,
                               .mode = SIGV4_MODE_HEADER, .normalize_path = true };
    struct sigv4_result res;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(sigv4_sign(&req, &cred, &pr, &res, &err) == 0, "%s: %s", dir, err.msg);

    snprintf(name, sizeof name, "%s.creq", base);
    expect_file(dir, name, res.canonical_request);
    snprintf(name, sizeof name, "%s.sts", base);
    expect_file(dir, name, res.string_to_sign);
    snprintf(name, sizeof name, "%s.authz", base);
    expect_file(dir, name, res.authorization);

    /* The signed request carries exactly our Authorization value. */
    snprintf(path, sizeof path, "%s/%s.sreq", dir, base);
    char *sreq = read_file(path, NULL);
    ck_assert_ptr_nonnull(sreq);
    char line[1024];
    snprintf(line, sizeof line, "Authorization: %s", res.authorization);
    ck_assert_msg(has_line(sreq, line), "%s: signed request lacks '%s'", path, line);
    /* Nothing to add: the request already has its X-Amz-Date. */
    ck_assert_ptr_nonnull(res.add_headers[0]);
    ck_assert_int_eq(strncmp(res.add_headers[0], "Authorization:", 14), 0);
    ck_assert_str_eq(res.add_headers[0] + 14, res.authorization);
    ck_assert_ptr_null(res.add_headers[1]);
    free(sreq);
    sigv4_result_free(&res);
    sigv4_result_free(&res);
    free(r.text);
}

/* ---- the aws-c-auth layout ----------------------------------------------- */

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static bool jbool(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

/* Split a query into sorted parameters, joined by '\n', for set comparison. */
static char *sorted_params(const char *q)
{
    char *copy = strdup(q), *save = NULL;
    char *v[128];
    size_t n = 0;
    for (char *t = strtok_r(copy, "&", &save); t != NULL && n < 128; t = strtok_r(NULL, "&", &save))
        v[n++] = t;
    qsort(v, n, sizeof v[0], cmp_str);
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(v[i]) + 1;
    char *out = calloc(1, total);
    for (size_t i = 0; i < n; i++) {
        strcat(out, v[i]);
        strcat(out, "\n");
    }
    free(copy);
    return out;
}

static void run_crt_mode(const char *dir, json_object *ctx, enum sigv4_mode mode)
{
    char path[4096], date[17];
    struct raw_request r;
    snprintf(path, sizeof path, "%s/request.txt", dir);
    parse_request(&r, path);

    json_object *c;
    ck_assert(json_object_object_get_ex(ctx, "credentials", &c));
    const char *ts = jstr(ctx, "timestamp");
    ck_assert_ptr_nonnull(ts);
    /* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
    size_t k = 0;
    for (const char *p = ts; *p && k < 16; p++)
        if (*p != '-' && *p != ':')
            date[k++] = *p;
    date[k] = '\0';
    json_object *ev;
    unsigned expires = json_object_object_get_ex(ctx, "expiration_in_seconds", &ev)
                           ? (unsigned)json_object_get_int(ev)
                           : 3600;

    struct sigv4_request req = { .method = r.method, .path = r.path, .query = r.query,
                                 .headers = r.headers, .n_headers = r.n_headers,
                                 .body = r.body, .body_len = r.body_len };
    struct sigv4_credentials cred = { jstr(c, "access_key_id"), jstr(c, "secret_access_key"),
                                      jstr(c, "token") };
    struct sigv4_params pr = { .region = jstr(ctx, "region"), .service = jstr(ctx, "service"),
                               .amz_date = date, .mode = mode,
                               .normalize_path = jbool(ctx, "normalize"),
                               .add_content_sha256 = jbool(ctx, "sign_body"),
                               .omit_session_token = jbool(ctx, "omit_session_token"),
                               .expires = expires };
    struct sigv4_result res;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(sigv4_sign(&req, &cred, &pr, &res, &err) == 0, "%s: %s", dir, err.msg);

    const char *m = mode == SIGV4_MODE_HEADER ? "header" : "query";
    char name[64];
    snprintf(name, sizeof name, "%s-canonical-request.txt", m);
    expect_file(dir, name, res.canonical_request);
    snprintf(name, sizeof name, "%s-string-to-sign.txt", m);
    expect_file(dir, name, res.string_to_sign);
    snprintf(name, sizeof name, "%s-signature.txt", m);
    expect_file(dir, name, res.signature);

    snprintf(path, sizeof path, "%s/%s-signed-request.txt", dir, m);
    char *sreq = read_file(path, NULL);
    ck_assert_ptr_nonnull(sreq);
    if (mode == SIGV4_MODE_HEADER) {
        ck_assert_ptr_nonnull(res.authorization);
        ck_assert_ptr_null(res.signed_query);
        size_t n = 0;
        for (; res.add_headers[n] != NULL; n++)
            ck_assert_msg(has_line(sreq, res.add_headers[n]), "%s: signed request lacks '%s'",
                          path, res.add_headers[n]);
        ck_assert_uint_ge(n, 1);
    } else {
        ck_assert_ptr_null(res.authorization);
        ck_assert_ptr_nonnull(res.signed_query);
        /* the request line's query equals ours as a set of parameters */
        char *sp = strchr(sreq, '?');
        ck_assert_ptr_nonnull(sp);
        char *end = strchr(sp, ' ');
        ck_assert_ptr_nonnull(end);
        *end = '\0';
        char *want = sorted_params(sp + 1), *got = sorted_params(res.signed_query);
        ck_assert_msg(strcmp(want, got) == 0, "%s: query differs:\n%s\nvs\n%s", path, want, got);
        free(want);
        free(got);
    }
    free(sreq);
    sigv4_result_free(&res);
    free(r.text);
}

static void run_crt(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/context.json", dir);
    json_object *ctx = json_object_from_file(path);
    ck_assert_msg(ctx != NULL, "%s: bad JSON", path);
    run_crt_mode(dir, ctx, SIGV4_MODE_HEADER);
    run_crt_mode(dir, ctx, SIGV4_MODE_QUERY);
    json_object_put(ctx);
}

START_TEST(test_suite_case)
{
    struct caselist cl;
    caselist_load(&cl);
    ck_assert_uint_lt((size_t)_i, cl.n);
    const char *dir = cl.paths[_i];
    char p[4096];
    snprintf(p, sizeof p, "%s/context.json", dir);
    if (exists(p))
        run_crt(dir);
    else
        run_classic(dir);
    caselist_free(&cl);
}
END_TEST

/* ---- the signer's own contract -------------------------------------------- */

static const struct sigv4_credentials test_cred = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL
};

START_TEST(test_refuses_bad_input)
{
    struct sigv4_header ok[] = { { "Host", "example.amazonaws.com" } };
    struct sigv4_header crlf[] = { { "Host", "example.amazonaws.com" },
                                   { "X-Evil", "a\r\nInjected: 1" } };
    struct sigv4_header nohost[] = { { "X-Thing", "1" } };
    struct sigv4_params pr = { .region = "us-east-1", .service = "ec2",
                               .amz_date = "20150830T123600Z" };
    struct sigv4_request req = { .method = "GET", .path = "/", .headers = ok, .n_headers = 1 };
    struct sigv4_result res;
    struct cb_err err = CB_ERR_INIT;

    req.headers = crlf;
    req.n_headers = 2;
    ck_assert_int_eq(sigv4_sign(&req, &test_cred, &pr, &res, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "x-evil"));
    ck_assert_ptr_null(res.canonical_request);

    cb_err_clear(&err);
    req.headers = nohost;
    req.n_headers = 1;
    ck_assert_int_eq(sigv4_sign(&req, &test_cred, &pr, &res, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "Host"));

    cb_err_clear(&err);
    req.headers = ok;
    pr.amz_date = "2015-08-30 12:36";
    ck_assert_int_eq(sigv4_sign(&req, &test_cred, &pr, &res, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "X-Amz-Date"));

    cb_err_clear(&err);
    pr.amz_date = "20150830T123600Z";
    pr.region = "us-east-1/evil";
    ck_assert_int_eq(sigv4_sign(&req, &test_cred, &pr, &res, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "region"));

    cb_err_clear(&err);
    pr.region = "us-east-1";
    struct sigv4_credentials badkey = { "AKID EXAMPLE", "secret", NULL };
    ck_assert_int_eq(sigv4_sign(&req, &badkey, &pr, &res, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "access key"));

    cb_err_clear(&err);
    struct sigv4_credentials nosecret = { "AKIDEXAMPLE", "", NULL };
    ck_assert_int_eq(sigv4_sign(&req, &nosecret, &pr, &res, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "secret"));

    cb_err_clear(&err);
    pr.mode = SIGV4_MODE_QUERY;
    pr.expires = 0;
    ck_assert_int_eq(sigv4_sign(&req, &test_cred, &pr, &res, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "expires"));
}
END_TEST

START_TEST(test_secret_never_in_output)
{
    struct sigv4_header h[] = { { "Host", "ec2.us-east-1.amazonaws.com" } };
    struct sigv4_request req = { .method = "POST", .path = "/", .headers = h, .n_headers = 1,
                                 .body = "Action=DescribeInstances", .body_len = 24 };
    struct sigv4_params pr = { .region = "us-east-1", .service = "ec2",
                               .amz_date = "20260101T000000Z", .normalize_path = true };
    struct sigv4_credentials cred = { "AKIDEXAMPLE", "TopSecretKeyValue", "SessionTok" };
    struct sigv4_result res;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sigv4_sign(&req, &cred, &pr, &res, &err), 0);
    ck_assert_ptr_null(strstr(res.canonical_request, "TopSecret"));
    ck_assert_ptr_null(strstr(res.authorization, "TopSecret"));
    /* the token is signed: it is in the canonical request and added as a header */
    ck_assert_ptr_nonnull(strstr(res.canonical_request, "x-amz-security-token:SessionTok\n"));
    ck_assert_str_eq(res.add_headers[0], "X-Amz-Date:20260101T000000Z");
    ck_assert_str_eq(res.add_headers[1], "X-Amz-Security-Token:SessionTok");
    static const char want[] = "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/"
                               "us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date;"
                               "x-amz-security-token, Signature=";
    ck_assert_int_eq(strncmp(res.add_headers[2], want, sizeof want - 1), 0);
    ck_assert_uint_eq(strlen(res.add_headers[2]), sizeof want - 1 + 64);
    ck_assert_ptr_null(res.add_headers[3]);
    sigv4_result_free(&res);

    /* omit_session_token: added after signing, not signed */
    pr.omit_session_token = true;
    ck_assert_int_eq(sigv4_sign(&req, &cred, &pr, &res, &err), 0);
    ck_assert_ptr_null(strstr(res.canonical_request, "SessionTok"));
    ck_assert_str_eq(res.add_headers[1], "X-Amz-Security-Token:SessionTok");
    ck_assert_ptr_nonnull(strstr(res.add_headers[2], "SignedHeaders=host;x-amz-date,"));
    sigv4_result_free(&res);
}
END_TEST

START_TEST(test_helpers)
{
    char hex[65], date[17];
    ck_assert_str_eq(sigv4_sha256_hex("", 0, hex),
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_str_eq(sigv4_sha256_hex("Param1=value1", 13, hex),
                     "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    ck_assert_str_eq(sigv4_format_date((time_t)1440938160, date), "20150830T123600Z");
}
END_TEST

START_TEST(test_suite_found)
{
    struct caselist cl;
    caselist_load(&cl);
    /* the suite's directory must hold cases: an empty run proves nothing */
    ck_assert_uint_ge(cl.n, 1);
    caselist_free(&cl);
}
END_TEST

int main(int argc, char **argv)
{
    char dir[4096];
    if (argc > 1) {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    } else {
        const char *top = getenv("top_srcdir");
        snprintf(dir, sizeof dir, "%s/tests/fixtures/sigv4", top ? top : ".");
    }
    if (!exists(dir)) {
        fprintf(stderr, "test_sigv4: suite directory %s not found\n", dir);
        return 99;
    }
    setenv(SUITE_ENV, dir, 1);

    struct caselist cl;
    memset(&cl, 0, sizeof cl);
    collect(&cl, dir);
    size_t ncases = cl.n;
    caselist_free(&cl);
    printf("test_sigv4: %zu cases in %s\n", ncases, dir);

    Suite *s = suite_create("sigv4");
    TCase *tc = tcase_create("official suite");
    tcase_add_test(tc, test_suite_found);
    tcase_add_loop_test(tc, test_suite_case, 0, (int)ncases);
    suite_add_tcase(s, tc);
    TCase *tu = tcase_create("signer contract");
    tcase_add_test(tu, test_refuses_bad_input);
    tcase_add_test(tu, test_secret_never_in_output);
    tcase_add_test(tu, test_helpers);
    suite_add_tcase(s, tu);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
