/* metrics: Prometheus text exposition (format 0.0.4) of what the controller
 * does, served over HTTP on the daemon's loop and/or written to a textfile
 * for node_exporter's textfile collector.
 *
 * The registry is a set of metric families (name, help, type) with labelled
 * samples. The cycle sets gauges and bumps counters after each decide; the
 * exposition is rendered on demand from the registry, so a scrape never sees
 * half a cycle. Names and units follow Prometheus conventions
 * (cloudburst_*_total for counters, _seconds for durations).
 *
 * Label values are escaped as the format requires (\\, \", \n); names are
 * checked against [a-zA-Z_:][a-zA-Z0-9_:]* when registered. The HTTP server
 * answers GET /metrics (and GET /) with the exposition, anything else with
 * 404, one request per connection, requests capped at 8 KiB, and closes idle
 * connections after 10 s. It is meant for loopback or a management network.
 */
#ifndef CB_METRICS_H
#define CB_METRICS_H

#include "cb_error.h"

#include <stddef.h>
#include <stdio.h>
#include <uv.h>

enum cb_metric_type { CB_METRIC_COUNTER = 0, CB_METRIC_GAUGE, CB_METRIC_HISTOGRAM };

struct cb_metrics;

int cb_metrics_new(struct cb_metrics **out, struct cb_err *err);
void cb_metrics_free(struct cb_metrics *m);

/* Register a family once (idempotent for the same name and type). For
 * histograms, `buckets` are the upper bounds (ascending, +Inf implied). */
int cb_metrics_family(struct cb_metrics *m, const char *name, enum cb_metric_type type,
                      const char *help, const double *buckets, size_t n_buckets,
                      struct cb_err *err);

/* Labels are given as "k1", "v1", "k2", "v2", ... NULL-terminated. */
int cb_metrics_set(struct cb_metrics *m, const char *name, double value, ...);
int cb_metrics_add(struct cb_metrics *m, const char *name, double delta, ...);
int cb_metrics_observe(struct cb_metrics *m, const char *name, double value, ...);

/* Drop every sample of a gauge family (before setting this cycle's values,
 * so a label set that disappeared does not linger). */
void cb_metrics_clear(struct cb_metrics *m, const char *name);

/* Render the exposition into a malloc'ed string (*out, *len). */
int cb_metrics_render(const struct cb_metrics *m, char **out, size_t *len, struct cb_err *err);

/* Write the exposition to `path` atomically (temporary file + rename), as
 * node_exporter's textfile collector requires. */
int cb_metrics_write_textfile(const struct cb_metrics *m, const char *path, struct cb_err *err);

/* Serve GET /metrics on "host:port" ("127.0.0.1:9464", "[::1]:9464"). */
struct cb_metrics_server;
int cb_metrics_server_start(struct cb_metrics_server **out, uv_loop_t *loop,
                            const struct cb_metrics *m, const char *listen, struct cb_err *err);
/* The port actually bound (useful with port 0 in tests). */
int cb_metrics_server_port(const struct cb_metrics_server *s);
void cb_metrics_server_stop(struct cb_metrics_server *s);

#endif
