/* userdata: the node's site configuration, rendered from validated inputs.
 *
 * One renderer produces the files a cloud node needs (HTCondor execute
 * config, CVMFS client config, the CMS local site, the IDTOKEN, and the
 * shell-quoted environment the bootstrap script reads), so the SSH
 * bootstrapper and the cloud-init user-data carry exactly the same content.
 *
 * Promises:
 * - Every value is validated for the file it lands in before anything is
 *   rendered: names are [A-Za-z0-9._-], the cloud attribute is a ClassAd
 *   identifier, hosts are host[:port], paths are absolute and plain, URLs
 *   and proxy lists have no quotes, blanks or control characters, the token
 *   is a JWT ([A-Za-z0-9._-]). Newlines and control characters are refused
 *   everywhere (a value can never add a line to a config file). An error
 *   names the field ("bootstrap.cvmfs.http_proxy") and never echoes the token.
 * - Values that reach a shell (node.env, CVMFS's sourced default.local) are
 *   single-quoted with cb_shell_quote(); values in HTCondor config are only
 *   ever the validated forms above, ClassAd strings are double-quoted.
 * - The token file is marked secret: cb_node_files_free() wipes it.
 *
 * Ownership: struct cb_node_site and struct cb_node_identity hold borrowed
 * pointers; the rendered struct cb_node_files owns its buffers.
 */
#ifndef CB_USERDATA_H
#define CB_USERDATA_H

#include "cb_error.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

/* Limits: a value longer than this is refused, not truncated. */
#define CB_USERDATA_VALUE_MAX 1024
#define CB_USERDATA_TOKEN_MAX (16 * 1024)
#define CB_USERDATA_LINE_MAX 4096       /* one condor extra_config line */

/* The site side: the same for every node (from struct cb_config's bootstrap
 * and pool sections, mapped by the daemon). NULL strings mean "unset". */
struct cb_node_site {
    const char *central_manager;        /* CONDOR_HOST, required */
    const char *cloud_attribute;        /* default "IsCloudNode" when NULL */
    enum cb_cloud_mode mode;            /* exclusive adds the START clause */
    const char *const *cvmfs_repositories;
    size_t n_cvmfs_repositories;
    const char *cvmfs_http_proxy;       /* required when repositories are set */
    unsigned cvmfs_quota_limit_mb;      /* 0 = CVMFS default (not written) */
    const char *cvmfs_cache_base;       /* NULL = CVMFS default */
    const char *cms_local_site;         /* NULL/"" = not a CMS site */
    const char *cvmfs_repo_url;         /* NULL = the script's default */
    const char *token;                  /* IDTOKEN (secret), required */
    size_t token_len;
    bool ccb;
    const char *private_network_name;   /* NULL = unset */
    const char *const *condor_extra_config;
    size_t n_condor_extra_config;
    const char *condor_repo_url;        /* NULL = the script's default */
    /* The node side of the controller lease (cloudburst-lease-check as a
     * startd cron job): the controller ad's Name ("cloudburst@<pool name>",
     * as the daemon advertises it) and the lease in seconds; 0 = no lease
     * check on the node. */
    const char *controller_name;        /* required when lease > 0 */
    unsigned lease;                     /* s, at most CB_USERDATA_LEASE_MAX */
};

#define CB_USERDATA_LEASE_MAX (7u * 24 * 3600)

/* The node side: who this VM is (published as ClassAd attributes). */
struct cb_node_identity {
    const char *node_id;                /* CloudburstNodeId, required */
    const char *cloud;                  /* CloudName, required */
    const char *provider;               /* CloudProvider, required */
    const char *flavor;                 /* CloudFlavor, required */
    const char *instance_id;            /* CloudInstanceId, required */
};

/* Staging names of the rendered files (what the bootstrap script expects). */
#define CB_NODE_FILE_CONDOR "50-cloudburst.conf"
#define CB_NODE_FILE_CVMFS "default.local"
#define CB_NODE_FILE_CMS "cms.cern.ch.local"
#define CB_NODE_FILE_TOKEN "cloudburst.token"
#define CB_NODE_FILE_ENV "node.env"
#define CB_NODE_FILE_SCRIPT "cloudburst-bootstrap.sh"
#define CB_NODE_FILE_LEASE "cloudburst-lease-check"
/* Where the bootstrap script (and the image recipes) install the lease check. */
#define CB_NODE_LEASE_CHECK_PATH "/usr/libexec/cloudburst/" CB_NODE_FILE_LEASE
/* Where cloud-init writes the bundle and runs the script from. */
#define CB_NODE_STAGING_DIR "/var/lib/cloudburst/bootstrap"

struct cb_node_file {
    char name[64];      /* staging file name */
    unsigned mode;      /* 0600 for the token, 0644 otherwise, 0755 script */
    bool secret;        /* wiped on free, never logged */
    char *data;         /* owned */
    size_t len;
};

#define CB_NODE_FILES_MAX 8  /* 5 rendered + the bootstrap script + the lease check */

struct cb_node_files {
    struct cb_node_file f[CB_NODE_FILES_MAX];
    size_t n;
};

/* Validate the site inputs alone (once, when the bootstrapper is created).
 * Returns 0, or -1 with err naming the field. */
int cb_userdata_check_site(const struct cb_node_site *site, struct cb_err *err);

/* Validate the node identity. Returns 0, or -1 with err naming the field. */
int cb_userdata_check_identity(const struct cb_node_identity *id, struct cb_err *err);

/* Render the node's files (not the script). *out is cleared on entry; on
 * failure it is empty again. Free with cb_node_files_free(). */
int cb_userdata_render(struct cb_node_files *out, const struct cb_node_site *site,
                       const struct cb_node_identity *id, struct cb_err *err);

/* Append a copy of `data` as file `name` (used for the script). */
int cb_node_files_add(struct cb_node_files *files, const char *name, unsigned mode, bool secret,
                      const char *data, size_t len, struct cb_err *err);

/* Find a rendered file by staging name (NULL if absent). */
const struct cb_node_file *cb_node_files_find(const struct cb_node_files *files, const char *name);

/* Wipe secret files, free everything, leave *files empty. NULL is fine. */
void cb_node_files_free(struct cb_node_files *files);

/* Render a "#cloud-config" document that writes the same files (base64, so no
 * value can break the YAML) under CB_NODE_STAGING_DIR, together with the
 * bootstrap script, and runs the script. *out (NUL-terminated, caller frees
 * with cb_userdata_free_text(), which wipes it: it holds the token). */
int cb_userdata_cloud_config(char **out, size_t *out_len, const struct cb_node_site *site,
                             const struct cb_node_identity *id, const char *script,
                             size_t script_len, struct cb_err *err);

/* The same, with the node scripts read from script_dir: the bootstrap
 * script, and the lease check (CB_NODE_FILE_LEASE) when site->lease > 0, so
 * that cloud-init installs it like the SSH upload does. (Without it, as with
 * cb_userdata_cloud_config(), a node with a lease relies on the image's
 * copy, and the bootstrap script fails clearly when there is none.) */
int cb_userdata_cloud_config_dir(char **out, size_t *out_len, const struct cb_node_site *site,
                                 const struct cb_node_identity *id, const char *script_dir,
                                 struct cb_err *err);

/* Read <script_dir>/cloudburst-bootstrap.sh (a regular file of at most
 * CB_USERDATA_SCRIPT_MAX bytes, not writable by group or others) into *out
 * (NUL-terminated, caller frees). For the bootstrapper and for callers that
 * render cloud-init user-data. */
#define CB_USERDATA_SCRIPT_MAX (1024 * 1024)
int cb_userdata_load_script(char **out, size_t *out_len, const char *script_dir,
                            struct cb_err *err);
/* The same for another node file of script_dir (CB_NODE_FILE_LEASE). */
int cb_userdata_load_node_file(char **out, size_t *out_len, const char *script_dir,
                               const char *name, struct cb_err *err);

/* Wipe and free text returned by cb_userdata_cloud_config(). NULL is fine. */
void cb_userdata_free_text(char *text, size_t len);

/* Single-quote `s` for a POSIX shell into dst[size] ('it'\''s'). Returns 0,
 * or -1 when it does not fit or s holds a control character. */
int cb_shell_quote(char *dst, size_t size, const char *s);

#endif
