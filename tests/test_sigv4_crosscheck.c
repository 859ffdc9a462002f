/* test_sigv4_crosscheck: signs every request of a JSON-lines file written by
 * tests/sigv4/crosscheck.js with providers/ec2/sigv4.c and compares with the
 * signature the official AWS JavaScript SDK signer produced for it.
 *
 *   tests/test_sigv4_crosscheck CASES.jsonl
 *
 * Prints one line per mismatch (with the canonical request, to debug) and
 * "N passed, M failed"; exits 0 only if every case matched and there was at
 * least one. */
#include "sigv4.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    return json_object_get_string(v);
}

static bool jbool(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

/* Returns 1 on match, 0 on mismatch (explained on stderr). */
static int check_case(json_object *c, long line)
{
    json_object *hs;
    if (!json_object_object_get_ex(c, "headers", &hs) || !json_object_is_type(hs, json_type_array))
        return fprintf(stderr, "line %ld: no headers\n", line), 0;
    size_t nh = json_object_array_length(hs);
    if (nh > SIGV4_MAX_HEADERS)
        return fprintf(stderr, "line %ld: too many headers\n", line), 0;
    struct sigv4_header h[SIGV4_MAX_HEADERS];
    for (size_t i = 0; i < nh; i++) {
        json_object *pair = json_object_array_get_idx(hs, i);
        h[i].name = json_object_get_string(json_object_array_get_idx(pair, 0));
        h[i].value = json_object_get_string(json_object_array_get_idx(pair, 1));
    }
    const char *body = jstr(c, "body");
    bool presign = jbool(c, "presign");
    json_object *ev;
    unsigned expires = json_object_object_get_ex(c, "expires", &ev) ? (unsigned)json_object_get_int(ev) : 0;
    struct sigv4_request req = { .method = jstr(c, "method"), .path = jstr(c, "path"),
                                 .query = jstr(c, "query"), .headers = h, .n_headers = nh,
                                 .body = body, .body_len = body ? strlen(body) : 0 };
    struct sigv4_credentials cred = { jstr(c, "key"), jstr(c, "secret"), jstr(c, "token") };
    struct sigv4_params pr = { .region = jstr(c, "region"), .service = jstr(c, "service"),
                               .amz_date = jstr(c, "date"),
                               .mode = presign ? SIGV4_MODE_QUERY : SIGV4_MODE_HEADER,
                               .normalize_path = true, .add_content_sha256 = jbool(c, "checksum"),
                               .expires = expires };
    struct sigv4_result res;
    struct cb_err err = CB_ERR_INIT;
    if (sigv4_sign(&req, &cred, &pr, &res, &err) != 0)
        return fprintf(stderr, "line %ld: our signer refused: %s\n", line, err.msg), 0;
    int ok;
    if (presign) {
        const char *want = jstr(c, "sdk_signature");
        ok = want != NULL && strcmp(want, res.signature) == 0;
        if (!ok)
            fprintf(stderr, "line %ld: presign signature %s, SDK %s\ncanonical request:\n%s\n", line,
                    res.signature, want ? want : "(none)", res.canonical_request);
    } else {
        const char *want = jstr(c, "sdk_authorization");
        ok = want != NULL && strcmp(want, res.authorization) == 0;
        if (!ok)
            fprintf(stderr, "line %ld: Authorization\n  ours %s\n  SDK  %s\ncanonical request:\n%s\n",
                    line, res.authorization, want ? want : "(none)", res.canonical_request);
    }
    sigv4_result_free(&res);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASES.jsonl\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    long n = 0, passed = 0, failed = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        n++;
        if (len <= 1)
            continue;
        json_object *c = json_tokener_parse(line);
        if (c == NULL) {
            fprintf(stderr, "line %ld: not JSON\n", n);
            failed++;
            continue;
        }
        if (check_case(c, n))
            passed++;
        else
            failed++;
        json_object_put(c);
    }
    free(line);
    fclose(f);
    printf("sigv4 cross-check against the AWS SDK signer: %ld passed, %ld failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
