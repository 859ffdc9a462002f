/* ctl: cloudburstctl, the admin's view of the ledger, as a library so the
 * tests drive exactly what the binary runs (cloudburstctl.c is only main()).
 *
 * Promises:
 * - The ledger is opened LEDGER_READ_ONLY: no lock is taken, nothing is
 *   written, and it is safe while cloudburstd runs. The request commands
 *   (pause, resume, drain, terminate) open it LEDGER_SUBMIT and add one admin
 *   request each, nothing else; cloudburstd acts on it at its next cycle.
 *   `pool` reads no ledger: it queries the pool through the pool adapter with
 *   the daemon's configuration and changes nothing.
 * - Commands live in one table (ctl.c): a command is one row (name, its
 *   options, what it opens, a one-line summary) plus one function.
 * - Output: aligned human tables (column widths computed from the data) or,
 *   with --json, one JSON document built with json-c (accounting also CSV). Everything printed from
 *   the ledger has been sanitised (ledger_query.c) and JSON strings are escaped
 *   by json-c.
 * - Errors are one line on the error stream, "cloudburstctl: ...", naming the
 *   argument, file or ledger at fault, and the exit status says what kind.
 * - No global state: ctl_main() may be called many times in one process.
 */
#ifndef CB_CTL_H
#define CB_CTL_H

#include "cb_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses, documented in cloudburstctl(1). */
enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_ERROR = 1,       /* configuration invalid, query failed */
    CTL_EXIT_USAGE = 2,       /* unknown command or option, bad argument */
    CTL_EXIT_UNAVAILABLE = 3, /* ledger missing, unreadable, busy or of another schema */
};

/* Run cloudburstctl with argv (argv[0] is the program name). Normal output
 * goes to `out`, errors to `errout`. `now` (Unix seconds) anchors relative
 * times such as "--since 2h". Returns an enum ctl_exit value. */
int ctl_main(int argc, char **argv, FILE *out, FILE *errout, int64_t now);

/* Parse a --since value: ISO 8601 in UTC ("2026-11-22T04:50:00Z", with or
 * without the Z, "2026-11-22 04:50", "2026-11-22"), or a duration before
 * `now`: a positive integer with s, m, h, d or w ("30m", "2h", "1d").
 * CB_ERR_INVALID naming the value otherwise. */
int ctl_parse_time(const char *text, int64_t now, int64_t *out, struct cb_err *err);

/* "2026-11-22T04:50:00Z" into buf (at least 21 bytes); "-" for t < 0. */
const char *ctl_format_time(int64_t t, char *buf, size_t size);

/* ---- aligned tables (ctl_table.c) ------------------------------------------ */

struct ctl_table;

/* A table with `ncols` columns; headers are copied. right_aligned: bit i set
 * right-aligns column i (numbers). NULL on out of memory. */
struct ctl_table *ctl_table_new(size_t ncols, const char *const *headers, unsigned right_aligned);

/* Append a row of ncols cells (copied; NULL prints as "-"). -1 on out of memory. */
int ctl_table_add(struct ctl_table *t, const char *const *cells);

/* Print: columns two spaces apart, widths from the widest cell (counted in
 * characters, not bytes), the last column never padded. */
void ctl_table_print(const struct ctl_table *t, FILE *out);

void ctl_table_free(struct ctl_table *t);

/* ---- between ctl.c and ctl_commands.c ---------------------------------------- */

struct ledger;
struct json_object;

#define CTL_MAX_OPTIONS 8

/* One option of a command: "--name VALUE", "--name=VALUE", or a flag. */
struct ctl_option {
    const char *name;       /* without the dashes */
    const char *metavar;    /* NULL: a flag without value */
    const char *help;
};

/* What a command opens before its function runs. */
enum ctl_access {
    CTL_LEDGER_READ = 0,    /* the ledger, LEDGER_READ_ONLY */
    CTL_LEDGER_SUBMIT,      /* the ledger, LEDGER_SUBMIT (admin requests only) */
    CTL_CONFIG_ONLY,        /* no ledger; the command reads the configuration itself */
};

/* What a command function gets: the parsed command line and the open ledger. */
struct ctl_run {
    FILE *out, *errout;
    int64_t now;
    bool json;
    struct ledger *ledger;  /* open as the command's access says (NULL for
                             * CTL_CONFIG_ONLY), closed by ctl_main */
    const char *config;     /* --config, NULL = CB_DEFAULT_CONFIG_FILE */
    const char *cmd;        /* the command's name, for messages */
    const char *arg;        /* the positional argument (ctl_command.arg), NULL if none */
    const char *opt[CTL_MAX_OPTIONS]; /* value per option (flags: ""), NULL = not given */
};

struct ctl_command {
    const char *name;
    const char *arg;        /* metavar of the one positional argument, NULL = none */
    const char *summary;    /* one line for --help */
    enum ctl_access access;
    struct ctl_option options[CTL_MAX_OPTIONS];
    int (*run)(struct ctl_run *r); /* returns an enum ctl_exit */
};

/* Print "cloudburstctl: CMD: message" to errout and return `code`. */
int ctl_fail(struct ctl_run *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print and free a JSON document (NULL: out of memory). */
int ctl_emit_json(struct ctl_run *r, struct json_object *doc);
/* Print and free a table; ok false (a failed ctl_table_add) is out of memory. */
int ctl_emit_table(struct ctl_run *r, struct ctl_table *t, bool ok);

int ctl_cmd_status(struct ctl_run *r);
int ctl_cmd_nodes(struct ctl_run *r);
int ctl_cmd_events(struct ctl_run *r);
/* ctl_admin.c */
int ctl_cmd_explain(struct ctl_run *r);
int ctl_cmd_pause(struct ctl_run *r);
int ctl_cmd_resume(struct ctl_run *r);
int ctl_cmd_drain(struct ctl_run *r);
int ctl_cmd_terminate(struct ctl_run *r);
int ctl_cmd_pool(struct ctl_run *r);
/* ctl_accounting.c */
int ctl_cmd_accounting(struct ctl_run *r);

/* ---- accounting (ctl_accounting.c) -------------------------------------------
 * How long a node counts: from the moment the cloud accepted its boot (its
 * entry into booting), or, when that is unknown, from its boot intent
 * (requested), or for an adopted node from when it was first recorded; until
 * it was recorded gone, or `now` while it is not gone. The interval is clipped
 * to [since, now]. Seconds are counted exactly; nothing is rounded up to a
 * cloud's billing unit (the ledger does not know it). */
struct ledger_node;
/* The node's counted interval; false when it has none inside [since, until). */
bool ctl_node_interval(const struct ledger_node *n, int64_t since, int64_t until, int64_t *start,
                       int64_t *end);

#endif
