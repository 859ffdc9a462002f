/* ctl: cloudburstctl's command line: global options, the command table, the
 * ledger lookup (--ledger, or ledger.path of the configuration) and the
 * read-only open. The commands themselves are in ctl_commands.c. See ctl.h. */
#include "ctl.h"

#include "cb_autoconf.h"
#include "cb_text.h"
#include "config.h"
#include "ledger.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_BUSY_TIMEOUT_MS 5000u

/* The command table: one row per command. Option order fixes the index in
 * ctl_run.opt[] that the command function reads. */
static const struct ctl_command commands[] = {
    {.name = "status", .summary = "nodes by cloud and state, with totals", .run = ctl_cmd_status},
    {.name = "nodes",
     .summary = "list nodes (live ones unless --all or --state)",
     .options = {{"cloud", "CLOUD", "only nodes of this cloud"},
                 {"state", "STATE", "only nodes in this state"},
                 {"all", NULL, "include nodes that are gone"}},
     .run = ctl_cmd_nodes},
    {.name = "events",
     .summary = "the event history, oldest first",
     .options = {{"node", "NODE", "only events of this node"},
                 {"since", "TIME", "only events at or after TIME (ISO 8601 or 30m, 2h, 1d)"},
                 {"limit", "N", "at most the N most recent events (default 1000, 0 = all)"}},
     .run = ctl_cmd_events},
    {.name = "explain",
     .summary = "the last cycle's decisions and non-decisions, with reasons",
     .run = ctl_cmd_explain},
    {.name = "accounting",
     .summary = "VM-hours, core-hours and cost per cloud, flavor or day",
     .options = {{"since", "TIME", "count from TIME only (ISO 8601 or 30m, 2h, 1d)"},
                 {"by", "GROUP", "group by cloud (default), flavor or day (UTC)"},
                 {"csv", NULL, "print CSV instead of a table"}},
     .run = ctl_cmd_accounting},
    {.name = "pool",
     .summary = "what the pool adapter observes now: demand and cloud nodes",
     .access = CTL_CONFIG_ONLY,
     .run = ctl_cmd_pool},
    {.name = "pause",
     .summary = "ask the daemon to stop scaling up (request)",
     .access = CTL_LEDGER_SUBMIT,
     .run = ctl_cmd_pause},
    {.name = "resume",
     .summary = "ask the daemon to scale up again (request)",
     .access = CTL_LEDGER_SUBMIT,
     .run = ctl_cmd_resume},
    {.name = "drain",
     .arg = "NODE",
     .summary = "ask the daemon to drain a live node (request)",
     .access = CTL_LEDGER_SUBMIT,
     .run = ctl_cmd_drain},
    {.name = "terminate",
     .arg = "NODE",
     .summary = "ask the daemon to drain, then terminate a live node (request)",
     .access = CTL_LEDGER_SUBMIT,
     .options = {{"force", NULL, "terminate at once, without draining"}},
     .run = ctl_cmd_terminate},
};

int ctl_fail(struct ctl_run *r, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cb_sanitize_inplace(msg);
    if (r->cmd)
        fprintf(r->errout, "cloudburstctl: %s: %s\n", r->cmd, msg);
    else
        fprintf(r->errout, "cloudburstctl: %s\n", msg);
    return code;
}

static void usage(FILE *f)
{
    fputs(
        "usage: cloudburstctl [--config FILE | --ledger PATH] [--json] COMMAND [OPTIONS]\n"
        "       cloudburstctl --help | --version\n"
        "\n"
        "Global options:\n"
        "  --config FILE   configuration (ledger.path; the pool for `pool`), default\n"
        "                  " CB_DEFAULT_CONFIG_FILE "\n"
        "  --ledger PATH   read this ledger (the configuration is then not read)\n"
        "  --json          print JSON instead of tables\n"
        "  --help          print this help\n"
        "  --version       print the version\n"
        "\n"
        "Commands:\n",
        f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const struct ctl_command *c = &commands[i];
        char head[64];
        snprintf(head, sizeof head, "%s%s%s", c->name, c->arg ? " " : "", c->arg ? c->arg : "");
        fprintf(f, "  %-16s %s\n", head, c->summary);
        for (size_t j = 0; j < CTL_MAX_OPTIONS && c->options[j].name; j++) {
            char opt[64];
            snprintf(opt, sizeof opt, "--%s%s%s", c->options[j].name,
                     c->options[j].metavar ? " " : "",
                     c->options[j].metavar ? c->options[j].metavar : "");
            fprintf(f, "      %-14s %s\n", opt, c->options[j].help);
        }
    }
    fputs("\nRequests (pause, resume, drain, terminate) are carried out by cloudburstd at its\n"
          "next cycle.\n"
          "Exit status: 0 ok, 1 error, 2 usage, 3 ledger unavailable.\n"
          "See cloudburstctl(1).\n",
          f);
}

/* "--name=value" or "--name value": split into name and value; *consumed
 * says how many argv entries were used. */
static int take_option(struct ctl_run *r, int argc, char **argv, int i,
                       const struct ctl_option *opts, const char **values, int *consumed)
{
    const char *arg = argv[i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (size_t j = 0; j < CTL_MAX_OPTIONS && opts[j].name; j++) {
        if (strlen(opts[j].name) != len || strncmp(opts[j].name, arg, len) != 0)
            continue;
        if (!opts[j].metavar) {
            if (eq)
                return ctl_fail(r, CTL_EXIT_USAGE, "option --%s takes no value", opts[j].name);
            values[j] = "";
            *consumed = 1;
            return CTL_EXIT_OK;
        }
        if (eq) {
            values[j] = eq + 1;
            *consumed = 1;
        } else if (i + 1 < argc) {
            values[j] = argv[i + 1];
            *consumed = 2;
        } else {
            return ctl_fail(r, CTL_EXIT_USAGE, "option --%s needs a value (%s)", opts[j].name,
                            opts[j].metavar);
        }
        if (!*values[j])
            return ctl_fail(r, CTL_EXIT_USAGE, "option --%s: empty value", opts[j].name);
        return CTL_EXIT_OK;
    }
    return ctl_fail(r, CTL_EXIT_USAGE, "unknown option '%s' (see cloudburstctl --help)", argv[i]);
}

/* The ledger to read: --ledger, else ledger.path from the configuration. */
static int find_ledger(struct ctl_run *r, const char *ledger_opt, const char *config_opt,
                       char **path, unsigned *busy_ms)
{
    *busy_ms = DEFAULT_BUSY_TIMEOUT_MS;
    if (ledger_opt) {
        *path = cb_strdup(ledger_opt);
        return *path ? CTL_EXIT_OK : ctl_fail(r, CTL_EXIT_ERROR, "out of memory");
    }
    struct cb_config *cfg = NULL;
    struct cb_err err = CB_ERR_INIT;
    const char *file = config_opt ? config_opt : CB_DEFAULT_CONFIG_FILE;
    if (cb_config_load_flags(&cfg, file, NULL, CB_CONFIG_SKIP_PROVIDERS | CB_CONFIG_SKIP_SECRETS,
                             &err) != 0) {
        char buf[CB_ERR_ORIGIN_MAX + CB_ERR_MSG_MAX + 8];
        return ctl_fail(r, CTL_EXIT_ERROR, "%s", cb_err_format(&err, buf, sizeof buf));
    }
    *path = cb_strdup(cfg->ledger.path);
    *busy_ms = cfg->ledger.busy_timeout_ms;
    cb_config_free(cfg);
    return *path ? CTL_EXIT_OK : ctl_fail(r, CTL_EXIT_ERROR, "out of memory");
}

int ctl_main(int argc, char **argv, FILE *out, FILE *errout, int64_t now)
{
    static const struct ctl_option global[] = {
        {"config", "FILE", NULL}, {"ledger", "PATH", NULL}, {"json", NULL, NULL},
        {"help", NULL, NULL},     {"version", NULL, NULL},  {NULL, NULL, NULL},
    };
    enum { G_CONFIG, G_LEDGER, G_JSON, G_HELP, G_VERSION };
    const char *g[CTL_MAX_OPTIONS] = {NULL};
    struct ctl_run r = {.out = out, .errout = errout, .now = now};
    int i = 1;
    while (i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2]) {
        int used = 0, rc = take_option(&r, argc, argv, i, global, g, &used);
        if (rc != CTL_EXIT_OK)
            return rc;
        i += used;
    }
    if (g[G_HELP]) {
        usage(out);
        return CTL_EXIT_OK;
    }
    if (g[G_VERSION]) {
        fprintf(out, "cloudburstctl %s\n", PACKAGE_VERSION);
        return CTL_EXIT_OK;
    }
    if (i >= argc) {
        usage(errout);
        return CTL_EXIT_USAGE;
    }
    if (argv[i][0] == '-')
        return ctl_fail(&r, CTL_EXIT_USAGE, "unknown option '%s' (see cloudburstctl --help)",
                        argv[i]);
    const struct ctl_command *cmd = NULL;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(argv[i], commands[k].name) == 0)
            cmd = &commands[k];
    if (!cmd)
        return ctl_fail(&r, CTL_EXIT_USAGE, "unknown command '%s' (see cloudburstctl --help)",
                        argv[i]);
    r.cmd = cmd->name;
    for (i++; i < argc;) {
        if (strncmp(argv[i], "--", 2) != 0 || !argv[i][2]) {
            if (!cmd->arg || r.arg)
                return ctl_fail(&r, CTL_EXIT_USAGE, "unexpected argument '%s'", argv[i]);
            r.arg = argv[i++];
            continue;
        }
        if (strcmp(argv[i], "--json") == 0) { /* the one global option also allowed here */
            g[G_JSON] = "";
            i++;
            continue;
        }
        int used = 0, rc = take_option(&r, argc, argv, i, cmd->options, r.opt, &used);
        if (rc != CTL_EXIT_OK)
            return rc;
        i += used;
    }
    r.json = g[G_JSON] != NULL;
    r.config = g[G_CONFIG];
    if (cmd->arg && !r.arg)
        return ctl_fail(&r, CTL_EXIT_USAGE, "missing argument %s (see cloudburstctl --help)",
                        cmd->arg);
    if (cmd->access == CTL_CONFIG_ONLY)
        return cmd->run(&r);

    char *path = NULL;
    unsigned busy_ms;
    int rc = find_ledger(&r, g[G_LEDGER], g[G_CONFIG], &path, &busy_ms);
    if (rc != CTL_EXIT_OK)
        return rc;
    struct cb_err err = CB_ERR_INIT;
    enum ledger_mode mode = cmd->access == CTL_LEDGER_SUBMIT ? LEDGER_SUBMIT : LEDGER_READ_ONLY;
    if (ledger_open(&r.ledger, path, mode, busy_ms, &err) != 0) {
        free(path);
        /* bad arguments to ledger_open cannot happen here: everything it
         * refuses is about the ledger file or its directory */
        return ctl_fail(&r, CTL_EXIT_UNAVAILABLE, "%s", err.msg);
    }
    free(path);
    rc = cmd->run(&r);
    ledger_close(r.ledger);
    return rc;
}

/* ---- time ----------------------------------------------------------------- */

int ctl_parse_time(const char *text, int64_t now, int64_t *out, struct cb_err *err)
{
    *out = 0;
    char clean[64];
    cb_sanitize(clean, sizeof clean, text ? text : "");
    if (!text || !*text || strlen(text) > 40)
        goto bad;
    /* a duration: digits and one unit */
    if (text[0] >= '0' && text[0] <= '9') {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(text, &end, 10);
        if (errno == 0 && end != text && end[0] && !end[1]) {
            int64_t unit = 0;
            switch (end[0]) {
            case 's': unit = 1; break;
            case 'm': unit = 60; break;
            case 'h': unit = 3600; break;
            case 'd': unit = 86400; break;
            case 'w': unit = 7 * 86400; break;
            default: break;
            }
            if (unit && n > 0 && n <= (unsigned long long)(now / unit)) {
                *out = now - (int64_t)n * unit;
                return 0;
            }
            if (unit)
                return cb_err_set(err, CB_ERR_INVALID, "--since",
                                  "--since: duration '%s' must be positive and not reach "
                                  "before 1970",
                                  clean);
        }
    }
    /* ISO 8601 in UTC */
    static const char *const formats[] = {
        "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",  "%Y-%m-%d %H:%M",    "%Y-%m-%d"};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(text, formats[i], &tm);
        if (end && !*end && tm.tm_year >= 70) {
            struct tm want = tm, back;
            time_t t = timegm(&tm);
            /* timegm() normalises: "02-30" would silently become "03-02" */
            if (t >= 0 && gmtime_r(&t, &back) && back.tm_mday == want.tm_mday &&
                back.tm_mon == want.tm_mon && back.tm_hour == want.tm_hour &&
                back.tm_min == want.tm_min && back.tm_sec == want.tm_sec) {
                *out = (int64_t)t;
                return 0;
            }
        }
    }
bad:
    return cb_err_set(err, CB_ERR_INVALID, "--since",
                      "--since: cannot read '%s': use ISO 8601 in UTC (2026-11-22T04:50:00Z) "
                      "or a duration such as 30m, 2h, 1d",
                      clean);
}
