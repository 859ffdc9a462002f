/* os_parse: parsers for the Keystone v3 and Nova replies the openstack driver reads.
 *
 * Pure functions over a body and its length (no I/O, no clock, no globals), so
 * each one has a fuzz target (tests/fuzz/fuzz_openstack_*.c) that replays every
 * recorded reply. All JSON goes through json-c with a nesting limit; a body
 * larger than OS_MAX_BODY is refused. Every string copied out is sanitised
 * (cb_sanitize) and bounded by its fixed-size field. Out-params are cleared on
 * entry; on failure they are left cleared (lists are freed) and err names the
 * field that was wrong ("openstack:servers[3].id").
 */
#ifndef CB_OS_PARSE_H
#define CB_OS_PARSE_H

#include "cb_error.h"
#include "core/observe.h"

#include <stddef.h>
#include <stdint.h>

#define OS_MAX_BODY ((size_t)64 << 20) /* 64 MiB: far above a 1,000-server page */
#define OS_URL_MAX 1024

/* What the driver keeps from a Keystone v3 token reply (POST /v3/auth/tokens;
 * the token itself is the X-Subject-Token header, not in the body). */
struct os_token_info {
    int64_t expires_at;            /* Unix seconds, from token.expires_at */
    char compute_url[OS_URL_MAX];  /* catalog: type "compute", region, interface */
    char image_url[OS_URL_MAX];    /* catalog: type "image", "" if absent */
    char project_id[CB_ID_MAX];    /* token.project.id, "" if unscoped */
};

/* Parse a token body and pick the compute (and image) endpoint for `region`
 * (NULL or "" = any) and `interface` ("public", "internal", "admin"). A token
 * without a compute endpoint is CB_ERR_INVALID unless `need_compute` is 0
 * (the operator set compute_endpoint). */
int os_parse_token(const char *body, size_t len, const char *region, const char *interface,
                   int need_compute, struct os_token_info *out, struct cb_err *err);

/* Which servers of a listing belong to us, and how their names are built:
 * a boot of K servers is named "<pool>--<batch_id>" and Nova's multi-create
 * appends "-N" (1-based) when K > 1; metadata carries cloudburst-pool and
 * cloudburst-batch. `batch` (NULL = any) restricts to one batch. */
struct os_server_filter {
    const char *pool;
    const char *batch;
};

/* One page of GET /servers/detail. Appends our servers to *out (without
 * clearing it: pages accumulate), sets *page_items to the number of entries
 * on the page (ours or not) and next_marker to the "marker" of the
 * servers_links rel=next link ("" when there is none). */
int os_parse_servers(const char *body, size_t len, const struct os_server_filter *filter,
                     struct cb_instance_list *out, size_t *page_items, char *next_marker,
                     size_t marker_len, struct cb_err *err);

/* GET /flavors or GET /images (compute) or GET /v2/images (Glance): find the
 * entry whose id or name equals `want` under top-level key `key` ("flavors",
 * "images"). An id match wins; two entries with the same name are
 * CB_ERR_INVALID (ambiguous); none is CB_ERR_NOT_FOUND. */
int os_parse_find_ref(const char *body, size_t len, const char *key, const char *want,
                      char *id_out, size_t id_len, struct cb_err *err);

/* POST /servers reply: server.id (or reservation_id) into id_out. */
int os_parse_create(const char *body, size_t len, char *id_out, size_t id_len,
                    struct cb_err *err);

/* A Nova/Keystone fault body ({"<name>": {"message": ..., "code": N}},
 * {"error": {...}}): the sanitised message into msg. Returns 0 when one was
 * found, -1 otherwise (msg then holds a sanitised prefix of the raw body).
 * Never fails in any other way: it only serves error messages. */
int os_parse_fault(const char *body, size_t len, char *msg, size_t msg_len);

/* POST /servers/{id}/action os-getConsoleOutput reply ({"output": "..."}):
 * the OpenSSH public keys cloud-init prints between "-----BEGIN SSH HOST KEY
 * KEYS-----" and "-----END SSH HOST KEY KEYS-----" (the last complete block),
 * as "type base64\n" lines into buf. Lines that are not a plausible key
 * (type ssh-*, ecdsa-*, sk-*; base64 body) are skipped. No block yet is
 * CB_ERR_NOT_FOUND; a block without one valid key, or keys that do not fit
 * in buf, is CB_ERR_INVALID. */
int os_parse_console_host_keys(const char *body, size_t len, char *buf, size_t buf_len,
                               struct cb_err *err);

/* Nova status word (and task_state, may be NULL) -> normalised state.
 * Unknown words are CB_INSTANCE_UNKNOWN. */
enum cb_instance_state os_map_status(const char *status, const char *task_state);

/* ISO 8601 "2015-11-07T02:58:43.578887Z" / "+00:00" / no zone (UTC) -> Unix
 * seconds. Returns -1 if malformed. */
int os_parse_time(const char *s, int64_t *out);

#endif
