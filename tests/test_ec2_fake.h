/* test_ec2_fake: start/stop/control tests/fake/fake_ec2.py from a C test or
 * benchmark (over tests/fake_server.h), and load the real ec2 module through
 * cb_provider_load. Header-only (static functions) so the driver tests and
 * bench_ec2 share it. */
#ifndef CB_TEST_EC2_FAKE_H
#define CB_TEST_EC2_FAKE_H

#include "cb_http.h"
#include "fake_server.h"
#include "provider_loader.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_KEY_ID "AKIDCLOUDBURSTTEST"
#define FAKE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

struct ec2_fake {
    struct fake_server srv;
    int port;
    char url[128];
};

/* Start the fake with extra arguments (NULL-terminated). Returns 0 or -1. */
static inline int ec2_fake_start(struct ec2_fake *f, const char *const *extra)
{
    memset(f, 0, sizeof *f);
    const char *top = getenv("top_srcdir");
    char fixtures[1024], cred[256], msg[256];
    snprintf(fixtures, sizeof fixtures, "%s/tests/fixtures/ec2", top ? top : ".");
    snprintf(cred, sizeof cred, "%s:%s", FAKE_KEY_ID, FAKE_SECRET);
    const char *argv[64] = { "--fixtures", fixtures, "--cred", cred };
    size_t n = 4;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    struct fake_server_opts o = { .script = "fake_ec2.py", .args = argv, .quiet = true };
    if (fake_server_start(&f->srv, &o, msg, sizeof msg) != 0) {
        fprintf(stderr, "ec2_fake_start: %s\n", msg);
        return -1;
    }
    f->port = f->srv.port;
    snprintf(f->url, sizeof f->url, "%s/", f->srv.base);
    return 0;
}

static inline void ec2_fake_stop(struct ec2_fake *f)
{
    fake_server_stop(&f->srv);
}

/* One unsigned request to the fake's control side; returns the body (caller frees). */
static inline char *ec2_fake_http(const struct ec2_fake *f, const char *method, const char *path,
                                  const char *body)
{
    return fake_server_call(&f->srv, method, path, body);
}

static inline int ec2_fake_control(const struct ec2_fake *f, const char *json)
{
    char *r = ec2_fake_http(f, "POST", "/_control", json);
    int ok = r != NULL && strstr(r, "\"ok\": true") != NULL;
    free(r);
    return ok ? 0 : -1;
}

/* The fake's /_state document (caller json_object_put()s it). */
static inline json_object *ec2_fake_state(const struct ec2_fake *f)
{
    char *r = ec2_fake_http(f, "GET", "/_state", NULL);
    json_object *o = r ? json_tokener_parse(r) : NULL;
    free(r);
    return o;
}

/* Integer at a path like "calls.RunInstances" (0 if absent). */
static inline long ec2_fake_state_int(const struct ec2_fake *f, const char *key, const char *sub)
{
    json_object *o = ec2_fake_state(f), *v = NULL, *w = NULL;
    long r = -1;
    if (o != NULL && json_object_object_get_ex(o, key, &v)) {
        if (sub == NULL)
            r = json_object_get_int(v);
        else
            r = json_object_object_get_ex(v, sub, &w) ? json_object_get_int(w) : 0;
    }
    json_object_put(o);
    return r;
}

/* ---- settings for the driver ---------------------------------------------- */

struct ec2_test_settings {
    struct cb_setting items[24];
    struct cb_settings s;
    const char *list[8];
};

static inline void ets_init(struct ec2_test_settings *t)
{
    memset(t, 0, sizeof *t);
    t->s.items = t->items;
    t->s.path = "clouds.[0].ec2";
}

static inline struct cb_setting *ets_add(struct ec2_test_settings *t, const char *name,
                                  enum cb_setting_type type)
{
    for (size_t i = 0; i < t->s.n; i++)
        if (strcmp(t->items[i].name, name) == 0) {
            memset(&t->items[i], 0, sizeof t->items[i]);
            t->items[i].name = name;
            t->items[i].type = type;
            return &t->items[i];
        }
    struct cb_setting *v = &t->items[t->s.n++];
    v->name = name;
    v->type = type;
    return v;
}

static inline void ets_str(struct ec2_test_settings *t, const char *name, const char *value)
{
    ets_add(t, name, CB_SETTING_STRING)->str = value;
}

static inline void ets_int(struct ec2_test_settings *t, const char *name, long long value)
{
    ets_add(t, name, CB_SETTING_INT)->num = value;
}

static inline void ets_bool(struct ec2_test_settings *t, const char *name, bool value)
{
    ets_add(t, name, CB_SETTING_BOOL)->boolean = value;
}

static inline void ets_secret(struct ec2_test_settings *t, const char *name, const char *content)
{
    struct cb_setting *v = ets_add(t, name, CB_SETTING_SECRET_FILE);
    v->str = "/etc/cloudburst/aws-credentials";
    v->secret = content;
    v->secret_len = strlen(content);
}

static inline void ets_remove(struct ec2_test_settings *t, const char *name)
{
    for (size_t i = 0; i < t->s.n; i++)
        if (strcmp(t->items[i].name, name) == 0) {
            t->items[i] = t->items[--t->s.n];
            return;
        }
}

static inline void ec2_quiet_log(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    (void)payload;
    if (getenv("CB_TEST_VERBOSE") != NULL) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "[%d] ", (int)level);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

/* Load providers/ec2 from the build tree. */
static inline int ec2_load_module(struct cb_provider_module *m, struct cb_err *err)
{
    const char *b = getenv("top_builddir");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/providers", b ? b : ".");
    return cb_provider_load(m, dir, "ec2", err);
}

#endif
