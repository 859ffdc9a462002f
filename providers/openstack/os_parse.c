/* os_parse: Keystone v3 / Nova reply parsers (see os_parse.h). json-c only. */
#include "os_parse.h"
#include "cb_text.h"
#include "provider.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define OS_JSON_DEPTH 32
#define OS_MAX_ITEMS 100000 /* entries in one listing page */

/* Parse a whole body as one JSON document; trailing garbage is an error. */
static json_object *parse_doc(const char *body, size_t len, const char *origin,
                              struct cb_err *err)
{
    if (body == NULL)
        return cb_err_set(err, CB_ERR_INVALID, origin, "empty reply"), NULL;
    if (len > OS_MAX_BODY || len > INT_MAX)
        return cb_err_set(err, CB_ERR_INVALID, origin, "reply of %zu bytes exceeds the %zu byte limit",
                          len, (size_t)OS_MAX_BODY), NULL;
    json_tokener *tok = json_tokener_new_ex(OS_JSON_DEPTH);
    if (tok == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory"), NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *doc = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (doc != NULL && jerr == json_tokener_success) {
        while (end < len && isspace((unsigned char)body[end]))
            end++;
        if (end < len) {
            json_object_put(doc);
            doc = NULL;
            cb_err_set(err, CB_ERR_INVALID, origin, "malformed JSON: trailing data at byte %zu", end);
        }
    } else {
        if (doc != NULL)
            json_object_put(doc);
        doc = NULL;
        cb_err_set(err, CB_ERR_INVALID, origin, "malformed JSON at byte %zu: %s", end,
                   jerr == json_tokener_continue ? "reply ends early"
                                                 : json_tokener_error_desc(jerr));
    }
    json_tokener_free(tok);
    return doc;
}

static json_object *get_typed(json_object *obj, const char *key, json_type type)
{
    json_object *v = NULL;
    if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

static const char *get_str(json_object *obj, const char *key)
{
    json_object *v = get_typed(obj, key, json_type_string);
    return v ? json_object_get_string(v) : NULL;
}

/* An id is a string, or an integer in old Nova (HP Cloud 2013: "id": 815215). */
static int get_id(json_object *obj, const char *key, char *dst, size_t size)
{
    json_object *v = NULL;
    dst[0] = '\0';
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || v == NULL)
        return -1;
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if (s[0] == '\0' || strlen(s) >= size)
            return -1;
        cb_sanitize(dst, size, s);
        return 0;
    }
    if (json_object_is_type(v, json_type_int)) {
        snprintf(dst, size, "%lld", (long long)json_object_get_int64(v));
        return 0;
    }
    return -1;
}

int os_parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    int n = 0;
    *out = -1;
    if (s == NULL)
        return -1;
    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
        return -1;
    if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
        tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    const char *p = s + n;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    long offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &k) != 2 || k != 5 || hh > 23 || mm > 59)
            return -1;
        offset = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    }
    if (*p != '\0')
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t - offset;
    return 0;
}

/* ---- token -------------------------------------------------------------- */

static int find_endpoint(json_object *catalog, const char *type, const char *region,
                         const char *interface, char *url, size_t size)
{
    size_t n = json_object_array_length(catalog);
    url[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        json_object *svc = json_object_array_get_idx(catalog, i);
        const char *t = get_str(svc, "type");
        json_object *eps = get_typed(svc, "endpoints", json_type_array);
        if (t == NULL || strcmp(t, type) != 0 || eps == NULL)
            continue;
        size_t m = json_object_array_length(eps);
        for (size_t k = 0; k < m; k++) {
            json_object *ep = json_object_array_get_idx(eps, k);
            const char *itf = get_str(ep, "interface");
            const char *reg = get_str(ep, "region_id");
            const char *reg2 = get_str(ep, "region");
            const char *u = get_str(ep, "url");
            if (u == NULL || itf == NULL || strcmp(itf, interface) != 0)
                continue;
            if (region != NULL && region[0] != '\0' && !(reg && strcmp(reg, region) == 0) &&
                !(reg2 && strcmp(reg2, region) == 0))
                continue;
            if (strlen(u) >= size || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0))
                continue;
            cb_sanitize(url, size, u);
            /* Strip a trailing slash: the driver appends "/servers". */
            size_t l = strlen(url);
            while (l > 0 && url[l - 1] == '/')
                url[--l] = '\0';
            return 0;
        }
    }
    return -1;
}

int os_parse_token(const char *body, size_t len, const char *region, const char *interface,
                   int need_compute, struct os_token_info *out, struct cb_err *err)
{
    const char *origin = "openstack:keystone";
    memset(out, 0, sizeof *out);
    out->expires_at = -1;
    json_object *doc = parse_doc(body, len, origin, err);
    if (doc == NULL)
        return -1;
    int rc = -1;
    json_object *tok = get_typed(doc, "token", json_type_object);
    if (tok == NULL) {
        cb_err_set(err, CB_ERR_INVALID, "openstack:keystone:token", "reply has no \"token\" object");
        goto out;
    }
    if (os_parse_time(get_str(tok, "expires_at"), &out->expires_at) != 0) {
        cb_err_set(err, CB_ERR_INVALID, "openstack:keystone:token.expires_at",
                   "missing or not an ISO 8601 time");
        goto out;
    }
    json_object *project = get_typed(tok, "project", json_type_object);
    if (project != NULL)
        get_id(project, "id", out->project_id, sizeof out->project_id);
    json_object *catalog = get_typed(tok, "catalog", json_type_array);
    if (catalog == NULL) {
        if (need_compute) {
            cb_err_set(err, CB_ERR_INVALID, "openstack:keystone:token.catalog",
                       "token has no service catalog (is the token project-scoped?)");
            goto out;
        }
    } else {
        if (find_endpoint(catalog, "compute", region, interface, out->compute_url,
                          sizeof out->compute_url) != 0 && need_compute) {
            cb_err_set(err, CB_ERR_PERMANENT, "openstack:keystone:token.catalog",
                       "no compute endpoint with interface \"%s\" in region \"%s\"", interface,
                       region && region[0] ? region : "(any)");
            goto out;
        }
        find_endpoint(catalog, "image", region, interface, out->image_url, sizeof out->image_url);
    }
    rc = 0;
out:
    json_object_put(doc);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        out->expires_at = -1;
    }
    return rc;
}

/* ---- servers ------------------------------------------------------------ */

enum cb_instance_state os_map_status(const char *status, const char *task_state)
{
    static const struct {
        const char *word;
        enum cb_instance_state state;
    } map[] = {
        { "BUILD", CB_INSTANCE_PENDING },     { "REBUILD", CB_INSTANCE_PENDING },
        { "ACTIVE", CB_INSTANCE_RUNNING },    { "REBOOT", CB_INSTANCE_RUNNING },
        { "HARD_REBOOT", CB_INSTANCE_RUNNING }, { "PASSWORD", CB_INSTANCE_RUNNING },
        { "MIGRATING", CB_INSTANCE_RUNNING }, { "RESIZE", CB_INSTANCE_RUNNING },
        { "VERIFY_RESIZE", CB_INSTANCE_RUNNING }, { "REVERT_RESIZE", CB_INSTANCE_RUNNING },
        { "SHUTOFF", CB_INSTANCE_STOPPING },  { "STOPPED", CB_INSTANCE_STOPPING },
        { "PAUSED", CB_INSTANCE_STOPPING },   { "SUSPENDED", CB_INSTANCE_STOPPING },
        { "SHELVED", CB_INSTANCE_STOPPING },  { "SHELVED_OFFLOADED", CB_INSTANCE_STOPPING },
        { "RESCUE", CB_INSTANCE_STOPPING },
        { "DELETED", CB_INSTANCE_TERMINATED }, { "SOFT_DELETED", CB_INSTANCE_TERMINATED },
        { "ERROR", CB_INSTANCE_ERROR },
    };
    char word[32];
    if (status == NULL)
        return CB_INSTANCE_UNKNOWN;
    /* Old Nova reports "ACTIVE(deleting)": the part in parentheses is the task. */
    size_t n = strcspn(status, "(");
    if (n >= sizeof word)
        return CB_INSTANCE_UNKNOWN;
    memcpy(word, status, n);
    word[n] = '\0';
    const char *task = task_state;
    if (status[n] == '(')
        task = status + n + 1;
    if (task != NULL && strncasecmp(task, "deleting", 8) == 0)
        return CB_INSTANCE_STOPPING;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(word, map[i].word) == 0)
            return map[i].state;
    return CB_INSTANCE_UNKNOWN;
}

/* node id from the server name: "<pool>--<batch>" is index 0 (one-server
 * boot), "<pool>--<batch>-N" is index N-1 (Nova's multi-create suffix). */
static void node_id_from_name(const char *name, const char *pool, const char *batch, char *dst,
                              size_t size)
{
    size_t pl = strlen(pool), bl = strlen(batch);
    dst[0] = '\0';
    if (name == NULL || strncmp(name, pool, pl) != 0 || strncmp(name + pl, "--", 2) != 0 ||
        strncmp(name + pl + 2, batch, bl) != 0)
        return;
    const char *rest = name + pl + 2 + bl;
    if (*rest == '\0') {
        snprintf(dst, size, "%s-0", batch);
        return;
    }
    if (rest[0] != '-' || rest[1] < '1' || rest[1] > '9' || strlen(rest + 1) > 6)
        return;
    for (const char *p = rest + 1; *p; p++)
        if (!isdigit((unsigned char)*p))
            return;
    snprintf(dst, size, "%s-%ld", batch, strtol(rest + 1, NULL, 10) - 1);
}

static void take_addresses(json_object *srv, struct cb_instance *inst)
{
    json_object *addrs = get_typed(srv, "addresses", json_type_object);
    if (addrs != NULL) {
        json_object_object_foreach(addrs, net, list)
        {
            (void)net;
            if (!json_object_is_type(list, json_type_array))
                continue;
            size_t n = json_object_array_length(list);
            for (size_t i = 0; i < n; i++) {
                json_object *a = json_object_array_get_idx(list, i);
                const char *addr = get_str(a, "addr");
                const char *type = get_str(a, "OS-EXT-IPS:type");
                if (addr == NULL || strlen(addr) >= sizeof inst->private_ip)
                    continue;
                if (type != NULL && strcmp(type, "floating") == 0) {
                    if (inst->public_ip[0] == '\0')
                        cb_sanitize(inst->public_ip, sizeof inst->public_ip, addr);
                } else if (inst->private_ip[0] == '\0') {
                    cb_sanitize(inst->private_ip, sizeof inst->private_ip, addr);
                }
            }
        }
    }
    const char *v4 = get_str(srv, "accessIPv4");
    if (inst->public_ip[0] == '\0' && v4 != NULL && v4[0] != '\0' &&
        strlen(v4) < sizeof inst->public_ip)
        cb_sanitize(inst->public_ip, sizeof inst->public_ip, v4);
}

static int take_server(json_object *srv, size_t idx, const struct os_server_filter *f,
                       struct cb_instance_list *out, struct cb_err *err)
{
    char origin[64];
    char id[CB_ID_MAX];

    if (!json_object_is_type(srv, json_type_object)) {
        snprintf(origin, sizeof origin, "openstack:servers[%zu]", idx);
        return cb_err_set(err, CB_ERR_INVALID, origin, "not an object");
    }
    if (get_id(srv, "id", id, sizeof id) != 0) {
        snprintf(origin, sizeof origin, "openstack:servers[%zu].id", idx);
        return cb_err_set(err, CB_ERR_INVALID, origin, "missing, empty or not a string");
    }
    json_object *md = get_typed(srv, "metadata", json_type_object);
    const char *pool = get_str(md, CB_TAG_POOL);
    const char *batch = get_str(md, CB_TAG_BATCH);
    if (pool == NULL || strcmp(pool, f->pool) != 0 || batch == NULL || batch[0] == '\0' ||
        strlen(batch) >= CB_NAME_MAX || (f->batch != NULL && strcmp(batch, f->batch) != 0))
        return 0; /* not ours */

    const char *status = get_str(srv, "status");
    if (status == NULL) {
        snprintf(origin, sizeof origin, "openstack:servers[%zu].status", idx);
        return cb_err_set(err, CB_ERR_INVALID, origin, "missing or not a string");
    }
    struct cb_instance *inst = cb_instance_list_add(out);
    if (inst == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "openstack:servers", "out of memory");
    cb_strlcpy(inst->id, id, sizeof inst->id);
    cb_sanitize(inst->batch_id, sizeof inst->batch_id, batch);
    char node[CB_NAME_MAX];
    node_id_from_name(get_str(srv, "name"), f->pool, batch, node, sizeof node);
    cb_sanitize(inst->node_id, sizeof inst->node_id, node);
    inst->state = os_map_status(status, get_str(srv, "OS-EXT-STS:task_state"));

    json_object *flavor = get_typed(srv, "flavor", json_type_object);
    const char *fname = get_str(flavor, "original_name");
    if (fname != NULL)
        cb_sanitize(inst->flavor, sizeof inst->flavor, fname);
    else if (flavor != NULL)
        get_id(flavor, "id", inst->flavor, sizeof inst->flavor);
    json_object *image = get_typed(srv, "image", json_type_object);
    if (image != NULL)
        get_id(image, "id", inst->image, sizeof inst->image);
    take_addresses(srv, inst);

    int64_t t = -1;
    if (os_parse_time(get_str(srv, "OS-SRV-USG:launched_at"), &t) != 0)
        os_parse_time(get_str(srv, "created"), &t);
    inst->launch_time = t;
    json_object *fault = get_typed(srv, "fault", json_type_object);
    const char *reason = get_str(fault, "message");
    if (reason != NULL)
        cb_sanitize(inst->state_reason, sizeof inst->state_reason, reason);
    else if (status[strcspn(status, "(")] == '(')
        cb_sanitize(inst->state_reason, sizeof inst->state_reason, status);
    return 0;
}

/* The "marker" query parameter of a next link, percent-decoded. */
static int marker_from_href(const char *href, char *dst, size_t size)
{
    const char *q = strchr(href, '?');
    dst[0] = '\0';
    if (q == NULL)
        return -1;
    for (const char *p = q + 1; *p;) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        if (plen > 7 && strncmp(p, "marker=", 7) == 0) {
            size_t o = 0;
            for (size_t i = 7; i < plen; i++) {
                char c = p[i];
                if (c == '%' && i + 2 < plen && isxdigit((unsigned char)p[i + 1]) &&
                    isxdigit((unsigned char)p[i + 2])) {
                    char hex[3] = { p[i + 1], p[i + 2], '\0' };
                    c = (char)strtol(hex, NULL, 16);
                    i += 2;
                }
                if (o + 1 >= size)
                    return -1;
                dst[o++] = c;
            }
            dst[o] = '\0';
            cb_sanitize_inplace(dst);
            return o > 0 ? 0 : -1;
        }
        p += plen + (amp ? 1 : 0);
    }
    return -1;
}

int os_parse_servers(const char *body, size_t len, const struct os_server_filter *filter,
                     struct cb_instance_list *out, size_t *page_items, char *next_marker,
                     size_t marker_len, struct cb_err *err)
{
    const char *origin = "openstack:servers";
    size_t before = out->n;
    *page_items = 0;
    if (marker_len > 0)
        next_marker[0] = '\0';
    json_object *doc = parse_doc(body, len, origin, err);
    if (doc == NULL)
        return -1;
    int rc = -1;
    json_object *servers = get_typed(doc, "servers", json_type_array);
    if (servers == NULL) {
        cb_err_set(err, CB_ERR_INVALID, origin, "reply has no \"servers\" list");
        goto out;
    }
    size_t n = json_object_array_length(servers);
    if (n > OS_MAX_ITEMS) {
        cb_err_set(err, CB_ERR_INVALID, origin, "%zu servers on one page: over the limit of %d", n,
                   OS_MAX_ITEMS);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (take_server(json_object_array_get_idx(servers, i), i, filter, out, err) != 0)
            goto out;
    json_object *links = get_typed(doc, "servers_links", json_type_array);
    size_t nl = links ? json_object_array_length(links) : 0;
    for (size_t i = 0; i < nl; i++) {
        json_object *l = json_object_array_get_idx(links, i);
        const char *rel = get_str(l, "rel"), *href = get_str(l, "href");
        if (rel == NULL || strcmp(rel, "next") != 0 || href == NULL)
            continue;
        if (marker_from_href(href, next_marker, marker_len) != 0) {
            cb_err_set(err, CB_ERR_INVALID, "openstack:servers_links[next].href",
                       "next link without a usable marker");
            goto out;
        }
        break;
    }
    *page_items = n;
    rc = 0;
out:
    json_object_put(doc);
    if (rc != 0) {
        out->n = before; /* drop what this page added */
        *page_items = 0;
        if (marker_len > 0)
            next_marker[0] = '\0';
    }
    return rc;
}

/* ---- flavors, images, create, faults -------------------------------------- */

int os_parse_find_ref(const char *body, size_t len, const char *key, const char *want,
                      char *id_out, size_t id_len, struct cb_err *err)
{
    char origin[64];
    snprintf(origin, sizeof origin, "openstack:%s", key);
    id_out[0] = '\0';
    json_object *doc = parse_doc(body, len, origin, err);
    if (doc == NULL)
        return -1;
    int rc = -1, by_name = 0;
    char found[CB_ID_MAX] = "";
    json_object *arr = get_typed(doc, key, json_type_array);
    if (arr == NULL) {
        cb_err_set(err, CB_ERR_INVALID, origin, "reply has no \"%s\" list", key);
        goto out;
    }
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        char id[CB_ID_MAX];
        if (get_id(e, "id", id, sizeof id) != 0) {
            char o[80];
            snprintf(o, sizeof o, "openstack:%s[%zu].id", key, i);
            cb_err_set(err, CB_ERR_INVALID, o, "missing, empty or not a string");
            goto out;
        }
        if (strcmp(id, want) == 0) {
            cb_strlcpy(found, id, sizeof found);
            by_name = 0;
            break;
        }
        const char *name = get_str(e, "name");
        if (name != NULL && strcmp(name, want) == 0) {
            if (by_name) {
                cb_err_set(err, CB_ERR_INVALID, origin, "%s name \"%s\" is ambiguous: use its id",
                           key, want);
                goto out;
            }
            by_name = 1;
            cb_strlcpy(found, id, sizeof found);
        }
    }
    if (found[0] == '\0') {
        char clean[CB_ID_MAX];
        cb_err_set(err, CB_ERR_NOT_FOUND, origin, "no %s with id or name \"%s\"", key,
                   cb_sanitize(clean, sizeof clean, want));
        goto out;
    }
    if (cb_strlcpy(id_out, found, id_len) >= id_len) {
        id_out[0] = '\0';
        cb_err_set(err, CB_ERR_INVALID, origin, "id too long");
        goto out;
    }
    rc = 0;
out:
    json_object_put(doc);
    return rc;
}

int os_parse_create(const char *body, size_t len, char *id_out, size_t id_len,
                    struct cb_err *err)
{
    const char *origin = "openstack:servers.create";
    id_out[0] = '\0';
    json_object *doc = parse_doc(body, len, origin, err);
    if (doc == NULL)
        return -1;
    int rc = 0;
    json_object *srv = get_typed(doc, "server", json_type_object);
    if (srv != NULL) {
        if (get_id(srv, "id", id_out, id_len) != 0)
            rc = cb_err_set(err, CB_ERR_INVALID, "openstack:server.id",
                            "missing, empty or not a string");
    } else if (get_id(doc, "reservation_id", id_out, id_len) != 0) {
        rc = cb_err_set(err, CB_ERR_INVALID, origin,
                        "reply has neither \"server\" nor \"reservation_id\"");
    }
    json_object_put(doc);
    return rc;
}

int os_parse_fault(const char *body, size_t len, char *msg, size_t msg_len)
{
    if (msg_len == 0)
        return -1;
    msg[0] = '\0';
    if (body == NULL || len == 0)
        return -1;
    json_object *doc = parse_doc(body, len, NULL, NULL);
    if (doc != NULL && json_object_is_type(doc, json_type_object)) {
        const char *m = get_str(doc, "message");
        if (m == NULL) {
            json_object_object_foreach(doc, k, v)
            {
                (void)k;
                if ((m = get_str(v, "message")) != NULL || (m = get_str(v, "details")) != NULL)
                    break;
            }
        }
        if (m != NULL) {
            cb_sanitize(msg, msg_len, m);
            json_object_put(doc);
            return 0;
        }
    }
    if (doc != NULL)
        json_object_put(doc);
    /* Not a fault document (an HTML error page of a proxy): a bounded prefix. */
    char raw[161];
    size_t n = len < sizeof raw - 1 ? len : sizeof raw - 1;
    memcpy(raw, body, n);
    raw[n] = '\0';
    cb_sanitize(msg, msg_len, raw);
    return -1;
}

/* ---- console host keys -------------------------------------------------------- */

#define HOSTKEY_BEGIN "-----BEGIN SSH HOST KEY KEYS-----"
#define HOSTKEY_END "-----END SSH HOST KEY KEYS-----"

static bool key_type_ok(const char *t, size_t n)
{
    if (n == 0 || n > 64 ||
        !(strncmp(t, "ssh-", 4) == 0 || strncmp(t, "ecdsa-", 6) == 0 || strncmp(t, "sk-", 3) == 0))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)t[i]) || isdigit((unsigned char)t[i]) || t[i] == '-' ||
              t[i] == '.' || t[i] == '@'))
            return false;
    return true;
}

static bool key_body_ok(const char *b, size_t n)
{
    if (n < 16 || n > 16384 || n % 4 != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)b[i]) || b[i] == '+' || b[i] == '/' ||
              (b[i] == '=' && i + 2 >= n)))
            return false;
    return true;
}

int os_parse_console_host_keys(const char *body, size_t len, char *buf, size_t buf_len,
                               struct cb_err *err)
{
    const char *origin = "openstack:console.output";
    if (buf_len == 0)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "no room for host keys");
    buf[0] = '\0';
    json_object *doc = parse_doc(body, len, origin, err);
    if (doc == NULL)
        return -1;
    int rc = -1;
    json_object *ov = get_typed(doc, "output", json_type_string);
    if (ov == NULL) {
        cb_err_set(err, CB_ERR_INVALID, origin, "reply has no \"output\" string");
        goto out;
    }
    const char *text = json_object_get_string(ov);
    size_t tlen = (size_t)json_object_get_string_len(ov);
    /* The last complete block wins: a rebooted guest prints its keys again. */
    const char *begin = NULL, *end = NULL;
    for (const char *p = text; (p = memmem(p, tlen - (size_t)(p - text), HOSTKEY_BEGIN,
                                           strlen(HOSTKEY_BEGIN))) != NULL;
         p += strlen(HOSTKEY_BEGIN)) {
        const char *from = p + strlen(HOSTKEY_BEGIN);
        const char *e = memmem(from, tlen - (size_t)(from - text), HOSTKEY_END, strlen(HOSTKEY_END));
        if (e != NULL) {
            begin = from;
            end = e;
        }
    }
    if (begin == NULL) {
        cb_err_set(err, CB_ERR_NOT_FOUND, origin, "no SSH host keys on the console (yet)");
        goto out;
    }
    size_t used = 0, keys = 0;
    for (const char *line = begin; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        const char *t = line;
        while (t < le && (*t == ' ' || *t == '\t' || *t == '\r'))
            t++;
        const char *te = t;
        while (te < le && *te != ' ')
            te++;
        const char *b = te;
        while (b < le && *b == ' ')
            b++;
        const char *be = b;
        while (be < le && *be != ' ' && *be != '\r')
            be++;
        size_t tn = (size_t)(te - t), bn = (size_t)(be - b);
        if (key_type_ok(t, tn) && key_body_ok(b, bn)) {
            if (used + tn + bn + 3 > buf_len) {
                buf[0] = '\0';
                cb_err_set(err, CB_ERR_INVALID, origin, "host keys exceed %zu bytes", buf_len);
                goto out;
            }
            memcpy(buf + used, t, tn);
            buf[used + tn] = ' ';
            memcpy(buf + used + tn + 1, b, bn);
            used += tn + bn + 1;
            buf[used++] = '\n';
            buf[used] = '\0';
            keys++;
        }
        line = nl ? nl + 1 : end;
    }
    if (keys == 0) {
        cb_err_set(err, CB_ERR_INVALID, origin, "host key block holds no valid key");
        goto out;
    }
    rc = 0;
out:
    json_object_put(doc);
    return rc;
}
