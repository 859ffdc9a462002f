/* pool_parse: the pure half of the HTCondor pool adapter: turns condor tool
 * output into observations (core/observe.h). No processes, no clock, no I/O:
 * bytes go in through *_feed() as they arrive from a pipe, in chunks of any
 * size, and aggregated data comes out. src/pool_run.c runs the tools and feeds
 * these parsers; the fuzz targets and the benchmark feed them directly.
 *
 * Formats (chosen by measurement, see bench/bench_pool.c and pool.h):
 * - Demand: `condor_q -af:t <columns>`: one line per idle job, columns
 *   tab-separated and EVALUATED by condor_q, so RequestMemory written as an
 *   expression comes back as a number and each cloud's eligibility expression
 *   becomes one true/false column. Lines are aggregated into job shapes as
 *   they arrive, so memory grows with distinct shapes, never with jobs.
 * - Supply: `condor_status [-startd] -json -attributes ...`: few ads, values
 *   with free text (DrainReason), lists (ChildState) and "\/Expr(...)\/"
 *   strings, which JSON carries unambiguously and -af does not. The layout
 *   HTCondor 25 prints is "[", objects separated by ",", "]", and nothing at
 *   all when no ad matches; each object is parsed on its own with json-c, so
 *   memory is bounded by the largest ad, not by the output.
 * - Totals: `condor_q -totals`: the "Total for query: ... I idle" lines.
 *
 * Limits: a demand or totals line longer than POOL_MAX_LINE bytes, a JSON ad
 * longer than POOL_MAX_AD bytes, more than POOL_MAX_NODES machines, or more
 * than POOL_MAX_SHAPES distinct job shapes (the demand is then partial) are
 * errors or partial results, never unbounded growth.
 *
 * Errors name the tool's output line ("condor_q:12"); every parser has one
 * failure path: the first error is kept in the caller's cb_err and the parser
 * refuses further input (feed returns -1 again) until it is freed.
 * Strings stored in observations are sanitised (cb_sanitize).
 */
#ifndef CB_POOL_PARSE_H
#define CB_POOL_PARSE_H

#include "cb_error.h"
#include "core/observe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POOL_MAX_LINE (64 * 1024)       /* bytes of one -af:t / -totals line */
#define POOL_MAX_AD (1024 * 1024)       /* bytes of one JSON ad */
#define POOL_MAX_SHAPES 65536           /* distinct job shapes kept */
#define POOL_MAX_NODES 100000           /* cloud nodes (machines), and StartD ads */
#define POOL_RUNTIME_BUCKET 600         /* runtime hints rounded up to 10 minutes */
#define POOL_MAX_RUNTIME_COLS 3

/* ---- line splitter --------------------------------------------------- */

/* Called once per complete line (without its '\n'; the text is NUL-
 * terminated in place and may be modified). Return 0 or -1 (err filled). */
typedef int (*pool_line_fn)(void *ctx, const char *origin, char *line, size_t len,
                            unsigned long lineno, struct cb_err *err);

struct pool_lines {
    char *buf;                  /* partial line carried between chunks */
    size_t len;
    size_t max;                 /* longest line accepted */
    unsigned long lineno;       /* lines completed so far */
    const char *origin;         /* tool name for messages, e.g. "condor_q" */
    pool_line_fn fn;
    void *ctx;
    bool failed;
};

/* Prepare a splitter (origin is kept by pointer). Returns 0, or -1 on ENOMEM. */
int pool_lines_init(struct pool_lines *l, const char *origin, size_t max_line, pool_line_fn fn,
                    void *ctx, struct cb_err *err);
int pool_lines_feed(struct pool_lines *l, const char *data, size_t n, struct cb_err *err);
/* End of output: a last line without '\n' means the output was cut: error. */
int pool_lines_finish(struct pool_lines *l, struct cb_err *err);
void pool_lines_free(struct pool_lines *l);

/* ---- demand: condor_q -af:t ------------------------------------------ */

/* Column layout, fixed by pool_demand_columns():
 *   ClusterId ProcId RequestCpus RequestMemory RequestDisk QDate Owner
 *   JobUniverse <runtime columns (1..3)> <one eligibility column per cloud> */
#define POOL_DEMAND_FIXED_COLS 8

struct pool_shape_index {
    uint32_t *slots;            /* shape index + 1, 0 = empty */
    size_t cap;                 /* power of two */
};

/* The aggregator: one per query, shared by the splitters of every schedd's
 * condor_q run (each has its own struct pool_lines with fn = pool_demand_line
 * and ctx = the parser), so equal shapes from different schedds merge. */
struct pool_demand_parser {
    struct cb_demand *out;      /* filled, not owned */
    unsigned n_clouds;
    unsigned n_runtime_cols;
    unsigned n_cols;
    struct pool_shape_index index;
    uint64_t jobs_seen;         /* lines parsed */
    uint64_t jobs_skipped;      /* no cloud eligible, non-startd universe, "error" values */
    uint64_t jobs_dropped;      /* beyond POOL_MAX_SHAPES: the demand is then partial */
};

/* out must be empty; it is filled as lines arrive. */
int pool_demand_init(struct pool_demand_parser *p, struct cb_demand *out, unsigned n_clouds,
                     unsigned n_runtime_cols, struct cb_err *err);
/* A pool_line_fn: parse one job line and add it to its shape. */
int pool_demand_line(void *ctx, const char *origin, char *line, size_t len,
                     unsigned long lineno, struct cb_err *err);
/* Marks out->partial when shapes beyond POOL_MAX_SHAPES had to be dropped. */
void pool_demand_finish(struct pool_demand_parser *p);
void pool_demand_parser_free(struct pool_demand_parser *p);

/* Sort shapes: most jobs first, then by cpus, memory, disk, runtime, clouds
 * (deterministic output for the CLI and the tests). */
void pool_demand_sort(struct cb_demand *d);

/* ---- totals: condor_q -totals ---------------------------------------- */

struct pool_totals_parser {
    uint64_t idle;              /* sum of "I idle" over "Total for query" lines */
    unsigned schedds;           /* "Total for query" lines seen */
    unsigned failed;            /* "Failed to fetch ads" lines seen */
    char failure[160];          /* the first such line, sanitised */
};

/* A pool_line_fn (ctx = struct pool_totals_parser, zeroed by the caller). */
int pool_totals_line(void *ctx, const char *origin, char *line, size_t len,
                     unsigned long lineno, struct cb_err *err);

/* ---- JSON ad stream (condor_status -json) ---------------------------- */

struct json_object;
struct json_tokener;

/* Called with each complete ad (borrowed: valid during the call only). */
typedef int (*pool_ad_fn)(void *ctx, const char *origin, struct json_object *ad,
                          unsigned long lineno, struct cb_err *err);

struct pool_json_stream {
    struct json_tokener *tok;
    int state;
    unsigned long lineno;       /* 1-based line of the current byte */
    unsigned long ad_line;      /* line where the current ad began */
    size_t ad_bytes;
    size_t ads;
    const char *origin;
    pool_ad_fn fn;
    void *ctx;
    bool failed;
};

int pool_json_init(struct pool_json_stream *s, const char *origin, pool_ad_fn fn, void *ctx,
                   struct cb_err *err);
int pool_json_feed(struct pool_json_stream *s, const char *data, size_t n, struct cb_err *err);
/* Empty output is zero ads (HTCondor 25 prints nothing when nothing matches);
 * an unclosed array or ad is an error. */
int pool_json_finish(struct pool_json_stream *s, struct cb_err *err);
void pool_json_free(struct pool_json_stream *s);

/* ---- supply: slot ads and StartD daemon ads -------------------------- */

/* Per-node facts needed while aggregating that the core does not see. */
struct pool_node_extra {
    char drain_target[CB_HOST_MAX]; /* a slot Name ("slot1@vm"): condor_drain resolves it */
    bool drain_target_dynamic;      /* drain_target came from a dynamic slot */
    uint32_t dyn_claimed;           /* dynamic slot ads in Claimed state */
    uint32_t child_claimed;         /* "Claimed" entries of the p-slots' ChildState */
    uint32_t static_claimed;
    bool pslot_carved;              /* some p-slot has Cpus < TotalSlotCpus */
    bool runtime_unknown;           /* a claimed slot without JobStart + runtime hint */
    int64_t end_max;                /* latest JobStart + runtime of claimed slots */
    int64_t idle_max;               /* latest EnteredCurrentActivity / NumDynamicSlotsTime */
    char drain_reason[128];         /* from the StartD ad, sanitised */
};

/* What a StartD daemon ad says; kept until pool_supply_finish() because the
 * slot and daemon queries run concurrently. */
struct pool_startd_info {
    char machine[CB_HOST_MAX];
    bool draining;
    char drain_reason[128];
    int64_t daemon_start_time;
};

struct pool_supply_builder {
    struct cb_supply *out;          /* filled, not owned */
    struct pool_node_extra *extra;  /* parallel to out->nodes */
    size_t extra_cap;
    uint32_t *index;                /* machine hash -> node index + 1 */
    size_t index_cap;
    char runtime_attrs[POOL_MAX_RUNTIME_COLS][64];
    unsigned n_runtime_attrs;
    struct pool_startd_info *startds;
    size_t n_startds, startds_cap;
    size_t slot_ads;
};

/* runtime_attrs: the job attributes a claimed slot may carry (via
 * STARTD_JOB_ATTRS) to estimate when its job ends; NULL-terminated, may be NULL. */
int pool_supply_init(struct pool_supply_builder *b, struct cb_supply *out,
                     const char *const *runtime_attrs, struct cb_err *err);
/* pool_ad_fns (ctx = the builder). A slot ad (MyType "Machine") is
 * aggregated into its Machine's node; a StartD daemon ad (condor_status
 * -startd) gives Draining and DrainReason. A slot ad without Name, Machine,
 * State or Cpus is an error naming the line. */
int pool_supply_slot_ad(void *ctx, const char *origin, struct json_object *ad,
                        unsigned long lineno, struct cb_err *err);
int pool_supply_startd_ad(void *ctx, const char *origin, struct json_object *ad,
                          unsigned long lineno, struct cb_err *err);
/* Derive busy/idle_since/expected_empty_at and sort nodes by machine. No
 * ads may be added afterwards. */
void pool_supply_finish(struct pool_supply_builder *b);
/* The extra facts of node i (valid until the builder is freed). */
const struct pool_node_extra *pool_supply_extra(const struct pool_supply_builder *b, size_t i);
void pool_supply_builder_free(struct pool_supply_builder *b);

/* The value a JSON ad field holds if it is a plain literal. "\/Expr(...)\/"
 * strings (unevaluated expressions) and missing keys give false. */
bool pool_json_int(struct json_object *ad, const char *key, int64_t *out);
bool pool_json_is_expr(struct json_object *ad, const char *key);

#endif
