/* os_client: the openstack driver's connection to one cloud (private to the driver).
 *
 * Holds the per-cloud state (settings, Keystone token and catalog endpoints,
 * resolved names) and performs one authenticated Nova request: the token is
 * fetched and cached (renewed `token_refresh_margin` seconds before its
 * expires_at and once on a 401), the compute microversion headers are sent
 * (dropped for good after a 406), 429 / 413-without-quota replies are waited
 * out within the call's deadline, and every non-2xx reply is classified into
 * a struct cb_err. Secrets (password, token) are wiped when dropped.
 * One state is used by one thread at a time (provider.h).
 */
#ifndef CB_OS_CLIENT_H
#define CB_OS_CLIENT_H

#include "cb_driver.h"
#include "cb_http.h"
#include "os_parse.h"
#include "provider.h"

#include <stdbool.h>
#include <stdint.h>

#define OS_TOKEN_MAX 16384
#define OS_REF_CACHE 16

enum os_auth_method { OS_AUTH_PASSWORD = 0, OS_AUTH_APP_CRED };

struct os_ref {
    char want[CB_ID_MAX];
    char id[CB_ID_MAX];
};

struct os_state {
    struct cb_http *http;
    cb_log_fn log;
    void *log_payload;
    char pool[CB_NAME_MAX];
    char cloud[CB_NAME_MAX];
    unsigned connect_ms, call_ms;
    const struct cb_settings *settings;

    enum os_auth_method method;
    char auth_url[OS_URL_MAX];
    const char *username, *user_domain, *password;
    const char *app_cred_id, *app_cred_secret;
    const char *project_name, *project_id, *project_domain;
    const char *region, *interface, *compute_override;
    const char *key_name, *availability_zone;
    const char *const *networks;
    size_t n_networks;
    const char *const *security_groups;
    size_t n_security_groups;
    char microversion[16];
    int mv_major, mv_minor;
    bool send_mv;           /* false once the server refused the header with 406 */
    bool mv_ignored_logged;
    long long page_size, refresh_margin_s, throttle_retries;

    char *token;            /* X-Subject-Token, wiped on change and free */
    int64_t token_expires;  /* Unix seconds */
    char compute_url[OS_URL_MAX];
    char image_url[OS_URL_MAX];
    unsigned long tokens_fetched;

    struct os_ref flavors[OS_REF_CACHE], images[OS_REF_CACHE];
    unsigned flavor_next, image_next;
    uint64_t rng;
};

/* Authenticate unless the cached token is still fresh. */
int os_ensure_token(struct os_state *st, int64_t deadline, struct cb_err *err);
/* Forget (and wipe) the cached token. */
void os_drop_token(struct os_state *st);

/* Perform `method url` (body: JSON or NULL) with the token. On 0, *resp holds
 * a reply whose status the caller checks; a non-2xx reply is also already
 * classified into err. POSTs go out on a connection of their own: libcurl
 * re-sends a request once when a reused connection dies before the reply,
 * and a create must never be sent twice. */
int os_request(struct os_state *st, int64_t deadline, const char *origin, const char *method,
               const char *url, const char *body, struct cb_http_response *resp,
               struct cb_err *err);

#endif
