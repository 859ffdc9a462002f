/* fake_check: what the Check driver suites (test_openstack, test_deltacloud,
 * test_ec2, test_ec2_xml) share on top of tests/fake_server.h: starting a
 * fake cloud as a fixture (a failure aborts the case), its /_fake control
 * endpoints as JSON, checks of the end-to-end options (hooks, state file),
 * recorded replies, driver settings, loading the module, and a log sink
 * that keeps what a driver logged so a case can assert on it.
 * Header-only; everything lives in the caller's structs. */
#ifndef CB_TEST_FAKE_CHECK_H
#define CB_TEST_FAKE_CHECK_H

#include "core/observe.h"
#include "fake_server.h"
#include "log.h"
#include "provider.h"
#include "provider_loader.h"

#include <check.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Start tests/fake/<script> with extra arguments (NULL-terminated, may be NULL). */
static inline void fake_check_start(struct fake_server *f, const char *script,
                                    const char *const *args)
{
    char msg[256];
    struct fake_server_opts o = { .script = script, .args = args };
    ck_assert_msg(fake_server_start(f, &o, msg, sizeof msg) == 0, "%s", msg);
}

/* A control request; the parsed JSON reply (caller puts). Aborts the case on
 * anything but a 200 with JSON. */
static inline json_object *fake_check_ctl(const struct fake_server *f, const char *method,
                                          const char *path, const char *body)
{
    char *r = fake_server_call(f, method, path, body);
    ck_assert_msg(r != NULL, "%s %s: no 200 reply from the fake", method, path);
    json_object *doc = json_tokener_parse(r);
    ck_assert_msg(doc != NULL, "%s %s: reply is not JSON", method, path);
    free(r);
    return doc;
}

/* An integer of /_fake/state: state[key], or state[key][sub] when sub is not
 * NULL (0 when that is absent). */
static inline long long fake_check_num(const struct fake_server *f, const char *key,
                                       const char *sub)
{
    json_object *doc = fake_check_ctl(f, "GET", "/_fake/state", NULL), *v, *w;
    ck_assert_msg(json_object_object_get_ex(doc, key, &v), "no \"%s\" in the fake's state", key);
    long long n = sub == NULL ? json_object_get_int64(v)
                  : json_object_object_get_ex(v, sub, &w) ? json_object_get_int64(w) : 0;
    json_object_put(doc);
    return n;
}

/* POST a JSON document to a control path and drop the reply. */
static inline void fake_check_post(const struct fake_server *f, const char *path, const char *json)
{
    json_object_put(fake_check_ctl(f, "POST", path, json));
}

/* Write text to a file (a pool, a control file) in the fake's directory; returns path. */
static inline const char *fake_check_file(const struct fake_server *f, const char *name,
                                          const char *text, char *path, size_t len)
{
    fake_server_path(f, name, path, len);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    ck_assert_msg(out != NULL, "cannot write %s", tmp);
    ck_assert_int_eq(fputs(text, out) >= 0, 1);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_int_eq(rename(tmp, path), 0); /* the fake re-reads it: never half written */
    return path;
}

/* The whole content of a file (caller frees), NULL if it cannot be read. */
static inline char *fake_check_slurp(const char *path)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len - 1, in)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *p = realloc(buf, cap * 2);
            if (p == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    fclose(in);
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

/* ---- the end-to-end options (tests/fake/fakebase.py) ----------------------------- */

/* A hook command for --on-boot / --on-terminate that appends
 * "<word> INSTANCE_ID ADDRESS" to <dir>/hooks.log: a real process, as the
 * end-to-end test's hooks are. */
static inline const char *fake_check_hook(const char *dir, const char *word, char *buf, size_t len)
{
    snprintf(buf, len, "sh -c 'echo %s \"$1\" \"$2\" >> %s/hooks.log' hook", word, dir);
    return buf;
}

/* Whether <dir>/hooks.log has the line "<word> <id> <address>". */
static inline bool fake_check_hook_ran(const char *dir, const char *word, const char *id,
                                       const char *address)
{
    char path[600], line[600];
    snprintf(path, sizeof path, "%s/hooks.log", dir);
    snprintf(line, sizeof line, "%s %s %s\n", word, id, address);
    char *text = fake_check_slurp(path);
    bool found = false;
    for (const char *p = text; p != NULL && !found && (p = strstr(p, line)) != NULL; p++)
        found = p == text || p[-1] == '\n';
    free(text);
    return found;
}

/* Check the --state-file against a listing: every instance in the file is
 * listed with the same address, and every listed pending or running
 * instance is in the file. Returns how many instances the file holds. */
static inline size_t fake_check_state_file(const char *path, const struct cb_instance_list *l)
{
    char *text = fake_check_slurp(path);
    ck_assert_msg(text != NULL, "no state file %s", path);
    json_object *doc = json_tokener_parse(text);
    ck_assert_msg(doc != NULL && json_object_is_type(doc, json_type_array),
                  "state file %s is not a JSON list", path);
    free(text);
    size_t n = json_object_array_length(doc);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(doc, i), *id, *addr, *tags;
        ck_assert(json_object_object_get_ex(e, "id", &id));
        ck_assert(json_object_object_get_ex(e, "address", &addr));
        ck_assert(json_object_object_get_ex(e, "tags", &tags));
        ck_assert(json_object_object_get_ex(e, "name", NULL));
        ck_assert(json_object_object_get_ex(e, "state", NULL));
        const struct cb_instance *found = NULL;
        for (size_t k = 0; k < l->n && found == NULL; k++)
            if (strcmp(l->items[k].id, json_object_get_string(id)) == 0)
                found = &l->items[k];
        ck_assert_msg(found != NULL, "state file has %s, the listing has not",
                      json_object_get_string(id));
        if (found->private_ip[0] != '\0')
            ck_assert_str_eq(found->private_ip, json_object_get_string(addr));
    }
    for (size_t k = 0; k < l->n; k++) {
        if (l->items[k].state != CB_INSTANCE_PENDING && l->items[k].state != CB_INSTANCE_RUNNING)
            continue;
        bool in_file = false;
        for (size_t i = 0; i < n && !in_file; i++) {
            json_object *id;
            json_object_object_get_ex(json_object_array_get_idx(doc, i), "id", &id);
            in_file = strcmp(l->items[k].id, json_object_get_string(id)) == 0;
        }
        ck_assert_msg(in_file, "listed %s is not in the state file", l->items[k].id);
    }
    json_object_put(doc);
    return n;
}

/* The files of a world test: a directory with the address pool, the
 * control file, the state file and the hooks' log, and the fake's
 * arguments that name them. */
struct fake_world {
    struct fake_server files; /* only its directory is used */
    char pool[600], control[600], state[600], on_boot[800], on_term[800];
    const char *args[40];
};

/* Make the files (pool_text: the --address-pool content; the control file
 * starts empty) and return the fake's arguments: the world options, then
 * extra (NULL-terminated, may be NULL). */
static inline const char *const *fake_world_prepare(struct fake_world *w, const char *pool_text,
                                                    const char *const *extra)
{
    ck_assert_int_eq(fake_server_mkdir(&w->files), 0);
    fake_check_file(&w->files, "pool", pool_text, w->pool, sizeof w->pool);
    fake_check_file(&w->files, "control", "", w->control, sizeof w->control);
    fake_server_path(&w->files, "state.json", w->state, sizeof w->state);
    const char *world[] = {
        "--address-pool", w->pool, "--state-file", w->state, "--control", w->control,
        "--on-boot", fake_check_hook(w->files.dir, "boot", w->on_boot, sizeof w->on_boot),
        "--on-terminate", fake_check_hook(w->files.dir, "down", w->on_term, sizeof w->on_term),
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof world / sizeof world[0]; i++)
        w->args[n++] = world[i];
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        ck_assert_uint_lt(n, sizeof w->args / sizeof w->args[0] - 1);
        w->args[n++] = extra[i];
    }
    w->args[n] = NULL;
    return w->args;
}

/* Replace the control file's content (the fake reads it on its next request). */
static inline void fake_world_control(struct fake_world *w, const char *text)
{
    char path[600];
    fake_check_file(&w->files, "control", text, path, sizeof path);
}

/* Every instance of l ran the on-boot hook with its id and address, and the
 * addresses are the pool's `want` (NULL-terminated), each once. */
static inline void fake_world_check_booted(const struct fake_world *w,
                                           const struct cb_instance_list *l,
                                           const char *const *want)
{
    size_t n = 0;
    for (; want[n] != NULL; n++) {
        size_t seen = 0;
        for (size_t i = 0; i < l->n; i++)
            seen += strcmp(l->items[i].private_ip, want[n]) == 0;
        ck_assert_msg(seen == 1, "address %s handed out %zu times", want[n], seen);
    }
    ck_assert_uint_eq(l->n, n);
    for (size_t i = 0; i < l->n; i++)
        ck_assert_msg(fake_check_hook_ran(w->files.dir, "boot", l->items[i].id,
                                          l->items[i].private_ip),
                      "no boot hook for %s %s", l->items[i].id, l->items[i].private_ip);
}

static inline void fake_world_done(struct fake_world *w)
{
    fake_server_stop(&w->files);
}

/* ---- recorded replies, settings, the module, the runner ------------------------------ */

/* tests/fixtures/<area>/<rel> from $top_srcdir, NUL-terminated (caller frees). */
static inline char *check_fixture(const char *area, const char *rel, size_t *len)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s/%s", top ? top : ".", area, rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Set (or add, at most max) a driver setting in s, whose items the test owns.
 * A new one gets config line first_line + its position; a SECRET_FILE's str
 * becomes secret_path and the text its content. */
static inline void check_setting(struct cb_settings *s, size_t max, int first_line,
                                 const char *secret_path, const char *name,
                                 enum cb_setting_type type, const char *str, long long num)
{
    struct cb_setting *items = (struct cb_setting *)s->items, *v = NULL;
    for (size_t i = 0; i < s->n && v == NULL; i++)
        if (strcmp(items[i].name, name) == 0)
            v = &items[i];
    if (v == NULL) {
        ck_assert_uint_lt(s->n, max);
        v = &items[s->n++];
        memset(v, 0, sizeof *v);
        v->line = first_line + (int)s->n;
    }
    v->name = name;
    v->type = type;
    v->str = str;
    v->num = num;
    if (type == CB_SETTING_SECRET_FILE) {
        v->str = secret_path;
        v->secret = str;
        v->secret_len = str ? strlen(str) : 0;
    }
}

/* Load providers/<name> from $top_builddir. */
static inline void check_load_driver(struct cb_provider_module *mod, const char *name)
{
    struct cb_err err = CB_ERR_INIT;
    const char *top = getenv("top_builddir");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/providers", top ? top : ".");
    ck_assert_msg(cb_provider_load(mod, dir, name, &err) == 0, "%s: %s", err.origin, err.msg);
}

/* Run a suite as the test program's main does; the exit status. */
static inline int check_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- a driver's log, kept ---------------------------------------------------- */

struct log_capture {
    char buf[1 << 16];
    size_t len;
};

static inline void log_capture_reset(struct log_capture *c)
{
    c->len = 0;
    c->buf[0] = '\0';
}

/* A cb_log_fn: payload is the struct log_capture; lines are appended while they fit. */
static inline void log_capture_fn(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    struct log_capture *c = payload;
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->buf + c->len, sizeof c->buf - c->len, fmt, ap);
    va_end(ap);
    if (n > 0 && c->len + (size_t)n + 1 < sizeof c->buf) {
        c->len += (size_t)n;
        c->buf[c->len++] = '\n';
    }
    c->buf[c->len] = '\0';
}

#endif
