/* test_bootstrap_render: the node files, their validation, the cloud-init
 * user-data (validated with Debian's `cloud-init schema`), shell quoting and
 * the console host-key parser. No network, no sshd. */
#include "bootstrap.h"
#include "ssh_hostkey.h"
#include "userdata.h"

#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *repos[] = { "cms.cern.ch", "atlas.cern.ch" };
static const char *extra[] = { "STARTD_NOCLAIM_SHUTDOWN = 3600" };
static const char token[] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbG91ZCJ9.c2ln";

static void site_of(struct cb_node_site *s)
{
    memset(s, 0, sizeof *s);
    s->central_manager = "cm.t2.example.org:9618";
    s->mode = CB_MODE_EXCLUSIVE;
    s->cvmfs_repositories = repos;
    s->n_cvmfs_repositories = 2;
    s->cvmfs_http_proxy = "http://squid1.example.org:3128|http://squid2.example.org:3128;DIRECT";
    s->cvmfs_quota_limit_mb = 20000;
    s->cvmfs_cache_base = "/scratch/cvmfs";
    s->cms_local_site = "T2_XX_Example";
    s->token = token;
    s->token_len = sizeof token - 1;
    s->ccb = true;
    s->private_network_name = "cloud.example.org";
    s->condor_extra_config = extra;
    s->n_condor_extra_config = 1;
}

static const struct cb_node_identity ident = {
    .node_id = "b7-3", .cloud = "aws", .provider = "ec2", .flavor = "m5.xlarge",
    .instance_id = "i-0abc",
};

static const char *file_text(const struct cb_node_files *f, const char *name)
{
    const struct cb_node_file *nf = cb_node_files_find(f, name);
    ck_assert_msg(nf != NULL, "%s not rendered", name);
    return nf->data;
}

START_TEST(test_condor_config)
{
    struct cb_node_site s;
    site_of(&s);
    struct cb_node_files f;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &ident, &err), 0);
    const char *c = file_text(&f, CB_NODE_FILE_CONDOR);
    const char *want[] = {
        "CONDOR_HOST = cm.t2.example.org:9618\n", "use ROLE : Execute\n",
        "use FEATURE : PartitionableSlot\n", "IsCloudNode = True\n", "CloudName = \"aws\"\n",
        "CloudProvider = \"ec2\"\n", "CloudFlavor = \"m5.xlarge\"\n",
        "CloudInstanceId = \"i-0abc\"\n", "CloudburstNodeId = \"b7-3\"\n",
        "STARTD_ATTRS = $(STARTD_ATTRS) IsCloudNode CloudName CloudProvider CloudFlavor "
        "CloudInstanceId CloudburstNodeId\n",
        "MASTER_ATTRS = $(MASTER_ATTRS) IsCloudNode CloudName",
        "START = $(START) && (TARGET.WantCloudNode =?= True)\n",
        "CCB_ADDRESS = $(COLLECTOR_HOST)\n", "PRIVATE_NETWORK_NAME = cloud.example.org\n",
        "STARTD_NOCLAIM_SHUTDOWN = 3600\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(c, want[i]) != NULL, "missing: %s\nin:\n%s", want[i], c);
    ck_assert_ptr_null(strstr(c, token)); /* the token is its own file */
    const struct cb_node_file *t = cb_node_files_find(&f, CB_NODE_FILE_TOKEN);
    ck_assert(t->secret);
    ck_assert_uint_eq(t->mode, 0600);
    ck_assert_str_eq(t->data, token);
    cb_node_files_free(&f);

    /* transparent mode: START unchanged; another attribute name; no CCB. */
    s.mode = CB_MODE_TRANSPARENT;
    s.cloud_attribute = "IsT2Cloud";
    s.ccb = false;
    s.private_network_name = NULL;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &ident, &err), 0);
    c = file_text(&f, CB_NODE_FILE_CONDOR);
    ck_assert_ptr_null(strstr(c, "START ="));
    ck_assert_ptr_null(strstr(c, "CCB_ADDRESS"));
    ck_assert_ptr_null(strstr(c, "PRIVATE_NETWORK_NAME"));
    ck_assert_ptr_nonnull(strstr(c, "IsT2Cloud = True\n"));
    ck_assert_ptr_nonnull(strstr(c, "STARTD_ATTRS = $(STARTD_ATTRS) IsT2Cloud "));
    ck_assert_ptr_nonnull(strstr(file_text(&f, CB_NODE_FILE_ENV), "CB_CLOUD_ATTRIBUTE='IsT2Cloud'"));
    cb_node_files_free(&f);
}
END_TEST

START_TEST(test_cvmfs_files)
{
    struct cb_node_site s;
    site_of(&s);
    struct cb_node_files f;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &ident, &err), 0);
    const char *c = file_text(&f, CB_NODE_FILE_CVMFS);
    ck_assert_ptr_nonnull(strstr(c, "CVMFS_REPOSITORIES='cms.cern.ch,atlas.cern.ch'\n"));
    ck_assert_ptr_nonnull(strstr(c, "CVMFS_HTTP_PROXY='http://squid1.example.org:3128|"
                                    "http://squid2.example.org:3128;DIRECT'\n"));
    ck_assert_ptr_nonnull(strstr(c, "CVMFS_QUOTA_LIMIT=20000\n"));
    ck_assert_ptr_nonnull(strstr(c, "CVMFS_CACHE_BASE='/scratch/cvmfs'\n"));
    ck_assert_ptr_nonnull(strstr(file_text(&f, CB_NODE_FILE_CMS), "CMS_LOCAL_SITE='T2_XX_Example'"));
    ck_assert_ptr_nonnull(strstr(file_text(&f, CB_NODE_FILE_ENV),
                                 "CB_CVMFS_REPOSITORIES='cms.cern.ch atlas.cern.ch'\n"));
    cb_node_files_free(&f);
    /* Not a CMS site, no CVMFS: those files are not rendered at all. */
    s.cms_local_site = "";
    s.n_cvmfs_repositories = 0;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &ident, &err), 0);
    ck_assert_ptr_null(cb_node_files_find(&f, CB_NODE_FILE_CMS));
    ck_assert_ptr_null(cb_node_files_find(&f, CB_NODE_FILE_CVMFS));
    cb_node_files_free(&f);
}
END_TEST

/* Each bad value is refused with the field named. */
START_TEST(test_validation)
{
    static const struct {
        const char *field;
        int which;
        const char *value;
    } cases[] = {
        { "pool.central_manager", 0, "cm.example.org\nSTART = True" },
        { "pool.central_manager", 0, "cm $(x)" },
        { "pool.central_manager", 0, "" },
        { "pool.cloud_attribute", 1, "Is-Cloud" },
        { "pool.cloud_attribute", 1, "1st" },
        { "bootstrap.cvmfs.http_proxy", 2, "http://squid:3128'; rm -rf /; '" },
        { "bootstrap.cvmfs.http_proxy", 2, "http://squid:3128 DIRECT" },
        { "bootstrap.cvmfs.cache_base", 3, "relative/path" },
        { "bootstrap.cvmfs.cache_base", 3, "/var/../etc" },
        { "bootstrap.cvmfs.cms_local_site", 4, "T2 XX" },
        { "bootstrap.condor.repo_url", 5, "ftp://example.org" },
        { "bootstrap.condor.repo_url", 5, "https://example.org/$(id)" },
        { "bootstrap.condor.private_network_name", 6, "a\tb" },
        { "bootstrap.condor.token_file", 7, "eyJ.eyJ.sig\nEXTRA" },
        { "bootstrap.condor.token_file", 7, "" },
        { "bootstrap.condor.extra_config", 8, "A = 1\nB = 2" },
        { "bootstrap.condor.extra_config", 8, "A = \\" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cb_node_site s;
        site_of(&s);
        const char *line[1] = { cases[i].value };
        switch (cases[i].which) {
        case 0: s.central_manager = cases[i].value; break;
        case 1: s.cloud_attribute = cases[i].value; break;
        case 2: s.cvmfs_http_proxy = cases[i].value; break;
        case 3: s.cvmfs_cache_base = cases[i].value; break;
        case 4: s.cms_local_site = cases[i].value; break;
        case 5: s.condor_repo_url = cases[i].value; break;
        case 6: s.private_network_name = cases[i].value; break;
        case 7: s.token = cases[i].value; s.token_len = strlen(cases[i].value); break;
        case 8: s.condor_extra_config = line; s.n_condor_extra_config = 1; break;
        }
        struct cb_node_files f;
        struct cb_err err = CB_ERR_INIT;
        ck_assert_msg(cb_userdata_render(&f, &s, &ident, &err) == -1, "case %zu accepted", i);
        ck_assert_int_eq(f.n, 0);
        ck_assert_int_eq(err.code, CB_ERR_INVALID);
        ck_assert_msg(strcmp(err.origin, cases[i].field) == 0, "case %zu: origin %s, want %s", i,
                      err.origin, cases[i].field);
        if (cases[i].which == 7 && cases[i].value[0] != '\0')
            ck_assert_ptr_null(strstr(err.msg, "EXTRA")); /* never echo the token */
    }
    /* The node identity too. */
    struct cb_node_site s;
    site_of(&s);
    struct cb_node_identity bad = ident;
    bad.instance_id = "i-1\"; START = True";
    struct cb_node_files f;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &bad, &err), -1);
    ck_assert_str_eq(err.origin, "node.instance_id");
}
END_TEST

/* The node side of the controller lease: a startd cron job and the START
 * clause, only when a lease is set; node.env tells the script. */
START_TEST(test_lease_config)
{
    struct cb_node_site s;
    site_of(&s);
    struct cb_node_files f;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &ident, &err), 0);
    ck_assert_ptr_null(strstr(file_text(&f, CB_NODE_FILE_CONDOR), "CBLEASE"));
    ck_assert_ptr_null(strstr(file_text(&f, CB_NODE_FILE_CONDOR), "CloudburstLeaseExpired"));
    ck_assert_ptr_nonnull(strstr(file_text(&f, CB_NODE_FILE_ENV), "CB_LEASE=0\n"));
    cb_node_files_free(&f);

    s.controller_name = "cloudburst@t2-example";
    s.lease = 900;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &ident, &err), 0);
    const char *c = file_text(&f, CB_NODE_FILE_CONDOR);
    const char *want[] = {
        "STARTD_CRON_JOBLIST = $(STARTD_CRON_JOBLIST) CBLEASE\n",
        "STARTD_CRON_CBLEASE_EXECUTABLE = /usr/libexec/cloudburst/cloudburst-lease-check\n",
        "STARTD_CRON_CBLEASE_ARGS = cloudburst@t2-example 900 $(SPOOL)/cloudburst-lease\n",
        "STARTD_CRON_CBLEASE_MODE = Periodic\n",
        "STARTD_CRON_CBLEASE_PERIOD = 60\n", /* lease / 5, at most 60 s */
        "START = $(START) && (CloudburstLeaseExpired =!= True)\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(c, want[i]) != NULL, "missing %s in:\n%s", want[i], c);
    /* Both START clauses hold: exclusive mode's and the lease's. */
    ck_assert_ptr_nonnull(strstr(c, "START = $(START) && (TARGET.WantCloudNode =?= True)\n"));
    const char *env = file_text(&f, CB_NODE_FILE_ENV);
    ck_assert_ptr_nonnull(strstr(env, "CB_LEASE=900\n"));
    ck_assert_ptr_nonnull(strstr(env, "CB_CONTROLLER='cloudburst@t2-example'\n"));
    cb_node_files_free(&f);

    /* A short lease is checked more often, never more than every 10 s. */
    s.lease = 100;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &ident, &err), 0);
    ck_assert_ptr_nonnull(strstr(file_text(&f, CB_NODE_FILE_CONDOR), "_PERIOD = 20\n"));
    cb_node_files_free(&f);
    s.lease = 30;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &ident, &err), 0);
    ck_assert_ptr_nonnull(strstr(file_text(&f, CB_NODE_FILE_CONDOR), "_PERIOD = 10\n"));
    cb_node_files_free(&f);

    /* Refused: a lease without the controller's name, a name that could
     * split the cron arguments or the ClassAd string, an absurd lease. */
    static const struct {
        const char *name;
        unsigned lease;
        const char *field;
    } bad[] = {
        { NULL, 900, "controller.lease" },
        { "", 900, "controller.lease" },
        { "cloudburst@t2 x", 900, "pool.name" },
        { "cloudburst@\"t2\"", 900, "pool.name" },
        { "cloudburst@t2/x", 900, "pool.name" },
        { "cloudburst@t2\nSTART = True", 900, "pool.name" },
        { "cloudburst@t2", CB_USERDATA_LEASE_MAX + 1, "controller.lease" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s.controller_name = bad[i].name;
        s.lease = bad[i].lease;
        cb_err_clear(&err);
        ck_assert_msg(cb_userdata_render(&f, &s, &ident, &err) == -1, "case %zu accepted", i);
        ck_assert_int_eq(f.n, 0);
        ck_assert_msg(strcmp(err.origin, bad[i].field) == 0, "case %zu: origin %s", i, err.origin);
    }
    /* No lease: the name is not looked at. */
    s.controller_name = "not checked when there is no lease";
    s.lease = 0;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &ident, &err), 0);
    cb_node_files_free(&f);
}
END_TEST

START_TEST(test_shell_quote)
{
    char b[64];
    ck_assert_int_eq(cb_shell_quote(b, sizeof b, "plain"), 0);
    ck_assert_str_eq(b, "'plain'");
    ck_assert_int_eq(cb_shell_quote(b, sizeof b, "it's $HOME `x`"), 0);
    ck_assert_str_eq(b, "'it'\\''s $HOME `x`'");
    ck_assert_int_eq(cb_shell_quote(b, sizeof b, ""), 0);
    ck_assert_str_eq(b, "''");
    ck_assert_int_eq(cb_shell_quote(b, sizeof b, "a\nb"), -1);
    ck_assert_int_eq(cb_shell_quote(b, 6, "abcdef"), -1);
    /* The shell agrees: the quoted word expands to the original. */
    char cmd[256];
    ck_assert_int_eq(cb_shell_quote(b, sizeof b, "x'y\"$(z)"), 0);
    snprintf(cmd, sizeof cmd, "test \"$(printf %%s %s)\" = 'x'\\''y\"$(z)'", b);
    int rc = system(cmd);
    ck_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
}
END_TEST

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b != NULL) {
        b[n] = '\0';
        *len = (size_t)n;
    }
    return b;
}

START_TEST(test_cloud_config)
{
    char script_path[1024];
    snprintf(script_path, sizeof script_path, "%s/images/" CB_NODE_FILE_SCRIPT,
             getenv("top_srcdir") != NULL ? getenv("top_srcdir") : ".");
    size_t slen = 0;
    char *script = slurp(script_path, &slen);
    ck_assert_ptr_nonnull(script);
    struct cb_node_site s;
    site_of(&s);
    char *ud = NULL;
    size_t len = 0;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_userdata_cloud_config(&ud, &len, &s, &ident, script, slen, &err), 0);
    ck_assert(strncmp(ud, "#cloud-config\n", 14) == 0);
    ck_assert_ptr_nonnull(strstr(ud, "runcmd:\n  - [sh, " CB_NODE_STAGING_DIR "/" CB_NODE_FILE_SCRIPT));
    ck_assert_ptr_nonnull(strstr(ud, "permissions: '0600'"));
    ck_assert_ptr_null(strstr(ud, token)); /* base64, not in clear YAML */

    /* Same content as the SSH path: decode the condor file and compare. */
    struct cb_node_files f;
    ck_assert_int_eq(cb_userdata_render(&f, &s, &ident, &err), 0);
    const char *cf = file_text(&f, CB_NODE_FILE_CONDOR);
    const char *p = strstr(ud, "/" CB_NODE_FILE_CONDOR "\n");
    ck_assert_ptr_nonnull(p);
    p = strstr(p, "content: ");
    ck_assert_ptr_nonnull(p);
    p += 9;
    size_t bl = strcspn(p, "\n");
    unsigned char *dec = malloc(bl);
    int dl = EVP_DecodeBlock(dec, (const unsigned char *)p, (int)bl);
    while (bl > 0 && p[bl - 1] == '=') {
        bl--;
        dl--;
    }
    ck_assert_int_eq(dl, (int)strlen(cf));
    ck_assert(memcmp(dec, cf, (size_t)dl) == 0);
    free(dec);
    cb_node_files_free(&f);

    /* Debian's cloud-init validates it against its schema. */
    char dir[] = "/tmp/cb-ud.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], cmd[600];
    snprintf(path, sizeof path, "%s/user-data", dir);
    FILE *out = fopen(path, "w");
    ck_assert_ptr_nonnull(out);
    fwrite(ud, 1, len, out);
    fclose(out);
    if (system("command -v cloud-init >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof cmd, "cloud-init schema --config-file '%s' > '%s/out' 2>&1", path, dir);
        int rc = system(cmd);
        snprintf(path, sizeof path, "%s/out", dir);
        size_t ol = 0;
        char *o = slurp(path, &ol);
        ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "cloud-init schema: %s", o);
        ck_assert_ptr_nonnull(strstr(o, "Valid"));
        free(o);
    } else {
        fprintf(stderr, "test_cloud_config: cloud-init not installed, schema check skipped\n");
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    cb_userdata_free_text(ud, len);
    free(script);
}
END_TEST

/* With a lease, the user-data carries the lease check too (from script_dir),
 * so a node booted with cloud-init installs it like an SSH bootstrap. */
START_TEST(test_cloud_config_lease)
{
    const char *top = getenv("top_srcdir") != NULL ? getenv("top_srcdir") : ".";
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/images", top);
    struct cb_node_site s;
    site_of(&s);
    char *ud = NULL;
    size_t len = 0;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_userdata_cloud_config_dir(&ud, &len, &s, &ident, dir, &err), 0);
    ck_assert_ptr_null(strstr(ud, CB_NODE_STAGING_DIR "/" CB_NODE_FILE_LEASE));
    cb_userdata_free_text(ud, len);

    s.controller_name = "cloudburst@t2";
    s.lease = 600;
    ck_assert_int_eq(cb_userdata_cloud_config_dir(&ud, &len, &s, &ident, dir, &err), 0);
    const char *p = strstr(ud, "path: " CB_NODE_STAGING_DIR "/" CB_NODE_FILE_LEASE "\n");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(strstr(p, "permissions: '0755'"));
    /* Its content is the shipped script. */
    char path[1200];
    snprintf(path, sizeof path, "%s/" CB_NODE_FILE_LEASE, dir);
    size_t sl = 0;
    char *script = slurp(path, &sl);
    ck_assert_ptr_nonnull(script);
    p = strstr(p, "content: ");
    ck_assert_ptr_nonnull(p);
    p += 9;
    size_t bl = strcspn(p, "\n");
    unsigned char *dec = malloc(bl);
    int dl = EVP_DecodeBlock(dec, (const unsigned char *)p, (int)bl);
    while (bl > 0 && p[bl - 1] == '=') {
        bl--;
        dl--;
    }
    ck_assert_int_eq(dl, (int)sl);
    ck_assert(memcmp(dec, script, sl) == 0);
    free(dec);
    free(script);
    cb_userdata_free_text(ud, len);

    /* A script_dir without the lease check: a clear error naming the file. */
    char tmp[] = "/tmp/cb-ud-lease.XXXXXX", cmd[1400];
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    snprintf(cmd, sizeof cmd, "cp '%s/" CB_NODE_FILE_SCRIPT "' '%s/'", dir, tmp);
    ck_assert_int_eq(system(cmd), 0);
    cb_err_clear(&err);
    ck_assert_int_eq(cb_userdata_cloud_config_dir(&ud, &len, &s, &ident, tmp, &err), -1);
    ck_assert_ptr_null(ud);
    ck_assert_ptr_nonnull(strstr(err.origin, CB_NODE_FILE_LEASE));
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_script_load)
{
    const char *top = getenv("top_srcdir") != NULL ? getenv("top_srcdir") : ".";
    char src[1024];
    snprintf(src, sizeof src, "%s/images", top);
    char *script = NULL;
    size_t len = 0;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_userdata_load_script(&script, &len, src, &err), 0);
    ck_assert(len > 100 && strncmp(script, "#!/bin/sh\n", 10) == 0);
    free(script);
    /* A copy others may write is refused, naming the file and its mode. */
    char dir[] = "/tmp/cb-script.XXXXXX", cmd[1200];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "cp '%s/" CB_NODE_FILE_SCRIPT "' '%s/' && chmod 0666 '%s/" CB_NODE_FILE_SCRIPT "'",
             src, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(cb_userdata_load_script(&script, &len, dir, &err), -1);
    ck_assert_ptr_null(script);
    ck_assert_ptr_nonnull(strstr(err.msg, "0666"));
    ck_assert_ptr_nonnull(strstr(err.origin, CB_NODE_FILE_SCRIPT));
    cb_err_clear(&err);
    ck_assert_int_eq(cb_userdata_load_script(&script, &len, "/nonexistent", &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_IO);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_host_key_parse)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/data/bootstrap",
             getenv("top_srcdir") != NULL ? getenv("top_srcdir") : ".");
    static const struct {
        const char *file;
        int keys;
    } cases[] = {
        { "cloud-init-three-keys.console", 4 }, { "empty.console", 0 },
        { "bad-base64.console", 0 },            { "type-mismatch.console", 0 },
        { "too-many-keys.console", -1 },        { "truncated-binary.console", 0 },
    };
    static char out[CB_HOSTKEY_TEXT_MAX + 1];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
        size_t len = 0;
        char *text = slurp(path, &len);
        ck_assert_msg(text != NULL, "%s", path);
        struct cb_err err = CB_ERR_INIT;
        int n = cb_ssh_host_keys_parse(text, len, out, sizeof out, &err);
        ck_assert_msg(n == cases[i].keys, "%s: %d keys (%s)", cases[i].file, n, err.msg);
        if (n < 0)
            ck_assert_str_eq(err.origin, "host_keys");
        if (n == 4) {
            /* The fingerprint block comes first on the console, then the keys. */
            ck_assert(strncmp(out, "SHA256:pPDzjjJ0o8+qQ/cvAmdy/lCYueVO7cA4JOF26bCnvz4\n"
                                   "ecdsa-sha2-nistp256 AAAA", 51 + 24) == 0);
            ck_assert_ptr_nonnull(strstr(out, "\nssh-ed25519 AAAAC3"));
            ck_assert_ptr_nonnull(strstr(out, "\nssh-rsa AAAAB3"));
            ck_assert_ptr_null(strstr(out, "root@vm")); /* comments dropped */
        }
        free(text);
    }
}
END_TEST

/* Other shapes of host-key text: known_hosts lines, fingerprints with and
 * without their context, and words that only look like fingerprints. */
START_TEST(test_host_key_parse_forms)
{
    static const struct {
        const char *text;
        int n;
        const char *out;
    } cases[] = {
        { "b7-3 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBayJH0z9utwNJdE8BwYn85qiEsaXpkYH56J0W0uYX86\n", 1,
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBayJH0z9utwNJdE8BwYn85qiEsaXpkYH56J0W0uYX86\n" },
        { "256 SHA256:pPDzjjJ0o8+qQ/cvAmdy/lCYueVO7cA4JOF26bCnvz4 root@vm (ED25519)\r\n", 1,
          "SHA256:pPDzjjJ0o8+qQ/cvAmdy/lCYueVO7cA4JOF26bCnvz4\n" },
        { "SHA256:pPDzjjJ0o8+qQ/cvAmdy/lCYueVO7cA4JOF26bCnvz4", 1,
          "SHA256:pPDzjjJ0o8+qQ/cvAmdy/lCYueVO7cA4JOF26bCnvz4\n" },
        /* too short, too long, padded, glued to a word, not base64 */
        { "256 SHA256:pPDzjjJ0o8+qQ/cvAmdy/lCYueVO7cA4JOF26bCnvz root@vm\n", 0, "" },
        { "256 SHA256:pPDzjjJ0o8+qQ/cvAmdy/lCYueVO7cA4JOF26bCnvz4x root@vm\n", 0, "" },
        { "256 SHA256:pPDzjjJ0o8+qQ/cvAmdy/lCYueVO7cA4JOF26bCnv== root@vm\n", 0, "" },
        { "keySHA256:pPDzjjJ0o8+qQ/cvAmdy/lCYueVO7cA4JOF26bCnvz4\n", 0, "" },
        { "256 SHA256:pPDzjjJ0o8+qQ/cvAmdy/lCYueVO7cA4JOF26b*nvz4\n", 0, "" },
        /* the colon-hex table cloud-init also prints is not a SHA256: form */
        { "ci-info: | ssh-ed25519 | a4:f0:f3:8e:32:74:a3:cf:aa:43:f7:2f:02:67:72:fe | - |\n", 0, "" },
    };
    char out[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cb_err err = CB_ERR_INIT;
        int n = cb_ssh_host_keys_parse(cases[i].text, strlen(cases[i].text), out, sizeof out, &err);
        ck_assert_msg(n == cases[i].n, "case %zu: %d (%s)", i, n, err.msg);
        ck_assert_msg(strcmp(out, cases[i].out) == 0, "case %zu: '%s'", i, out);
    }
    /* A fingerprint matches the key it is the SHA-256 of, and nothing else. */
    const char *blob = "\0\0\0\x0bssh-ed25519 pretend key bytes";
    size_t bl = 4 + 11 + 18;
    char fp[64], lines[128];
    cb_hostkey_fingerprint(blob, bl, fp, sizeof fp);
    snprintf(lines, sizeof lines, "%s\n", fp);
    enum cb_hostkey_verdict v = CB_HOSTKEY_NOTFOUND;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_host_keys_check_lines(lines, blob, bl, &v, &err), 0);
    ck_assert_int_eq(v, CB_HOSTKEY_MATCH);
    ck_assert_int_eq(cb_host_keys_check_lines(lines, blob, bl - 1, &v, &err), 0);
    ck_assert_int_eq(v, CB_HOSTKEY_MISMATCH);
    ck_assert_int_eq(cb_host_keys_check_lines("", blob, bl, &v, &err), 0);
    ck_assert_int_eq(v, CB_HOSTKEY_NOTFOUND);
}
END_TEST

START_TEST(test_fingerprint)
{
    char fp[64];
    cb_hostkey_fingerprint("abc", 3, fp, sizeof fp);
    /* sha256("abc") = ba7816bf...; base64 without padding, as OpenSSH prints it */
    ck_assert_str_eq(fp, "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bootstrap_render");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, test_condor_config);
    tcase_add_test(tc, test_cvmfs_files);
    tcase_add_test(tc, test_validation);
    tcase_add_test(tc, test_lease_config);
    tcase_add_test(tc, test_shell_quote);
    tcase_add_test(tc, test_cloud_config);
    tcase_add_test(tc, test_cloud_config_lease);
    tcase_add_test(tc, test_script_load);
    tcase_add_test(tc, test_host_key_parse);
    tcase_add_test(tc, test_host_key_parse_forms);
    tcase_add_test(tc, test_fingerprint);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
