/* test_bootstrap: the SSH bootstrapper against real OpenSSH sshd instances.
 *
 * Every "node" is a private sshd on 127.0.0.1 (tests/bootstrap/harness.c)
 * with its own root prefix; the real images/cloudburst-bootstrap.sh runs
 * there with CB_ROOT set. HTCondor and CVMFS are not in Debian, so the node
 * roots carry minimal stand-ins (tests/bootstrap/standins) on the script's
 * PATH; everything else — sshd, authentication, host keys, SFTP, sh, tar — is
 * real. Exits 77 when sshd cannot run here.
 */
#include "bootstrap.h"
#include "bootstrap/harness.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct h_env env;
static const char *repos[] = { "cms.cern.ch", "oasis.opensciencegrid.org" };
static const char token[] = "eyJhbGciOiJIUzI1NiIsImtpZCI6IlBPT0wifQ.eyJpc3MiOiJjbSJ9.c2lnbmF0dXJl";

#define MAX_NODES 6
static struct h_node nodes[MAX_NODES];
static int n_nodes;

static void test_log(void *payload, enum cb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void test_log(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    (void)payload;
    if (getenv("CB_TEST_VERBOSE") == NULL && level > CB_LOG_WARNING)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%s] ", cb_log_level_name(level));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void base_options(struct cb_bootstrap_options *o, const char *key)
{
    memset(o, 0, sizeof *o);
    o->user = env.user;
    o->key_file = key;
    o->host_key_policy = CB_HOSTKEY_ACCEPT_NEW;
    o->known_hosts_file = env.known_hosts;
    o->connect_timeout = 5;
    o->wait_timeout = 5;
    o->step_timeout = 60;
    o->script_dir = env.script_dir;
    o->failure_action = CB_FAILURE_QUARANTINE;
    o->quarantine_time = 3600;
    o->state_dir = env.state_dir;
    o->log = test_log;
    o->site.central_manager = "cm.t2.example.org";
    o->site.cloud_attribute = "IsCloudNode";
    o->site.mode = CB_MODE_EXCLUSIVE;
    o->site.cvmfs_repositories = repos;
    o->site.n_cvmfs_repositories = 2;
    o->site.cvmfs_http_proxy = "http://squid.t2.example.org:3128";
    o->site.cvmfs_quota_limit_mb = 4000;
    o->site.cvmfs_cache_base = "/var/lib/cvmfs";
    o->site.cms_local_site = "T2_XX_Example";
    o->site.token = token;
    o->site.token_len = sizeof token - 1;
}

static struct cb_bootstrap_target target_of(const struct h_node *n)
{
    struct cb_bootstrap_target t = {
        .node_id = n->id, .address = "127.0.0.1", .port = (unsigned)n->port,
        .cloud = "testcloud", .provider = "fake", .flavor = "m1.small",
        .instance_id = "i-0123456789",
    };
    return t;
}

/* One bootstrapper per node root (CB_ROOT is a bootstrapper option). */
static struct cb_bootstrap *make_bs(struct cb_bootstrap_options *o, const struct h_node *n)
{
    o->node_root = n->root;
    struct cb_bootstrap *bs = NULL;
    struct cb_err err = CB_ERR_INIT;
    int rc = cb_bootstrap_create(&bs, o, &err);
    ck_assert_msg(rc == 0, "create: %s: %s", err.origin, err.msg);
    return bs;
}

static char *node_file(const struct h_node *n, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", n->root, rel);
    return h_read(p);
}

static int count_lines_with(const char *text, const char *needle)
{
    int c = 0;
    for (const char *p = text; p != NULL && (p = strstr(p, needle)) != NULL; p++)
        c++;
    return c;
}

/* ---- several nodes at once ------------------------------------------------ */

struct multi {
    struct cb_bootstrap_report rep[MAX_NODES];
    int done;
};

struct slot {
    struct multi *m;
    int i;
};

static void multi_cb(void *payload, const struct cb_bootstrap_result *r)
{
    struct slot *s = payload;
    cb_bootstrap_report_copy(&s->m->rep[s->i], r);
    s->m->done++;
}

START_TEST(test_success_several_nodes)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cb_bootstrap_options o[4];
    struct cb_bootstrap *bs[4];
    struct multi m;
    memset(&m, 0, sizeof m);
    struct slot slots[4];
    for (int i = 0; i < 4; i++) {
        base_options(&o[i], i % 2 == 0 ? env.key_ed25519 : env.key_rsa);
        bs[i] = make_bs(&o[i], &nodes[i]);
        struct cb_bootstrap_target t = target_of(&nodes[i]);
        slots[i] = (struct slot){ &m, i };
        struct cb_err err = CB_ERR_INIT;
        ck_assert_int_eq(cb_bootstrap_start(bs[i], &loop, &t, multi_cb, &slots[i], &err), 0);
    }
    /* Nothing is reported from inside start. */
    ck_assert_int_eq(m.done, 0);
    while (m.done < 4 && uv_run(&loop, UV_RUN_ONCE) != 0)
        ;
    ck_assert_int_eq(m.done, 4);
    for (int i = 0; i < 4; i++) {
        struct cb_bootstrap_result *r = &m.rep[i].r;
        ck_assert_msg(r->ok, "node %d: %s: %s\n%s", i, r->err.origin, r->err.msg, r->errout);
        ck_assert_int_eq(r->exit_status, 0);
        ck_assert_int_eq(r->step, CB_BS_DONE);
        ck_assert_msg(strncmp(r->host_key, "SHA256:", 7) == 0, "fingerprint %s", r->host_key);
        ck_assert_ptr_nonnull(strstr(r->out, "verified"));
        char *conf = node_file(&nodes[i], "etc/condor/config.d/50-cloudburst.conf");
        ck_assert_ptr_nonnull(conf);
        char want[128];
        snprintf(want, sizeof want, "CloudburstNodeId = \"%.60s\"", nodes[i].id);
        ck_assert_ptr_nonnull(strstr(conf, want));
        ck_assert_ptr_nonnull(strstr(conf, "CONDOR_HOST = cm.t2.example.org\n"));
        ck_assert_ptr_nonnull(strstr(conf, "START = $(START) && (TARGET.WantCloudNode =?= True)"));
        free(conf);
        char *cv = node_file(&nodes[i], "etc/cvmfs/default.local");
        ck_assert_ptr_nonnull(cv);
        ck_assert_ptr_nonnull(strstr(cv, "CVMFS_REPOSITORIES='cms.cern.ch,oasis.opensciencegrid.org'"));
        ck_assert_ptr_nonnull(strstr(cv, "CVMFS_HTTP_PROXY='http://squid.t2.example.org:3128'"));
        free(cv);
        char *cms = node_file(&nodes[i], "etc/cvmfs/config.d/cms.cern.ch.local");
        ck_assert_ptr_nonnull(cms);
        ck_assert_ptr_nonnull(strstr(cms, "CMS_LOCAL_SITE='T2_XX_Example'"));
        free(cms);
        char tok[1024];
        snprintf(tok, sizeof tok, "%s/etc/condor/tokens.d/cloudburst.token", nodes[i].root);
        struct stat st;
        ck_assert_int_eq(stat(tok, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        char *tk = h_read(tok);
        ck_assert_str_eq(tk, token);
        free(tk);
        char *ml = node_file(&nodes[i], "var/log/condor/MasterLog");
        ck_assert_int_eq(count_lines_with(ml, "started"), 1);
        free(ml);
        /* The staging directory (it held the token) is gone: it was made
         * under the node root's tmp, and nothing went to the session's. */
        ck_assert_int_eq(h_sh("ls -A '%s/tmp' | grep -q .", nodes[i].root), 1);
        ck_assert_int_eq(h_sh("ls -A '%s/tmp' | grep -q .", nodes[i].dir), 1);
        cb_bootstrap_free(bs[i]);
        cb_bootstrap_report_clear(&m.rep[i]);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    /* accept-new recorded each node's key under its node id. */
    char *kh = h_read(env.known_hosts);
    ck_assert_ptr_nonnull(kh);
    for (int i = 0; i < 4; i++) {
        char want[80];
        snprintf(want, sizeof want, "%.60s ssh-ed25519 ", nodes[i].id);
        ck_assert_msg(strstr(kh, want) != NULL, "known_hosts lacks %s", nodes[i].id);
    }
    free(kh);
}
END_TEST

START_TEST(test_rerun_is_idempotent)
{
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    struct cb_bootstrap *bs = make_bs(&o, &nodes[0]);
    struct cb_bootstrap_target t = target_of(&nodes[0]);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    char *before = node_file(&nodes[0], "etc/condor/config.d/50-cloudburst.conf");
    int rc = cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err);
    ck_assert_msg(rc == 0, "%s: %s", err.origin, err.msg);
    ck_assert_ptr_nonnull(strstr(rep.r.out, "configuration unchanged"));
    ck_assert_ptr_null(strstr(rep.r.out, "restarting"));
    char *after = node_file(&nodes[0], "etc/condor/config.d/50-cloudburst.conf");
    ck_assert_str_eq(before, after);
    char *ml = node_file(&nodes[0], "var/log/condor/MasterLog");
    ck_assert_int_eq(count_lines_with(ml, "started"), 1);
    ck_assert_int_eq(count_lines_with(ml, "restarted"), 0);
    free(ml);
    free(before);
    free(after);
    cb_bootstrap_report_clear(&rep);

    /* A changed site setting is applied and restarts HTCondor once. */
    o.site.mode = CB_MODE_TRANSPARENT;
    cb_bootstrap_free(bs);
    bs = make_bs(&o, &nodes[0]);
    rc = cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err);
    ck_assert_msg(rc == 0, "%s: %s", err.origin, err.msg);
    ck_assert_ptr_nonnull(strstr(rep.r.out, "restarting HTCondor"));
    char *conf = node_file(&nodes[0], "etc/condor/config.d/50-cloudburst.conf");
    ck_assert_ptr_null(strstr(conf, "WantCloudNode"));
    free(conf);
    ml = node_file(&nodes[0], "var/log/condor/MasterLog");
    ck_assert_int_eq(count_lines_with(ml, "restarted"), 1);
    free(ml);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
}
END_TEST

/* With the controller lease on, the upload carries the lease check, the
 * script installs it where the startd cron job finds it, and the installed
 * copy works on the node (run over SSH here as the startd would run it; the
 * collector is the condor_status stand-in's ad file). */
START_TEST(test_lease_check_installed)
{
    struct h_node *n = &nodes[0];
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    o.site.controller_name = "cloudburst@t2";
    o.site.lease = 600;
    struct cb_bootstrap *bs = make_bs(&o, n);
    struct cb_bootstrap_target t = target_of(n);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    /* The image has sudo: the condor user may run the one poweroff command. */
    ck_assert_int_eq(h_sh("mkdir -p '%s/etc/sudoers.d'", n->root), 0);
    int rc = cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err);
    ck_assert_msg(rc == 0, "%s: %s\n%s", err.origin, err.msg, rep.r.errout);
    ck_assert_ptr_nonnull(strstr(rep.r.out, "controller lease: 600s on cloudburst@t2"));
    char *sudoers = node_file(n, "etc/sudoers.d/cloudburst-lease");
    ck_assert_ptr_nonnull(sudoers);
    ck_assert_ptr_nonnull(
        strstr(sudoers, "\ncondor ALL=(root) NOPASSWD: /usr/sbin/shutdown -h now, "
                        "/sbin/shutdown -h now\n"));
    free(sudoers);
    char path0[1024];
    snprintf(path0, sizeof path0, "%s/etc/sudoers.d/cloudburst-lease", n->root);
    struct stat st0;
    ck_assert_int_eq(stat(path0, &st0), 0);
    ck_assert_int_eq(st0.st_mode & 07777, 0440);
    /* sudo's own parser accepts it (sudo is a test dependency: tools/install-deps). */
    ck_assert_int_eq(h_sh("visudo -cqf '%s'", path0), 0);
    cb_bootstrap_report_clear(&rep);
    char path[1024];
    snprintf(path, sizeof path, "%s/usr/libexec/cloudburst/cloudburst-lease-check", n->root);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0755);
    ck_assert_int_eq(h_sh("cmp -s '%s' '%s/cloudburst-lease-check'", path, env.script_dir), 0);
    char *conf = node_file(n, "etc/condor/config.d/50-cloudburst.conf");
    ck_assert_ptr_nonnull(strstr(conf, "STARTD_CRON_CBLEASE_ARGS = cloudburst@t2 600 "));
    ck_assert_ptr_nonnull(strstr(conf, "(CloudburstLeaseExpired =!= True)"));
    free(conf);

    /* The installed check against a fresh heartbeat in the collector. */
    ck_assert_int_eq(h_sh("mkdir -p '%s/run/condor/collector' && printf "
                          "'CloudburstHeartbeat = %%s\n' \"$(date +%%s)\" > "
                          "'%s/run/condor/collector/cloudburst@t2.ad'",
                          n->root, n->root),
                     0);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "CB_ROOT='%s' '%s' cloudburst@t2 600 '%s/spool/lease'", n->root,
             path, n->root);
    cb_err_clear(&err);
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, cmd, &rep, &err), 0);
    ck_assert_ptr_nonnull(strstr(rep.r.out, "CloudburstLeaseExpired = False"));
    /* It found the ad (not merely "just joined"): the heartbeat is kept. */
    ck_assert_int_eq(h_sh("test -s '%s/spool/lease/heartbeat'", n->root), 0);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);

    /* A script_dir without the lease check is refused at create. */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/no-lease-check", env.dir);
    ck_assert_int_eq(h_sh("mkdir -p '%s' && cp '%s/cloudburst-bootstrap.sh' '%s/'", dir,
                          env.script_dir, dir),
                     0);
    o.script_dir = dir;
    o.node_root = n->root;
    bs = NULL;
    cb_err_clear(&err);
    ck_assert_int_eq(cb_bootstrap_create(&bs, &o, &err), -1);
    ck_assert_ptr_null(bs);
    ck_assert_ptr_nonnull(strstr(err.origin, "cloudburst-lease-check"));
}
END_TEST

START_TEST(test_run_command)
{
    struct cb_bootstrap_options o;
    base_options(&o, env.key_rsa);
    struct cb_bootstrap *bs = make_bs(&o, &nodes[1]);
    struct cb_bootstrap_target t = target_of(&nodes[1]);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, "echo drained; printf 'a\\033b' >&2", &rep,
                                           &err),
                     0);
    ck_assert_str_eq(rep.r.out, "drained?");   /* newline sanitised */
    ck_assert_str_eq(rep.r.errout, "a?b");     /* ESC sanitised */
    ck_assert_int_eq(rep.r.exit_status, 0);
    cb_bootstrap_report_clear(&rep);
    cb_err_clear(&err);
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, "exit 3", &rep, &err), -1);
    ck_assert_int_eq(rep.r.exit_status, 3);
    ck_assert_int_eq(rep.r.step, CB_BS_COMMAND);
    ck_assert_str_eq(rep.r.harvest_dir, "");
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
}
END_TEST

/* sudo = true wraps commands as `sudo -n sh -c '...'`: where the node has
 * sudo (root may always use it) the command runs; where it has none, the
 * command must fail rather than silently run unprivileged. */
START_TEST(test_sudo_wrapping)
{
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    o.sudo = true;
    struct cb_bootstrap *bs = make_bs(&o, &nodes[1]);
    struct cb_bootstrap_target t = target_of(&nodes[1]);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    bool have_sudo = h_sh("command -v sudo >/dev/null 2>&1") == 0;
    int rc = cb_bootstrap_run_sync(bs, &t, "id -u", &rep, &err);
    if (have_sudo) {
        ck_assert_msg(rc == 0, "%s", rep.r.errout);
        ck_assert_str_eq(rep.r.out, "0?");
    } else {
        ck_assert_int_eq(rc, -1);
        ck_assert_int_eq(rep.r.exit_status, 127);
        ck_assert_ptr_nonnull(strstr(rep.r.errout, "sudo"));
    }
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
}
END_TEST

START_TEST(test_wrong_user_key)
{
    struct cb_bootstrap_options o;
    base_options(&o, env.key_wrong);
    struct cb_bootstrap *bs = make_bs(&o, &nodes[2]);
    struct cb_bootstrap_target t = target_of(&nodes[2]);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err), -1);
    ck_assert_int_eq(rep.r.step, CB_BS_AUTH);
    ck_assert_int_eq(rep.r.err.code, CB_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(rep.r.err.msg, "refused"));
    ck_assert_str_eq(rep.r.harvest_dir, "");
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
}
END_TEST

START_TEST(test_key_file_permissions)
{
    char key[1024];
    snprintf(key, sizeof key, "%s/id_loose", env.dir);
    ck_assert_int_eq(h_sh("cp '%s' '%s' && chmod 0644 '%s'", env.key_ed25519, key, key), 0);
    struct cb_bootstrap_options o;
    base_options(&o, key);
    struct cb_bootstrap *bs = NULL;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_bootstrap_create(&bs, &o, &err), -1);
    ck_assert_ptr_null(bs);
    ck_assert_str_eq(err.origin, key);
    ck_assert_ptr_nonnull(strstr(err.msg, "644"));
}
END_TEST

START_TEST(test_changed_host_key_refused)
{
    struct h_node *n = &nodes[3]; /* bootstrapped (key recorded) by the first test */
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    struct cb_bootstrap *bs = make_bs(&o, n);
    struct cb_bootstrap_target t = target_of(n);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    /* Same key: accepted. */
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, "true", &rep, &err), 0);
    cb_bootstrap_report_clear(&rep);
    ck_assert_int_eq(h_node_restart(&env, n, true), 0);
    cb_bootstrap_free(bs);
    bs = make_bs(&o, n); /* re-reads the known-hosts file, as a restarted daemon would */
    cb_err_clear(&err);
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err), -1);
    ck_assert_int_eq(rep.r.step, CB_BS_HOSTKEY);
    ck_assert_int_eq(rep.r.err.code, CB_ERR_PERMANENT);
    ck_assert_ptr_nonnull(strstr(rep.r.err.msg, "HOST KEY CHANGED"));
    /* The recorded key was not replaced. */
    char *kh = h_read(env.known_hosts);
    char want[80];
    snprintf(want, sizeof want, "%.60s ssh-ed25519 ", n->id);
    ck_assert_int_eq(count_lines_with(kh, want), 1);
    free(kh);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
}
END_TEST

/* A bootstrapper in strict mode with its own known-hosts file. */
static struct cb_bootstrap *strict_bs(struct cb_bootstrap_options *o, const struct h_node *n,
                                      const char *kh_name, char *kh_path, size_t kh_size)
{
    base_options(o, env.key_ed25519);
    o->host_key_policy = CB_HOSTKEY_STRICT;
    snprintf(kh_path, kh_size, "%s/%s", env.dir, kh_name);
    o->known_hosts_file = kh_path;
    return make_bs(o, n);
}

START_TEST(test_strict_console_keys)
{
    struct h_node *n = &nodes[4];
    char kt[1024];
    snprintf(kt, sizeof kt, "%s/console.txt", env.dir);
    /* What cloud-init prints on the console. */
    ck_assert_int_eq(h_sh("{ echo 'ci-info: no authorized SSH keys'; "
                          "echo '-----BEGIN SSH HOST KEY KEYS-----'; cat '%s/ssh_host_ed25519_key.pub'; "
                          "echo '-----END SSH HOST KEY KEYS-----'; } > '%s'",
                          n->dir, kt),
                     0);
    char *console = h_read(kt);
    struct cb_bootstrap_options o;
    char kh_path[1024];
    struct cb_bootstrap *bs = strict_bs(&o, n, "known_hosts_strict", kh_path, sizeof kh_path);
    struct cb_bootstrap_target t = target_of(n);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    /* Unknown key: strict refuses, for a command and for a bootstrap. */
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, "true", &rep, &err), -1);
    ck_assert_int_eq(rep.r.step, CB_BS_HOSTKEY);
    ck_assert_ptr_nonnull(strstr(rep.r.err.msg, "not known"));
    cb_bootstrap_report_clear(&rep);
    cb_err_clear(&err);
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err), -1);
    ck_assert_int_eq(rep.r.step, CB_BS_HOSTKEY);
    ck_assert_str_eq(rep.r.harvest_dir, ""); /* it never logged in */
    cb_bootstrap_report_clear(&rep);
    ck_assert_int_eq(access(kh_path, F_OK), -1);
    /* The right key from the console: the bootstrap runs, and the key is
     * recorded under the node id. */
    t.host_keys = console;
    cb_err_clear(&err);
    int rc = cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err);
    ck_assert_msg(rc == 0, "%s: %s", err.origin, err.msg);
    ck_assert_int_eq(rep.r.step, CB_BS_DONE);
    cb_bootstrap_report_clear(&rep);
    char *kh = h_read(kh_path);
    char want[80];
    snprintf(want, sizeof want, "%.60s ssh-ed25519 ", n->id);
    ck_assert_ptr_nonnull(kh);
    ck_assert_int_eq(count_lines_with(kh, want), 1);
    free(kh);
    /* Hours later the drain runs without the console: verified all the same. */
    t.host_keys = NULL;
    cb_err_clear(&err);
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, "echo drain", &rep, &err), 0);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);

    /* Another node's key on the console: refused, nothing recorded. */
    char other[1024];
    snprintf(other, sizeof other, "%s/ssh_host_ed25519_key.pub", nodes[0].dir);
    char *okey = h_read(other);
    bs = strict_bs(&o, n, "known_hosts_strict2", kh_path, sizeof kh_path);
    t.host_keys = okey;
    cb_err_clear(&err);
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err), -1);
    ck_assert_int_eq(rep.r.step, CB_BS_HOSTKEY);
    ck_assert_int_eq(rep.r.err.code, CB_ERR_PERMANENT);
    ck_assert_ptr_nonnull(strstr(rep.r.err.msg, "HOST KEY CHANGED"));
    ck_assert_int_eq(access(kh_path, F_OK), -1);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
    free(okey);

    /* Only the fingerprints (ssh-keygen -l, as cloud-init prints them). */
    ck_assert_int_eq(h_sh("{ echo '-----BEGIN SSH HOST KEY FINGERPRINTS-----'; '%s' -lf "
                          "'%s/ssh_host_ed25519_key.pub'; echo '-----END SSH HOST KEY "
                          "FINGERPRINTS-----'; } > '%s'",
                          env.keygen, n->dir, kt),
                     0);
    char *fps = h_read(kt);
    ck_assert_ptr_nonnull(strstr(fps, " SHA256:"));
    bs = strict_bs(&o, n, "known_hosts_strict3", kh_path, sizeof kh_path);
    t.host_keys = fps;
    cb_err_clear(&err);
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, "true", &rep, &err), 0);
    ck_assert_ptr_nonnull(strstr(fps, rep.r.host_key)); /* the fingerprint it checked */
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
    /* A fingerprint of another key: refused. */
    ck_assert_int_eq(h_sh("'%s' -lf '%s/ssh_host_ed25519_key.pub' > '%s'", env.keygen,
                          nodes[0].dir, kt),
                     0);
    char *wrong = h_read(kt);
    bs = strict_bs(&o, n, "known_hosts_strict4", kh_path, sizeof kh_path);
    t.host_keys = wrong;
    cb_err_clear(&err);
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, "true", &rep, &err), -1);
    ck_assert_ptr_nonnull(strstr(rep.r.err.msg, "HOST KEY CHANGED"));
    ck_assert_int_eq(access(kh_path, F_OK), -1);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
    free(wrong);
    free(fps);
    free(console);
}
END_TEST

static void count_log(void *payload, enum cb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void count_log(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (level == CB_LOG_WARNING && strstr(msg, "NOT verified") != NULL)
        ++*(int *)payload;
}

START_TEST(test_insecure_warns)
{
    int warnings = 0;
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    o.host_key_policy = CB_HOSTKEY_INSECURE;
    o.known_hosts_file = NULL;
    o.log = count_log;
    o.log_payload = &warnings;
    struct cb_bootstrap *bs = make_bs(&o, &nodes[4]);
    struct cb_bootstrap_target t = target_of(&nodes[4]);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    for (int i = 1; i <= 2; i++) {
        ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, "true", &rep, &err), 0);
        ck_assert_int_eq(rep.r.exit_status, 0);
        ck_assert_int_eq(warnings, i); /* a warning on every connection */
        cb_bootstrap_report_clear(&rep);
    }
    cb_bootstrap_free(bs);
}
END_TEST

START_TEST(test_ssh_never_comes_up)
{
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    o.wait_timeout = 2;
    o.connect_timeout = 1;
    struct h_node dead = nodes[0];
    snprintf(dead.id, sizeof dead.id, "never-up");
    dead.port = h_free_port();
    struct cb_bootstrap *bs = make_bs(&o, &dead);
    struct cb_bootstrap_target t = target_of(&dead);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err), -1);
    ck_assert_int_eq(rep.r.step, CB_BS_CONNECT);
    ck_assert_int_eq(rep.r.err.code, CB_ERR_TIMEOUT);
    ck_assert_msg(rep.r.attempts >= 3, "attempts %u", rep.r.attempts);
    ck_assert_ptr_nonnull(strstr(rep.r.err.msg, "did not come up within 2 s"));
    ck_assert_ptr_nonnull(strstr(rep.r.err.msg, "Connection refused"));
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
}
END_TEST

struct late {
    struct cb_bootstrap_report rep;
    bool done;
    int restarted;
};

static void late_cb(void *payload, const struct cb_bootstrap_result *r)
{
    struct late *l = payload;
    cb_bootstrap_report_copy(&l->rep, r);
    l->done = true;
}

static void late_timer(uv_timer_t *t)
{
    struct late *l = t->data;
    l->restarted = h_node_restart(&env, &nodes[1], false) == 0 ? 1 : -1;
    uv_close((uv_handle_t *)t, NULL);
}

/* The VM is still booting: sshd appears 1.5 s after the bootstrap started. */
START_TEST(test_ssh_comes_up_late)
{
    h_node_stop(&nodes[1]);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    o.wait_timeout = 30;
    struct cb_bootstrap *bs = make_bs(&o, &nodes[1]);
    struct cb_bootstrap_target t = target_of(&nodes[1]);
    struct late l;
    memset(&l, 0, sizeof l);
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    timer.data = &l;
    uv_timer_start(&timer, late_timer, 1500, 0);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_bootstrap_run_command(bs, &loop, &t, "echo up", late_cb, &l, &err), 0);
    while (!l.done && uv_run(&loop, UV_RUN_ONCE) != 0)
        ;
    ck_assert_int_eq(l.restarted, 1);
    ck_assert_msg(l.rep.r.ok, "%s", l.rep.r.err.msg);
    ck_assert_str_eq(l.rep.r.out, "up?");
    ck_assert_msg(l.rep.r.attempts >= 2, "attempts %u", l.rep.r.attempts);
    cb_bootstrap_report_clear(&l.rep);
    cb_bootstrap_free(bs);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_script_fails_quarantine_and_harvest)
{
    struct h_node *n = &nodes[5];
    ck_assert_int_eq(h_sh("mkdir -p '%s/etc/cvmfs' '%s/var/log' && touch '%s/etc/cvmfs/FAIL_PROBE' "
                          "&& echo 'cloud-init: boot finished' > '%s/var/log/cloud-init.log'",
                          n->root, n->root, n->root, n->root),
                     0);
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    struct cb_bootstrap *bs = make_bs(&o, n);
    struct cb_bootstrap_target t = target_of(n);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err), -1);
    ck_assert_int_eq(rep.r.step, CB_BS_RUN);
    ck_assert_int_eq(rep.r.exit_status, 1);
    ck_assert_ptr_nonnull(strstr(rep.r.err.msg, "CVMFS repository cms.cern.ch does not mount"));
    ck_assert_ptr_nonnull(strstr(rep.r.err.origin, ":run"));
    ck_assert_int_eq(rep.r.failure_action, CB_FAILURE_QUARANTINE);
    ck_assert_int_eq(rep.r.quarantine_time, 3600);
    char want[1024];
    snprintf(want, sizeof want, "%s/nodes/%s", env.state_dir, n->id);
    ck_assert_str_eq(rep.r.harvest_dir, want);
    ck_assert_int_eq(h_sh("tar -tzf '%s/logs.tar.gz' > '%s/list'", want, want), 0);
    snprintf(want + strlen(want), sizeof want - strlen(want), "/list");
    char *list = h_read(want);
    ck_assert_ptr_nonnull(list);
    ck_assert_ptr_nonnull(strstr(list, "var/log/cloud-init.log"));
    ck_assert_ptr_nonnull(strstr(list, "var/log/cvmfs/probe.log"));
    ck_assert_ptr_nonnull(strstr(list, "var/log/cloudburst-bootstrap.log"));
    free(list);
    snprintf(want, sizeof want, "%s/nodes/%s/bootstrap.log", env.state_dir, n->id);
    char *blog = h_read(want);
    ck_assert_ptr_nonnull(blog);
    ck_assert_ptr_nonnull(strstr(blog, "failed step: run"));
    ck_assert_ptr_nonnull(strstr(blog, "CVMFS repository"));
    ck_assert_ptr_null(strstr(blog, token));
    free(blog);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
}
END_TEST

/* The script hangs (a CVMFS proxy that never answers): the run step times
 * out, and the logs are still harvested over a fresh channel. */
START_TEST(test_script_hangs_step_timeout)
{
    struct h_node *n = &nodes[5];
    ck_assert_int_eq(h_sh("rm -f '%s/etc/cvmfs/FAIL_PROBE' && touch '%s/etc/cvmfs/HANG_PROBE' && "
                          "rm -rf '%s/nodes/%s'",
                          n->root, n->root, env.state_dir, n->id),
                     0);
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    o.step_timeout = 4;
    o.failure_action = CB_FAILURE_TERMINATE;
    struct cb_bootstrap *bs = make_bs(&o, n);
    struct cb_bootstrap_target t = target_of(n);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err), -1);
    ck_assert_int_eq(rep.r.step, CB_BS_RUN);
    ck_assert_int_eq(rep.r.err.code, CB_ERR_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(rep.r.err.msg, "within 4 s"));
    ck_assert_int_eq(rep.r.failure_action, CB_FAILURE_TERMINATE);
    char path[1024];
    snprintf(path, sizeof path, "%s/logs.tar.gz", rep.r.harvest_dir);
    ck_assert_int_eq(h_sh("tar -tzf '%s' | grep -q var/log/cloudburst-bootstrap.log", path), 0);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
    ck_assert_int_eq(h_sh("rm -f '%s/etc/cvmfs/HANG_PROBE'", n->root), 0);
}
END_TEST

/* Drop the connection after the first file went up. */
struct dropper {
    struct h_node *node;
    bool killed;
};

static void drop_log(void *payload, enum cb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void drop_log(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    struct dropper *d = payload;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    (void)level;
    if (!d->killed && strstr(msg, "uploaded ") != NULL) {
        h_node_kill_sessions(d->node);
        d->killed = true;
    }
}

START_TEST(test_connection_dropped_mid_upload)
{
    struct h_node *n = &nodes[2];
    struct dropper d = { n, false };
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    o.log = drop_log;
    o.log_payload = &d;
    struct cb_bootstrap *bs = make_bs(&o, n);
    struct cb_bootstrap_target t = target_of(n);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err), -1);
    ck_assert(d.killed);
    ck_assert_int_eq(rep.r.step, CB_BS_UPLOAD);
    ck_assert_msg(rep.r.err.code == CB_ERR_TRANSIENT || rep.r.err.code == CB_ERR_IO, "code %s: %s",
                  cb_errcode_name(rep.r.err.code), rep.r.err.msg);
    ck_assert_int_eq(rep.r.exit_status, -1);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
    /* The node comes back (same host key): the bootstrap then succeeds. */
    h_node_stop(n);
    ck_assert_int_eq(h_node_restart(&env, n, false), 0);
    o.log = test_log;
    bs = make_bs(&o, n);
    cb_err_clear(&err);
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err), 0);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
}
END_TEST

/* A node whose sshd offers no SFTP: the stage step fails and says why; the
 * connection still serves the log harvest. */
START_TEST(test_no_sftp_subsystem)
{
    struct h_node *n = &nodes[5];
    n->no_sftp = true;
    ck_assert_int_eq(h_node_restart(&env, n, false), 0);
    ck_assert_int_eq(h_sh("rm -rf '%s/nodes/%s'", env.state_dir, n->id), 0);
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    struct cb_bootstrap *bs = make_bs(&o, n);
    struct cb_bootstrap_target t = target_of(n);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err), -1);
    ck_assert_int_eq(rep.r.step, CB_BS_STAGE);
    ck_assert_ptr_nonnull(strstr(rep.r.err.msg, "cannot start SFTP"));
    ck_assert_ptr_nonnull(strstr(rep.r.err.origin, ":stage"));
    ck_assert_int_eq(rep.r.exit_status, -1);
    char path[1024];
    snprintf(path, sizeof path, "%s/logs.tar.gz", rep.r.harvest_dir);
    ck_assert_int_eq(h_sh("tar -tzf '%s' | grep -q var/log/", path), 0);
    /* Nothing was staged. */
    ck_assert_int_eq(h_sh("ls -A '%s/tmp' | grep -q .", n->root), 1);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
    n->no_sftp = false;
    ck_assert_int_eq(h_node_restart(&env, n, false), 0);
}
END_TEST

/* A bootstrap script far larger than one SFTP write (libssh2 pipelines
 * ~30 kB requests and asks to be called again with the same buffer): it
 * arrives whole, since the node only verifies if its last lines ran. */
START_TEST(test_large_upload)
{
    struct h_node *n = &nodes[5];
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/big-script", env.dir);
    ck_assert_int_eq(h_sh("mkdir -p '%s' && { head -n 1 '%s/cloudburst-bootstrap.sh'; "
                          "i=0; while [ $i -lt 6000 ]; do echo \"# padding line $i: the upload "
                          "must carry every byte of this file\"; i=$((i + 1)); done; "
                          "tail -n +2 '%s/cloudburst-bootstrap.sh'; } > '%s/cloudburst-bootstrap.sh' "
                          "&& chmod 0644 '%s/cloudburst-bootstrap.sh' && "
                          "test $(wc -c < '%s/cloudburst-bootstrap.sh') -gt 300000",
                          dir, env.script_dir, env.script_dir, dir, dir, dir),
                     0);
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    o.script_dir = dir;
    struct cb_bootstrap *bs = make_bs(&o, n);
    struct cb_bootstrap_target t = target_of(n);
    struct cb_bootstrap_report rep;
    struct cb_err err = CB_ERR_INIT;
    int rc = cb_bootstrap_run_sync(bs, &t, NULL, &rep, &err);
    ck_assert_msg(rc == 0, "%s: %s\n%s", err.origin, err.msg, rep.r.errout);
    ck_assert_ptr_nonnull(strstr(rep.r.out, "verified"));
    ck_assert_int_eq(h_sh("ls -A '%s/tmp' | grep -q .", n->root), 1);
    cb_bootstrap_report_clear(&rep);
    cb_bootstrap_free(bs);
}
END_TEST

START_TEST(test_queue_limit_and_cancel)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cb_bootstrap_options o;
    base_options(&o, env.key_ed25519);
    o.max_concurrent = 1;
    struct cb_bootstrap *bs = make_bs(&o, &nodes[1]);
    struct multi m;
    memset(&m, 0, sizeof m);
    struct slot slots[3] = { { &m, 0 }, { &m, 1 }, { &m, 2 } };
    struct cb_bootstrap_target t = target_of(&nodes[1]);
    struct cb_err err = CB_ERR_INIT;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(cb_bootstrap_run_command(bs, &loop, &t, "echo hi", multi_cb, &slots[i],
                                                  &err),
                         0);
    ck_assert_uint_eq(cb_bootstrap_pending(bs), 3);
    while (m.done < 1 && uv_run(&loop, UV_RUN_ONCE) != 0)
        ;
    ck_assert_int_eq(m.done, 1);
    ck_assert(m.rep[0].r.ok);
    ck_assert_str_eq(m.rep[0].r.out, "hi?");
    /* The second runs now, the third waits: cancel both. */
    cb_bootstrap_cancel_all(bs);
    ck_assert_int_eq(m.done, 3);
    ck_assert_ptr_nonnull(strstr(m.rep[1].r.err.msg, "cancelled"));
    ck_assert_ptr_nonnull(strstr(m.rep[2].r.err.msg, "cancelled"));
    ck_assert_uint_eq(cb_bootstrap_pending(bs), 0);
    for (int i = 0; i < 3; i++)
        cb_bootstrap_report_clear(&m.rep[i]);
    cb_bootstrap_free(bs);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

int main(void)
{
    char why[512] = "";
    int rc = h_env_init(&env, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "test_bootstrap: %s: %s\n", rc == 77 ? "SKIP" : "ERROR", why);
        return rc;
    }
    /* RSA user keys need ssh-rsa signatures with this libssh2: see harness.c. */
    env.allow_ssh_rsa = true;
    const char *ids[MAX_NODES] = { "b1-0", "b1-1", "b1-2", "b1-3", "b1-4", "b1-5" };
    for (n_nodes = 0; n_nodes < MAX_NODES; n_nodes++) {
        rc = h_node_start(&env, &nodes[n_nodes], ids[n_nodes], 10, why, sizeof why);
        if (rc != 0) {
            fprintf(stderr, "test_bootstrap: %s: %s\n", rc == 77 ? "SKIP" : "ERROR", why);
            for (int i = 0; i < n_nodes; i++)
                h_node_stop(&nodes[i]);
            h_env_cleanup(&env);
            return rc;
        }
    }
    Suite *s = suite_create("bootstrap");
    TCase *tc = tcase_create("sshd");
    tcase_set_timeout(tc, 120);
    /* Order matters: later cases use nodes the first one bootstrapped. */
    tcase_add_test(tc, test_success_several_nodes);
    tcase_add_test(tc, test_rerun_is_idempotent);
    tcase_add_test(tc, test_lease_check_installed);
    tcase_add_test(tc, test_run_command);
    tcase_add_test(tc, test_sudo_wrapping);
    tcase_add_test(tc, test_wrong_user_key);
    tcase_add_test(tc, test_key_file_permissions);
    tcase_add_test(tc, test_changed_host_key_refused);
    tcase_add_test(tc, test_strict_console_keys);
    tcase_add_test(tc, test_insecure_warns);
    tcase_add_test(tc, test_ssh_never_comes_up);
    tcase_add_test(tc, test_ssh_comes_up_late);
    tcase_add_test(tc, test_script_fails_quarantine_and_harvest);
    tcase_add_test(tc, test_script_hangs_step_timeout);
    tcase_add_test(tc, test_connection_dropped_mid_upload);
    tcase_add_test(tc, test_no_sftp_subsystem);
    tcase_add_test(tc, test_large_upload);
    tcase_add_test(tc, test_queue_limit_and_cancel);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    /* One process: the sshd children and known-hosts state are shared. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (int i = 0; i < n_nodes; i++)
        h_node_stop(&nodes[i]);
    h_env_cleanup(&env);
    return failed == 0 ? 0 : 1;
}
