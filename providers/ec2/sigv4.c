/* sigv4: see sigv4.h. The steps follow the AWS General Reference, "Create a
 * signed AWS API request": canonical request -> string to sign -> signing key
 * -> signature. Each step is a small function so a test can compare every
 * intermediate text with the official suite. */
#include "sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALGORITHM "AWS4-HMAC-SHA256"

/* ---- a growable string; an allocation failure is sticky ------------------ */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_addc(struct sbuf *b, char c)
{
    sb_addn(b, &c, 1);
}

/* Hand the string over (NULL after OOM). */
static char *sb_take(struct sbuf *b)
{
    if (b->oom) {
        free(b->p);
        b->p = NULL;
    } else if (b->p == NULL) {
        b->p = calloc(1, 1);
    }
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

/* ---- encoding ----------------------------------------------------------- */

static bool is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 3986 encoding; '/' kept when keep_slash. */
static void sb_add_encoded(struct sbuf *b, const char *s, size_t n, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            sb_addc(b, (char)c);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            sb_addn(b, e, 3);
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into a new string (a stray '%' stays literal). */
static char *percent_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

char *sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        out[0] = '\0';
        return out;
    }
    to_hex(md, 32, out);
    return out;
}

char *sigv4_format_date(time_t t, char out[17])
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        out[0] = '\0';
    return out;
}

/* ---- canonical URI ------------------------------------------------------ */

/* RFC 3986 remove_dot_segments plus collapsing of empty segments, keeping a
 * trailing slash (what every AWS SDK does for non-S3 services). */
static char *normalize_path(const char *path)
{
    size_t n = strlen(path);
    const char **seg = calloc(n / 2 + 2, sizeof *seg);
    size_t *seglen = calloc(n / 2 + 2, sizeof *seglen);
    size_t nseg = 0;
    char *out = NULL;

    if (seg == NULL || seglen == NULL)
        goto done;
    for (const char *p = path; *p != '\0';) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 1 && p[0] == '.') {
            /* drop */
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (nseg > 0)
                nseg--;
        } else {
            seg[nseg] = p;
            seglen[nseg++] = l;
        }
        p += l;
    }
    struct sbuf b = { 0 };
    for (size_t i = 0; i < nseg; i++) {
        sb_addc(&b, '/');
        sb_addn(&b, seg[i], seglen[i]);
    }
    if (nseg == 0 || (n > 0 && path[n - 1] == '/'))
        sb_addc(&b, '/');
    out = sb_take(&b);
done:
    free(seg);
    free(seglen);
    return out;
}

static void sb_add_canonical_uri(struct sbuf *b, const char *path, bool normalize)
{
    if (path == NULL || path[0] == '\0')
        path = "/";
    if (normalize) {
        char *np = normalize_path(path);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        sb_add_encoded(b, np, strlen(np), true);
        free(np);
    } else {
        sb_add_encoded(b, path, strlen(path), true);
    }
}

/* ---- canonical query ---------------------------------------------------- */

struct qparam {
    char *key; /* encoded */
    char *value;
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : strcmp(x->value, y->value);
}

static char *encode_dup(const char *s)
{
    struct sbuf b = { 0 };
    sb_add_encoded(&b, s, strlen(s), false);
    return sb_take(&b);
}

struct qlist {
    struct qparam *v;
    size_t n, cap;
};

static int qlist_add_decoded(struct qlist *q, const char *key, const char *value)
{
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 16;
        struct qparam *nv = realloc(q->v, ncap * sizeof *nv);
        if (nv == NULL)
            return -1;
        q->v = nv;
        q->cap = ncap;
    }
    char *k = encode_dup(key), *v = encode_dup(value);
    if (k == NULL || v == NULL) {
        free(k);
        free(v);
        return -1;
    }
    q->v[q->n].key = k;
    q->v[q->n++].value = v;
    return 0;
}

static void qlist_free(struct qlist *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->v[i].key);
        free(q->v[i].value);
    }
    free(q->v);
    memset(q, 0, sizeof *q);
}

/* Split a raw query into decoded pairs (then re-encoded strictly). */
static int qlist_parse(struct qlist *q, const char *query)
{
    for (const char *p = query; p != NULL && *p != '\0';) {
        const char *amp = strchr(p, '&');
        size_t l = amp ? (size_t)(amp - p) : strlen(p);
        if (l > 0) {
            const char *eq = memchr(p, '=', l);
            size_t kl = eq ? (size_t)(eq - p) : l;
            char *k = percent_decode(p, kl);
            char *v = eq ? percent_decode(eq + 1, l - kl - 1) : calloc(1, 1);
            int rc = (k && v) ? qlist_add_decoded(q, k, v) : -1;
            free(k);
            free(v);
            if (rc != 0)
                return -1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

static void sb_add_qlist(struct sbuf *b, struct qlist *q)
{
    if (q->n > 1)
        qsort(q->v, q->n, sizeof *q->v, qparam_cmp);
    for (size_t i = 0; i < q->n; i++) {
        if (i > 0)
            sb_addc(b, '&');
        sb_add(b, q->v[i].key);
        sb_addc(b, '=');
        sb_add(b, q->v[i].value);
    }
}

/* ---- canonical headers -------------------------------------------------- */

struct chdr {
    char *name;  /* lower case */
    char *value; /* trimmed, blanks collapsed, duplicates joined with ',' */
};

static int chdr_cmp(const void *a, const void *b)
{
    return strcmp(((const struct chdr *)a)->name, ((const struct chdr *)b)->name);
}

static bool is_token_char(unsigned char c)
{
    return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Trim and collapse runs of blanks into one space. */
static void sb_add_trimmed(struct sbuf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    bool blank = false;
    for (; *v != '\0'; v++) {
        if (*v == ' ' || *v == '\t') {
            blank = true;
            continue;
        }
        if (blank)
            sb_addc(b, ' ');
        blank = false;
        sb_addc(b, *v);
    }
}

struct hset {
    struct chdr v[SIGV4_MAX_HEADERS + SIGV4_MAX_ADDED];
    size_t n;
};

static void hset_free(struct hset *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].name);
        free(h->v[i].value);
    }
    h->n = 0;
}

static struct chdr *hset_find(struct hset *h, const char *lname)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->v[i].name, lname) == 0)
            return &h->v[i];
    return NULL;
}

static int hset_add(struct hset *h, const char *name, const char *value, struct cb_err *err)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl > 256)
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "header name empty or longer than 256");
    char lname[257];
    for (size_t i = 0; i < nl; i++) {
        if (!is_token_char((unsigned char)name[i]))
            return cb_err_set(err, CB_ERR_INVALID, "sigv4", "header name has an invalid character");
        lname[i] = (char)tolower((unsigned char)name[i]);
    }
    lname[nl] = '\0';
    for (const char *p = value; *p != '\0'; p++)
        if (*p == '\r' || *p == '\n' || *p == '\0')
            return cb_err_set(err, CB_ERR_INVALID, "sigv4", "header %s: value has CR or LF", lname);

    struct sbuf b = { 0 };
    struct chdr *c = hset_find(h, lname);
    if (c != NULL) {
        sb_add(&b, c->value);
        sb_addc(&b, ',');
        sb_add_trimmed(&b, value);
        char *nv = sb_take(&b);
        if (nv == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, "sigv4", "out of memory");
        free(c->value);
        c->value = nv;
        return 0;
    }
    if (h->n >= sizeof h->v / sizeof h->v[0])
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "more than %d headers", SIGV4_MAX_HEADERS);
    sb_add_trimmed(&b, value);
    char *v = sb_take(&b);
    char *n = strdup(lname);
    if (v == NULL || n == NULL) {
        free(v);
        free(n);
        return cb_err_set(err, CB_ERR_INTERNAL, "sigv4", "out of memory");
    }
    h->v[h->n].name = n;
    h->v[h->n++].value = v;
    return 0;
}

/* ---- the signature ------------------------------------------------------ */

static int hmac256(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
    unsigned int olen = 0;
    if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out,
             &olen) == NULL ||
        olen != 32)
        return -1;
    return 0;
}

static bool valid_date(const char *d)
{
    if (d == NULL || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return false;
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)d[i]))
            return false;
    return true;
}

static bool valid_scope_part(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 64)
        return false;
    for (; *s != '\0'; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

static int sign_sts(const char *secret, const char *date8, const char *region,
                    const char *service, const char *sts, char sig[65])
{
    /* "AWS4" + secret, wiped before return. */
    size_t sl = strlen(secret);
    unsigned char key[4 + 256];
    unsigned char k1[32], k2[32];
    int rc = -1;

    if (sl > 256)
        return -1;
    memcpy(key, "AWS4", 4);
    memcpy(key + 4, secret, sl);
    if (hmac256(key, 4 + sl, date8, k1) == 0 && hmac256(k1, 32, region, k2) == 0 &&
        hmac256(k2, 32, service, k1) == 0 && hmac256(k1, 32, "aws4_request", k2) == 0 &&
        hmac256(k2, 32, sts, k1) == 0) {
        to_hex(k1, 32, sig);
        rc = 0;
    }
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(k1, sizeof k1);
    OPENSSL_cleanse(k2, sizeof k2);
    return rc;
}

void sigv4_result_free(struct sigv4_result *r)
{
    if (r == NULL)
        return;
    free(r->canonical_request);
    free(r->string_to_sign);
    free(r->authorization);
    free(r->signed_query);
    for (size_t i = 0; i < SIGV4_MAX_ADDED; i++)
        free(r->add_headers[i]);
    memset(r, 0, sizeof *r);
}

static int add_header_line(struct sigv4_result *out, size_t *n, const char *name,
                           const char *value)
{
    struct sbuf b = { 0 };
    sb_add(&b, name);
    sb_addc(&b, ':');
    sb_add(&b, value);
    char *line = sb_take(&b);
    if (line == NULL || *n >= SIGV4_MAX_ADDED) {
        free(line);
        return -1;
    }
    out->add_headers[(*n)++] = line;
    return 0;
}

static int check_inputs(const struct sigv4_request *req, const struct sigv4_credentials *cred,
                        const struct sigv4_params *pr, struct cb_err *err)
{
    if (req->method == NULL || req->method[0] == '\0' || strlen(req->method) > 16)
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "missing or overlong method");
    for (const char *m = req->method; *m; m++)
        if (!is_token_char((unsigned char)*m))
            return cb_err_set(err, CB_ERR_INVALID, "sigv4", "method has an invalid character");
    if (req->path != NULL && strlen(req->path) > SIGV4_MAX_PATH)
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "path longer than %d bytes", SIGV4_MAX_PATH);
    if (req->query != NULL && strlen(req->query) > SIGV4_MAX_QUERY)
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "query longer than %d bytes",
                          SIGV4_MAX_QUERY);
    if (req->n_headers > SIGV4_MAX_HEADERS)
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "more than %d headers", SIGV4_MAX_HEADERS);
    size_t hb = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (req->headers[i].name == NULL || req->headers[i].value == NULL)
            return cb_err_set(err, CB_ERR_INVALID, "sigv4", "header %zu without name or value", i);
        hb += strlen(req->headers[i].name) + strlen(req->headers[i].value);
    }
    if (hb > SIGV4_MAX_HEADER_BYTES)
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "headers larger than %d bytes",
                          SIGV4_MAX_HEADER_BYTES);
    if (cred == NULL || cred->access_key_id == NULL || cred->access_key_id[0] == '\0' ||
        strlen(cred->access_key_id) > 128)
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "access key id missing or too long");
    for (const char *p = cred->access_key_id; *p; p++)
        if (!isalnum((unsigned char)*p))
            return cb_err_set(err, CB_ERR_INVALID, "sigv4",
                              "access key id must be letters and digits");
    if (cred->secret_access_key == NULL || cred->secret_access_key[0] == '\0' ||
        strlen(cred->secret_access_key) > 256)
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "secret access key missing or too long");
    if (cred->session_token != NULL && strlen(cred->session_token) > 8192)
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "session token longer than 8192 bytes");
    if (cred->session_token != NULL)
        for (const char *p = cred->session_token; *p; p++)
            if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
                return cb_err_set(err, CB_ERR_INVALID, "sigv4",
                                  "session token has a non-printable character");
    if (!valid_scope_part(pr->region))
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "invalid region");
    if (!valid_scope_part(pr->service))
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "invalid service");
    if (!valid_date(pr->amz_date))
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "X-Amz-Date must be YYYYMMDDTHHMMSSZ");
    if (pr->mode == SIGV4_MODE_QUERY && (pr->expires < 1 || pr->expires > 604800))
        return cb_err_set(err, CB_ERR_INVALID, "sigv4", "expires must be 1..604800 seconds");
    return 0;
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
               const struct sigv4_params *pr, struct sigv4_result *out, struct cb_err *err)
{
    struct hset hs;
    struct qlist q = { 0 };
    struct sbuf b = { 0 };
    char date8[9], scope[256], payload[65], buf[65];
    size_t nadd = 0;
    int rc = -1;

    memset(out, 0, sizeof *out);
    hs.n = 0;
    if (check_inputs(req, cred, pr, err) != 0)
        return -1;
    bool token = cred->session_token != NULL && cred->session_token[0] != '\0';
    memcpy(date8, pr->amz_date, 8);
    date8[8] = '\0';
    snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date8, pr->region, pr->service);
    sigv4_sha256_hex(req->body, req->body ? req->body_len : 0, payload);

    for (size_t i = 0; i < req->n_headers; i++)
        if (hset_add(&hs, req->headers[i].name, req->headers[i].value, err) != 0)
            goto out;
    if (hset_find(&hs, "host") == NULL) {
        cb_err_set(err, CB_ERR_INVALID, "sigv4", "request has no Host header");
        goto out;
    }
    if (pr->mode == SIGV4_MODE_HEADER) {
        if (hset_find(&hs, "x-amz-date") == NULL) {
            if (hset_add(&hs, "X-Amz-Date", pr->amz_date, err) != 0 ||
                add_header_line(out, &nadd, "X-Amz-Date", pr->amz_date) != 0)
                goto oom;
        }
        if (token && !pr->omit_session_token && hset_find(&hs, "x-amz-security-token") == NULL) {
            if (hset_add(&hs, "X-Amz-Security-Token", cred->session_token, err) != 0 ||
                add_header_line(out, &nadd, "X-Amz-Security-Token", cred->session_token) != 0)
                goto oom;
        }
        if (pr->add_content_sha256 && hset_find(&hs, "x-amz-content-sha256") == NULL) {
            if (hset_add(&hs, "x-amz-content-sha256", payload, err) != 0 ||
                add_header_line(out, &nadd, "x-amz-content-sha256", payload) != 0)
                goto oom;
        }
    }
    qsort(hs.v, hs.n, sizeof hs.v[0], chdr_cmp);
    struct sbuf signed_headers = { 0 };
    for (size_t i = 0; i < hs.n; i++) {
        if (i > 0)
            sb_addc(&signed_headers, ';');
        sb_add(&signed_headers, hs.v[i].name);
    }
    char *sh = sb_take(&signed_headers);
    if (sh == NULL)
        goto oom;

    /* Query: the request's own parameters, plus X-Amz-* when presigning. */
    if (qlist_parse(&q, req->query) != 0) {
        free(sh);
        goto oom;
    }
    char expires[16];
    struct sbuf cred_scope = { 0 };
    sb_add(&cred_scope, cred->access_key_id);
    sb_addc(&cred_scope, '/');
    sb_add(&cred_scope, scope);
    char *credential = sb_take(&cred_scope);
    if (credential == NULL) {
        free(sh);
        goto oom;
    }
    snprintf(expires, sizeof expires, "%u", pr->expires);
    if (pr->mode == SIGV4_MODE_QUERY) {
        if (qlist_add_decoded(&q, "X-Amz-Algorithm", ALGORITHM) != 0 ||
            qlist_add_decoded(&q, "X-Amz-Credential", credential) != 0 ||
            qlist_add_decoded(&q, "X-Amz-Date", pr->amz_date) != 0 ||
            qlist_add_decoded(&q, "X-Amz-Expires", expires) != 0 ||
            qlist_add_decoded(&q, "X-Amz-SignedHeaders", sh) != 0 ||
            (token && !pr->omit_session_token &&
             qlist_add_decoded(&q, "X-Amz-Security-Token", cred->session_token) != 0)) {
            free(sh);
            free(credential);
            goto oom;
        }
    }

    /* 1. canonical request */
    sb_add(&b, req->method);
    sb_addc(&b, '\n');
    sb_add_canonical_uri(&b, req->path, pr->normalize_path);
    sb_addc(&b, '\n');
    sb_add_qlist(&b, &q);
    sb_addc(&b, '\n');
    for (size_t i = 0; i < hs.n; i++) {
        sb_add(&b, hs.v[i].name);
        sb_addc(&b, ':');
        sb_add(&b, hs.v[i].value);
        sb_addc(&b, '\n');
    }
    sb_addc(&b, '\n');
    sb_add(&b, sh);
    sb_addc(&b, '\n');
    sb_add(&b, payload);
    out->canonical_request = sb_take(&b);

    /* 2. string to sign */
    if (out->canonical_request != NULL) {
        sb_add(&b, ALGORITHM "\n");
        sb_add(&b, pr->amz_date);
        sb_addc(&b, '\n');
        sb_add(&b, scope);
        sb_addc(&b, '\n');
        sb_add(&b, sigv4_sha256_hex(out->canonical_request, strlen(out->canonical_request), buf));
        out->string_to_sign = sb_take(&b);
    }
    if (out->string_to_sign == NULL) {
        free(sh);
        free(credential);
        goto oom;
    }

    /* 3+4. signing key and signature */
    if (sign_sts(cred->secret_access_key, date8, pr->region, pr->service, out->string_to_sign,
                 out->signature) != 0) {
        free(sh);
        free(credential);
        cb_err_set(err, CB_ERR_INTERNAL, "sigv4", "HMAC-SHA256 failed");
        goto out;
    }

    /* 5. what goes on the wire */
    if (pr->mode == SIGV4_MODE_HEADER) {
        sb_add(&b, ALGORITHM " Credential=");
        sb_add(&b, credential);
        sb_add(&b, ", SignedHeaders=");
        sb_add(&b, sh);
        sb_add(&b, ", Signature=");
        sb_add(&b, out->signature);
        out->authorization = sb_take(&b);
        if (token && pr->omit_session_token &&
            add_header_line(out, &nadd, "X-Amz-Security-Token", cred->session_token) != 0)
            out->authorization = (free(out->authorization), NULL);
        if (out->authorization != NULL &&
            add_header_line(out, &nadd, "Authorization", out->authorization) != 0)
            out->authorization = (free(out->authorization), NULL);
    } else {
        if (req->query != NULL && req->query[0] != '\0') {
            sb_add(&b, req->query);
            sb_addc(&b, '&');
        }
        sb_add(&b, "X-Amz-Algorithm=" ALGORITHM "&X-Amz-Credential=");
        sb_add_encoded(&b, credential, strlen(credential), false);
        sb_add(&b, "&X-Amz-Date=");
        sb_add(&b, pr->amz_date);
        sb_add(&b, "&X-Amz-SignedHeaders=");
        sb_add_encoded(&b, sh, strlen(sh), false);
        sb_add(&b, "&X-Amz-Expires=");
        sb_add(&b, expires);
        if (token) {
            sb_add(&b, "&X-Amz-Security-Token=");
            sb_add_encoded(&b, cred->session_token, strlen(cred->session_token), false);
        }
        sb_add(&b, "&X-Amz-Signature=");
        sb_add(&b, out->signature);
        out->signed_query = sb_take(&b);
    }
    free(sh);
    free(credential);
    if (out->authorization == NULL && out->signed_query == NULL)
        goto oom;
    rc = 0;
    goto out;
oom:
    cb_err_set(err, CB_ERR_INTERNAL, "sigv4", "out of memory");
out:
    hset_free(&hs);
    qlist_free(&q);
    free(sb_take(&b));
    if (rc != 0)
        sigv4_result_free(out);
    return rc;
}
