/* ec2_xml: see ec2_xml.h. A document is parsed into a libxml2 tree (the
 * replies are small: one page of at most 1000 instances), walked by local
 * element names, and every field is copied out through one bounded helper. */
#include "ec2_xml.h"
#include "cb_text.h"
#include "provider.h"

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void ec2_xml_init(void)
{
    xmlInitParser();
}

static bool is_named(const xmlNode *n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *parent, const char *name)
{
    if (parent == NULL)
        return NULL;
    for (xmlNode *c = parent->children; c != NULL; c = c->next)
        if (is_named(c, name))
            return c;
    return NULL;
}

/* Text of element c (its direct text and CDATA children, as EC2's leaf
 * elements have), trimmed and sanitised, into buf. Returns 1 if c exists, 0
 * if c is NULL, -1 if the text is longer than len-1 (when strict). Copies
 * through a bounded stack buffer: no allocation per field. */
static int node_text(const xmlNode *c, char *buf, size_t len, bool strict)
{
    char tmp[1024];
    size_t tl = 0, total = 0;

    buf[0] = '\0';
    if (c == NULL)
        return 0;
    for (const xmlNode *t = c->children; t != NULL; t = t->next) {
        if ((t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE) || t->content == NULL)
            continue;
        size_t n = strlen((const char *)t->content);
        total += n;
        if (n > sizeof tmp - 1 - tl)
            n = sizeof tmp - 1 - tl;
        memcpy(tmp + tl, t->content, n);
        tl += n;
    }
    tmp[tl] = '\0';
    const char *s = tmp, *e = tmp + tl;
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    size_t sl = (size_t)(e - s);
    if (strict && (sl >= len || total > sizeof tmp - 1))
        return -1;
    tmp[e - tmp] = '\0';
    cb_sanitize(buf, len, s);
    return 1;
}

static int child_text(const xmlNode *parent, const char *name, char *buf, size_t len, bool strict)
{
    return node_text(child(parent, name), buf, len, strict);
}

static bool is_id_text(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

/* Parse into a tree; refuses DTDs and oversize input. */
static xmlDoc *parse_doc(const char *body, size_t len, const char *what, struct cb_err *err)
{
    if (body == NULL || len == 0)
        return cb_err_set(err, CB_ERR_INVALID, what, "empty reply where XML was expected"), NULL;
    if (len > EC2_XML_MAX)
        return cb_err_set(err, CB_ERR_INVALID, what, "XML reply larger than %zu bytes", EC2_XML_MAX),
               NULL;
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, what, "out of memory"), NULL;
    /* COMPACT and NOBLANKS: fewer allocations per node (a 1000-instance page
     * is ~2 MB and ~100k nodes). Never NOENT/DTDLOAD: entities stay unexpanded. */
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, body, (int)len, "ec2-reply.xml", NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                        XML_PARSE_COMPACT | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA);
    if (doc == NULL) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        cb_err_set(err, CB_ERR_INVALID, what, "malformed XML at line %d: %s",
                   e ? e->line : 0, e && e->message ? e->message : "parse error");
    } else if (doc->intSubset != NULL || doc->extSubset != NULL) {
        cb_err_set(err, CB_ERR_INVALID, what, "XML reply with a DTD: refused");
        xmlFreeDoc(doc);
        doc = NULL;
    } else if (xmlDocGetRootElement(doc) == NULL) {
        cb_err_set(err, CB_ERR_INVALID, what, "XML reply without a root element");
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

int ec2_xml_parse_error(const char *body, size_t len, struct ec2_error_doc *out,
                        struct cb_err *err)
{
    memset(out, 0, sizeof *out);
    xmlDoc *doc = parse_doc(body, len, "ec2:error", err);
    if (doc == NULL)
        return -1;
    int rc = -1;
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *e = NULL;
    if (is_named(root, "Response"))
        e = child(child(root, "Errors"), "Error");
    else if (is_named(root, "ErrorResponse"))
        e = child(root, "Error");
    if (e == NULL) {
        cb_err_set(err, CB_ERR_INVALID, "ec2:error",
                   "<%s>: not an EC2 error document (no <Errors><Error>)", (const char *)root->name);
        goto out;
    }
    if (child_text(e, "Code", out->code, sizeof out->code, false) <= 0 || out->code[0] == '\0') {
        cb_err_set(err, CB_ERR_INVALID, "ec2:error", "<Error> without <Code>");
        goto out;
    }
    child_text(e, "Message", out->message, sizeof out->message, false);
    if (child_text(root, "RequestID", out->request_id, sizeof out->request_id, false) == 0)
        child_text(root, "RequestId", out->request_id, sizeof out->request_id, false);
    rc = 0;
out:
    xmlFreeDoc(doc);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

enum cb_instance_state ec2_state_from_name(const char *name)
{
    static const struct {
        const char *word;
        enum cb_instance_state state;
    } map[] = {
        { "pending", CB_INSTANCE_PENDING },      { "running", CB_INSTANCE_RUNNING },
        { "shutting-down", CB_INSTANCE_STOPPING }, { "stopping", CB_INSTANCE_STOPPING },
        { "stopped", CB_INSTANCE_STOPPING },     { "terminated", CB_INSTANCE_TERMINATED },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].word, name) == 0)
            return map[i].state;
    return CB_INSTANCE_UNKNOWN;
}

/* "2012-07-30T11:06:44.000Z" -> Unix seconds, -1 if unparsable. */
static int64_t parse_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h, mi, se;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6 || y < 1970 ||
        y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || h < 0 ||
        mi < 0 || se < 0)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return (int64_t)timegm(&tm);
}

/* One <instancesSet><item> into inst. `where` names it for errors. */
static int parse_instance(const xmlNode *item, struct cb_instance *inst, const char *where,
                          struct cb_err *err)
{
    char buf[CB_ID_MAX], state[64], idx[16], token[CB_NAME_MAX * 2];
    /* One pass over the item's children: a page holds up to 1000 items of
     * ~40 children each, so looking each field up separately would cost. */
    enum { F_ID, F_STATE, F_CURSTATE, F_TYPE, F_IMAGE, F_PRIV, F_PUB, F_LAUNCH, F_REASONS,
           F_REASON, F_LIFECYCLE, F_TAGS, F_TOKEN, F_INDEX, F__N };
    static const char *const names[F__N] = {
        "instanceId", "instanceState", "currentState", "instanceType", "imageId",
        "privateIpAddress", "ipAddress", "launchTime", "stateReason", "reason",
        "instanceLifecycle", "tagSet", "clientToken", "amiLaunchIndex"
    };
    const xmlNode *f[F__N] = { NULL };
    for (const xmlNode *c = item->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        for (int k = 0; k < F__N; k++)
            if (f[k] == NULL && strcmp((const char *)c->name, names[k]) == 0) {
                f[k] = c;
                break;
            }
    }

    int r = node_text(f[F_ID], inst->id, sizeof inst->id, true);
    if (r == 0 || inst->id[0] == '\0')
        return cb_err_set(err, CB_ERR_INVALID, "ec2", "%s: missing <instanceId>", where);
    if (r < 0 || !is_id_text(inst->id))
        return cb_err_set(err, CB_ERR_INVALID, "ec2", "%s: <instanceId> is not an instance id",
                          where);
    const xmlNode *st = f[F_STATE] ? f[F_STATE] : f[F_CURSTATE];
    if (st == NULL || child_text(st, "name", state, sizeof state, false) <= 0)
        return cb_err_set(err, CB_ERR_INVALID, "ec2", "%s (%s): missing <instanceState><name>",
                          where, inst->id);
    inst->state = ec2_state_from_name(state);

    node_text(f[F_TYPE], inst->flavor, sizeof inst->flavor, false);
    node_text(f[F_IMAGE], inst->image, sizeof inst->image, false);
    node_text(f[F_PRIV], inst->private_ip, sizeof inst->private_ip, false);
    node_text(f[F_PUB], inst->public_ip, sizeof inst->public_ip, false);
    inst->launch_time = -1;
    if (node_text(f[F_LAUNCH], buf, sizeof buf, false) > 0 && buf[0] != '\0') {
        inst->launch_time = parse_time(buf);
        if (inst->launch_time < 0)
            return cb_err_set(err, CB_ERR_INVALID, "ec2", "%s (%s): bad <launchTime> '%s'", where,
                              inst->id, buf);
    }
    const xmlNode *reason = f[F_REASONS];
    if (reason == NULL || child_text(reason, "message", inst->state_reason,
                                     sizeof inst->state_reason, false) <= 0)
        node_text(f[F_REASON], inst->state_reason, sizeof inst->state_reason, false);
    char code[96] = "";
    if (reason != NULL)
        child_text(reason, "code", code, sizeof code, false);
    char lifecycle[32] = "";
    node_text(f[F_LIFECYCLE], lifecycle, sizeof lifecycle, false);
    inst->preempted = strcmp(lifecycle, "spot") == 0 &&
                      (strstr(code, "Spot") != NULL || strstr(code, "spot") != NULL) &&
                      inst->state != CB_INSTANCE_RUNNING && inst->state != CB_INSTANCE_PENDING;

    /* Tags first; clientToken / amiLaunchIndex as the fallback. */
    const xmlNode *tags = f[F_TAGS];
    for (xmlNode *t = tags ? tags->children : NULL; t != NULL; t = t->next) {
        if (!is_named(t, "item"))
            continue;
        char key[128], value[CB_NAME_MAX + 1];
        if (child_text(t, "key", key, sizeof key, false) <= 0)
            continue;
        if (strcmp(key, CB_TAG_BATCH) == 0 || strcmp(key, CB_TAG_NODE) == 0) {
            r = child_text(t, "value", value, sizeof value, true);
            if (r < 0 || strlen(value) >= CB_NAME_MAX || (value[0] != '\0' && !is_id_text(value)))
                return cb_err_set(err, CB_ERR_INVALID, "ec2", "%s (%s): tag %s has a bad value",
                                  where, inst->id, key);
            cb_strlcpy(strcmp(key, CB_TAG_BATCH) == 0 ? inst->batch_id : inst->node_id, value,
                       CB_NAME_MAX);
        }
    }
    if (inst->batch_id[0] == '\0' &&
        node_text(f[F_TOKEN], token, sizeof token, false) > 0 && token[0] != '\0') {
        if (strlen(token) >= CB_NAME_MAX || !is_id_text(token))
            return cb_err_set(err, CB_ERR_INVALID, "ec2", "%s (%s): bad <clientToken>", where,
                              inst->id);
        cb_strlcpy(inst->batch_id, token, sizeof inst->batch_id);
    }
    if (node_text(f[F_INDEX], idx, sizeof idx, false) > 0 && idx[0] != '\0') {
        char *end;
        long v = strtol(idx, &end, 10);
        if (*end != '\0' || v < 0 || v > 9999)
            return cb_err_set(err, CB_ERR_INVALID, "ec2", "%s (%s): bad <amiLaunchIndex> '%s'",
                              where, inst->id, idx);
        if (inst->node_id[0] == '\0' && inst->batch_id[0] != '\0') {
            char nid[CB_NAME_MAX + 16];
            snprintf(nid, sizeof nid, "%s-%ld", inst->batch_id, v);
            if (strlen(nid) >= CB_NAME_MAX)
                return cb_err_set(err, CB_ERR_INVALID, "ec2", "%s (%s): node id too long", where,
                                  inst->id);
            cb_strlcpy(inst->node_id, nid, sizeof inst->node_id);
        }
    }
    return 0;
}

/* Parse every <item> of set into out; on failure out is restored. */
static int parse_instance_set(const xmlNode *set, struct cb_instance_list *out, size_t *count,
                              const char *root, struct cb_err *err)
{
    for (xmlNode *it = set ? set->children : NULL; it != NULL; it = it->next) {
        if (!is_named(it, "item"))
            continue;
        char where[160];
        snprintf(where, sizeof where, "%s: instance %zu", root, *count + 1);
        struct cb_instance *inst = cb_instance_list_add(out);
        if (inst == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, "ec2", "out of memory");
        (*count)++;
        if (parse_instance(it, inst, where, err) != 0)
            return -1;
    }
    return 0;
}

int ec2_xml_parse_instances(const char *body, size_t len, const char *root,
                            struct cb_instance_list *out, char *next_token, size_t next_len,
                            struct cb_err *err)
{
    size_t n0 = out->n, count = 0;
    int rc = -1;

    if (next_token != NULL && next_len > 0)
        next_token[0] = '\0';
    xmlDoc *doc = parse_doc(body, len, root, err);
    if (doc == NULL)
        return -1;
    xmlNode *r = xmlDocGetRootElement(doc);
    if (!is_named(r, root)) {
        cb_err_set(err, CB_ERR_INVALID, "ec2", "expected <%s>, got <%s>", root,
                   (const char *)r->name);
        goto out;
    }
    if (strcmp(root, "RunInstancesResponse") == 0) {
        xmlNode *set = child(r, "instancesSet");
        if (set == NULL) {
            cb_err_set(err, CB_ERR_INVALID, "ec2", "%s: missing <instancesSet>", root);
            goto out;
        }
        if (parse_instance_set(set, out, &count, root, err) != 0)
            goto out;
    } else {
        xmlNode *rs = child(r, "reservationSet");
        if (rs == NULL) {
            cb_err_set(err, CB_ERR_INVALID, "ec2", "%s: missing <reservationSet>", root);
            goto out;
        }
        for (xmlNode *res = rs->children; res != NULL; res = res->next) {
            if (!is_named(res, "item"))
                continue;
            if (parse_instance_set(child(res, "instancesSet"), out, &count, root, err) != 0)
                goto out;
        }
    }
    if (next_token != NULL && next_len > 0) {
        int t = child_text(r, "nextToken", next_token, next_len, true);
        if (t < 0 || (t > 0 && strlen(next_token) >= EC2_NEXT_TOKEN_MAX)) {
            cb_err_set(err, CB_ERR_INVALID, "ec2", "%s: <nextToken> longer than %zu bytes", root,
                       next_len - 1);
            next_token[0] = '\0';
            goto out;
        }
        for (const char *p = next_token; *p; p++)
            if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
                cb_err_set(err, CB_ERR_INVALID, "ec2", "%s: <nextToken> has a bad character",
                           root);
                next_token[0] = '\0';
                goto out;
            }
    }
    rc = 0;
out:
    xmlFreeDoc(doc);
    if (rc != 0)
        out->n = n0; /* drop what this call appended */
    return rc;
}

/* ---- nextToken by SAX ------------------------------------------------------ */

struct token_scan {
    int depth;
    bool in_token, seen, overflow, bad;
    char *buf;
    size_t len, cap;
};

static void scan_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                       const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                       int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    struct token_scan *t = ctx;
    (void)prefix, (void)uri, (void)nb_namespaces, (void)namespaces, (void)nb_attributes;
    (void)nb_defaulted, (void)attributes;
    t->depth++;
    if (t->in_token) {
        t->bad = true; /* elements inside <nextToken> */
    } else if (t->depth == 1) {
        t->bad |= strcmp((const char *)localname, "DescribeInstancesResponse") != 0;
    } else if (t->depth == 2 && !t->seen && strcmp((const char *)localname, "nextToken") == 0) {
        t->in_token = true;
        t->seen = true;
    }
}

static void scan_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *uri)
{
    struct token_scan *t = ctx;
    (void)localname, (void)prefix, (void)uri;
    if (t->depth == 2)
        t->in_token = false;
    t->depth--;
}

static void scan_chars(void *ctx, const xmlChar *ch, int len)
{
    struct token_scan *t = ctx;
    if (!t->in_token || len <= 0)
        return;
    if ((size_t)len >= t->cap - t->len) {
        t->overflow = true;
        return;
    }
    memcpy(t->buf + t->len, ch, (size_t)len);
    t->len += (size_t)len;
    t->buf[t->len] = '\0';
}

static void scan_silent_error(void *ctx, xmlErrorPtr e)
{
    (void)ctx, (void)e; /* the return code says it failed; nothing goes to stderr */
}

int ec2_xml_next_token(const char *body, size_t len, char *next_token, size_t next_len,
                       struct cb_err *err)
{
    static const char root[] = "DescribeInstancesResponse";
    if (next_token == NULL || next_len == 0)
        return cb_err_set(err, CB_ERR_INTERNAL, root, "no room for the token");
    next_token[0] = '\0';
    if (body == NULL || len == 0 || len > EC2_XML_MAX || len > INT32_MAX)
        return cb_err_set(err, CB_ERR_INVALID, root, "reply empty or larger than %zu bytes",
                          EC2_XML_MAX);
    struct token_scan t = { .buf = next_token, .cap = next_len };
    xmlSAXHandler h;
    memset(&h, 0, sizeof h);
    h.initialized = XML_SAX2_MAGIC;
    h.startElementNs = scan_start;
    h.endElementNs = scan_end;
    h.characters = scan_chars;
    h.cdataBlock = scan_chars;
    h.serror = (xmlStructuredErrorFunc)scan_silent_error;
    /* A DTD in the reply gets no handler: entity declarations are not
     * recorded, so nothing is ever expanded (the full parse refuses DTDs). */
    int rc = xmlSAXUserParseMemory(&h, &t, body, (int)len);
    if (rc != 0 || t.bad) {
        next_token[0] = '\0';
        return cb_err_set(err, CB_ERR_INVALID, root, "malformed XML (or not a %s)", root);
    }
    if (t.overflow) {
        next_token[0] = '\0';
        return cb_err_set(err, CB_ERR_INVALID, root, "<nextToken> longer than %zu bytes",
                          next_len - 1);
    }
    /* trim, like every other field */
    char *s = next_token, *e = next_token + t.len;
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    memmove(next_token, s, (size_t)(e - s));
    next_token[e - s] = '\0';
    for (const char *p = next_token; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
            next_token[0] = '\0';
            return cb_err_set(err, CB_ERR_INVALID, root, "<nextToken> has a bad character");
        }
    return 0;
}

int ec2_xml_parse_terminate(const char *body, size_t len, struct cb_instance_list *out,
                            struct cb_err *err)
{
    static const char root[] = "TerminateInstancesResponse";
    size_t n0 = out->n, count = 0;
    int rc = -1;

    xmlDoc *doc = parse_doc(body, len, root, err);
    if (doc == NULL)
        return -1;
    xmlNode *r = xmlDocGetRootElement(doc);
    if (!is_named(r, root)) {
        cb_err_set(err, CB_ERR_INVALID, "ec2", "expected <%s>, got <%s>", root,
                   (const char *)r->name);
        goto out;
    }
    xmlNode *set = child(r, "instancesSet");
    if (set == NULL) {
        cb_err_set(err, CB_ERR_INVALID, "ec2", "%s: missing <instancesSet>", root);
        goto out;
    }
    for (xmlNode *it = set->children; it != NULL; it = it->next) {
        if (!is_named(it, "item"))
            continue;
        struct cb_instance *inst = cb_instance_list_add(out);
        if (inst == NULL) {
            cb_err_set(err, CB_ERR_INTERNAL, "ec2", "out of memory");
            goto out;
        }
        count++;
        inst->launch_time = -1;
        int t = child_text(it, "instanceId", inst->id, sizeof inst->id, true);
        if (t <= 0 || !is_id_text(inst->id)) {
            cb_err_set(err, CB_ERR_INVALID, "ec2", "%s: instance %zu: missing or bad <instanceId>",
                       root, count);
            goto out;
        }
        char state[64];
        if (child_text(child(it, "currentState"), "name", state, sizeof state, false) <= 0) {
            cb_err_set(err, CB_ERR_INVALID, "ec2", "%s: instance %zu (%s): missing <currentState>",
                       root, count, inst->id);
            goto out;
        }
        inst->state = ec2_state_from_name(state);
    }
    rc = 0;
out:
    xmlFreeDoc(doc);
    if (rc != 0)
        out->n = n0;
    return rc;
}
