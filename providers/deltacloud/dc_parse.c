/* dc_parse: Deltacloud REST API reply parsers (see dc_parse.h). libxml2 only. */
#include "dc_parse.h"
#include "cb_text.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parse one document: no network, no entity substitution, no DTD; errors go
 * to the context (thread-safe), never to stderr. */
static xmlDocPtr parse_doc(const char *body, size_t len, const char *origin, struct cb_err *err)
{
    if (body == NULL || len == 0)
        return cb_err_set(err, CB_ERR_INVALID, origin, "empty reply"), NULL;
    if (len > DC_MAX_BODY || len > INT_MAX)
        return cb_err_set(err, CB_ERR_INVALID, origin, "reply of %zu bytes exceeds the %zu byte limit",
                          len, (size_t)DC_MAX_BODY), NULL;
    xmlParserCtxtPtr ctx = xmlNewParserCtxt();
    if (ctx == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory"), NULL;
    xmlDocPtr doc = xmlCtxtReadMemory(ctx, body, (int)len, "reply.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                          XML_PARSE_NOCDATA);
    if (doc == NULL || !ctx->wellFormed) {
        const xmlError *e = &ctx->lastError;
        char msg[200];
        cb_sanitize(msg, sizeof msg, e->message ? e->message : "not well-formed");
        size_t ml = strlen(msg);
        while (ml > 0 && (msg[ml - 1] == '?' || msg[ml - 1] == ' '))
            msg[--ml] = '\0'; /* libxml2 ends messages with a newline */
        cb_err_set(err, CB_ERR_INVALID, origin, "malformed XML at line %d: %s", e->line, msg);
        if (doc != NULL)
            xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctx);
    return doc;
}

static bool is_elem(xmlNodePtr n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
        if (is_elem(c, name))
            return c;
    return NULL;
}

/* Copy an attribute or element text, sanitised and trimmed; "" if absent.
 * Returns -1 when it does not fit. */
static int copy_xml(char *dst, size_t size, xmlChar *s)
{
    dst[0] = '\0';
    if (s == NULL)
        return 0;
    const char *p = (const char *)s;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        n--;
    int rc = 0;
    if (n >= size) {
        rc = -1;
    } else {
        char tmp[DC_URL_MAX];
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        cb_sanitize(dst, size, tmp);
    }
    xmlFree(s);
    return rc;
}

static int attr(xmlNodePtr n, const char *name, char *dst, size_t size)
{
    if (size > DC_URL_MAX)
        size = DC_URL_MAX;
    return copy_xml(dst, size, n ? xmlGetProp(n, BAD_CAST name) : NULL);
}

static int text(xmlNodePtr n, char *dst, size_t size)
{
    if (size > DC_URL_MAX)
        size = DC_URL_MAX;
    return copy_xml(dst, size, n ? xmlNodeGetContent(n) : NULL);
}

/* ---- entry point -------------------------------------------------------- */

int dc_parse_api(const char *body, size_t len, struct dc_api *out, struct cb_err *err)
{
    const char *origin = "deltacloud:api";
    memset(out, 0, sizeof *out);
    xmlDocPtr doc = parse_doc(body, len, origin, err);
    if (doc == NULL)
        return -1;
    int rc = -1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!is_elem(root, "api")) {
        cb_err_set(err, CB_ERR_INVALID, origin, "root element is not <api>");
        goto out;
    }
    attr(root, "driver", out->driver, sizeof out->driver);
    attr(root, "version", out->version, sizeof out->version);
    for (xmlNodePtr l = root->children; l; l = l->next) {
        char rel[64];
        if (!is_elem(l, "link") || attr(l, "rel", rel, sizeof rel) != 0 ||
            strcmp(rel, "instances") != 0)
            continue;
        out->has_instances = true;
        if (attr(l, "href", out->instances_href, sizeof out->instances_href) != 0) {
            cb_err_set(err, CB_ERR_INVALID, "deltacloud:api/link[instances]@href", "too long");
            goto out;
        }
        for (xmlNodePtr f = l->children; f; f = f->next) {
            char name[64];
            if (!is_elem(f, "feature") || attr(f, "name", name, sizeof name) != 0)
                continue;
            if (strcmp(name, "user_name") == 0)
                out->feature_user_name = true;
            else if (strcmp(name, "user_data") == 0)
                out->feature_user_data = true;
            else if (strcmp(name, "authentication_key") == 0)
                out->feature_authentication_key = true;
        }
    }
    rc = 0;
out:
    xmlFreeDoc(doc);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- instances ---------------------------------------------------------- */

void dc_instance_list_free(struct dc_instance_list *l)
{
    if (l == NULL)
        return;
    free(l->items);
    memset(l, 0, sizeof *l);
}

static struct dc_instance *list_add(struct dc_instance_list *l)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        struct dc_instance *p = realloc(l->items, ncap * sizeof *p);
        if (p == NULL)
            return NULL;
        l->items = p;
        l->cap = ncap;
    }
    struct dc_instance *d = &l->items[l->n++];
    memset(d, 0, sizeof *d);
    return d;
}

static void first_address(xmlNodePtr list, char *dst, size_t size)
{
    for (xmlNodePtr a = list ? list->children : NULL; a; a = a->next)
        if (is_elem(a, "address") && text(a, dst, size) == 0 && dst[0] != '\0')
            return;
    dst[0] = '\0';
}

static int take_instance(xmlNodePtr n, size_t idx, struct dc_instance_list *out,
                         struct cb_err *err)
{
    char origin[80];
    struct dc_instance *d = list_add(out);
    if (d == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "deltacloud:instances", "out of memory");
    if (attr(n, "id", d->id, sizeof d->id) != 0 || d->id[0] == '\0') {
        snprintf(origin, sizeof origin, "deltacloud:instances/instance[%zu]@id", idx);
        return cb_err_set(err, CB_ERR_INVALID, origin, "missing, empty or too long");
    }
    if (text(child(n, "name"), d->name, sizeof d->name) != 0) {
        snprintf(origin, sizeof origin, "deltacloud:instances/instance[%zu]/name", idx);
        return cb_err_set(err, CB_ERR_INVALID, origin, "longer than %zu bytes", sizeof d->name - 1);
    }
    xmlNodePtr st = child(n, "state");
    if (st == NULL || text(st, d->state, sizeof d->state) != 0) {
        snprintf(origin, sizeof origin, "deltacloud:instances/instance[%zu]/state", idx);
        return cb_err_set(err, CB_ERR_INVALID, origin, "missing or too long");
    }
    attr(child(n, "image"), "id", d->image, sizeof d->image);
    attr(child(n, "hardware_profile"), "id", d->hwp, sizeof d->hwp);
    attr(child(n, "realm"), "id", d->realm, sizeof d->realm);
    first_address(child(n, "public_addresses"), d->public_addr, sizeof d->public_addr);
    first_address(child(n, "private_addresses"), d->private_addr, sizeof d->private_addr);
    for (xmlNodePtr l = child(n, "actions") ? child(n, "actions")->children : NULL; l; l = l->next) {
        char rel[32];
        if (!is_elem(l, "link") || attr(l, "rel", rel, sizeof rel) != 0)
            continue;
        if (strcmp(rel, "start") == 0)
            d->actions |= DC_ACTION_START;
        else if (strcmp(rel, "stop") == 0)
            d->actions |= DC_ACTION_STOP;
        else if (strcmp(rel, "reboot") == 0)
            d->actions |= DC_ACTION_REBOOT;
        else if (strcmp(rel, "destroy") == 0)
            d->actions |= DC_ACTION_DESTROY;
    }
    return 0;
}

int dc_parse_instances(const char *body, size_t len, struct dc_instance_list *out,
                       struct cb_err *err)
{
    const char *origin = "deltacloud:instances";
    size_t before = out->n;
    xmlDocPtr doc = parse_doc(body, len, origin, err);
    if (doc == NULL)
        return -1;
    int rc = -1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (is_elem(root, "instance")) {
        rc = take_instance(root, 0, out, err);
    } else if (is_elem(root, "instances")) {
        size_t i = 0;
        rc = 0;
        for (xmlNodePtr n = root->children; n && rc == 0; n = n->next) {
            if (!is_elem(n, "instance"))
                continue;
            if (i >= DC_MAX_ITEMS) {
                rc = cb_err_set(err, CB_ERR_INVALID, origin, "more than %d instances", DC_MAX_ITEMS);
                break;
            }
            rc = take_instance(n, i++, out, err);
        }
    } else {
        cb_err_set(err, CB_ERR_INVALID, origin, "root element is neither <instances> nor <instance>");
    }
    xmlFreeDoc(doc);
    if (rc != 0)
        out->n = before;
    return rc;
}

enum cb_instance_state dc_map_state(const char *state)
{
    static const struct {
        const char *word;
        enum cb_instance_state state;
    } map[] = {
        { "START", CB_INSTANCE_PENDING },    { "PENDING", CB_INSTANCE_PENDING },
        { "RUNNING", CB_INSTANCE_RUNNING },  { "STOPPING", CB_INSTANCE_STOPPING },
        { "SHUTTING_DOWN", CB_INSTANCE_STOPPING }, { "STOPPED", CB_INSTANCE_STOPPING },
        { "FINISH", CB_INSTANCE_TERMINATED }, { "TERMINATED", CB_INSTANCE_TERMINATED },
        { "ERROR", CB_INSTANCE_ERROR },
    };
    for (size_t i = 0; state != NULL && i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(state, map[i].word) == 0)
            return map[i].state;
    return CB_INSTANCE_UNKNOWN;
}

int dc_name_split(const char *name, const char *pool, char *batch, size_t batch_len, char *node,
                  size_t node_len, unsigned *index)
{
    size_t pl = strlen(pool);
    batch[0] = node[0] = '\0';
    *index = 0;
    if (name == NULL || strncmp(name, pool, pl) != 0 || strncmp(name + pl, "--", 2) != 0)
        return -1;
    const char *rest = name + pl + 2;
    const char *dash = strrchr(rest, '-');
    if (dash == NULL || dash == rest || dash[1] == '\0' || strlen(dash + 1) > 6)
        return -1;
    for (const char *p = dash + 1; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    if ((dash[1] == '0' && dash[2] != '\0'))
        return -1; /* "-01" is not a name we gave */
    size_t bl = (size_t)(dash - rest);
    if (bl >= batch_len || strlen(rest) >= node_len)
        return -1;
    memcpy(batch, rest, bl);
    batch[bl] = '\0';
    if (!cb_is_safe_name(batch)) {
        batch[0] = '\0';
        return -1;
    }
    cb_strlcpy(node, rest, node_len);
    *index = (unsigned)strtoul(dash + 1, NULL, 10);
    return 0;
}

int dc_to_instance(const struct dc_instance *d, const char *pool, struct cb_instance *out)
{
    unsigned idx;
    memset(out, 0, sizeof *out);
    if (dc_name_split(d->name, pool, out->batch_id, sizeof out->batch_id, out->node_id,
                      sizeof out->node_id, &idx) != 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    cb_strlcpy(out->id, d->id, sizeof out->id);
    cb_strlcpy(out->flavor, d->hwp, sizeof out->flavor);
    cb_strlcpy(out->image, d->image, sizeof out->image);
    cb_strlcpy(out->private_ip, d->private_addr, sizeof out->private_ip);
    cb_strlcpy(out->public_ip, d->public_addr, sizeof out->public_ip);
    out->state = dc_map_state(d->state);
    out->launch_time = -1;
    if (out->state == CB_INSTANCE_UNKNOWN || out->state == CB_INSTANCE_ERROR)
        snprintf(out->state_reason, sizeof out->state_reason, "deltacloud state %s", d->state);
    return 0;
}

/* ---- faults ------------------------------------------------------------- */

int dc_parse_fault(const char *body, size_t len, char *msg, size_t msg_len)
{
    if (msg_len == 0)
        return -1;
    msg[0] = '\0';
    if (body == NULL || len == 0)
        return -1;
    xmlDocPtr doc = parse_doc(body, len, NULL, NULL);
    if (doc != NULL) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        xmlNodePtr m = is_elem(root, "error") ? child(root, "message") : NULL;
        if (m != NULL) {
            xmlChar *s = xmlNodeGetContent(m);
            if (s != NULL) {
                /* Backend messages span lines (EC2 request dumps): keep the first. */
                char first[400];
                const char *p = (const char *)s;
                while (isspace((unsigned char)*p))
                    p++;
                size_t n = strcspn(p, "\r\n");
                if (n >= sizeof first)
                    n = sizeof first - 1;
                memcpy(first, p, n);
                first[n] = '\0';
                cb_sanitize(msg, msg_len, first);
                xmlFree(s);
                xmlFreeDoc(doc);
                return 0;
            }
        }
        xmlFreeDoc(doc);
    }
    char raw[161];
    size_t n = len < sizeof raw - 1 ? len : sizeof raw - 1;
    memcpy(raw, body, n);
    raw[n] = '\0';
    cb_sanitize(msg, msg_len, raw);
    return -1;
}
