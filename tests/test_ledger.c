/* Unit tests: the ledger against real SQLite files in a fresh temporary
 * directory per test: every (from, to) state pair, boot intents, failures,
 * adoption, append-only events, the writer lock (in-process and across
 * processes), read-only opens, bad state directories, migrations from every
 * earlier schema, refusal of newer or foreign files, and crash safety under
 * kill -9 at random points. */
#include "ledger.h"

#include "cb_text.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[256];
static char dbpath[512];

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/cb-ledger-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(dbpath, sizeof dbpath, "%s/ledger.db", tmpdir);
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void teardown(void)
{
    rm_tree(tmpdir);
}

static struct ledger *open_rw(void)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    int rc = ledger_open(&l, dbpath, LEDGER_READ_WRITE, 2000, &err);
    ck_assert_msg(rc == 0, "open: %s", err.msg);
    ck_assert_ptr_nonnull(l);
    return l;
}

static struct ledger_intent intent(const char *batch, uint32_t count)
{
    struct ledger_intent in = {
        .cpus = 8, .memory_mb = 16000, .cost_per_hour = 0.25, .count = count};
    cb_strlcpy(in.batch_id, batch, sizeof in.batch_id);
    cb_strlcpy(in.cloud, "aws-eu", sizeof in.cloud);
    cb_strlcpy(in.flavor, "c5.2xlarge", sizeof in.flavor);
    cb_strlcpy(in.image, "ami-0abc", sizeof in.image);
    return in;
}

/* Raw SQLite access for what the API must not offer (tampering, schema). */
static sqlite3 *raw_open(void)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    return db;
}

static long long raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static long long count_events(struct ledger *l, const char *node)
{
    struct ledger_event_filter f = {.node_id = node};
    struct ledger_event_list ev;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_list_events(l, &f, &ev, &err), 0);
    long long n = (long long)ev.n;
    ledger_event_list_free(&ev);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* ---- open, pragmas, lock --------------------------------------------------- */

START_TEST(test_open_creates_wal_ledger_with_lock)
{
    struct ledger *l = open_rw();
    ck_assert_int_eq(ledger_schema_version(l), LEDGER_SCHEMA_VERSION);
    ck_assert_str_eq(ledger_path(l), dbpath);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_check_integrity(l, &err), 0);

    char lockpath[600], buf[64] = "", want[64];
    snprintf(lockpath, sizeof lockpath, "%s.lock", dbpath);
    FILE *f = fopen(lockpath, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    snprintf(want, sizeof want, "%ld\n", (long)getpid());
    ck_assert_str_eq(buf, want);

    sqlite3 *db = raw_open();
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    ck_assert_int_eq(raw_int(db, "PRAGMA application_id"), LEDGER_APPLICATION_ID);
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), LEDGER_SCHEMA_VERSION);
    sqlite3_close(db);
    ledger_close(l);

    /* Closing clears the pid, and the next writer gets the lock. */
    struct stat sb;
    ck_assert_int_eq(stat(lockpath, &sb), 0);
    ck_assert_int_eq(sb.st_size, 0);
    l = open_rw();
    ledger_close(l);
    ledger_close(NULL);
}
END_TEST

START_TEST(test_second_writer_refused_with_pid)
{
    struct ledger *l = open_rw(), *l2 = (struct ledger *)&l;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_open(&l2, dbpath, LEDGER_READ_WRITE, 0, &err), -1);
    ck_assert_ptr_null(l2);
    ck_assert_int_eq(err.code, CB_ERR_BUSY);
    char want[700];
    snprintf(want, sizeof want, "ledger %s is in use by pid %ld", dbpath, (long)getpid());
    ck_assert_str_eq(err.msg, want);
    cb_err_clear(&err);

    /* A reader does not need the lock and sees the writer's commits. */
    struct ledger_intent in = intent("b1", 2);
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 1000, NULL, 0, &err), 0);
    struct ledger *ro = NULL;
    ck_assert_int_eq(ledger_open(&ro, dbpath, LEDGER_READ_ONLY, 1000, &err), 0);
    struct ledger_node_list list;
    ck_assert_int_eq(ledger_list_nodes(ro, NULL, &list, &err), 0);
    ck_assert_uint_eq(list.n, 2);
    ledger_node_list_free(&list);
    ck_assert_int_eq(ledger_transition(l, "b1-0", CB_NODE_BOOTING, 1001, "ok", &err), 0);
    struct ledger_node n;
    ck_assert_int_eq(ledger_get_node(ro, "b1-0", &n, &err), 0);
    ck_assert_int_eq(n.state, CB_NODE_BOOTING);

    /* Writes through a read-only handle are refused, naming the ledger. */
    in = intent("b2", 1);
    ck_assert_int_eq(ledger_record_boot_intent(ro, &in, 1002, NULL, 0, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "is open read-only"));
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_transition(ro, "b1-0", CB_NODE_GONE, 1002, NULL, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ledger_close(ro);
    ledger_close(l);
}
END_TEST

START_TEST(test_writer_lock_across_processes)
{
    int ready[2], go[2];
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(go), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct ledger *l = NULL;
        struct cb_err err = CB_ERR_INIT;
        char c = ledger_open(&l, dbpath, LEDGER_READ_WRITE, 0, &err) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(2);
        if (read(go[0], &c, 1) < 0) /* wait to be killed */
            _exit(3);
        _exit(0);
    }
    char c = 0;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 0, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_BUSY);
    char want[700];
    snprintf(want, sizeof want, "ledger %s is in use by pid %ld", dbpath, (long)pid);
    ck_assert_str_eq(err.msg, want);
    /* Reading while the other process holds the lock is fine. */
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_open(&l, dbpath, LEDGER_READ_ONLY, 0, &err), 0);
    ledger_close(l);
    /* The kernel drops the lock with the process, however it dies. */
    kill(pid, SIGKILL);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    l = open_rw();
    ledger_close(l);
}
END_TEST

START_TEST(test_bad_paths_and_arguments)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    char path[700];

    snprintf(path, sizeof path, "%s/missing/ledger.db", tmpdir);
    ck_assert_int_eq(ledger_open(&l, path, LEDGER_READ_WRITE, 0, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_IO);
    char want[2048];
    snprintf(want, sizeof want,
             "state directory %s/missing of ledger %s: No such file or directory", tmpdir, path);
    ck_assert_str_eq(err.msg, want);

    /* The "directory" is a regular file. */
    char file[600];
    snprintf(file, sizeof file, "%s/plain", tmpdir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/ledger.db", file);
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_open(&l, path, LEDGER_READ_ONLY, 0, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "is not a directory"));

    /* No ledger yet: the reader says so and creates nothing. */
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_open(&l, dbpath, LEDGER_READ_ONLY, 0, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not exist"));
    ck_assert_int_eq(access(dbpath, F_OK), -1);

    if (geteuid() != 0) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/ro", tmpdir);
        ck_assert_int_eq(mkdir(dir, 0500), 0);
        snprintf(path, sizeof path, "%s/ledger.db", dir);
        cb_err_clear(&err);
        ck_assert_int_eq(ledger_open(&l, path, LEDGER_READ_WRITE, 0, &err), -1);
        ck_assert_int_eq(err.code, CB_ERR_IO);
        ck_assert_ptr_nonnull(strstr(err.msg, "is not writable: Permission denied"));
    }

    cb_err_clear(&err);
    ck_assert_int_eq(ledger_open(&l, "", LEDGER_READ_WRITE, 0, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_open(&l, dbpath, LEDGER_READ_WRITE, LEDGER_BUSY_TIMEOUT_MAX + 1, &err),
                     -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "busy timeout"));
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_open(&l, dbpath, (enum ledger_mode)7, 0, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_null(l);
}
END_TEST

/* ---- intents ----------------------------------------------------------------- */

START_TEST(test_boot_intent_is_one_batch)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_intent in = intent("20261122T0450-aws-eu-7", 3);
    char ids[4][CB_NAME_MAX];
    memset(ids, 0, sizeof ids);
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 5000, ids, 4, &err), 0);
    ck_assert_str_eq(ids[0], "20261122T0450-aws-eu-7-0");
    ck_assert_str_eq(ids[2], "20261122T0450-aws-eu-7-2");
    ck_assert_str_eq(ids[3], "");

    struct ledger_node_filter f = {.batch_id = in.batch_id};
    struct ledger_node_list list;
    ck_assert_int_eq(ledger_list_nodes(l, &f, &list, &err), 0);
    ck_assert_uint_eq(list.n, 3);
    for (size_t i = 0; i < 3; i++) {
        const struct ledger_node *n = &list.items[i];
        ck_assert_str_eq(n->node_id, ids[i]);
        ck_assert_uint_eq(n->batch_index, i);
        ck_assert_str_eq(n->cloud, "aws-eu");
        ck_assert_str_eq(n->flavor, "c5.2xlarge");
        ck_assert_str_eq(n->image, "ami-0abc");
        ck_assert_uint_eq(n->cpus, 8);
        ck_assert_uint_eq(n->memory_mb, 16000);
        ck_assert(fabs(n->cost_per_hour - 0.25) < 1e-12);
        ck_assert_str_eq(n->instance_id, "");
        ck_assert_int_eq(n->state, CB_NODE_REQUESTED);
        ck_assert_int_eq(n->state_since, 5000);
        ck_assert_int_eq(n->state_at[CB_NODE_REQUESTED], 5000);
        ck_assert_int_eq(n->state_at[CB_NODE_BOOTING], -1);
        ck_assert_int_eq(n->state_at[CB_NODE_GONE], -1);
        ck_assert_uint_eq(n->failure_count, 0);
        ck_assert(!n->adopted);
    }
    ledger_node_list_free(&list);

    struct ledger_event_list ev;
    ck_assert_int_eq(ledger_list_events(l, NULL, &ev, &err), 0);
    ck_assert_uint_eq(ev.n, 3);
    ck_assert_str_eq(ev.items[1].node_id, ids[1]);
    ck_assert_str_eq(ev.items[1].kind, "intent");
    ck_assert_int_eq(ev.items[1].from_state, -1);
    ck_assert_int_eq(ev.items[1].to_state, CB_NODE_REQUESTED);
    ck_assert_int_eq(ev.items[1].time, 5000);
    ck_assert_str_eq(ev.items[1].detail,
                     "batch 20261122T0450-aws-eu-7: 3 x c5.2xlarge on aws-eu, image ami-0abc");
    ledger_event_list_free(&ev);

    /* The same batch id twice is refused and adds nothing. */
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 5001, NULL, 0, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "batch id 20261122T0450-aws-eu-7 is already in"));
    ck_assert_int_eq(count_events(l, NULL), 3);
    ledger_close(l);
}
END_TEST

START_TEST(test_bad_intents_write_nothing)
{
    struct ledger *l = open_rw();
    struct {
        struct ledger_intent in;
        int64_t now;
        const char *msg;
    } cases[8];
    size_t n = 0;
    cases[n].in = intent("b", 0), cases[n].now = 1, cases[n++].msg = "count 0 is not in 1..1000";
    cases[n].in = intent("b", 1001), cases[n].now = 1,
    cases[n++].msg = "count 1001 is not in 1..1000";
    cases[n].in = intent("b a", 1), cases[n].now = 1, cases[n++].msg = "batch id must be";
    cases[n].in = intent("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 100),
    cases[n].now = 1, cases[n++].msg = "batch id too long";
    cases[n].in = intent("b", 1), cases[n].in.image[0] = '\0', cases[n].now = 1,
    cases[n++].msg = "image is empty";
    cases[n].in = intent("b", 1), cases[n].in.cost_per_hour = NAN, cases[n].now = 1,
    cases[n++].msg = "cost_per_hour must be";
    cases[n].in = intent("b", 1), cb_strlcpy(cases[n].in.cloud, "a/b", CB_NAME_MAX),
    cases[n].now = 1, cases[n++].msg = "cloud and flavor must be";
    cases[n].in = intent("b", 1), cases[n].now = -5, cases[n++].msg = "is before 1970";
    for (size_t i = 0; i < n; i++) {
        struct cb_err err = CB_ERR_INIT;
        ck_assert_int_eq(ledger_record_boot_intent(l, &cases[i].in, cases[i].now, NULL, 0, &err),
                         -1);
        ck_assert_int_eq(err.code, CB_ERR_INVALID);
        ck_assert_msg(strstr(err.msg, cases[i].msg), "case %zu: %s", i, err.msg);
    }
    struct ledger_node_list list;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_list_nodes(l, NULL, &list, &err), 0);
    ck_assert_uint_eq(list.n, 0);
    ck_assert_int_eq(count_events(l, NULL), 0);
    ledger_close(l);
}
END_TEST

/* ---- the state machine ------------------------------------------------------ */

/* Shortest path of allowed transitions from requested to `target`. */
static size_t path_to(enum cb_node_state target, enum cb_node_state *path)
{
    int prev[CB_NODE__COUNT];
    bool seen[CB_NODE__COUNT] = {false};
    enum cb_node_state queue[CB_NODE__COUNT];
    size_t qh = 0, qt = 0;
    queue[qt++] = CB_NODE_REQUESTED;
    seen[CB_NODE_REQUESTED] = true;
    prev[CB_NODE_REQUESTED] = -1;
    while (qh < qt) {
        enum cb_node_state s = queue[qh++];
        for (int t = 0; t < CB_NODE__COUNT; t++) {
            if (!seen[t] && cb_node_transition_allowed(s, (enum cb_node_state)t)) {
                seen[t] = true;
                prev[t] = (int)s;
                queue[qt++] = (enum cb_node_state)t;
            }
        }
    }
    ck_assert_msg(seen[target], "state %s unreachable", cb_node_state_name(target));
    enum cb_node_state rev[CB_NODE__COUNT];
    size_t n = 0;
    for (int s = (int)target; s != -1; s = prev[s])
        rev[n++] = (enum cb_node_state)s;
    for (size_t i = 0; i < n; i++)
        path[i] = rev[n - 1 - i];
    return n;
}

START_TEST(test_every_transition_pair)
{
    struct ledger *l = open_rw();
    int64_t now = 10000;
    unsigned allowed = 0, refused = 0;
    for (int from = 0; from < CB_NODE__COUNT; from++) {
        for (int to = 0; to < CB_NODE__COUNT; to++) {
            struct cb_err err = CB_ERR_INIT;
            char batch[32], node[40];
            snprintf(batch, sizeof batch, "p%d-%d", from, to);
            snprintf(node, sizeof node, "%s-0", batch);
            struct ledger_intent in = intent(batch, 1);
            ck_assert_int_eq(ledger_record_boot_intent(l, &in, now, NULL, 0, &err), 0);
            enum cb_node_state path[CB_NODE__COUNT];
            size_t len = path_to((enum cb_node_state)from, path);
            for (size_t i = 1; i < len; i++)
                ck_assert_msg(ledger_transition(l, node, path[i], ++now, "walk", &err) == 0, "%s",
                              err.msg);
            struct ledger_node before, after;
            ck_assert_int_eq(ledger_get_node(l, node, &before, &err), 0);
            ck_assert_int_eq(before.state, from);
            long long events = count_events(l, node);

            int rc = ledger_transition(l, node, (enum cb_node_state)to, ++now, "pair", &err);
            ck_assert_int_eq(ledger_get_node(l, node, &after, &err), 0);
            if (cb_node_transition_allowed((enum cb_node_state)from, (enum cb_node_state)to)) {
                allowed++;
                ck_assert_msg(rc == 0, "%s -> %s: %s", cb_node_state_name(from),
                              cb_node_state_name(to), err.msg);
                ck_assert_int_eq(after.state, to);
                ck_assert_int_eq(after.state_since, now);
                ck_assert_int_eq(after.state_at[to], now);
                ck_assert_int_eq(count_events(l, node), events + 1);
                struct ledger_event_filter f = {.node_id = node, .limit = 1};
                struct ledger_event_list ev;
                ck_assert_int_eq(ledger_list_events(l, &f, &ev, &err), 0);
                ck_assert_uint_eq(ev.n, 1);
                ck_assert_str_eq(ev.items[0].kind, "transition");
                ck_assert_int_eq(ev.items[0].from_state, from);
                ck_assert_int_eq(ev.items[0].to_state, to);
                ck_assert_str_eq(ev.items[0].detail, "pair");
                ledger_event_list_free(&ev);
            } else {
                refused++;
                ck_assert_int_eq(rc, -1);
                ck_assert_int_eq(err.code, CB_ERR_INVALID);
                char want[200];
                snprintf(want, sizeof want, "node %s: illegal transition from %s to %s", node,
                         cb_node_state_name(from), cb_node_state_name(to));
                ck_assert_str_eq(err.msg, want);
                ck_assert(memcmp(&before, &after, sizeof before) == 0);
                ck_assert_int_eq(count_events(l, node), events);
            }
        }
    }
    ck_assert_uint_eq(allowed + refused, CB_NODE__COUNT * CB_NODE__COUNT);
    ck_assert_uint_gt(allowed, 0);
    ck_assert_uint_gt(refused, 0);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_check_integrity(l, &err), 0);
    ledger_close(l);
}
END_TEST

START_TEST(test_transition_bad_arguments)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_intent in = intent("t", 1);
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 1, NULL, 0, &err), 0);
    ck_assert_int_eq(ledger_transition(l, "nope-0", CB_NODE_BOOTING, 2, NULL, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "has no node nope-0"));
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_transition(l, "t-0", (enum cb_node_state)42, 2, NULL, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_transition(l, "t 0;--", CB_NODE_BOOTING, 2, NULL, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_transition(l, "t-0", CB_NODE_BOOTING, -1, NULL, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    /* A detail from outside is stored sanitised. */
    ck_assert_int_eq(ledger_transition(l, "t-0", CB_NODE_BOOTING, 3, "ok\r\nFAKE\x1b[2J", &err), 0);
    struct ledger_event_filter f = {.node_id = "t-0", .limit = 1};
    struct ledger_event_list ev;
    ck_assert_int_eq(ledger_list_events(l, &f, &ev, &err), 0);
    ck_assert_str_eq(ev.items[0].detail, "ok??FAKE?[2J");
    ledger_event_list_free(&ev);
    ledger_close(l);
}
END_TEST

/* ---- instance, addresses, failures, adoption ---------------------------------- */

START_TEST(test_set_instance)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_intent in = intent("i", 2);
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 1, NULL, 0, &err), 0);
    ck_assert_int_eq(ledger_set_instance(l, "i-0", "i-0123456789abcdef0", 2, &err), 0);
    ck_assert_int_eq(count_events(l, "i-0"), 2);
    /* Same id again: nothing to record. */
    ck_assert_int_eq(ledger_set_instance(l, "i-0", "i-0123456789abcdef0", 3, &err), 0);
    ck_assert_int_eq(count_events(l, "i-0"), 2);
    struct ledger_node n;
    ck_assert_int_eq(ledger_get_node(l, "i-0", &n, &err), 0);
    ck_assert_str_eq(n.instance_id, "i-0123456789abcdef0");

    ck_assert_int_eq(ledger_set_instance(l, "i-0", "i-other", 4, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_str_eq(err.msg, "node i-0 already has instance i-0123456789abcdef0, refusing to "
                              "replace it with i-other");
    /* Two nodes of one cloud cannot share an instance. */
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_set_instance(l, "i-1", "i-0123456789abcdef0", 4, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "UNIQUE"));
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_set_instance(l, "i-1", "bad\nid", 4, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_str_eq(err.msg, "node i-1: instance id \"bad?id\" contains spaces or control "
                              "characters");
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_set_instance(l, "i-1", "", 4, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_set_instance(l, "zz-1", "x", 4, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ck_assert_int_eq(count_events(l, "i-1"), 1);
    ledger_close(l);
}
END_TEST

START_TEST(test_addresses)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_intent in = intent("a", 1);
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 1, NULL, 0, &err), 0);
    ck_assert_int_eq(ledger_set_addresses(l, "a-0", "10.0.0.5", "127.0.0.9", NULL, 2, &err), 0);
    ck_assert_int_eq(ledger_set_addresses(l, "a-0", NULL, "", "node5.cloud.example", 3, &err), 0);
    struct ledger_node n;
    ck_assert_int_eq(ledger_get_node(l, "a-0", &n, &err), 0);
    ck_assert_str_eq(n.private_addr, "10.0.0.5");
    ck_assert_str_eq(n.public_addr, "");
    ck_assert_str_eq(n.hostname, "node5.cloud.example");
    ck_assert_int_eq(ledger_set_addresses(l, "a-0", "10.0.0.5\x1b]0;x", NULL, NULL, 4, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_set_addresses(l, "a-9", "10.0.0.6", NULL, NULL, 4, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ck_assert_int_eq(count_events(l, "a-0"), 3);
    ledger_close(l);
}
END_TEST

/* What the pool last showed: idle and busy say it, a draining node keeps
 * its own word, and a node never seen has none. */
START_TEST(test_seen_busy)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_intent in = intent("s", 1);
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 1, NULL, 0, &err), 0);
    struct ledger_node n;
    ck_assert_int_eq(ledger_get_node(l, "s-0", &n, &err), 0);
    ck_assert_int_eq(n.seen_busy, -1);
    static const enum cb_node_state up[] = {CB_NODE_BOOTING, CB_NODE_BOOTSTRAPPING, CB_NODE_BUSY};
    for (size_t i = 0; i < sizeof up / sizeof up[0]; i++)
        ck_assert_int_eq(ledger_transition(l, "s-0", up[i], 2 + (int64_t)i, NULL, &err), 0);
    ck_assert_int_eq(ledger_get_node(l, "s-0", &n, &err), 0);
    ck_assert_int_eq(n.seen_busy, 1);
    ck_assert_int_eq(ledger_transition(l, "s-0", CB_NODE_IDLE, 10, NULL, &err), 0);
    ck_assert_int_eq(ledger_get_node(l, "s-0", &n, &err), 0);
    ck_assert_int_eq(n.seen_busy, 0);
    /* Draining keeps what idle said, until the daemon says otherwise. */
    ck_assert_int_eq(ledger_transition(l, "s-0", CB_NODE_DRAINING, 11, NULL, &err), 0);
    ck_assert_int_eq(ledger_get_node(l, "s-0", &n, &err), 0);
    ck_assert_int_eq(n.seen_busy, 0);
    long long before = count_events(l, "s-0");
    ck_assert_int_eq(ledger_set_seen_busy(l, "s-0", true, 12, &err), 0);
    ck_assert_int_eq(ledger_get_node(l, "s-0", &n, &err), 0);
    ck_assert_int_eq(n.seen_busy, 1);
    ck_assert_int_eq(n.state, CB_NODE_DRAINING);
    ck_assert_int_eq(n.state_since, 11);
    ck_assert_int_eq(ledger_set_seen_busy(l, "s-0", false, 13, &err), 0);
    ck_assert_int_eq(ledger_get_node(l, "s-0", &n, &err), 0);
    ck_assert_int_eq(n.seen_busy, 0);
    ck_assert_int_eq(count_events(l, "s-0"), before + 2);
    struct ledger_event_list ev;
    struct ledger_event_filter f = {.node_id = "s-0"};
    ck_assert_int_eq(ledger_list_events(l, &f, &ev, &err), 0);
    ck_assert_str_eq(ev.items[ev.n - 1].kind, "seen");
    ck_assert_str_eq(ev.items[ev.n - 1].detail, "empty");
    ledger_event_list_free(&ev);
    ck_assert_int_eq(ledger_set_seen_busy(l, "s-9", true, 14, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_set_seen_busy(l, "s-0", true, -5, &err), -1);
    ledger_close(l);
}
END_TEST

START_TEST(test_failure_is_sanitised_and_counted)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_intent in = intent("f", 1);
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 1, NULL, 0, &err), 0);
    ck_assert_int_eq(
        ledger_record_failure(l, "f-0", "ssh: timeout\r\nFAKE LOG\x1b[31m\xff", 2, &err), 0);
    char longtext[3000];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    ck_assert_int_eq(ledger_record_failure(l, "f-0", longtext, 3, &err), 0);
    struct ledger_node n;
    ck_assert_int_eq(ledger_get_node(l, "f-0", &n, &err), 0);
    ck_assert_uint_eq(n.failure_count, 2);
    ck_assert_uint_eq(strlen(n.last_error), LEDGER_TEXT_MAX - 1);
    ck_assert_int_eq(n.state, CB_NODE_REQUESTED);
    struct ledger_event_filter f = {.node_id = "f-0"};
    struct ledger_event_list ev;
    ck_assert_int_eq(ledger_list_events(l, &f, &ev, &err), 0);
    ck_assert_uint_eq(ev.n, 3);
    ck_assert_str_eq(ev.items[1].kind, "failure");
    ck_assert_str_eq(ev.items[1].detail, "ssh: timeout??FAKE LOG?[31m?");
    ledger_event_list_free(&ev);
    ck_assert_int_eq(ledger_record_failure(l, "f-0", NULL, 4, &err), 0);
    ck_assert_int_eq(ledger_get_node(l, "f-0", &n, &err), 0);
    ck_assert_str_eq(n.last_error, "unknown error");
    ck_assert_int_eq(ledger_record_failure(l, "nope", "x", 4, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ledger_close(l);
}
END_TEST

START_TEST(test_adoption)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_node n = {.batch_index = 2,
                            .cpus = 4,
                            .memory_mb = 8000,
                            .cost_per_hour = 0.1,
                            .state = CB_NODE_IDLE};
    cb_strlcpy(n.node_id, "old-2", sizeof n.node_id);
    cb_strlcpy(n.batch_id, "old", sizeof n.batch_id);
    cb_strlcpy(n.cloud, "os-site", sizeof n.cloud);
    cb_strlcpy(n.flavor, "m1.large", sizeof n.flavor);
    cb_strlcpy(n.image, "Debian 12 (cloud)", sizeof n.image);
    cb_strlcpy(n.instance_id, "5f1e-aa", sizeof n.instance_id);
    cb_strlcpy(n.private_addr, "127.0.0.44", sizeof n.private_addr);
    ck_assert_int_eq(ledger_record_adoption(l, &n, 77, &err), 0);
    struct ledger_node got;
    ck_assert_int_eq(ledger_get_node(l, "old-2", &got, &err), 0);
    ck_assert(got.adopted);
    ck_assert_int_eq(got.state, CB_NODE_IDLE);
    ck_assert_int_eq(got.state_at[CB_NODE_IDLE], 77);
    ck_assert_int_eq(got.state_at[CB_NODE_REQUESTED], -1);
    ck_assert_str_eq(got.instance_id, "5f1e-aa");
    ck_assert_str_eq(got.image, "Debian 12 (cloud)");
    ck_assert_str_eq(got.private_addr, "127.0.0.44");
    ck_assert_int_eq(got.seen_busy, 0);     /* adopted idle: the pool showed it empty */
    struct ledger_event_list ev;
    struct ledger_event_filter f = {.node_id = "old-2"};
    ck_assert_int_eq(ledger_list_events(l, &f, &ev, &err), 0);
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_str_eq(ev.items[0].kind, "adopt");
    ck_assert_int_eq(ev.items[0].to_state, CB_NODE_IDLE);
    ledger_event_list_free(&ev);
    /* Same node twice, or a state no instance can be adopted in. */
    ck_assert_int_eq(ledger_record_adoption(l, &n, 78, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    cb_strlcpy(n.node_id, "old-3", sizeof n.node_id);
    n.state = CB_NODE_GONE;
    ck_assert_int_eq(ledger_record_adoption(l, &n, 78, &err), -1);
    ck_assert_str_eq(err.msg, "node old-3: an adopted node cannot start in state gone");
    cb_err_clear(&err);
    n.state = CB_NODE_REQUESTED;
    ck_assert_int_eq(ledger_record_adoption(l, &n, 78, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    n.state = CB_NODE_BUSY;
    n.instance_id[0] = '\0';
    ck_assert_int_eq(ledger_record_adoption(l, &n, 78, &err), -1);
    ck_assert_str_eq(err.msg, "node old-3: instance id is empty");
    ledger_close(l);
}
END_TEST

/* ---- events, counts, listing ---------------------------------------------------- */

START_TEST(test_events_append_only_and_filters)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_intent in = intent("e", 2);
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 100, NULL, 0, &err), 0);
    ck_assert_int_eq(ledger_transition(l, "e-0", CB_NODE_BOOTING, 200, NULL, &err), 0);
    ck_assert_int_eq(ledger_transition(l, "e-0", CB_NODE_FAILED, 300, "boot timeout", &err), 0);
    ck_assert_int_eq(ledger_transition(l, "e-1", CB_NODE_GONE, 400, "never booted", &err), 0);

    struct ledger_event_filter f = {.since = 200};
    struct ledger_event_list ev;
    ck_assert_int_eq(ledger_list_events(l, &f, &ev, &err), 0);
    ck_assert_uint_eq(ev.n, 3);
    ck_assert_int_eq(ev.items[0].time, 200);
    ck_assert(ev.items[0].id < ev.items[1].id && ev.items[1].id < ev.items[2].id);
    ledger_event_list_free(&ev);
    f = (struct ledger_event_filter){.node_id = "e-0", .limit = 2};
    ck_assert_int_eq(ledger_list_events(l, &f, &ev, &err), 0);
    ck_assert_uint_eq(ev.n, 2);
    ck_assert_int_eq(ev.items[0].to_state, CB_NODE_BOOTING);
    ck_assert_int_eq(ev.items[1].to_state, CB_NODE_FAILED);
    ck_assert_str_eq(ev.items[1].detail, "boot timeout");
    ledger_event_list_free(&ev);

    /* Not even a direct SQL writer can rewrite history. */
    sqlite3 *db = raw_open();
    char *msg = NULL;
    ck_assert_int_ne(sqlite3_exec(db, "UPDATE events SET detail = 'x'", NULL, NULL, &msg),
                     SQLITE_OK);
    ck_assert_ptr_nonnull(strstr(msg, "events are append-only"));
    sqlite3_free(msg);
    msg = NULL;
    ck_assert_int_ne(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, &msg), SQLITE_OK);
    ck_assert_ptr_nonnull(strstr(msg, "events are append-only"));
    sqlite3_free(msg);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM events"), 5);
    sqlite3_close(db);
    ledger_close(l);
}
END_TEST

START_TEST(test_counts_and_filters)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_intent a = intent("a", 3), b = intent("b", 2);
    cb_strlcpy(b.cloud, "os-site", sizeof b.cloud);
    b.cpus = 4;
    b.cost_per_hour = 0.5;
    ck_assert_int_eq(ledger_record_boot_intent(l, &a, 1, NULL, 0, &err), 0);
    ck_assert_int_eq(ledger_record_boot_intent(l, &b, 1, NULL, 0, &err), 0);
    ck_assert_int_eq(ledger_transition(l, "a-0", CB_NODE_BOOTING, 2, NULL, &err), 0);
    ck_assert_int_eq(ledger_transition(l, "a-1", CB_NODE_GONE, 2, NULL, &err), 0);
    ck_assert_int_eq(ledger_transition(l, "b-1", CB_NODE_FAILED, 2, NULL, &err), 0);

    struct ledger_counts c;
    ck_assert_int_eq(ledger_count_nodes(l, &c, &err), 0);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_str_eq(c.clouds[0].cloud, "aws-eu");
    ck_assert_uint_eq(c.clouds[0].by_state[CB_NODE_REQUESTED], 1);
    ck_assert_uint_eq(c.clouds[0].by_state[CB_NODE_BOOTING], 1);
    ck_assert_uint_eq(c.clouds[0].by_state[CB_NODE_GONE], 1);
    ck_assert_uint_eq(c.clouds[0].live_cpus, 16);
    ck_assert(fabs(c.clouds[0].live_cost_per_hour - 0.5) < 1e-9);
    ck_assert_str_eq(c.clouds[1].cloud, "os-site");
    ck_assert_uint_eq(c.clouds[1].by_state[CB_NODE_FAILED], 1);
    ck_assert_uint_eq(c.clouds[1].live_cpus, 8);
    ck_assert(fabs(c.clouds[1].live_cost_per_hour - 1.0) < 1e-9);
    ledger_counts_free(&c);

    struct ledger_node_list list;
    struct ledger_node_filter f = {.cloud = "aws-eu", .live_only = true};
    ck_assert_int_eq(ledger_list_nodes(l, &f, &list, &err), 0);
    ck_assert_uint_eq(list.n, 2);
    ck_assert_str_eq(list.items[0].node_id, "a-0");
    ck_assert_str_eq(list.items[1].node_id, "a-2");
    ledger_node_list_free(&list);
    f = (struct ledger_node_filter){.by_state = true, .state = CB_NODE_FAILED};
    ck_assert_int_eq(ledger_list_nodes(l, &f, &list, &err), 0);
    ck_assert_uint_eq(list.n, 1);
    ck_assert_str_eq(list.items[0].node_id, "b-1");
    ledger_node_list_free(&list);
    f = (struct ledger_node_filter){.by_state = true, .state = (enum cb_node_state)99};
    ck_assert_int_eq(ledger_list_nodes(l, &f, &list, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    struct ledger_node n;
    ck_assert_int_eq(ledger_get_node(l, "zz\n", &n, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "has no node zz?"));
    ledger_close(l);
}
END_TEST

START_TEST(test_integrity_check_reports_damage)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    sqlite3 *db = raw_open();
    /* foreign_keys is off on this raw connection: an event for no node gets in. */
    ck_assert_int_eq(sqlite3_exec(db,
                                  "INSERT INTO events (time, node_id, kind) VALUES (1, 'ghost',"
                                  " 'transition')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(ledger_check_integrity(l, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "foreign_key_check"));
    ledger_close(l);
}
END_TEST

START_TEST(test_busy_writer_is_reported_and_changes_nothing)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 50, &err), 0);
    struct ledger_intent in = intent("w", 1);
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 1, NULL, 0, &err), 0);
    /* Another SQLite writer (a submitting cloudburstctl) holds the write lock. */
    sqlite3 *db = raw_open();
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(ledger_transition(l, "w-0", CB_NODE_BOOTING, 2, NULL, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_BUSY);
    ck_assert_ptr_nonnull(strstr(err.msg, "starting a transaction"));
    /* Readers are not blocked by a writer in WAL mode. */
    struct ledger_node n;
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_get_node(l, "w-0", &n, &err), 0);
    ck_assert_int_eq(n.state, CB_NODE_REQUESTED);
    ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(ledger_transition(l, "w-0", CB_NODE_BOOTING, 3, NULL, &err), 0);
    ck_assert_int_eq(count_events(l, "w-0"), 2);
    ledger_close(l);
}
END_TEST

/* ---- control plane: requests, cycles, flags ------------------------------------ */

START_TEST(test_admin_requests)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_intent in = intent("q", 1);
    ck_assert_int_eq(ledger_record_boot_intent(l, &in, 1, NULL, 0, &err), 0);

    /* cloudburstctl submits while the daemon holds the writer lock */
    struct ledger *sub = NULL;
    ck_assert_int_eq(ledger_open(&sub, dbpath, LEDGER_SUBMIT, 1000, &err), 0);
    int64_t id1 = 0, id2 = 0;
    ck_assert_int_eq(
        ledger_submit_request(sub, LEDGER_REQ_DRAIN, "q-0", false, "root\n", 10, &id1, &err), 0);
    ck_assert_int_eq(
        ledger_submit_request(sub, LEDGER_REQ_PAUSE, NULL, false, "alice", 11, &id2, &err), 0);
    ck_assert_int_gt(id2, id1);
    /* a submit handle writes nothing else */
    ck_assert_int_eq(ledger_transition(sub, "q-0", CB_NODE_BOOTING, 12, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "is open for admin requests only"));
    cb_err_clear(&err);
    ck_assert_int_eq(
        ledger_submit_request(sub, LEDGER_REQ_TERMINATE, "nope-0", true, "root", 12, NULL, &err),
        -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    cb_err_clear(&err);
    ck_assert_int_eq(
        ledger_submit_request(sub, LEDGER_REQ_PAUSE, "q-0", false, "root", 12, NULL, &err), -1);
    ck_assert_str_eq(err.msg, "pause takes no node id");
    cb_err_clear(&err);
    ck_assert_int_eq(
        ledger_submit_request(sub, LEDGER_REQ_DRAIN, NULL, false, "root", 12, NULL, &err), -1);
    ck_assert_str_eq(err.msg, "drain needs a node id");
    cb_err_clear(&err);
    ledger_close(sub);

    struct ledger *ro = NULL;
    ck_assert_int_eq(ledger_open(&ro, dbpath, LEDGER_READ_ONLY, 0, &err), 0);
    ck_assert_int_eq(
        ledger_submit_request(ro, LEDGER_REQ_RESUME, NULL, false, "root", 12, NULL, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    ledger_close(ro);

    /* the daemon handles them */
    struct ledger_request_list q;
    ck_assert_int_eq(ledger_list_requests(l, true, &q, &err), 0);
    ck_assert_uint_eq(q.n, 2);
    ck_assert_int_eq(q.items[0].kind, LEDGER_REQ_DRAIN);
    ck_assert_str_eq(q.items[0].node_id, "q-0");
    ck_assert_str_eq(q.items[0].requested_by, "root?");
    ck_assert_int_eq(q.items[0].status, LEDGER_REQ_PENDING);
    ck_assert_int_eq(q.items[0].handled_at, -1);
    ck_assert_int_eq(q.items[1].kind, LEDGER_REQ_PAUSE);
    ck_assert_str_eq(q.items[1].node_id, "");
    ledger_request_list_free(&q);
    ck_assert_int_eq(ledger_finish_request(l, id1, LEDGER_REQ_DONE, "draining", 20, &err), 0);
    ck_assert_int_eq(ledger_finish_request(l, id1, LEDGER_REQ_REJECTED, "again", 21, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "is not pending"));
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_finish_request(l, id2, LEDGER_REQ_PENDING, "x", 21, &err), -1);
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_list_requests(l, true, &q, &err), 0);
    ck_assert_uint_eq(q.n, 1);
    ck_assert_int_eq(q.items[0].id, id2);
    ledger_request_list_free(&q);
    ck_assert_int_eq(ledger_list_requests(l, false, &q, &err), 0);
    ck_assert_uint_eq(q.n, 2);
    ck_assert_int_eq(q.items[0].status, LEDGER_REQ_DONE);
    ck_assert_int_eq(q.items[0].handled_at, 20);
    ck_assert_str_eq(q.items[0].result, "draining");
    ledger_request_list_free(&q);

    struct ledger_event_filter f = {.node_id = "q-0", .limit = 1};
    struct ledger_event_list ev;
    ck_assert_int_eq(ledger_list_events(l, &f, &ev, &err), 0);
    ck_assert_str_eq(ev.items[0].kind, "request");
    char want[128];
    snprintf(want, sizeof want, "drain requested by root? (request %lld)", (long long)id1);
    ck_assert_str_eq(ev.items[0].detail, want);
    ledger_event_list_free(&ev);

    enum ledger_request_kind k;
    ck_assert_int_eq(ledger_request_kind_parse("terminate", &k), 0);
    ck_assert_int_eq(k, LEDGER_REQ_TERMINATE);
    ck_assert_int_eq(ledger_request_kind_parse("reboot", &k), -1);
    ck_assert_str_eq(ledger_request_status_name(LEDGER_REQ_REJECTED), "rejected");
    ledger_close(l);
}
END_TEST

START_TEST(test_cycles_and_decisions)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    struct ledger_cycle c;
    struct ledger_decision_list dl;
    ck_assert_int_eq(ledger_last_cycle(l, &c, &dl, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    cb_err_clear(&err);
    for (int64_t id = 1; id <= 4; id++) {
        struct ledger_cycle cy = {.id = id,
                                  .started_at = 100 * id,
                                  .finished_at = 100 * id + 3,
                                  .idle_jobs = (uint64_t)(10 * id),
                                  .dry_run = id == 4};
        snprintf(cy.summary, sizeof cy.summary, "cycle %lld\x1b", (long long)id);
        struct ledger_decision d[2] = {
            {.action = "boot",
             .taken = true,
             .cloud = "aws-eu",
             .flavor = "c5.large",
             .count = 3,
             .reason = "demand",
             .detail = "12 idle jobs"},
            {.action = "boot",
             .taken = false,
             .cloud = "os-site",
             .count = 2,
             .reason = "budget_cap",
             .detail = "0.90/h of 1.00/h"},
        };
        ck_assert_msg(ledger_record_cycle(l, &cy, d, 2, 3, &err) == 0, "%s", err.msg);
    }
    ck_assert_int_eq(ledger_last_cycle(l, &c, &dl, &err), 0);
    ck_assert_int_eq(c.id, 4);
    ck_assert(c.dry_run);
    ck_assert_int_eq(c.finished_at, 403);
    ck_assert_uint_eq(c.idle_jobs, 40);
    ck_assert_str_eq(c.summary, "cycle 4?");
    ck_assert_uint_eq(dl.n, 2);
    ck_assert(dl.items[0].taken);
    ck_assert_uint_eq(dl.items[0].count, 3);
    ck_assert(!dl.items[1].taken);
    ck_assert_str_eq(dl.items[1].reason, "budget_cap");
    ck_assert_str_eq(dl.items[1].cloud, "os-site");
    ledger_decision_list_free(&dl);
    sqlite3 *db = raw_open();
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM cycles"), 3);
    ck_assert_int_eq(raw_int(db, "SELECT min(id) FROM cycles"), 2);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM decisions"), 6);
    sqlite3_close(db);

    struct ledger_cycle dup = {.id = 4, .started_at = 500};
    struct ledger_decision one = {.action = "none", .reason = "no_demand"};
    ck_assert_int_eq(ledger_record_cycle(l, &dup, &one, 1, 3, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    struct ledger_cycle c5 = {.id = 5, .started_at = 500, .finished_at = -1};
    struct ledger_decision noreason = {.action = "boot"};
    ck_assert_int_eq(ledger_record_cycle(l, &c5, &noreason, 1, 3, &err), -1);
    ck_assert_str_eq(err.msg, "cycle 5: decision 0 needs an action and a reason");
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_record_cycle(l, &c5, NULL, 0, 0, &err), -1);
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_last_cycle(l, &c, &dl, &err), 0);
    ck_assert_int_eq(c.id, 4); /* the failed cycle 5 left nothing */
    ledger_decision_list_free(&dl);
    ck_assert_int_eq(ledger_record_cycle(l, &c5, NULL, 0, 1, &err), 0);
    ck_assert_int_eq(ledger_last_cycle(l, &c, &dl, &err), 0);
    ck_assert_int_eq(c.id, 5);
    ck_assert_int_eq(c.finished_at, -1);
    ck_assert_uint_eq(dl.n, 0);
    ledger_decision_list_free(&dl);
    db = raw_open();
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM decisions"), 0);
    sqlite3_close(db);
    ledger_close(l);
}
END_TEST

START_TEST(test_controller_flags)
{
    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    char v[64];
    int64_t at;
    ck_assert_int_eq(ledger_get_flag(l, "paused", v, sizeof v, &at, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ck_assert_str_eq(err.msg, "flag paused is not set");
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_set_flag(l, "paused", "1", 50, &err), 0);
    ck_assert_int_eq(ledger_set_flag(l, "paused", "0", 60, &err), 0);
    ck_assert_int_eq(ledger_get_flag(l, "paused", v, sizeof v, &at, &err), 0);
    ck_assert_str_eq(v, "0");
    ck_assert_int_eq(at, 60);
    ck_assert_int_eq(ledger_set_flag(l, "bad key", "1", 60, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_int_eq(count_events(l, NULL), 2);
    ledger_close(l);
    struct ledger *ro = NULL;
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_open(&ro, dbpath, LEDGER_READ_ONLY, 0, &err), 0);
    ck_assert_int_eq(ledger_get_flag(ro, "paused", v, sizeof v, NULL, &err), 0);
    ck_assert_str_eq(v, "0");
    ck_assert_int_eq(ledger_set_flag(ro, "paused", "1", 70, &err), -1);
    ledger_close(ro);
}
END_TEST

/* ---- schema: migrations, newer and foreign files ------------------------------ */

/* Data a ledger of each old version can hold, written with that version's SQL. */
static void seed_old(int version)
{
    sqlite3 *db = raw_open();
    char *msg = NULL;
    int rc = sqlite3_exec(db,
                          "INSERT INTO nodes (node_id, batch_id, batch_index, cloud, flavor,"
                          " image, instance_id, state, state_since, requested_at, booting_at,"
                          " failure_count, last_error)"
                          " VALUES ('old-0', 'old', 0, 'aws-eu', 'm5.large', 'ami-1', 'i-9',"
                          " 'booting', 20, 10, 20, 1, 'quota');"
                          "INSERT INTO events (time, node_id, kind, to_state, detail)"
                          " VALUES (10, 'old-0', 'intent', 'requested', 'from v1');",
                          NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "v%d seed: %s", version, msg ? msg : "");
    if (version >= 2)
        ck_assert_int_eq(sqlite3_exec(db,
                                      "UPDATE nodes SET cpus = 2, memory_mb = 8192,"
                                      " cost_per_hour = 0.1",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(db);
}

static char *schema_text(const char *path)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT type || ' ' || name || ' ' || COALESCE(sql, '')"
                                        " FROM sqlite_master ORDER BY type, name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    size_t cap = 1 << 16, n = 0;
    char *out = calloc(1, cap);
    ck_assert_ptr_nonnull(out);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        size_t len = strlen(t);
        ck_assert_uint_lt(n + len + 2, cap);
        memcpy(out + n, t, len);
        n += len;
        out[n++] = '\n';
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

START_TEST(test_migrates_from_every_earlier_schema)
{
    char fresh[600];
    snprintf(fresh, sizeof fresh, "%s/fresh.db", tmpdir);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_create_at_version(fresh, LEDGER_SCHEMA_VERSION, &err), 0);
    char *want = schema_text(fresh);

    for (int v = 1; v < LEDGER_SCHEMA_VERSION; v++) {
        unlink(dbpath);
        ck_assert_msg(ledger_create_at_version(dbpath, v, &err) == 0, "v%d: %s", v, err.msg);
        seed_old(v);
        /* A reader cannot migrate, and says what to do. */
        struct ledger *l = NULL;
        ck_assert_int_eq(ledger_open(&l, dbpath, LEDGER_READ_ONLY, 0, &err), -1);
        ck_assert_int_eq(err.code, CB_ERR_VERSION);
        ck_assert_ptr_nonnull(strstr(err.msg, "start cloudburstd once to migrate it"));
        cb_err_clear(&err);

        l = open_rw();
        ck_assert_int_eq(ledger_schema_version(l), LEDGER_SCHEMA_VERSION);
        ck_assert_int_eq(ledger_check_integrity(l, &err), 0);
        struct ledger_node n;
        ck_assert_int_eq(ledger_get_node(l, "old-0", &n, &err), 0);
        ck_assert_int_eq(n.state, CB_NODE_BOOTING);
        ck_assert_int_eq(n.state_at[CB_NODE_REQUESTED], 10);
        ck_assert_str_eq(n.instance_id, "i-9");
        ck_assert_str_eq(n.last_error, "quota");
        ck_assert_uint_eq(n.cpus, v >= 2 ? 2 : 0); /* 0 = unknown for pre-accounting rows */
        ck_assert_uint_eq(n.memory_mb, v >= 2 ? 8192 : 0);
        ck_assert_int_eq(n.seen_busy, -1);  /* unknown: the restart assumes the worst */
        ck_assert_int_eq(count_events(l, "old-0"), 1);
        /* and the migrated ledger works like a new one */
        ck_assert_int_eq(ledger_transition(l, "old-0", CB_NODE_BOOTSTRAPPING, 30, NULL, &err), 0);
        ledger_close(l);
        ck_assert_int_eq(ledger_open(&l, dbpath, LEDGER_READ_ONLY, 0, &err), 0);
        ledger_close(l);

        char *got = schema_text(dbpath);
        ck_assert_str_eq(got, want);
        free(got);
        char wal[700];
        snprintf(wal, sizeof wal, "%s-wal", dbpath);
        unlink(wal);
    }
    free(want);
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_create_at_version(fresh, 1, &err), -1); /* exists */
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_create_at_version(dbpath, LEDGER_SCHEMA_VERSION + 1, &err), -1);
}
END_TEST

/* A migration that fails half-way leaves the previous version exactly. */
START_TEST(test_failed_migration_is_rolled_back)
{
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_create_at_version(dbpath, 1, &err), 0);
    seed_old(1);
    /* Tampered: step 2's second ALTER (memory_mb) will fail after its first (cpus) ran. */
    sqlite3 *db = raw_open();
    ck_assert_int_eq(
        sqlite3_exec(db, "ALTER TABLE nodes ADD COLUMN memory_mb TEXT", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct ledger *l = NULL;
    ck_assert_int_eq(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 0, &err), -1);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(
        strstr(err.msg, "migrating to schema 2: duplicate column name: memory_mb"));
    db = raw_open();
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 1);
    ck_assert_int_eq(
        raw_int(db, "SELECT count(*) FROM pragma_table_info('nodes') WHERE name = 'cpus'"), 0);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM nodes"), 1);
    sqlite3_close(db);
    /* and the lock was released with the failed open */
    cb_err_clear(&err);
    ck_assert_int_eq(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 0, &err), -1);
    ck_assert_int_ne(err.code, CB_ERR_BUSY);
}
END_TEST

/* Open must fail with `code`/`text` and leave the file byte for byte as it was. */
static void assert_refused_untouched(enum ledger_mode mode, enum cb_errcode code, const char *text)
{
    size_t len0, len1;
    char *before = slurp(dbpath, &len0);
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_open(&l, dbpath, mode, 0, &err), -1);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(strstr(err.msg, text), "%s", err.msg);
    char *after = slurp(dbpath, &len1);
    ck_assert_uint_eq(len0, len1);
    ck_assert(memcmp(before, after, len0) == 0);
    free(before);
    free(after);
}

START_TEST(test_newer_schema_refused_untouched)
{
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(ledger_create_at_version(dbpath, LEDGER_SCHEMA_VERSION, &err), 0);
    sqlite3 *db = raw_open();
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", LEDGER_SCHEMA_VERSION + 1);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char want[800];
    snprintf(want, sizeof want,
             "ledger %s has schema version %d, newer than this cloudburst understands (%d): "
             "refusing to touch it (upgrade cloudburst)",
             dbpath, LEDGER_SCHEMA_VERSION + 1, LEDGER_SCHEMA_VERSION);
    assert_refused_untouched(LEDGER_READ_WRITE, CB_ERR_VERSION, want);
    assert_refused_untouched(LEDGER_READ_ONLY, CB_ERR_VERSION, want);
    /* still in rollback-journal mode: setting WAL would have changed the header */
    db = raw_open();
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), LEDGER_SCHEMA_VERSION + 1);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_foreign_files_refused_untouched)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE photos (id INTEGER)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_refused_untouched(LEDGER_READ_WRITE, CB_ERR_INVALID,
                             "is not a cloudburst ledger (application_id 0x0): refusing");
    unlink(dbpath);

    FILE *f = fopen(dbpath, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 200; i++)
        fputs("this is a text file, not a database\n", f);
    fclose(f);
    assert_refused_untouched(LEDGER_READ_WRITE, CB_ERR_INVALID, "(not a SQLite database)");
    assert_refused_untouched(LEDGER_READ_ONLY, CB_ERR_INVALID, "(not a SQLite database)");
}
END_TEST

/* ---- crash safety ------------------------------------------------------------ */

/* The child writes batches of 1..5 nodes forever, reporting each batch on the
 * pipe only after ledger_record_boot_intent returned (committed). */
static void crash_child(int round, int fd)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    if (ledger_open(&l, dbpath, LEDGER_READ_WRITE, 5000, &err) != 0)
        _exit(3);
    for (int k = 0;; k++) {
        char batch[48];
        unsigned count = 1 + (unsigned)(k % 5);
        snprintf(batch, sizeof batch, "r%dk%dn%u", round, k, count);
        struct ledger_intent in = intent(batch, count);
        if (ledger_record_boot_intent(l, &in, 1000 + k, NULL, 0, &err) != 0)
            _exit(4);
        char line[64];
        int len = snprintf(line, sizeof line, "%s\n", batch);
        if (write(fd, line, (size_t)len) != len)
            _exit(6);
        /* and a transition, so kills also land inside those transactions */
        char node[64];
        snprintf(node, sizeof node, "%s-0", batch);
        if (k % 2 == 0 && ledger_transition(l, node, CB_NODE_BOOTING, 2000 + k, "up", &err) != 0)
            _exit(5);
    }
}

START_TEST(test_crash_safety_kill9)
{
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    const char *s = getenv("CB_TEST_SEED");
    if (s && *s)
        seed = (unsigned)strtoul(s, NULL, 10);
    fprintf(stderr, "test_crash_safety_kill9: seed %u (set CB_TEST_SEED to repeat)\n", seed);
    srand(seed);
    char reported[4096][48];
    size_t n_reported = 0;
    const int rounds = 25;
    for (int round = 0; round < rounds; round++) {
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(p[0]);
            crash_child(round, p[1]);
        }
        close(p[1]);
        FILE *in = fdopen(p[0], "r");
        ck_assert_ptr_nonnull(in);
        /* Let it commit a random number of batches, then kill it at a random
         * point of whatever it is doing next. */
        int wait_for = rand() % 12;
        char line[64];
        for (int i = 0; i < wait_for && fgets(line, sizeof line, in); i++) {
            line[strcspn(line, "\n")] = '\0';
            ck_assert_uint_lt(n_reported, 4096);
            cb_strlcpy(reported[n_reported++], line, 48);
        }
        struct timespec ts = {0, (long)(rand() % 3000) * 1000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "child exited by itself with status %d", status);
        while (fgets(line, sizeof line, in)) { /* what it reported before dying */
            line[strcspn(line, "\n")] = '\0';
            ck_assert_uint_lt(n_reported, 4096);
            cb_strlcpy(reported[n_reported++], line, 48);
        }
        fclose(in);
    }

    struct ledger *l = open_rw();
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(ledger_check_integrity(l, &err) == 0, "%s", err.msg);
    /* Every reported batch is complete. */
    for (size_t i = 0; i < n_reported; i++) {
        struct ledger_node_filter f = {.batch_id = reported[i]};
        struct ledger_node_list list;
        ck_assert_int_eq(ledger_list_nodes(l, &f, &list, &err), 0);
        unsigned want = (unsigned)strtoul(strrchr(reported[i], 'n') + 1, NULL, 10);
        ck_assert_msg(list.n == want, "batch %s has %zu of %u nodes", reported[i], list.n, want);
        ledger_node_list_free(&list);
    }
    /* No batch in the ledger is half there, reported or not. */
    struct ledger_node_list all;
    ck_assert_int_eq(ledger_list_nodes(l, NULL, &all, &err), 0);
    ck_assert_uint_ge(all.n, n_reported);
    for (size_t i = 0; i < all.n;) {
        const char *batch = all.items[i].batch_id;
        unsigned want = (unsigned)strtoul(strrchr(batch, 'n') + 1, NULL, 10);
        size_t j = i;
        while (j < all.n && strcmp(all.items[j].batch_id, batch) == 0) {
            ck_assert_uint_eq(all.items[j].batch_index, j - i);
            j++;
        }
        ck_assert_msg(j - i == want, "batch %s has %zu of %u nodes", batch, j - i, want);
        i = j;
    }
    long long nodes = (long long)all.n, booting = 0;
    for (size_t i = 0; i < all.n; i++) {
        if (all.items[i].state == CB_NODE_BOOTING) {
            booting++;
            ck_assert_int_eq(all.items[i].state_at[CB_NODE_BOOTING], all.items[i].state_since);
        } else {
            ck_assert_int_eq(all.items[i].state, CB_NODE_REQUESTED);
        }
    }
    ledger_node_list_free(&all);
    /* one intent event per node plus one per transition: nothing half-written */
    ck_assert_int_eq(count_events(l, NULL), nodes + booting);
    fprintf(stderr, "test_crash_safety_kill9: %d kills, %zu batches reported, %lld nodes\n", rounds,
            n_reported, nodes);
    ledger_close(l);
}
END_TEST

static Suite *ledger_suite(void)
{
    Suite *s = suite_create("ledger");
    TCase *tc = tcase_create("ledger");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_open_creates_wal_ledger_with_lock);
    tcase_add_test(tc, test_second_writer_refused_with_pid);
    tcase_add_test(tc, test_writer_lock_across_processes);
    tcase_add_test(tc, test_bad_paths_and_arguments);
    tcase_add_test(tc, test_boot_intent_is_one_batch);
    tcase_add_test(tc, test_bad_intents_write_nothing);
    tcase_add_test(tc, test_every_transition_pair);
    tcase_add_test(tc, test_transition_bad_arguments);
    tcase_add_test(tc, test_set_instance);
    tcase_add_test(tc, test_addresses);
    tcase_add_test(tc, test_seen_busy);
    tcase_add_test(tc, test_failure_is_sanitised_and_counted);
    tcase_add_test(tc, test_adoption);
    tcase_add_test(tc, test_events_append_only_and_filters);
    tcase_add_test(tc, test_counts_and_filters);
    tcase_add_test(tc, test_integrity_check_reports_damage);
    tcase_add_test(tc, test_busy_writer_is_reported_and_changes_nothing);
    tcase_add_test(tc, test_admin_requests);
    tcase_add_test(tc, test_cycles_and_decisions);
    tcase_add_test(tc, test_controller_flags);
    tcase_add_test(tc, test_migrates_from_every_earlier_schema);
    tcase_add_test(tc, test_failed_migration_is_rolled_back);
    tcase_add_test(tc, test_newer_schema_refused_untouched);
    tcase_add_test(tc, test_foreign_files_refused_untouched);
    tcase_add_test(tc, test_crash_safety_kill9);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ledger_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
