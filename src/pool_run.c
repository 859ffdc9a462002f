/* pool_run: runs the condor tools on a libuv loop and feeds pool_parse.
 *
 * One operation (a query or a drain command) owns its children, one timer
 * and the parsers. A child is finished when its process has exited and both
 * pipes are at EOF (or were closed by an abort); the operation is finished
 * when every child is, and it is freed once every libuv handle it opened has
 * been closed, after its callback ran. See pool.h for the promises.
 */
#include "pool_internal.h"

#include "cb_text.h"

#include <json-c/json.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAX_CHILDREN (2 * CB_POOL_MAX_SCHEDDS + 2)
#define POOL_STDERR_KEEP 2048
#define POOL_CMD_STDOUT_KEEP 1024

enum child_kind { CHILD_DEMAND, CHILD_TOTALS, CHILD_SLOTS, CHILD_STARTD, CHILD_CMD };

struct pool_op;

struct pool_child {
    struct pool_op *op;
    enum child_kind kind;
    char label[128];
    uv_process_t proc;
    uv_pipe_t out, err;
    bool proc_open, out_open, err_open;
    bool exited, out_eof, err_eof, done;
    int64_t exit_status;
    int term_signal;
    struct pool_lines lines;
    bool lines_init;
    struct pool_json_stream json;
    bool json_init;
    bool parse_failed;
    size_t out_bytes;
    char errtext[POOL_STDERR_KEEP];
    size_t errlen;
    char outtext[POOL_CMD_STDOUT_KEEP];
    size_t outlen;
    char outbuf[65536];
    char errbuf[4096];
};

struct pool_op {
    struct cb_pool *pool;
    uv_loop_t *loop;
    uv_timer_t timer;
    bool timer_open;
    int handles;                        /* open libuv handles */
    struct pool_child *children[POOL_MAX_CHILDREN];
    size_t n_children;
    size_t live;                        /* children not yet done */
    bool is_query, phase_totals, timed_out, aborted, delivered;
    bool starting;                      /* spawning: children_done must wait */
    struct cb_err err;
    /* query */
    struct cb_demand demand;
    struct cb_supply supply;
    struct pool_demand_parser dp;
    struct pool_supply_builder sb;
    struct pool_totals_parser totals;
    struct cb_pool_stats stats;
    unsigned demand_runs, demand_failed;
    char demand_fail_reason[200];
    char supply_fail_reason[200];
    cb_pool_query_cb qcb;
    /* command */
    cb_pool_cmd_cb ccb;
    void *payload;
};

/* ---- operations: handles and lifetime ------------------------------- */

static void op_maybe_free(struct pool_op *op);

static void child_free(struct pool_child *c)
{
    if (c->lines_init)
        pool_lines_free(&c->lines);
    if (c->json_init)
        pool_json_free(&c->json);
    free(c);
}

static void op_free(struct pool_op *op)
{
    for (size_t i = 0; i < op->n_children; i++)
        child_free(op->children[i]);
    pool_demand_parser_free(&op->dp);
    pool_supply_builder_free(&op->sb);
    cb_demand_free(&op->demand);
    cb_supply_free(&op->supply);
    free(op);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct pool_op *op = h->data;
    op->handles--;
    op_maybe_free(op);
}

static void close_handle(struct pool_op *op, uv_handle_t *h, bool *open)
{
    if (*open) {
        *open = false;
        h->data = op;
        uv_close(h, on_handle_closed);
    }
}

/* Kill a live child's process group and stop reading from it. */
static void child_kill(struct pool_child *c)
{
    if (c->proc_open && !c->exited) {
        /* The tool runs in its own session (UV_PROCESS_DETACHED): kill the
         * group so a helper it started cannot keep the pipes open. */
        uv_kill(-c->proc.pid, SIGKILL);
        uv_process_kill(&c->proc, SIGKILL);
    }
    if (c->out_open && !c->out_eof) {
        uv_read_stop((uv_stream_t *)&c->out);
        c->out_eof = true;
    }
    if (c->err_open && !c->err_eof) {
        uv_read_stop((uv_stream_t *)&c->err);
        c->err_eof = true;
    }
}

static void child_check_done(struct pool_child *c);

static void op_abort(struct pool_op *op)
{
    op->aborted = true;
    for (size_t i = 0; i < op->n_children; i++) {
        struct pool_child *c = op->children[i];
        if (!c->done) {
            child_kill(c);
            /* Already exited with a helper holding the pipes: done now. */
            child_check_done(c);
        }
    }
}

static void op_fail(struct pool_op *op, const struct cb_err *e)
{
    if (!cb_err_isset(&op->err))
        op->err = *e;
    op_abort(op);
}

static void on_timeout(uv_timer_t *t)
{
    struct pool_op *op = t->data;
    char names[256] = "";
    size_t o = 0;
    for (size_t i = 0; i < op->n_children; i++) {
        struct pool_child *c = op->children[i];
        if (!c->done && o < sizeof names)
            o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", o > 0 ? ", " : "",
                                  c->label);
    }
    op->timed_out = true;
    cb_err_set(&op->err, CB_ERR_TIMEOUT, "pool", "%s did not finish within %u ms: killed",
               names[0] != '\0' ? names : "condor tool", op->pool->timeout_ms);
    op_abort(op);
}

/* ---- results of one child ------------------------------------------- */

/* First non-empty line of the child's stderr, sanitised. */
static void first_err_line(const struct pool_child *c, char *out, size_t size)
{
    const char *s = c->errtext;
    const char *e = s + c->errlen;
    out[0] = '\0';
    while (s < e) {
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(e - s);
        const char *t = s;
        while (n > 0 && (*t == ' ' || *t == '\t')) {
            t++;
            n--;
        }
        if (n > 0) {
            char tmp[256];
            if (n >= sizeof tmp)
                n = sizeof tmp - 1;
            memcpy(tmp, t, n);
            tmp[n] = '\0';
            cb_sanitize(out, size, tmp);
            return;
        }
        if (nl == NULL)
            break;
        s = nl + 1;
    }
}

/* A "Failed to fetch ads from ..." line in stderr, sanitised, or "". */
static bool find_fetch_failure(const struct pool_child *c, char *out, size_t size)
{
    char tmp[POOL_STDERR_KEEP + 1];
    memcpy(tmp, c->errtext, c->errlen);
    tmp[c->errlen] = '\0';
    char *f = strstr(tmp, "Failed to fetch ads");
    if (f == NULL)
        return false;
    while (f > tmp && f[-1] != '\n')
        f--;
    char *nl = strchr(f, '\n');
    if (nl != NULL)
        *nl = '\0';
    cb_sanitize(out, size, f);
    return true;
}

static void exit_text(const struct pool_child *c, char *out, size_t size)
{
    char line[200];
    first_err_line(c, line, sizeof line);
    if (c->term_signal != 0)
        snprintf(out, size, "%s killed by signal %d%s%s", c->label, c->term_signal,
                 line[0] ? ": " : "", line);
    else
        snprintf(out, size, "%s exited with status %lld%s%s", c->label,
                 (long long)c->exit_status, line[0] ? ": " : "", line);
}

static void mark_partial(bool *partial, char *reason, size_t size, const char *why)
{
    if (!*partial) {
        *partial = true;
        cb_strlcpy(reason, why, size);
    }
}

static void op_children_done(struct pool_op *op);

static void child_finished(struct pool_child *c)
{
    struct pool_op *op = c->op;
    struct cb_err e = CB_ERR_INIT;
    bool failed_exit = c->exited && (c->exit_status != 0 || c->term_signal != 0);
    char why[512];

    c->done = true;
    op->live--;
    op->stats.tools_run++;
    close_handle(op, (uv_handle_t *)&c->out, &c->out_open);
    close_handle(op, (uv_handle_t *)&c->err, &c->err_open);
    close_handle(op, (uv_handle_t *)&c->proc, &c->proc_open);

    if (op->aborted || cb_err_isset(&op->err) || c->parse_failed)
        goto out;

    switch (c->kind) {
    case CHILD_DEMAND:
    case CHILD_TOTALS: {
        bool some = c->out_bytes > 0;
        char failure[160];
        if (!failed_exit && pool_lines_finish(&c->lines, &e) != 0) {
            op_fail(op, &e);
            break;
        }
        if (failed_exit && c->lines.len > 0)
            c->lines.len = 0; /* a cut last line of a failed run: the run is partial */
        bool fetch_failed = find_fetch_failure(c, failure, sizeof failure);
        if (c->kind == CHILD_TOTALS && op->totals.failed > 0 && !fetch_failed) {
            cb_strlcpy(failure, op->totals.failure, sizeof failure);
            fetch_failed = true;
        }
        if (!failed_exit && !fetch_failed)
            break;
        if (failed_exit && !some && !fetch_failed && op->pool->n_schedds == 0) {
            exit_text(c, why, sizeof why);
            cb_err_set(&e, CB_ERR_TRANSIENT, "pool", "%s (is the pool down?)", why);
            op_fail(op, &e);
            break;
        }
        if (fetch_failed)
            snprintf(why, sizeof why, "%s: %s", c->label, failure);
        else
            exit_text(c, why, sizeof why);
        op->demand_failed++;
        if (op->demand_fail_reason[0] == '\0')
            cb_strlcpy(op->demand_fail_reason, why, sizeof op->demand_fail_reason);
        break;
    }
    case CHILD_SLOTS:
    case CHILD_STARTD:
        if (!failed_exit && pool_json_finish(&c->json, &e) != 0) {
            op_fail(op, &e);
            break;
        }
        if (!failed_exit)
            break;
        exit_text(c, why, sizeof why);
        /* No slot ad at all: nothing to observe. A failed StartD query only
         * loses the drain flags: the supply is partial. */
        if (c->json.ads == 0 && c->kind == CHILD_SLOTS) {
            cb_err_set(&e, CB_ERR_TRANSIENT, "pool", "%s (is the collector down?)", why);
            op_fail(op, &e);
            break;
        }
        if (op->supply_fail_reason[0] == '\0')
            cb_strlcpy(op->supply_fail_reason, why, sizeof op->supply_fail_reason);
        break;
    case CHILD_CMD:
        if (!failed_exit)
            break;
        {
            char line[200];
            first_err_line(c, line, sizeof line);
            if (line[0] == '\0' && c->outlen > 0) {
                char tmp[POOL_CMD_STDOUT_KEEP + 1];
                memcpy(tmp, c->outtext, c->outlen);
                tmp[c->outlen] = '\0';
                char *nl = strchr(tmp, '\n');
                if (nl != NULL)
                    *nl = '\0';
                cb_sanitize(line, sizeof line, tmp);
            }
            /* "ERROR: unknown host vm", "ERROR: Can't find address for startd x" */
            enum cb_errcode code = strstr(line, "unknown host") != NULL ||
                                           strstr(line, "find address") != NULL
                                       ? CB_ERR_NOT_FOUND
                                       : CB_ERR_TRANSIENT;
            exit_text(c, why, sizeof why);
            cb_err_set(&e, code, "pool", "%s", why);
            op_fail(op, &e);
        }
        break;
    }
out:
    if (op->live == 0)
        op_children_done(op);
}

static void child_check_done(struct pool_child *c)
{
    if (c->done)
        return;
    if (!c->done && c->exited && c->out_eof && c->err_eof)
        child_finished(c);
}

/* ---- libuv callbacks -------------------------------------------------- */

static void on_exit_cb(uv_process_t *proc, int64_t status, int sig)
{
    struct pool_child *c = proc->data;
    c->exited = true;
    c->exit_status = status;
    c->term_signal = sig;
    child_check_done(c);
}

static void alloc_out(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct pool_child *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->outbuf, sizeof c->outbuf);
}

static void alloc_err(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct pool_child *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->errbuf, sizeof c->errbuf);
}

static void on_read_out(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct pool_child *c = s->data;
    struct pool_op *op = c->op;
    struct cb_err e = CB_ERR_INIT;

    if (n < 0) {
        uv_read_stop(s);
        c->out_eof = true;
        child_check_done(c);
        return;
    }
    if (n == 0 || c->parse_failed || op->aborted)
        return;
    c->out_bytes += (size_t)n;
    int rc = 0;
    switch (c->kind) {
    case CHILD_DEMAND:
    case CHILD_TOTALS:
        rc = pool_lines_feed(&c->lines, buf->base, (size_t)n, &e);
        break;
    case CHILD_SLOTS:
    case CHILD_STARTD:
        rc = pool_json_feed(&c->json, buf->base, (size_t)n, &e);
        break;
    case CHILD_CMD: {
        size_t room = sizeof c->outtext - c->outlen;
        size_t k = (size_t)n < room ? (size_t)n : room;
        memcpy(c->outtext + c->outlen, buf->base, k);
        c->outlen += k;
        break;
    }
    }
    if (rc != 0) {
        c->parse_failed = true;
        op_fail(op, &e);
    }
}

static void on_read_err(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct pool_child *c = s->data;
    if (n < 0) {
        uv_read_stop(s);
        c->err_eof = true;
        child_check_done(c);
        return;
    }
    size_t room = sizeof c->errtext - c->errlen;
    size_t k = (size_t)n < room ? (size_t)n : room;
    memcpy(c->errtext + c->errlen, buf->base, k);
    c->errlen += k;
}

/* ---- spawning ---------------------------------------------------------- */

static void label_from_argv(char *label, size_t size, char **argv, enum child_kind kind)
{
    const char *tool = strrchr(argv[0], '/');
    tool = tool != NULL ? tool + 1 : argv[0];
    char raw[128];
    if (kind == CHILD_DEMAND || kind == CHILD_TOTALS) {
        const char *where = "-global";
        char buf[96];
        for (size_t i = 1; argv[i] != NULL; i++)
            if (strcmp(argv[i], "-name") == 0 && argv[i + 1] != NULL) {
                snprintf(buf, sizeof buf, "-name %s", argv[i + 1]);
                where = buf;
            }
        snprintf(raw, sizeof raw, "%s%s %s", tool, kind == CHILD_TOTALS ? " -totals" : "", where);
    } else if (kind == CHILD_STARTD) {
        snprintf(raw, sizeof raw, "%s -startd", tool);
    } else {
        snprintf(raw, sizeof raw, "%s", tool);
    }
    cb_sanitize(label, size, raw);
}

/* Spawn one child; on failure the op's error is set (reported through the
 * callback when the op finishes). */
static void spawn_child(struct pool_op *op, enum child_kind kind, char **argv)
{
    struct cb_err e = CB_ERR_INIT;
    if (op->aborted)
        return;
    if (argv == NULL) {
        cb_err_set(&e, CB_ERR_INTERNAL, "pool", "out of memory");
        op_fail(op, &e);
        return;
    }
    if (op->n_children >= POOL_MAX_CHILDREN) {
        cb_err_set(&e, CB_ERR_INTERNAL, "pool", "too many tool runs");
        op_fail(op, &e);
        return;
    }
    struct pool_child *c = calloc(1, sizeof *c);
    if (c == NULL) {
        cb_err_set(&e, CB_ERR_INTERNAL, "pool", "out of memory");
        op_fail(op, &e);
        return;
    }
    c->op = op;
    c->kind = kind;
    label_from_argv(c->label, sizeof c->label, argv, kind);
    int rc = 0;
    if (kind == CHILD_DEMAND)
        rc = pool_lines_init(&c->lines, c->label, POOL_MAX_LINE, pool_demand_line, &op->dp, &e);
    else if (kind == CHILD_TOTALS)
        rc = pool_lines_init(&c->lines, c->label, POOL_MAX_LINE, pool_totals_line, &op->totals,
                             &e);
    c->lines_init = rc == 0 && (kind == CHILD_DEMAND || kind == CHILD_TOTALS);
    if (rc == 0 && (kind == CHILD_SLOTS || kind == CHILD_STARTD)) {
        rc = pool_json_init(&c->json, c->label,
                            kind == CHILD_SLOTS ? pool_supply_slot_ad : pool_supply_startd_ad,
                            &op->sb, &e);
        c->json_init = rc == 0;
    }
    if (rc != 0) {
        child_free(c);
        op_fail(op, &e);
        return;
    }

    uv_pipe_init(op->loop, &c->out, 0);
    c->out.data = c;
    c->out_open = true;
    op->handles++;
    uv_pipe_init(op->loop, &c->err, 0);
    c->err.data = c;
    c->err_open = true;
    op->handles++;

    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&c->out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&c->err;
    uv_process_options_t po;
    memset(&po, 0, sizeof po);
    po.file = argv[0];
    po.args = argv;
    po.exit_cb = on_exit_cb;
    po.flags = UV_PROCESS_DETACHED;
    po.stdio_count = 3;
    po.stdio = stdio;
    c->proc.data = c;

    op->children[op->n_children++] = c;
    op->live++;
    int r = uv_spawn(op->loop, &c->proc, &po);
    if (r != 0) {
        /* libuv has not registered the process handle but needs it closed. */
        c->proc_open = true;
        op->handles++;
        c->exited = c->out_eof = c->err_eof = true;
        cb_err_set(&e, r == UV_ENOENT || r == UV_EACCES ? CB_ERR_PERMANENT : CB_ERR_IO, "pool",
                   "cannot run %s: %s", argv[0], uv_strerror(r));
        op_fail(op, &e);
        child_finished(c);
        return;
    }
    c->proc_open = true;
    op->handles++;
    uv_read_start((uv_stream_t *)&c->out, alloc_out, on_read_out);
    uv_read_start((uv_stream_t *)&c->err, alloc_err, on_read_err);
}

static void spawn_demand_phase(struct pool_op *op)
{
    struct cb_err e = CB_ERR_INIT;
    size_t runs = op->pool->n_schedds > 0 ? op->pool->n_schedds : 1;
    op->phase_totals = false;
    for (size_t i = 0; i < runs && !op->aborted; i++) {
        char **argv = cb_pool_argv(op->pool, "demand", i, &e);
        op->demand_runs++;
        spawn_child(op, CHILD_DEMAND, argv);
        cb_pool_argv_free(argv);
    }
}

/* Every child of the current phase is done: next phase, or close the timer
 * (the op is delivered and freed once its last handle is closed). */
static void op_children_done(struct pool_op *op)
{
    if (op->starting || op->live > 0)
        return;
    if (op->is_query && op->phase_totals && !op->aborted && !cb_err_isset(&op->err)) {
        op->stats.totals_idle = op->totals.idle;
        bool trust_zero = op->demand_failed == 0 && op->totals.failed == 0 &&
                          op->totals.schedds > 0;
        if (trust_zero && op->totals.idle == 0) {
            op->stats.projection_skipped = true;
        } else {
            op->demand_failed = 0;
            op->demand_fail_reason[0] = '\0';
            op->starting = true;
            spawn_demand_phase(op);
            op->starting = false;
            if (op->live > 0)
                return;
        }
    }
    op->phase_totals = false;
    close_handle(op, (uv_handle_t *)&op->timer, &op->timer_open);
}

static void deliver(struct pool_op *op)
{
    struct cb_pool *p = op->pool;
    op->delivered = true;
    if (!op->is_query) {
        op->ccb(op->payload, cb_err_isset(&op->err) ? -1 : 0, &op->err);
        return;
    }
    p->query_running = false;
    struct cb_err e = CB_ERR_INIT;
    if (!cb_err_isset(&op->err) && op->demand_runs > 0 && op->demand_failed == op->demand_runs &&
        op->dp.jobs_seen == 0 && op->pool->n_schedds > 0) {
        cb_err_set(&e, CB_ERR_TRANSIENT, "pool", "every schedd failed: %s (is the pool down?)",
                   op->demand_fail_reason);
        op->err = e;
    }
    if (cb_err_isset(&op->err)) {
        cb_demand_free(&op->demand);
        cb_supply_free(&op->supply);
        op->qcb(op->payload, -1, &op->demand, &op->supply, &op->stats, &op->err);
        return;
    }
    pool_demand_finish(&op->dp);
    if (op->demand_failed > 0)
        mark_partial(&op->demand.partial, op->demand.partial_reason,
                     sizeof op->demand.partial_reason, op->demand_fail_reason);
    pool_demand_sort(&op->demand);
    pool_supply_finish(&op->sb);
    if (op->supply_fail_reason[0] != '\0')
        mark_partial(&op->supply.partial, op->supply.partial_reason,
                     sizeof op->supply.partial_reason, op->supply_fail_reason);
    op->stats.jobs_seen = op->dp.jobs_seen;
    op->stats.jobs_skipped = op->dp.jobs_skipped;
    op->stats.slot_ads = op->sb.slot_ads;
    op->stats.startd_ads = op->sb.n_startds;

    /* Remember drain targets for cb_pool_drain_target(). */
    struct drain_name *dn = NULL;
    if (op->supply.n > 0)
        dn = calloc(op->supply.n, sizeof *dn);
    if (dn != NULL || op->supply.n == 0) {
        for (size_t i = 0; i < op->supply.n; i++) {
            cb_strlcpy(dn[i].machine, op->supply.nodes[i].machine, sizeof dn[i].machine);
            cb_strlcpy(dn[i].target, pool_supply_extra(&op->sb, i)->drain_target,
                       sizeof dn[i].target);
        }
        free(p->drain_names);
        p->drain_names = dn;
        p->n_drain_names = op->supply.n;
    }
    struct cb_demand d = op->demand;
    struct cb_supply s = op->supply;
    memset(&op->demand, 0, sizeof op->demand);
    memset(&op->supply, 0, sizeof op->supply);
    op->qcb(op->payload, 0, &d, &s, &op->stats, NULL);
}

static void op_maybe_free(struct pool_op *op)
{
    if (op->handles > 0)
        return;
    if (!op->delivered)
        deliver(op);
    op_free(op);
}

static struct pool_op *op_new(struct cb_pool *pool, struct cb_err *err)
{
    struct pool_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, "pool", "out of memory");
        return NULL;
    }
    op->pool = pool;
    return op;
}

/* Put the op on the loop: from now on it ends through its callback. */
static void op_arm(struct pool_op *op, uv_loop_t *loop)
{
    op->loop = loop;
    uv_timer_init(loop, &op->timer);
    op->timer.data = op;
    op->timer_open = true;
    op->handles = 1;
    uv_timer_start(&op->timer, on_timeout, op->pool->timeout_ms, 0);
}

/* ---- public operations ---------------------------------------------- */

int cb_pool_query_start(struct cb_pool *pool, uv_loop_t *loop, cb_pool_query_cb cb,
                        void *payload, struct cb_err *err)
{
    if (pool->query_running)
        return cb_err_set(err, CB_ERR_BUSY, "pool", "a query of this pool is already running");
    struct pool_op *op = op_new(pool, err);
    if (op == NULL)
        return -1;
    op->is_query = true;
    op->qcb = cb;
    op->payload = payload;
    const char *const *rt = (const char *const *)pool->runtime_attrs;
    if (pool_demand_init(&op->dp, &op->demand, (unsigned)pool->n_clouds,
                         (unsigned)pool->n_runtime, err) != 0 ||
        pool_supply_init(&op->sb, &op->supply, rt, err) != 0) {
        op_free(op);
        return -1;
    }
    op_arm(op, loop);
    pool->query_running = true;

    struct cb_err e = CB_ERR_INIT;
    op->starting = true;
    char **argv = cb_pool_argv(pool, "slots", 0, &e);
    spawn_child(op, CHILD_SLOTS, argv);
    cb_pool_argv_free(argv);
    argv = cb_pool_argv(pool, "startd", 0, &e);
    spawn_child(op, CHILD_STARTD, argv);
    cb_pool_argv_free(argv);
    if (pool->totals_first) {
        op->phase_totals = true;
        size_t runs = pool->n_schedds > 0 ? pool->n_schedds : 1;
        for (size_t i = 0; i < runs; i++) {
            argv = cb_pool_argv(pool, "totals", i, &e);
            spawn_child(op, CHILD_TOTALS, argv);
            cb_pool_argv_free(argv);
        }
    } else {
        spawn_demand_phase(op);
    }
    op->starting = false;
    op_children_done(op);
    return 0;
}

static int cmd_start(struct cb_pool *pool, uv_loop_t *loop, const char *machine, bool cancel,
                     cb_pool_cmd_cb cb, void *payload, struct cb_err *err)
{
    char target[CB_HOST_MAX];
    if (cb_pool_drain_target(pool, machine, target, sizeof target, err) != 0)
        return -1;
    char **argv = pool_drain_argv(pool, target, cancel);
    if (argv == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "pool", "out of memory");
    struct pool_op *op = op_new(pool, err);
    if (op == NULL) {
        cb_pool_argv_free(argv);
        return -1;
    }
    op->ccb = cb;
    op->payload = payload;
    op_arm(op, loop);
    op->starting = true;
    spawn_child(op, CHILD_CMD, argv);
    cb_pool_argv_free(argv);
    op->starting = false;
    op_children_done(op);
    return 0;
}

int cb_pool_drain_start(struct cb_pool *pool, uv_loop_t *loop, const char *machine,
                        cb_pool_cmd_cb cb, void *payload, struct cb_err *err)
{
    return cmd_start(pool, loop, machine, false, cb, payload, err);
}

int cb_pool_drain_cancel(struct cb_pool *pool, uv_loop_t *loop, const char *machine,
                         cb_pool_cmd_cb cb, void *payload, struct cb_err *err)
{
    return cmd_start(pool, loop, machine, true, cb, payload, err);
}

/* ---- synchronous wrappers -------------------------------------------- */

struct sync_result {
    bool done;
    int status;
    struct cb_err err;
    struct cb_demand demand;
    struct cb_supply supply;
    struct cb_pool_stats stats;
};

static void sync_query_cb(void *payload, int status, struct cb_demand *demand,
                          struct cb_supply *supply, const struct cb_pool_stats *stats,
                          const struct cb_err *err)
{
    struct sync_result *r = payload;
    r->done = true;
    r->status = status;
    if (err != NULL)
        r->err = *err;
    r->demand = *demand;
    r->supply = *supply;
    r->stats = *stats;
}

static void sync_cmd_cb(void *payload, int status, const struct cb_err *err)
{
    struct sync_result *r = payload;
    r->done = true;
    r->status = status;
    if (err != NULL)
        r->err = *err;
}

static int run_private_loop(uv_loop_t *loop, struct sync_result *r, struct cb_err *err)
{
    uv_run(loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(loop);
    if (!r->done)
        return cb_err_set(err, CB_ERR_INTERNAL, "pool", "loop ended without a result");
    if (rc != 0)
        return cb_err_set(err, CB_ERR_INTERNAL, "pool", "loop has open handles: %s",
                          uv_strerror(rc));
    if (r->status != 0) {
        if (!cb_err_isset(err))
            *err = r->err;
        return -1;
    }
    return 0;
}

int cb_pool_query_sync(struct cb_pool *pool, struct cb_demand *demand, struct cb_supply *supply,
                       struct cb_pool_stats *stats, struct cb_err *err)
{
    memset(demand, 0, sizeof *demand);
    memset(supply, 0, sizeof *supply);
    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    uv_loop_t loop;
    int r = uv_loop_init(&loop);
    if (r != 0)
        return cb_err_set(err, CB_ERR_IO, "pool", "uv_loop_init: %s", uv_strerror(r));
    struct sync_result res;
    memset(&res, 0, sizeof res);
    if (cb_pool_query_start(pool, &loop, sync_query_cb, &res, err) != 0) {
        uv_loop_close(&loop);
        return -1;
    }
    if (run_private_loop(&loop, &res, err) != 0) {
        cb_demand_free(&res.demand);
        cb_supply_free(&res.supply);
        return -1;
    }
    *demand = res.demand;
    *supply = res.supply;
    if (stats != NULL)
        *stats = res.stats;
    return 0;
}

int cb_pool_drain_sync(struct cb_pool *pool, const char *machine, bool cancel, struct cb_err *err)
{
    uv_loop_t loop;
    int r = uv_loop_init(&loop);
    if (r != 0)
        return cb_err_set(err, CB_ERR_IO, "pool", "uv_loop_init: %s", uv_strerror(r));
    struct sync_result res;
    memset(&res, 0, sizeof res);
    if (cmd_start(pool, &loop, machine, cancel, sync_cmd_cb, &res, err) != 0) {
        uv_loop_close(&loop);
        return -1;
    }
    return run_private_loop(&loop, &res, err);
}
