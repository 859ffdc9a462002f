/* userdata: validation and rendering of a node's site configuration.
 * See userdata.h for the promises. Rendering writes into open_memstream()
 * buffers; validation happens before any byte is rendered. */
#include "userdata.h"

#include "cb_text.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- validation ------------------------------------------------------- */

static bool has_ctl(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static int check_len(const char *field, const char *s, size_t max, struct cb_err *err)
{
    if (strlen(s) > max)
        return cb_err_set(err, CB_ERR_INVALID, field, "longer than %zu bytes", max);
    if (has_ctl(s))
        return cb_err_set(err, CB_ERR_INVALID, field,
                          "contains a newline or control character");
    return 0;
}

static int check_name(const char *field, const char *s, bool required, struct cb_err *err)
{
    if (s == NULL || *s == '\0') {
        if (required)
            return cb_err_set(err, CB_ERR_INVALID, field, "missing");
        return 0;
    }
    if (check_len(field, s, CB_USERDATA_VALUE_MAX, err) != 0)
        return -1;
    if (!cb_is_safe_name(s))
        return cb_err_set(err, CB_ERR_INVALID, field,
                          "only letters, digits, '.', '_' and '-' are allowed");
    return 0;
}

static int check_ident(const char *field, const char *s, struct cb_err *err)
{
    if (check_len(field, s, 128, err) != 0)
        return -1;
    bool ok = (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_';
    for (const char *p = s; ok && *p != '\0'; p++)
        ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
             *p == '_';
    if (!ok)
        return cb_err_set(err, CB_ERR_INVALID, field, "not a ClassAd attribute name");
    return 0;
}

/* host, host:port, [v6]:port, v4. */
static int check_host(const char *field, const char *s, struct cb_err *err)
{
    if (s == NULL || *s == '\0')
        return cb_err_set(err, CB_ERR_INVALID, field, "missing");
    if (check_len(field, s, 255, err) != 0)
        return -1;
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']'))
            return cb_err_set(err, CB_ERR_INVALID, field,
                              "not a host name or address (optionally :port)");
    return 0;
}

/* Characters that stay literal in a single-quoted shell word, an HTCondor
 * value and a YAML scalar: no quotes, blanks, '$', '\\', '`'. */
static int check_plain(const char *field, const char *s, const char *extra, struct cb_err *err)
{
    if (check_len(field, s, CB_USERDATA_VALUE_MAX, err) != 0)
        return -1;
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("._-/:", *p) != NULL || (extra != NULL && strchr(extra, *p) != NULL)))
            return cb_err_set(err, CB_ERR_INVALID, field, "character '%c' is not allowed", *p);
    return 0;
}

static int check_path(const char *field, const char *s, struct cb_err *err)
{
    if (s == NULL || *s == '\0')
        return 0;
    if (s[0] != '/')
        return cb_err_set(err, CB_ERR_INVALID, field, "not an absolute path");
    size_t n = strlen(s);
    if (strstr(s, "/../") != NULL || (n >= 3 && strcmp(s + n - 3, "/..") == 0))
        return cb_err_set(err, CB_ERR_INVALID, field, "must not contain '..'");
    return check_plain(field, s, NULL, err);
}

static int check_url(const char *field, const char *s, struct cb_err *err)
{
    if (s == NULL || *s == '\0')
        return 0;
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        return cb_err_set(err, CB_ERR_INVALID, field, "not an http:// or https:// URL");
    return check_plain(field, s, "~%+=@,", err);
}

int cb_userdata_check_site(const struct cb_node_site *site, struct cb_err *err)
{
    if (check_host("pool.central_manager", site->central_manager, err) != 0)
        return -1;
    if (site->cloud_attribute != NULL &&
        check_ident("pool.cloud_attribute", site->cloud_attribute, err) != 0)
        return -1;
    for (size_t i = 0; i < site->n_cvmfs_repositories; i++) {
        const char *r = site->cvmfs_repositories[i];
        if (r == NULL || check_name("bootstrap.cvmfs.repositories", r, true, err) != 0)
            return cb_err_set(err, CB_ERR_INVALID, "bootstrap.cvmfs.repositories",
                              "item %zu is empty", i);
    }
    if (site->n_cvmfs_repositories > 0 &&
        (site->cvmfs_http_proxy == NULL || site->cvmfs_http_proxy[0] == '\0'))
        return cb_err_set(err, CB_ERR_INVALID, "bootstrap.cvmfs.http_proxy",
                          "missing: required when repositories are set");
    /* CVMFS proxy syntax: "http://a:3128|http://b:3128;DIRECT". */
    if (site->cvmfs_http_proxy != NULL &&
        check_plain("bootstrap.cvmfs.http_proxy", site->cvmfs_http_proxy, "|;@=", err) != 0)
        return -1;
    if (check_path("bootstrap.cvmfs.cache_base", site->cvmfs_cache_base, err) != 0 ||
        check_name("bootstrap.cvmfs.cms_local_site", site->cms_local_site, false, err) != 0 ||
        check_url("bootstrap.cvmfs.repo_url", site->cvmfs_repo_url, err) != 0 ||
        check_url("bootstrap.condor.repo_url", site->condor_repo_url, err) != 0 ||
        check_name("bootstrap.condor.private_network_name", site->private_network_name, false,
                   err) != 0)
        return -1;
    if (site->token == NULL || site->token_len == 0)
        return cb_err_set(err, CB_ERR_INVALID, "bootstrap.condor.token_file", "token is empty");
    if (site->token_len > CB_USERDATA_TOKEN_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "bootstrap.condor.token_file",
                          "token longer than %d bytes", CB_USERDATA_TOKEN_MAX);
    for (size_t i = 0; i < site->token_len; i++) {
        char c = site->token[i];
        /* A JWT: base64url parts joined by dots. Never echo the byte. */
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return cb_err_set(err, CB_ERR_INVALID, "bootstrap.condor.token_file",
                              "token is not an IDTOKEN (byte %zu is outside the JWT alphabet)",
                              i);
    }
    if (site->lease > CB_USERDATA_LEASE_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "controller.lease",
                          "%u s is longer than %u s", site->lease, CB_USERDATA_LEASE_MAX);
    if (site->lease > 0) {
        /* "cloudburst@<pool name>": one word in the cron job's arguments and
         * a ClassAd string in the node's query. */
        const char *c = site->controller_name;
        if (c == NULL || c[0] == '\0')
            return cb_err_set(err, CB_ERR_INVALID, "controller.lease",
                              "the controller's ad name is missing (needed for the lease)");
        if (check_plain("pool.name", c, "@", err) != 0)
            return -1;
        if (strchr(c, '/') != NULL || strchr(c, ':') != NULL)
            return cb_err_set(err, CB_ERR_INVALID, "pool.name",
                              "character '%c' is not allowed in the controller's ad name",
                              strchr(c, '/') != NULL ? '/' : ':');
    }
    for (size_t i = 0; i < site->n_condor_extra_config; i++) {
        const char *l = site->condor_extra_config[i];
        if (l == NULL || check_len("bootstrap.condor.extra_config", l, CB_USERDATA_LINE_MAX,
                                   err) != 0)
            return cb_err_set(err, CB_ERR_INVALID, "bootstrap.condor.extra_config",
                              "item %zu is missing", i);
        if (l[strlen(l) > 0 ? strlen(l) - 1 : 0] == '\\')
            return cb_err_set(err, CB_ERR_INVALID, "bootstrap.condor.extra_config",
                              "item %zu ends in a line continuation", i);
    }
    return 0;
}

int cb_userdata_check_identity(const struct cb_node_identity *id, struct cb_err *err)
{
    if (check_name("node.node_id", id->node_id, true, err) != 0 ||
        check_name("node.cloud", id->cloud, true, err) != 0 ||
        check_name("node.provider", id->provider, true, err) != 0 ||
        check_name("node.flavor", id->flavor, true, err) != 0 ||
        check_name("node.instance_id", id->instance_id, true, err) != 0)
        return -1;
    return 0;
}

/* ---- shell quoting ---------------------------------------------------- */

int cb_shell_quote(char *dst, size_t size, const char *s)
{
    size_t n = 0;
#define PUT(c)                                                                                   \
    do {                                                                                         \
        if (n + 1 >= size)                                                                       \
            return -1;                                                                           \
        dst[n++] = (c);                                                                          \
    } while (0)
    if (size == 0 || has_ctl(s))
        return -1;
    PUT('\'');
    for (; *s != '\0'; s++) {
        if (*s == '\'') {
            PUT('\'');
            PUT('\\');
            PUT('\'');
            PUT('\'');
        } else {
            PUT(*s);
        }
    }
    PUT('\'');
    dst[n] = '\0';
    return 0;
#undef PUT
}

/* ---- files ------------------------------------------------------------ */

int cb_node_files_add(struct cb_node_files *files, const char *name, unsigned mode, bool secret,
                      const char *data, size_t len, struct cb_err *err)
{
    if (files->n >= CB_NODE_FILES_MAX)
        return cb_err_set(err, CB_ERR_INTERNAL, name, "too many node files");
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, name, "out of memory");
    memcpy(copy, data, len);
    copy[len] = '\0';
    struct cb_node_file *f = &files->f[files->n++];
    cb_strlcpy(f->name, name, sizeof f->name);
    f->mode = mode;
    f->secret = secret;
    f->data = copy;
    f->len = len;
    return 0;
}

const struct cb_node_file *cb_node_files_find(const struct cb_node_files *files, const char *name)
{
    for (size_t i = 0; i < files->n; i++)
        if (strcmp(files->f[i].name, name) == 0)
            return &files->f[i];
    return NULL;
}

void cb_node_files_free(struct cb_node_files *files)
{
    if (files == NULL)
        return;
    for (size_t i = 0; i < files->n; i++) {
        if (files->f[i].secret && files->f[i].data != NULL)
            explicit_bzero(files->f[i].data, files->f[i].len);
        free(files->f[i].data);
    }
    memset(files, 0, sizeof *files);
}

/* Render with fprintf into a memstream, then hand the buffer to files. */
typedef void (*render_fn)(FILE *f, const struct cb_node_site *site,
                          const struct cb_node_identity *id);

static int add_rendered(struct cb_node_files *files, const char *name, unsigned mode,
                        render_fn fn, const struct cb_node_site *site,
                        const struct cb_node_identity *id, struct cb_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, name, "out of memory");
    fn(f, site, id);
    if (fclose(f) != 0) {
        free(buf);
        return cb_err_set(err, CB_ERR_INTERNAL, name, "out of memory");
    }
    int rc = cb_node_files_add(files, name, mode, false, buf, len, err);
    free(buf);
    return rc;
}

static const char *attr_of(const struct cb_node_site *site)
{
    return site->cloud_attribute != NULL && site->cloud_attribute[0] != '\0'
               ? site->cloud_attribute
               : "IsCloudNode";
}

static void render_condor(FILE *f, const struct cb_node_site *site,
                          const struct cb_node_identity *id)
{
    const char *attr = attr_of(site);
    fprintf(f,
            "# Written by cloudburst for node %s; the bootstrap rewrites it, do not edit.\n"
            "CONDOR_HOST = %s\n"
            "use ROLE : Execute\n"
            "use SECURITY : recommended_v9_0\n"
            "use FEATURE : PartitionableSlot\n"
            "# The pool IDTOKEN is in /etc/condor/tokens.d/" CB_NODE_FILE_TOKEN " (root, 0600).\n"
            "%s = True\n"
            "CloudName = \"%s\"\n"
            "CloudProvider = \"%s\"\n"
            "CloudFlavor = \"%s\"\n"
            "CloudInstanceId = \"%s\"\n"
            "CloudburstNodeId = \"%s\"\n",
            id->node_id, site->central_manager, attr, id->cloud, id->provider, id->flavor,
            id->instance_id, id->node_id);
    const char *attrs = "CloudName CloudProvider CloudFlavor CloudInstanceId CloudburstNodeId";
    fprintf(f, "STARTD_ATTRS = $(STARTD_ATTRS) %s %s\n", attr, attrs);
    fprintf(f, "MASTER_ATTRS = $(MASTER_ATTRS) %s %s\n", attr, attrs);
    if (site->mode == CB_MODE_EXCLUSIVE)
        fprintf(f, "# exclusive mode: only jobs that ask for a cloud node run here\n"
                   "START = $(START) && (TARGET.WantCloudNode =?= True)\n");
    if (site->lease > 0) {
        /* Checked often enough that an expiry is acted on within a fifth of
         * the lease (10 s .. 60 s between runs). */
        unsigned period = site->lease / 5;
        period = period < 10 ? 10 : period > 60 ? 60 : period;
        fprintf(f,
                "# Controller lease: when the heartbeat of %s is older than %u s, this\n"
                "# node takes no new job and powers off once idle (" CB_NODE_FILE_LEASE ").\n"
                "STARTD_CRON_JOBLIST = $(STARTD_CRON_JOBLIST) CBLEASE\n"
                "STARTD_CRON_CBLEASE_EXECUTABLE = " CB_NODE_LEASE_CHECK_PATH "\n"
                "STARTD_CRON_CBLEASE_ARGS = %s %u $(SPOOL)/cloudburst-lease\n"
                "STARTD_CRON_CBLEASE_MODE = Periodic\n"
                "STARTD_CRON_CBLEASE_PERIOD = %u\n"
                "START = $(START) && (CloudburstLeaseExpired =!= True)\n",
                site->controller_name, site->lease, site->controller_name, site->lease, period);
    }
    if (site->ccb)
        fprintf(f, "CCB_ADDRESS = $(COLLECTOR_HOST)\n");
    if (site->private_network_name != NULL && site->private_network_name[0] != '\0')
        fprintf(f, "PRIVATE_NETWORK_NAME = %s\n", site->private_network_name);
    for (size_t i = 0; i < site->n_condor_extra_config; i++)
        fprintf(f, "%s\n", site->condor_extra_config[i]);
}

/* default.local is sourced by CVMFS's shell scripts: quote every value. */
static void render_cvmfs(FILE *f, const struct cb_node_site *site,
                         const struct cb_node_identity *id)
{
    char q[CB_USERDATA_VALUE_MAX * 4 + 8];
    fprintf(f, "# Written by cloudburst for node %s; the bootstrap rewrites it, do not edit.\n",
            id->node_id);
    fprintf(f, "CVMFS_REPOSITORIES='");
    for (size_t i = 0; i < site->n_cvmfs_repositories; i++)
        fprintf(f, "%s%s", i > 0 ? "," : "", site->cvmfs_repositories[i]);
    fprintf(f, "'\n");
    if (site->cvmfs_http_proxy != NULL && cb_shell_quote(q, sizeof q, site->cvmfs_http_proxy) == 0)
        fprintf(f, "CVMFS_HTTP_PROXY=%s\n", q);
    if (site->cvmfs_quota_limit_mb > 0)
        fprintf(f, "CVMFS_QUOTA_LIMIT=%u\n", site->cvmfs_quota_limit_mb);
    if (site->cvmfs_cache_base != NULL && site->cvmfs_cache_base[0] != '\0' &&
        cb_shell_quote(q, sizeof q, site->cvmfs_cache_base) == 0)
        fprintf(f, "CVMFS_CACHE_BASE=%s\n", q);
}

static void render_cms(FILE *f, const struct cb_node_site *site,
                       const struct cb_node_identity *id)
{
    fprintf(f,
            "# Written by cloudburst for node %s: /cvmfs/cms.cern.ch/SITECONF/local is the site's.\n"
            "export CMS_LOCAL_SITE='%s'\n",
            id->node_id, site->cms_local_site);
}

static void env_line(FILE *f, const char *name, const char *value)
{
    char q[CB_USERDATA_VALUE_MAX * 4 + 8];
    if (cb_shell_quote(q, sizeof q, value != NULL ? value : "") == 0)
        fprintf(f, "%s=%s\n", name, q);
}

/* What the bootstrap script needs beyond the files: quoted shell assignments. */
static void render_env(FILE *f, const struct cb_node_site *site,
                       const struct cb_node_identity *id)
{
    fprintf(f, "# Written by cloudburst: settings for " CB_NODE_FILE_SCRIPT " (sourced).\n");
    env_line(f, "CB_NODE_ID", id->node_id);
    env_line(f, "CB_CLOUD_ATTRIBUTE", attr_of(site));
    fprintf(f, "CB_CVMFS_REPOSITORIES='");
    for (size_t i = 0; i < site->n_cvmfs_repositories; i++)
        fprintf(f, "%s%s", i > 0 ? " " : "", site->cvmfs_repositories[i]);
    fprintf(f, "'\n");
    env_line(f, "CB_CMS_LOCAL_SITE", site->cms_local_site);
    env_line(f, "CB_CVMFS_REPO_URL", site->cvmfs_repo_url);
    env_line(f, "CB_CONDOR_REPO_URL", site->condor_repo_url);
    fprintf(f, "CB_LEASE=%u\n", site->lease);
    env_line(f, "CB_CONTROLLER", site->lease > 0 ? site->controller_name : "");
}

int cb_userdata_render(struct cb_node_files *out, const struct cb_node_site *site,
                       const struct cb_node_identity *id, struct cb_err *err)
{
    memset(out, 0, sizeof *out);
    if (cb_userdata_check_site(site, err) != 0 || cb_userdata_check_identity(id, err) != 0)
        return -1;
    bool cms = site->cms_local_site != NULL && site->cms_local_site[0] != '\0';
    if (add_rendered(out, CB_NODE_FILE_CONDOR, 0644, render_condor, site, id, err) != 0 ||
        (site->n_cvmfs_repositories > 0 &&
         add_rendered(out, CB_NODE_FILE_CVMFS, 0644, render_cvmfs, site, id, err) != 0) ||
        (cms && add_rendered(out, CB_NODE_FILE_CMS, 0644, render_cms, site, id, err) != 0) ||
        add_rendered(out, CB_NODE_FILE_ENV, 0644, render_env, site, id, err) != 0 ||
        cb_node_files_add(out, CB_NODE_FILE_TOKEN, 0600, true, site->token, site->token_len,
                          err) != 0) {
        cb_node_files_free(out);
        return -1;
    }
    return 0;
}

/* ---- cloud-init -------------------------------------------------------- */

static int put_b64(FILE *f, const char *data, size_t len)
{
    /* EVP_EncodeBlock writes 4 bytes per 3, plus a NUL. */
    size_t cap = 4 * ((len + 2) / 3) + 1;
    unsigned char *b = malloc(cap);
    if (b == NULL)
        return -1;
    EVP_EncodeBlock(b, (const unsigned char *)data, (int)len);
    fputs((const char *)b, f);
    explicit_bzero(b, cap);
    free(b);
    return 0;
}

static int render_cloud_config(char **out, size_t *out_len, const struct cb_node_site *site,
                               const struct cb_node_identity *id, const char *script,
                               size_t script_len, const char *lease, size_t lease_len,
                               struct cb_err *err)
{
    *out = NULL;
    *out_len = 0;
    if (script == NULL || script_len == 0 || script_len > INT32_MAX / 2)
        return cb_err_set(err, CB_ERR_INVALID, CB_NODE_FILE_SCRIPT, "bootstrap script is empty");
    if (lease != NULL && (lease_len == 0 || lease_len > INT32_MAX / 2))
        return cb_err_set(err, CB_ERR_INVALID, CB_NODE_FILE_LEASE, "lease check is empty");
    struct cb_node_files files;
    if (cb_userdata_render(&files, site, id, err) != 0)
        return -1;
    if (cb_node_files_add(&files, CB_NODE_FILE_SCRIPT, 0755, false, script, script_len, err) !=
            0 ||
        (lease != NULL && cb_node_files_add(&files, CB_NODE_FILE_LEASE, 0755, false, lease,
                                            lease_len, err) != 0)) {
        cb_node_files_free(&files);
        return -1;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) {
        cb_node_files_free(&files);
        return cb_err_set(err, CB_ERR_INTERNAL, "cloud-config", "out of memory");
    }
    int bad = 0;
    fprintf(f, "#cloud-config\n"
               "# cloudburst node %s: the same files the SSH bootstrap uploads, then the same\n"
               "# script. Contents are base64 so that no value can change the YAML.\n"
               "write_files:\n",
            id->node_id);
    for (size_t i = 0; i < files.n; i++) {
        const struct cb_node_file *nf = &files.f[i];
        fprintf(f,
                "  - path: " CB_NODE_STAGING_DIR "/%s\n"
                "    owner: root:root\n"
                "    permissions: '0%o'\n"
                "    encoding: b64\n"
                "    content: ",
                nf->name, nf->mode);
        bad |= put_b64(f, nf->data, nf->len);
        fputc('\n', f);
    }
    fprintf(f, "runcmd:\n"
               "  - [sh, " CB_NODE_STAGING_DIR "/" CB_NODE_FILE_SCRIPT ", " CB_NODE_STAGING_DIR
               "]\n");
    cb_node_files_free(&files);
    if (fclose(f) != 0 || bad != 0) {
        cb_userdata_free_text(buf, len);
        return cb_err_set(err, CB_ERR_INTERNAL, "cloud-config", "out of memory");
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int cb_userdata_cloud_config(char **out, size_t *out_len, const struct cb_node_site *site,
                             const struct cb_node_identity *id, const char *script,
                             size_t script_len, struct cb_err *err)
{
    return render_cloud_config(out, out_len, site, id, script, script_len, NULL, 0, err);
}

int cb_userdata_cloud_config_dir(char **out, size_t *out_len, const struct cb_node_site *site,
                                 const struct cb_node_identity *id, const char *script_dir,
                                 struct cb_err *err)
{
    *out = NULL;
    *out_len = 0;
    char *script = NULL, *lease = NULL;
    size_t script_len = 0, lease_len = 0;
    int rc = -1;
    if (cb_userdata_load_script(&script, &script_len, script_dir, err) == 0 &&
        (site->lease == 0 || cb_userdata_load_node_file(&lease, &lease_len, script_dir,
                                                        CB_NODE_FILE_LEASE, err) == 0))
        rc = render_cloud_config(out, out_len, site, id, script, script_len, lease, lease_len,
                                 err);
    free(script);
    free(lease);
    return rc;
}

void cb_userdata_free_text(char *text, size_t len)
{
    if (text == NULL)
        return;
    explicit_bzero(text, len);
    free(text);
}

/* The script is ours (installed under pkgdatadir), but a group- or
 * world-writable copy would let others run code as root on every node. */
int cb_userdata_load_script(char **out, size_t *out_len, const char *script_dir,
                            struct cb_err *err)
{
    return cb_userdata_load_node_file(out, out_len, script_dir, CB_NODE_FILE_SCRIPT, err);
}

int cb_userdata_load_node_file(char **out, size_t *out_len, const char *script_dir,
                               const char *name, struct cb_err *err)
{
    *out = NULL;
    *out_len = 0;
    char path[4096];
    if (script_dir == NULL || script_dir[0] == '\0')
        return cb_err_set(err, CB_ERR_INVALID, "bootstrap.script_dir", "missing");
    if (name == NULL || !cb_is_safe_name(name))
        return cb_err_set(err, CB_ERR_INTERNAL, "bootstrap.script_dir", "bad node file name");
    snprintf(path, sizeof path, "%s/%s", script_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cb_err_errno(err, CB_ERR_IO, errno, path, "cannot open this node script");
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        st.st_size > CB_USERDATA_SCRIPT_MAX) {
        close(fd);
        return cb_err_set(err, CB_ERR_INVALID, path, "not a regular file of 1..%d bytes",
                          CB_USERDATA_SCRIPT_MAX);
    }
    if ((st.st_mode & 022) != 0) {
        close(fd);
        return cb_err_set(err, CB_ERR_INVALID, path,
                          "writable by group or others (mode %04o): refused",
                          (unsigned)(st.st_mode & 07777));
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return cb_err_set(err, CB_ERR_INTERNAL, path, "out of memory");
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            free(buf);
            return cb_err_errno(err, CB_ERR_IO, e, path, "cannot read");
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    return 0;
}
