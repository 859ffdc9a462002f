/* Unit tests: cloudburst.conf loading, validation, printing, secret files,
 * the shipped example and the man page.
 *
 * Bad configurations are data: each tests/data/config/<case>.conf comes with
 * <case>.expect, the exact error line ("OK" for a file that must load). In
 * both, @TMP@ stands for this run's temporary directory (it holds the secret
 * files, created here because modes cannot be kept in git) and, in .expect,
 * @FILE@ for the configuration's path. Provider settings are checked against
 * the test-only drivers in tests/providers/testdummy.c.
 */
#include "cb_error.h"
#include "config.h"
#include "config_schema.h"
#include "secret.h"

#include <check.h>
#include <libconfig.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set once in main() before any test runs; read-only afterwards. */
static char tmp[4096];
static char provider_dir[4096];
static const char *srcdir;

static const char TOKEN[] = "eyJhbGciOiJIUzI1NiJ9.token-SECRET-1234";
static const char CREDS[] = "AKIDEXAMPLE\nCREDS-SECRET-5678";

/* ---- helpers ------------------------------------------------------------------ */

/* snprintf through a wrapper: paths are bounded by the buffers here, and a
 * cut string would only make an assertion fail, never overflow. */
static void fmt(char *out, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void fmt(char *out, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, len, f, ap);
    va_end(ap);
}

static char *read_all(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0, r;
    char *buf = malloc(cap + 1);
    while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    if (len_out)
        *len_out = n;
    return buf;
}

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_msg(fd >= 0, "cannot create %s: %s", path, strerror(errno));
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

/* Replace every `from` in s with `to` (returns a new string). */
static char *subst(const char *s, const char *from, const char *to)
{
    size_t lf = strlen(from), lt = strlen(to), n = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + lf, from))
        n++;
    char *out = malloc(strlen(s) + n * lt + 1), *o = out;
    ck_assert_ptr_nonnull(out);
    for (const char *p = s;;) {
        const char *q = strstr(p, from);
        if (q == NULL) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, lt);
        o += lt;
        p = q + lf;
    }
    return out;
}

/* Copy a data file into the temporary directory with @TMP@ replaced. */
static void instantiate(const char *src, const char *dst)
{
    char *text = read_all(src, NULL);
    ck_assert_msg(text != NULL, "cannot read %s", src);
    char *t = subst(text, "@TMP@", tmp);
    write_file(dst, t, strlen(t), 0644);
    free(t);
    free(text);
}

static int load(struct cb_config **cfg, const char *path, unsigned flags, struct cb_err *err)
{
    return cb_config_load_flags(cfg, path, provider_dir, flags, err);
}

static char *print_to_string(const struct cb_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(cb_config_print(cfg, f), 0);
    fclose(f);
    return buf;
}

/* For main(), outside any test: a failure is a hard error (99). */
static void raw_write(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) != 0) {
        perror(path);
        exit(99);
    }
    close(fd);
}

static void make_fixture(void)
{
    char path[4200];
    fmt(tmp, sizeof tmp, "%s/cb-test-config.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmp) == NULL) {
        perror("mkdtemp");
        exit(99);
    }
    struct { const char *name; mode_t mode; } files[] = {
        { "token", 0600 }, { "key", 0400 }, { "creds", 0600 }, { "creds-0644", 0644 },
        { "creds-0640", 0640 }, { "creds-0620", 0620 }, { "creds-0610", 0610 },
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        fmt(path, sizeof path, "%s/%s", tmp, files[i].name);
        const char *content = strcmp(files[i].name, "token") == 0 ? TOKEN : CREDS;
        char data[256];
        /* The token ends with CRLF, the rest with LF: one of each is stripped. */
        fmt(data, sizeof data, "%s%s", content,
                 strcmp(files[i].name, "token") == 0 ? "\r\n" : "\n");
        raw_write(path, data, strlen(data), files[i].mode);
    }
    fmt(path, sizeof path, "%s/creds-empty", tmp);
    raw_write(path, "", 0, 0600);
    char *big = malloc(CB_SECRET_MAX + 100);
    memset(big, 'x', CB_SECRET_MAX + 100);
    fmt(path, sizeof path, "%s/creds-big", tmp);
    raw_write(path, big, CB_SECRET_MAX + 100, 0600);
    free(big);
    fmt(path, sizeof path, "%s/creds-link", tmp);
    if (symlink("creds", path) != 0)
        exit(99);
    fmt(path, sizeof path, "%s/creds-dir", tmp);
    if (mkdir(path, 0700) != 0)
        exit(99);
    fmt(path, sizeof path, "%s/creds-fifo", tmp);
    if (mkfifo(path, 0600) != 0)
        exit(99);
    fmt(path, sizeof path, "%s/cases", tmp);
    if (mkdir(path, 0700) != 0)
        exit(99);
}

static void remove_fixture(void)
{
    char cmd[4200];
    fmt(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
}

/* ---- the cases as data -------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The case names (<case>.conf without the suffix), sorted; filled by main(). */
#define MAX_CASES 512
static char *case_names[MAX_CASES];
static int n_cases;

static void find_cases(void)
{
    char dir[4200];
    fmt(dir, sizeof dir, "%s/tests/data/config", srcdir);
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        exit(99);
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n_cases < MAX_CASES) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".conf") == 0)
            case_names[n_cases++] = strndup(e->d_name, l - 5);
    }
    closedir(d);
    qsort(case_names, (size_t)n_cases, sizeof case_names[0], cmp_names);
}

/* One Check test per data case: load it, compare the error line (or "OK"). */
START_TEST(test_case_file)
{
    const char *name = case_names[_i];
    char src[4400], exp_path[4400], dst[4400];
    fmt(src, sizeof src, "%s/tests/data/config/%s.conf", srcdir, name);
    fmt(exp_path, sizeof exp_path, "%s/tests/data/config/%s.expect", srcdir, name);
    fmt(dst, sizeof dst, "%s/cases/%s.conf", tmp, name);
    instantiate(src, dst);
    char *expect_raw = read_all(exp_path, NULL);
    ck_assert_msg(expect_raw != NULL, "case %s has no .expect file", name);
    char *nl = strchr(expect_raw, '\n');
    if (nl)
        *nl = '\0';
    char *e1 = subst(expect_raw, "@FILE@", dst);
    char *e2 = subst(e1, "@TMP@", tmp);
    char *expect = subst(e2, "@PROVIDER_DIR@", provider_dir);

    struct cb_config *cfg = NULL;
    struct cb_err err = CB_ERR_INIT;
    char got[1024];
    if (load(&cfg, dst, 0, &err) == 0) {
        fmt(got, sizeof got, "OK");
        ck_assert_ptr_nonnull(cfg);
    } else {
        cb_err_format(&err, got, sizeof got);
        ck_assert_ptr_null(cfg);
        /* Bad input is never reported as a bug or an I/O failure of ours. */
        ck_assert_msg(err.code == CB_ERR_INVALID || err.code == CB_ERR_PERMANENT ||
                          err.code == CB_ERR_NOT_FOUND || err.code == CB_ERR_IO,
                      "case %s: error class %s", name, cb_errcode_name(err.code));
    }
    if (strcmp(got, expect) != 0)
        fprintf(stderr, "case %s:\n  expected: %s\n  got:      %s\n", name, expect, got);
    ck_assert_msg(strcmp(got, expect) == 0, "case %s: the message differs (see above)", name);
    cb_config_free(cfg);
    free(expect);
    free(e2);
    free(e1);
    free(expect_raw);
}
END_TEST

START_TEST(test_case_inventory)
{
    /* Every case has its expectation, and the set covers the error paths. */
    int bad = 0, good = 0;
    for (int i = 0; i < n_cases; i++) {
        char exp_path[4400];
        fmt(exp_path, sizeof exp_path, "%s/tests/data/config/%s.expect", srcdir, case_names[i]);
        char *e = read_all(exp_path, NULL);
        ck_assert_msg(e != NULL, "case %s has no .expect file", case_names[i]);
        if (strncmp(e, "OK\n", 3) == 0)
            good++;
        else
            bad++;
        ck_assert_msg(strncmp(e, "OK\n", 3) == 0 || strncmp(e, "@FILE@:", 7) == 0,
                      "case %s: an error must name the file and line", case_names[i]);
        free(e);
    }
    ck_assert_int_ge(bad, 100);
    ck_assert_int_ge(good, 3);
}
END_TEST

/* ---- defaults and values -------------------------------------------------------- */

static struct cb_config *load_case(const char *name, unsigned flags)
{
    char src[4400], dst[4400];
    fmt(src, sizeof src, "%s/tests/data/config/%s.conf", srcdir, name);
    fmt(dst, sizeof dst, "%s/cases/%s.conf", tmp, name);
    instantiate(src, dst);
    struct cb_config *cfg = NULL;
    struct cb_err err = CB_ERR_INIT;
    if (load(&cfg, dst, flags, &err) != 0) {
        char buf[1024];
        ck_abort_msg("loading %s failed: %s", name, cb_err_format(&err, buf, sizeof buf));
    }
    return cfg;
}

START_TEST(test_defaults_filled_in)
{
    struct cb_config *cfg = load_case("good-minimal", 0);
    ck_assert_str_eq(cfg->pool.name, "t2-test");
    ck_assert_str_eq(cfg->pool.collector, "");
    ck_assert_uint_eq(cfg->pool.schedds.n, 0);
    ck_assert_str_eq(cfg->pool.condor_q, "/usr/bin/condor_q");
    ck_assert_uint_eq(cfg->pool.query_timeout, 120);
    ck_assert_str_eq(cfg->pool.cloud_attribute, "IsCloudNode");
    ck_assert_str_eq(cfg->pool.eligibility, "WantCloudNode =?= True");
    ck_assert_int_eq(cfg->pool.mode, CB_MODE_EXCLUSIVE);
    ck_assert_int_eq(cfg->pool.drain_method, CB_DRAIN_SSH);
    ck_assert_uint_eq(cfg->controller.cycle_interval, 60);
    ck_assert_uint_eq(cfg->controller.reconcile_every, 5);
    ck_assert(!cfg->controller.dry_run);
    ck_assert_str_eq(cfg->controller.provider_dir, CB_PKGLIBDIR "/providers");
    ck_assert_str_eq(cfg->controller.state_dir, CB_LOCALSTATEDIR "/lib/cloudburst");
    ck_assert_double_eq(cfg->controller.ramp_fraction, 0.5);
    ck_assert_uint_eq(cfg->controller.idle_timeout, 0);
    ck_assert_uint_eq(cfg->controller.idle_timeout_min, 120);
    ck_assert_uint_eq(cfg->controller.idle_timeout_max, 1800);
    ck_assert_uint_eq(cfg->controller.breaker_failures, 3);
    ck_assert_uint_eq(cfg->controller.breaker_backoff_min, 300);
    ck_assert_uint_eq(cfg->controller.breaker_backoff_max, 1800);
    ck_assert_double_eq(cfg->controller.budget_per_hour, 0);
    ck_assert_uint_eq(cfg->controller.lease, 900);
    ck_assert_int_eq(cfg->bootstrap.method, CB_BOOTSTRAP_SSH);
    ck_assert_int_eq(cfg->bootstrap.failure_action, CB_FAILURE_QUARANTINE);
    ck_assert_str_eq(cfg->bootstrap.script_dir, CB_PKGDATADIR);
    ck_assert_str_eq(cfg->bootstrap.ssh.user, "root");
    ck_assert_uint_eq(cfg->bootstrap.ssh.port, 22);
    ck_assert_int_eq(cfg->bootstrap.ssh.host_key_policy, CB_HOSTKEY_ACCEPT_NEW);
    ck_assert_uint_eq(cfg->bootstrap.cvmfs.quota_limit_mb, 4000);
    ck_assert_uint_eq(cfg->bootstrap.cvmfs.repositories.n, 0);
    ck_assert(!cfg->bootstrap.condor.ccb);
    ck_assert_str_eq(cfg->ledger.path, CB_LOCALSTATEDIR "/lib/cloudburst/ledger.db");
    ck_assert_uint_eq(cfg->ledger.busy_timeout_ms, 5000);
    ck_assert_int_eq(cfg->log.level, CB_LOG_INFO);
    ck_assert_int_eq(cfg->log.target, CB_LOG_STDERR);
    ck_assert_str_eq(cfg->log.facility, "daemon");
    ck_assert_str_eq(cfg->metrics.listen, "");

    /* Secrets: read, one trailing CRLF / LF removed, nothing else changed. */
    ck_assert_uint_eq(cfg->bootstrap.condor.token_len, strlen(TOKEN));
    ck_assert_str_eq(cfg->bootstrap.condor.token, TOKEN);
    ck_assert_str_eq(cfg->bootstrap.ssh.key, CREDS);

    ck_assert_uint_eq(cfg->n_clouds, 1);
    const struct cb_cloud *c = &cfg->clouds[0];
    ck_assert_uint_eq(c->index, 0);
    ck_assert_str_eq(c->name, "dummy");
    ck_assert_str_eq(c->provider, "testdummy");
    ck_assert(c->enabled);
    ck_assert_int_eq(c->priority, 0);
    ck_assert_str_eq(c->eligibility, "WantCloudNode =?= True"); /* inherited */
    ck_assert_str_eq(c->image, "img-1");
    ck_assert_uint_eq(c->max_nodes, 10);
    ck_assert_uint_eq(c->max_in_flight, 10);
    ck_assert_int_eq(c->billing, CB_BILLING_PER_SECOND);
    ck_assert(c->terminate_on_shutdown);
    ck_assert_int_eq(c->line, 12);
    ck_assert_uint_eq(c->n_flavors, 1);
    ck_assert_str_eq(c->flavors[0].name, "small");
    ck_assert_uint_eq(c->flavors[0].cpus, 2);
    ck_assert_uint_eq(c->flavors[0].memory_mb, 4096);
    ck_assert_uint_eq(c->flavors[0].disk_gb, 0);
    ck_assert_double_eq(c->flavors[0].cost_per_hour, 0.1);
    ck_assert_int_eq(c->flavors[0].line, 21);

    /* Provider settings: given, defaulted from the driver's spec, absent. */
    const struct cb_settings *s = &c->settings;
    ck_assert_str_eq(s->path, "clouds.[0].testdummy");
    ck_assert_str_eq(s->file, cfg->file);
    ck_assert_str_eq(cb_settings_str(s, "endpoint", NULL), "http://127.0.0.1:1");
    const struct cb_setting *v = cb_settings_find(s, "endpoint");
    ck_assert(!v->is_default);
    ck_assert_int_eq(v->line, 17);
    v = cb_settings_find(s, "credentials_file");
    ck_assert_int_eq(v->type, CB_SETTING_SECRET_FILE);
    ck_assert_str_eq(v->secret, CREDS);
    ck_assert_uint_eq(v->secret_len, strlen(CREDS));
    ck_assert_str_eq(cb_settings_str(s, "credentials_file", NULL), CREDS);
    ck_assert_int_eq(cb_settings_int(s, "max_retries", -1), 3);
    ck_assert(cb_settings_find(s, "max_retries")->is_default);
    ck_assert(cb_settings_bool(s, "verify_tls", false));
    v = cb_settings_find(s, "networks");
    ck_assert_uint_eq(v->list_len, 2);
    ck_assert_str_eq(v->list[0], "net-a");
    ck_assert_str_eq(v->list[1], "net-b");
    ck_assert_ptr_null(cb_settings_find(s, "label"));

    ck_assert_ptr_eq(cb_config_cloud(cfg, "dummy"), c);
    ck_assert_ptr_null(cb_config_cloud(cfg, "nosuch"));
    ck_assert_ptr_null(cb_config_cloud(NULL, "dummy"));
    cb_config_free(cfg);
    cb_config_free(NULL);
}
END_TEST

START_TEST(test_full_values_and_round_trip)
{
    struct cb_config *cfg = load_case("good-full", 0);
    ck_assert_uint_eq(cfg->pool.schedds.n, 2);
    ck_assert_str_eq(cfg->pool.schedds.items[1], "ce02.example.org");
    ck_assert_int_eq(cfg->pool.mode, CB_MODE_TRANSPARENT);
    ck_assert_int_eq(cfg->pool.drain_method, CB_DRAIN_CONDOR_DRAIN);
    ck_assert_str_eq(cfg->pool.eligibility, "WantCloudNode =?= True && RequestCpus <= 8");
    ck_assert_double_eq(cfg->controller.ramp_fraction, 0.25);
    ck_assert_int_eq(cfg->log.level, CB_LOG_DEBUG);
    ck_assert_uint_eq(cfg->n_clouds, 2);
    const struct cb_cloud *b = cb_config_cloud(cfg, "beta");
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(b->index, 1);
    ck_assert_str_eq(b->eligibility, "WantCloudNode =?= True && RequestMemory <= 16000");
    ck_assert_uint_eq(b->n_flavors, 2);
    ck_assert_uint_eq(b->flavors[1].memory_mb, 16777216);
    ck_assert_int_eq(b->billing, CB_BILLING_PER_HOUR);
    ck_assert_int_eq(cb_settings_int(&b->settings, "max_retries", -1), 0);
    ck_assert(!cb_settings_bool(&b->settings, "verify_tls", true));
    ck_assert_str_eq(cb_settings_str(&b->settings, "label", NULL), "quote \" and \\ kept");

    /* print -> load -> print is a fixed point, and no secret byte is printed. */
    char *first = print_to_string(cfg);
    ck_assert_ptr_null(strstr(first, "SECRET"));
    ck_assert_ptr_nonnull(strstr(first, "<redacted>"));
    ck_assert_ptr_nonnull(strstr(first, "max_retries = 0;"));
    ck_assert_ptr_nonnull(strstr(first, "memory_mb = 16777216;"));
    char printed[4400];
    fmt(printed, sizeof printed, "%s/cases/printed.conf", tmp);
    write_file(printed, first, strlen(first), 0644);
    struct cb_config *again = NULL;
    struct cb_err err = CB_ERR_INIT;
    char buf[1024];
    ck_assert_msg(load(&again, printed, 0, &err) == 0, "printed config does not load: %s",
                  cb_err_format(&err, buf, sizeof buf));
    char *second = print_to_string(again);
    /* Only the first comment line (the file name) may differ. */
    if (strcmp(strchr(first, '\n'), strchr(second, '\n')) != 0) {
        fprintf(stderr, "first printout:\n%s\nsecond printout:\n%s\n", first, second);
        ck_abort_msg("the printed configuration does not print the same after loading");
    }
    ck_assert_str_eq(again->bootstrap.condor.token, TOKEN);
    ck_assert_double_eq(again->clouds[1].flavors[0].cost_per_hour,
                        cfg->clouds[1].flavors[0].cost_per_hour);
    free(first);
    free(second);
    cb_config_free(again);
    cb_config_free(cfg);
}
END_TEST

START_TEST(test_print_write_error)
{
    /* A printout that cannot be written is reported, not silently cut. */
    struct cb_config *cfg = load_case("good-minimal", 0);
    FILE *full = fopen("/dev/full", "w");
    ck_assert_ptr_nonnull(full);
    ck_assert_int_eq(cb_config_print(cfg, full), -1);
    fclose(full);
    cb_config_free(cfg);
}
END_TEST

/* The loader keeps no global state: threads loading at once get equal,
 * independent results (the daemon reloads while workers read the old one). */
struct load_job {
    const char *path;
    char *printed;
    int rc;
};

static void *load_in_thread(void *arg)
{
    struct load_job *job = arg;
    struct cb_config *cfg = NULL;
    struct cb_err err = CB_ERR_INIT;
    job->rc = cb_config_load_flags(&cfg, job->path, provider_dir, 0, &err);
    if (job->rc == 0) {
        size_t len = 0;
        FILE *f = open_memstream(&job->printed, &len);
        if (f == NULL || cb_config_print(cfg, f) != 0)
            job->rc = -1;
        if (f != NULL)
            fclose(f);
    }
    cb_config_free(cfg);
    return NULL;
}

START_TEST(test_concurrent_loads)
{
    struct cb_config *cfg = load_case("good-full", 0); /* instantiates the file */
    cb_config_free(cfg);
    char path[4400];
    fmt(path, sizeof path, "%s/cases/good-full.conf", tmp);
    struct load_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct load_job){ .path = path };
        ck_assert_int_eq(pthread_create(&th[i], NULL, load_in_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(jobs[i].rc, 0);
        ck_assert_str_eq(jobs[i].printed, jobs[0].printed);
    }
    for (int i = 0; i < 4; i++)
        free(jobs[i].printed);
}
END_TEST

START_TEST(test_skip_flags)
{
    /* With both skip flags: no driver is loaded (an unknown provider is fine),
     * no secret is opened (a missing one is fine), paths are still checked. */
    struct cb_config *cfg = load_case("provider-not-found", CB_CONFIG_SKIP_PROVIDERS);
    ck_assert_uint_eq(cfg->clouds[0].settings.n, 0);
    ck_assert_str_eq(cfg->clouds[0].settings.path, "clouds.[0].nosuch");
    ck_assert_str_eq(cfg->bootstrap.condor.token, TOKEN);
    cb_config_free(cfg);

    cfg = load_case("secret-missing", CB_CONFIG_SKIP_SECRETS);
    ck_assert_ptr_null(cfg->bootstrap.condor.token);
    ck_assert_ptr_null(cfg->bootstrap.ssh.key);
    ck_assert_ptr_null(cb_settings_find(&cfg->clouds[0].settings, "credentials_file")->secret);
    ck_assert_str_eq(cb_settings_str(&cfg->clouds[0].settings, "credentials_file", "none"), "none");
    cb_config_free(cfg);

    /* Relative secret paths stay an error even when secrets are skipped. */
    char dst[4400];
    fmt(dst, sizeof dst, "%s/cases/secret-relative.conf", tmp);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(load(&cfg, dst, CB_CONFIG_SKIP_SECRETS | CB_CONFIG_SKIP_PROVIDERS, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "must be an absolute path"));
}
END_TEST

START_TEST(test_file_level_errors)
{
    struct cb_config *cfg = (struct cb_config *)1;
    struct cb_err err = CB_ERR_INIT;
    char path[4400], buf[1024];

    fmt(path, sizeof path, "%s/does-not-exist.conf", tmp);
    ck_assert_int_eq(cb_config_load(&cfg, path, provider_dir, &err), -1);
    ck_assert_ptr_null(cfg);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ck_assert_str_eq(err.origin, path);

    /* No path: the installed default is read. */
    cb_err_clear(&err);
    if (access(CB_DEFAULT_CONFIG_FILE, F_OK) != 0) {
        ck_assert_int_eq(cb_config_load(&cfg, NULL, provider_dir, &err), -1);
        ck_assert_str_eq(err.origin, CB_DEFAULT_CONFIG_FILE);
        ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    }

    /* A directory is not a configuration file. */
    cb_err_clear(&err);
    ck_assert_int_eq(cb_config_load(&cfg, tmp, provider_dir, &err), -1);
    char want[4400];
    fmt(want, sizeof want, "%s: not a regular file", tmp);
    ck_assert_str_eq(cb_err_format(&err, buf, sizeof buf), want);

    /* Past the size cap: refused before parsing. */
    size_t big = CB_CONFIG_FILE_MAX + 10;
    char *text = malloc(big);
    memset(text, '#', big);
    text[big - 1] = '\n';
    fmt(path, sizeof path, "%s/cases/huge.conf", tmp);
    write_file(path, text, big, 0644);
    cb_err_clear(&err);
    ck_assert_int_eq(cb_config_load(&cfg, path, provider_dir, &err), -1);
    fmt(want, sizeof want, "%s: %zu bytes: a configuration file may hold at most %d bytes",
             path, big, CB_CONFIG_FILE_MAX);
    ck_assert_str_eq(cb_err_format(&err, buf, sizeof buf), want);
    cb_err_clear(&err);
    ck_assert_int_eq(cb_config_load_text(&cfg, "mem.conf", text, big, NULL, 0, &err), -1);
    fmt(want, sizeof want, "mem.conf: %zu bytes: a configuration file may hold at most %d "
             "bytes", big, CB_CONFIG_FILE_MAX);
    ck_assert_str_eq(cb_err_format(&err, buf, sizeof buf), want);
    free(text);

    /* A NUL byte would silently end libconfig's input: refused with its line. */
    static const char nul[] = "pool = { name = \"a\"; };\n# x\0y\n";
    cb_err_clear(&err);
    ck_assert_int_eq(cb_config_load_text(&cfg, "nul.conf", nul, sizeof nul - 1, NULL, 0, &err), -1);
    ck_assert_str_eq(cb_err_format(&err, buf, sizeof buf),
                     "nul.conf:2: contains a NUL byte: not a text file");
    ck_assert_ptr_null(cfg);

    /* A very long file name keeps the line number (the head is cut). */
    char longname[400];
    memset(longname, 'd', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = '\0';
    cb_err_clear(&err);
    ck_assert_int_eq(cb_config_load_text(&cfg, longname, "pool = 5;\n", 10, NULL, 0, &err), -1);
    ck_assert_str_eq(err.origin + strlen(err.origin) - 5, "ddd:1");
    ck_assert(strncmp(err.origin, "...ddd", 6) == 0);
    ck_assert_str_eq(err.msg, "pool: expected a group { ... }, got an integer");

    /* Empty text: everything required is missing; the error points at line 1. */
    cb_err_clear(&err);
    ck_assert_int_eq(cb_config_load_text(&cfg, "empty.conf", "", 0, NULL, 0, &err), -1);
    ck_assert_str_eq(cb_err_format(&err, buf, sizeof buf),
                     "empty.conf:1: pool: missing required group");
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
}
END_TEST

/* ---- secret files ---------------------------------------------------------------- */

static void expect_secret_error(const char *name, const char *before, const char *after)
{
    char path[4400], want[4600];
    fmt(path, sizeof path, "%s/%s", tmp, name);
    fmt(want, sizeof want, "%s%s%s", before, path, after);
    struct cb_secret s = { (char *)1, 99 };
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_secret_read(&s, path, &err), -1);
    ck_assert_ptr_null(s.data);
    ck_assert_uint_eq(s.len, 0);
    ck_assert_str_eq(err.origin, path);
    ck_assert_str_eq(err.msg, want);
    /* No error ever quotes the content. */
    ck_assert_ptr_null(strstr(err.msg, "SECRET"));
}

START_TEST(test_secret_read)
{
    char path[4400];
    struct cb_secret s;
    struct cb_err err = CB_ERR_INIT;
    fmt(path, sizeof path, "%s/token", tmp);
    ck_assert_int_eq(cb_secret_read(&s, path, &err), 0);
    ck_assert_uint_eq(s.len, strlen(TOKEN));
    ck_assert_mem_eq(s.data, TOKEN, s.len);
    ck_assert_int_eq(s.data[s.len], '\0');
    cb_secret_wipe(&s);
    ck_assert_ptr_null(s.data);
    ck_assert_uint_eq(s.len, 0);
    cb_secret_wipe(&s); /* twice is harmless */
    cb_secret_wipe(NULL);

    /* Mode 0400 is as good as 0600; inner newlines are content. */
    fmt(path, sizeof path, "%s/key", tmp);
    ck_assert_int_eq(cb_secret_read(&s, path, &err), 0);
    ck_assert_str_eq(s.data, CREDS);
    cb_secret_wipe(&s);

    /* Only one trailing newline is removed. */
    fmt(path, sizeof path, "%s/two-newlines", tmp);
    write_file(path, "abc\n\n", 5, 0600);
    ck_assert_int_eq(cb_secret_read(&s, path, &err), 0);
    ck_assert_uint_eq(s.len, 4);
    ck_assert_mem_eq(s.data, "abc\n", 4);
    cb_secret_wipe(&s);

    /* Exactly at the cap is accepted. */
    char *max = malloc(CB_SECRET_MAX);
    memset(max, 'k', CB_SECRET_MAX);
    fmt(path, sizeof path, "%s/at-cap", tmp);
    write_file(path, max, CB_SECRET_MAX, 0600);
    free(max);
    ck_assert_int_eq(cb_secret_read(&s, path, &err), 0);
    ck_assert_uint_eq(s.len, CB_SECRET_MAX);
    cb_secret_wipe(&s);
    ck_assert(!cb_err_isset(&err));

    expect_secret_error("creds-0644", "", " mode 0644: must not be readable by group or others (chmod 600)");
    expect_secret_error("creds-0640", "", " mode 0640: must not be readable by group or others (chmod 600)");
    expect_secret_error("creds-0620", "", " mode 0620: must not be writable by group or others (chmod 600)");
    expect_secret_error("creds-0610", "", " mode 0610: must grant group and others no access (chmod 600)");
    expect_secret_error("creds-link", "", " is a symbolic link: refused (name the file itself)");
    expect_secret_error("creds-dir", "", " is not a regular file: refused");
    expect_secret_error("creds-fifo", "", " is not a regular file: refused");
    expect_secret_error("creds-empty", "", " is empty");
    expect_secret_error("creds-big", "", " is 65636 bytes: a secret file may hold at most 65536 bytes");
    expect_secret_error("nonexistent", "cannot open secret file ", ": No such file or directory");

    err = (struct cb_err)CB_ERR_INIT;
    ck_assert_int_eq(cb_secret_read(&s, "relative/file", &err), -1);
    ck_assert_str_eq(err.msg, "secret file path 'relative/file' is not absolute");
}
END_TEST

START_TEST(test_secret_wrong_owner)
{
    /* Only root can hand a file to another user; elsewhere the check is
     * covered by reading and cannot be staged. */
    if (geteuid() != 0)
        return;
    char path[4400];
    fmt(path, sizeof path, "%s/other-owner", tmp);
    write_file(path, "x\n", 2, 0600);
    ck_assert_int_eq(chown(path, 4242, 4242), 0);
    struct cb_secret s;
    struct cb_err err = CB_ERR_INIT;
    /* root reading a file of uid 4242: refused, the owner must be us or root. */
    ck_assert_int_eq(cb_secret_read(&s, path, &err), -1);
    char want[4600];
    fmt(want, sizeof want, "%s is owned by uid 4242: must be owned by the service user "
             "(uid 0) or root", path);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* ---- the shipped example ------------------------------------------------------------- */

START_TEST(test_example_loads)
{
    char src[4400], etc[4400], dst[4400], path[4600];
    fmt(src, sizeof src, "%s/examples/cloudburst.conf", srcdir);
    fmt(etc, sizeof etc, "%s/etc/", tmp);
    mkdir(etc, 0700);
    static const char *const secrets[] = { "condor-token", "node_key", "aws-credentials",
                                           "openstack-appcred-secret" };
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        fmt(path, sizeof path, "%s%s", etc, secrets[i]);
        write_file(path, "SECRET-VALUE\n", 13, 0600);
    }
    char *text = read_all(src, NULL);
    ck_assert_ptr_nonnull(text);
    char *moved = subst(text, "/etc/cloudburst/", etc);
    fmt(dst, sizeof dst, "%s/cases/example.conf", tmp);
    write_file(dst, moved, strlen(moved), 0644);

    /* Full check: the ec2 and openstack groups against the stand-in drivers. */
    struct cb_config *cfg = NULL;
    struct cb_err err = CB_ERR_INIT;
    char buf[1024];
    ck_assert_msg(load(&cfg, dst, 0, &err) == 0, "example: %s", cb_err_format(&err, buf, sizeof buf));
    ck_assert_uint_eq(cfg->n_clouds, 2);
    const struct cb_cloud *aws = &cfg->clouds[0], *os = &cfg->clouds[1];
    ck_assert_str_eq(aws->provider, "ec2");
    ck_assert_str_eq(os->provider, "openstack");
    ck_assert_uint_ge(aws->n_flavors, 2);
    ck_assert_uint_ge(os->n_flavors, 2);
    for (size_t i = 0; i < cfg->n_clouds; i++)
        for (size_t j = 0; j < cfg->clouds[i].n_flavors; j++)
            ck_assert(cfg->clouds[i].flavors[j].cost_per_hour > 0);
    ck_assert_str_eq(cb_settings_str(&aws->settings, "credentials_file", NULL), "SECRET-VALUE");
    ck_assert_ptr_nonnull(cb_settings_str(&aws->settings, "region", NULL));
    ck_assert_ptr_nonnull(cb_settings_str(&os->settings, "auth_url", NULL));
    ck_assert_str_eq(cb_settings_str(&os->settings, "application_credential_secret_file", NULL),
                     "SECRET-VALUE");
    ck_assert_uint_ge(cfg->bootstrap.cvmfs.repositories.n, 1);
    ck_assert_str_eq(cfg->bootstrap.cvmfs.repositories.items[0], "cms.cern.ch");
    ck_assert_str_ne(cfg->bootstrap.cvmfs.cms_local_site, "");
    char *printed = print_to_string(cfg);
    ck_assert_ptr_null(strstr(printed, "SECRET-VALUE"));
    /* The effective example loads back (with its drivers) and prints the same. */
    char again_path[4400];
    fmt(again_path, sizeof again_path, "%s/cases/example-printed.conf", tmp);
    write_file(again_path, printed, strlen(printed), 0644);
    struct cb_config *again = NULL;
    ck_assert_msg(load(&again, again_path, 0, &err) == 0, "printed example: %s",
                  cb_err_format(&err, buf, sizeof buf));
    char *printed2 = print_to_string(again);
    ck_assert_msg(strcmp(strchr(printed, '\n'), strchr(printed2, '\n')) == 0,
                  "the printed example does not print the same after loading");
    free(printed2);
    cb_config_free(again);
    free(printed);
    cb_config_free(cfg);

    /* As shipped, with the checks a host without the secrets and drivers can do. */
    cfg = NULL;
    ck_assert_msg(cb_config_load_flags(&cfg, src, NULL,
                                       CB_CONFIG_SKIP_PROVIDERS | CB_CONFIG_SKIP_SECRETS, &err) == 0,
                  "example as shipped: %s", cb_err_format(&err, buf, sizeof buf));
    ck_assert_str_eq(cfg->bootstrap.condor.token_file, "/etc/cloudburst/condor-token");
    cb_config_free(cfg);
    free(moved);
    free(text);
}
END_TEST

/* ---- the schema and the man page -------------------------------------------------------- */

START_TEST(test_schema_sane)
{
    char buf[512];
    for (size_t i = 0; i < cb_config_schema_len; i++) {
        const struct cb_cfg_row *r = &cb_config_schema[i];
        ck_assert_msg(r->doc != NULL && r->doc[0] != '\0', "%s has no doc", r->path);
        ck_assert_msg(r->example != NULL && strchr(r->example, '=') != NULL,
                      "%s has no example", r->path);
        ck_assert_msg(strncmp(r->example, cb_cfg_row_name(r), strlen(cb_cfg_row_name(r))) == 0,
                      "%s: example sets another name: %s", r->path, r->example);
        ck_assert_msg(r->min <= r->max, "%s: empty range", r->path);
        ck_assert_msg(!(r->required && r->def != NULL), "%s: required with a default", r->path);
        /* Man page text lines must not start with a control character. */
        ck_assert_msg(r->doc[0] != '.' && r->doc[0] != '\'' && strchr(r->doc, '\\') == NULL,
                      "%s: doc is not safe as a man page line", r->path);
        cb_cfg_row_describe(r, buf, sizeof buf);
        ck_assert_msg(strlen(buf) < sizeof buf - 1, "%s: description truncated", r->path);
        ck_assert_ptr_eq(cb_cfg_row_find(r->path), r);
        /* Every parent is a group or a list. */
        char parent[256];
        fmt(parent, sizeof parent, "%s", r->path);
        char *dot = strrchr(parent, '.');
        if (dot != NULL) {
            *dot = '\0';
            size_t l = strlen(parent);
            if (l > 3 && strcmp(parent + l - 3, ".[]") == 0)
                parent[l - 3] = '\0';
            const struct cb_cfg_row *p = cb_cfg_row_find(parent);
            ck_assert_msg(p && (p->type == CB_CFG_GROUP || p->type == CB_CFG_LIST),
                          "%s: parent %s is not a group", r->path, parent);
        }
    }
    ck_assert_uint_ge(cb_config_schema_len, 80);
    ck_assert_str_eq(cb_cfg_row_describe(cb_cfg_row_find("controller.call_timeout"), buf, sizeof buf),
                     "integer, seconds, 1 to 3600; default: 120.");
    ck_assert_str_eq(cb_cfg_row_describe(cb_cfg_row_find("pool.mode"), buf, sizeof buf),
                     "one of \"exclusive\", \"transparent\"; default: \"exclusive\".");
}
END_TEST

/* Every documented example is a valid setting that prints back as written:
 * a configuration is built with only the required settings plus the row's
 * example, loaded (drivers and secrets skipped: the examples name paths of a
 * real installation) and printed, and the printout must contain the example
 * line verbatim. Group and list examples must at least parse. */
static const struct { const char *path, *line; } required_lines[] = {
    { "pool.name", "name = \"t2\";" },
    { "pool.central_manager", "central_manager = \"cm\";" },
    { "bootstrap.ssh.key_file", "key_file = \"/k\";" },
    { "bootstrap.cvmfs.http_proxy", "http_proxy = \"DIRECT\";" },
    { "bootstrap.condor.token_file", "token_file = \"/t\";" },
    { "clouds.[].name", "name = \"c\";" },
    { "clouds.[].provider", "provider = \"testdummy\";" },
    { "clouds.[].image", "image = \"i\";" },
    { "clouds.[].flavors.[].name", "name = \"f\";" },
    { "clouds.[].flavors.[].cpus", "cpus = 1;" },
    { "clouds.[].flavors.[].memory_mb", "memory_mb = 1024;" },
    { "clouds.[].flavors.[].cost_per_hour", "cost_per_hour = 0.5;" },
};

static void emit_group(FILE *f, const char *key, const struct cb_cfg_row *under_test)
{
    for (size_t i = 0; i < cb_config_schema_len; i++) {
        const struct cb_cfg_row *r = &cb_config_schema[i];
        if (!cb_cfg_row_is_child(r, key))
            continue;
        if (r->type == CB_CFG_GROUP || r->type == CB_CFG_LIST) {
            bool list = r->type == CB_CFG_LIST;
            char sub[256];
            fmt(sub, sizeof sub, list ? "%s.[]" : "%s", r->path);
            fprintf(f, "%s = %s\n", cb_cfg_row_name(r), list ? "( {" : "{");
            emit_group(f, sub, under_test);
            fprintf(f, "%s;\n", list ? "} )" : "}");
            continue;
        }
        if (r == under_test) {
            fprintf(f, "%s\n", r->example);
            continue;
        }
        for (size_t k = 0; k < sizeof required_lines / sizeof required_lines[0]; k++)
            if (strcmp(required_lines[k].path, r->path) == 0)
                fprintf(f, "%s\n", required_lines[k].line);
    }
}

START_TEST(test_examples_are_valid)
{
    size_t checked = 0;
    for (size_t i = 0; i < cb_config_schema_len; i++) {
        const struct cb_cfg_row *r = &cb_config_schema[i];
        if (r->type == CB_CFG_GROUP || r->type == CB_CFG_LIST) {
            config_t lc;
            config_init(&lc);
            ck_assert_msg(config_read_string(&lc, r->example) == CONFIG_TRUE,
                          "%s: example does not parse: %s", r->path, config_error_text(&lc));
            config_destroy(&lc);
            continue;
        }
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        emit_group(f, "", r);
        fclose(f);
        struct cb_config *cfg = NULL;
        struct cb_err err = CB_ERR_INIT;
        char buf[1024];
        int rc = cb_config_load_text(&cfg, "example.conf", text, len, NULL,
                                     CB_CONFIG_SKIP_PROVIDERS | CB_CONFIG_SKIP_SECRETS, &err);
        ck_assert_msg(rc == 0, "%s: example '%s' does not load: %s", r->path, r->example,
                      cb_err_format(&err, buf, sizeof buf));
        char *printed = print_to_string(cfg);
        char want[1200];
        /* A secret's path line carries a "# contents <redacted>" comment. */
        fmt(want, sizeof want, r->type == CB_CFG_SECRET_PATH ? " %s" : " %s\n", r->example);
        ck_assert_msg(strstr(printed, want) != NULL, "%s: '%s' does not print back as written",
                      r->path, r->example);
        free(printed);
        cb_config_free(cfg);
        free(text);
        checked++;
    }
    ck_assert_uint_ge(checked, 70);
}
END_TEST

START_TEST(test_man_page_matches_schema)
{
    char path[4400];
    fmt(path, sizeof path, "%s/man/cloudburst.conf.5", srcdir);
    char *page = read_all(path, NULL);
    ck_assert_msg(page != NULL, "cannot read %s", path);

    /* Split into lines. */
    size_t n = 0, cap = 4096;
    char **lines = malloc(cap * sizeof *lines);
    for (char *save = NULL, *l = strtok_r(page, "\n", &save); l && n < cap;
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;

    size_t in_settings = 0, documented = 0, problems = 0;
    bool seen[512] = { false };
    for (size_t i = 0; i < n; i++) {
        if (strncmp(lines[i], ".Sh ", 4) == 0)
            in_settings = strcmp(lines[i], ".Sh SETTINGS") == 0;
        if (!in_settings || strncmp(lines[i], ".It Ic ", 7) != 0)
            continue;
        const char *p = lines[i] + 7;
        const struct cb_cfg_row *r = cb_cfg_row_find(p);
        if (r == NULL) {
            fprintf(stderr, "man page documents '%s', which the schema lacks\n", p);
            problems++;
            continue;
        }
        size_t idx = (size_t)(r - cb_config_schema);
        if (seen[idx]) {
            fprintf(stderr, "man page documents '%s' twice\n", p);
            problems++;
        }
        seen[idx] = true;
        documented++;
        /* .It Ic <path> / the summary line / the doc, wrapped over text lines
         * (a sentence per line, as mdoc wants) / the example in a display. */
        char desc[512], doc[2048] = "";
        cb_cfg_row_describe(r, desc, sizeof desc);
        size_t k = i + 1;
        if (k >= n || strcmp(lines[k], desc) != 0) {
            fprintf(stderr, "man page entry %s: want summary '%s', got '%s'\n", p, desc,
                    k < n ? lines[k] : "(end)");
            problems++;
            continue;
        }
        for (k++; k < n && lines[k][0] != '.'; k++) {
            if (doc[0] != '\0')
                strncat(doc, " ", sizeof doc - strlen(doc) - 1);
            strncat(doc, lines[k], sizeof doc - strlen(doc) - 1);
        }
        if (strcmp(doc, r->doc) != 0) {
            fprintf(stderr, "man page entry %s: want doc '%s', got '%s'\n", p, r->doc, doc);
            problems++;
            continue;
        }
        const char *want[] = { ".Bd -literal -offset indent", r->example, ".Ed" };
        for (size_t w = 0; w < 3; w++, k++) {
            if (k >= n || strcmp(lines[k], want[w]) != 0) {
                fprintf(stderr, "man page entry %s: want '%s', got '%s'\n", p, want[w],
                        k < n ? lines[k] : "(end)");
                problems++;
                break;
            }
        }
    }
    for (size_t i = 0; i < cb_config_schema_len; i++)
        if (!seen[i]) {
            fprintf(stderr, "setting %s is not documented in cloudburst.conf(5)\n",
                    cb_config_schema[i].path);
            problems++;
        }
    ck_assert_msg(problems == 0, "%zu differences between the schema and the man page", problems);
    ck_assert_uint_eq(documented, cb_config_schema_len);
    free(lines);
    free(page);

    /* And the page is mandoc -Tlint clean, where configure found mandoc. */
    const char *mandoc = getenv("MANDOC");
    if (mandoc == NULL || mandoc[0] == '\0' || strcmp(mandoc, "no") == 0)
        return;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl(mandoc, mandoc, "-Tlint", "-Wwarning", path, (char *)NULL);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mandoc -Tlint %s failed", path);
}
END_TEST

int main(void)
{
    srcdir = getenv("top_srcdir");
    const char *builddir = getenv("top_builddir");
    if (srcdir == NULL || builddir == NULL) {
        fprintf(stderr, "top_srcdir and top_builddir must be set (make check sets them)\n");
        return 99;
    }
    fmt(provider_dir, sizeof provider_dir, "%s/tests/providers/cfgdummy/.libs", builddir);
    make_fixture();
    find_cases();

    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_loop_test(tc, test_case_file, 0, n_cases);
    tcase_add_test(tc, test_case_inventory);
    tcase_add_test(tc, test_defaults_filled_in);
    tcase_add_test(tc, test_full_values_and_round_trip);
    tcase_add_test(tc, test_print_write_error);
    tcase_add_test(tc, test_concurrent_loads);
    tcase_add_test(tc, test_skip_flags);
    tcase_add_test(tc, test_file_level_errors);
    tcase_add_test(tc, test_secret_read);
    tcase_add_test(tc, test_secret_wrong_owner);
    tcase_add_test(tc, test_example_loads);
    tcase_add_test(tc, test_schema_sane);
    tcase_add_test(tc, test_examples_are_valid);
    tcase_add_test(tc, test_man_page_matches_schema);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_fixture();
    for (int i = 0; i < n_cases; i++)
        free(case_names[i]);
    return failed == 0 ? 0 : 1;
}
