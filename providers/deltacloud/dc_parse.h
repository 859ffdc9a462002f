/* dc_parse: parsers for the Apache Deltacloud REST API replies (XML, libxml2).
 *
 * Pure functions over a body and its length, one fuzz target each
 * (tests/fuzz/fuzz_deltacloud_*.c). Documents are parsed without network
 * access, without entity substitution and without DTD loading; a body larger
 * than DC_MAX_BODY is refused, and at most DC_MAX_ITEMS instances are read.
 * Every copied string is sanitised and bounded. Out-params are cleared on
 * entry; on failure lists are left as they were and err names the element
 * ("deltacloud:instances/instance[2]@id").
 *
 * Deltacloud has no tags, so an instance's name carries them:
 * "<pool>--<batch_id>-<index>" (one instance per create call).
 */
#ifndef CB_DC_PARSE_H
#define CB_DC_PARSE_H

#include "cb_error.h"
#include "core/observe.h"

#include <stdbool.h>
#include <stddef.h>

#define DC_MAX_BODY ((size_t)32 << 20)
#define DC_MAX_ITEMS 100000
#define DC_URL_MAX 1024

/* GET /api: what the entry point offers. */
struct dc_api {
    char driver[CB_NAME_MAX];
    char version[32];
    bool has_instances;           /* an "instances" collection link */
    char instances_href[DC_URL_MAX];
    bool feature_user_name;       /* POST /api/instances accepts "name" */
    bool feature_user_data;       /* ... accepts "user_data" */
    bool feature_authentication_key; /* ... accepts "keyname" */
};

int dc_parse_api(const char *body, size_t len, struct dc_api *out, struct cb_err *err);

/* Actions an instance offers (its <actions> links). */
#define DC_ACTION_START (1u << 0)
#define DC_ACTION_STOP (1u << 1)
#define DC_ACTION_REBOOT (1u << 2)
#define DC_ACTION_DESTROY (1u << 3)

struct dc_instance {
    char id[CB_ID_MAX];
    char name[CB_NAME_MAX * 2];
    char state[32];               /* Deltacloud's word: PENDING, RUNNING, STOPPED, ... */
    char image[CB_ID_MAX];
    char hwp[CB_NAME_MAX];
    char realm[CB_NAME_MAX];
    char public_addr[CB_ADDR_MAX];
    char private_addr[CB_ADDR_MAX];
    unsigned actions;
};

struct dc_instance_list {
    struct dc_instance *items;
    size_t n, cap;
};

void dc_instance_list_free(struct dc_instance_list *l);

/* An <instances> collection or a single <instance> (create, stop, show):
 * appends to *out. */
int dc_parse_instances(const char *body, size_t len, struct dc_instance_list *out,
                       struct cb_err *err);

/* Deltacloud state word -> normalised state. */
enum cb_instance_state dc_map_state(const char *state);

/* Split "<pool>--<batch>-<index>": fills batch and node ("<batch>-<index>")
 * and returns 0 when the name has that form for `pool`, -1 otherwise. */
int dc_name_split(const char *name, const char *pool, char *batch, size_t batch_len, char *node,
                  size_t node_len, unsigned *index);

/* Fill a cb_instance from a parsed instance of `pool` (see dc_name_split);
 * returns -1 when the instance is not ours. */
int dc_to_instance(const struct dc_instance *d, const char *pool, struct cb_instance *out);

/* An <error> document's <message> (sanitised) into msg; returns 0 if found,
 * else -1 with a sanitised prefix of the raw body (HTML, plain text). */
int dc_parse_fault(const char *body, size_t len, char *msg, size_t msg_len);

#endif
