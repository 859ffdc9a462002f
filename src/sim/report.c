/* report: the comparison as an aligned table, JSON (json-c) and an SVG plot
 * (hand-written SVG text: three lines per panel, one panel per policy). */
#include "sim/sim.h"

#include "cb_text.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <string.h>

static const struct sim_result *find_oracle(const struct sim_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].oracle)
            return &r[i];
    return NULL;
}

static void fmt_dur(char *b, size_t len, double s)
{
    if (s < 0)
        snprintf(b, len, "never");
    else if (s < 600)
        snprintf(b, len, "%.0fs", s);
    else if (s < 36000)
        snprintf(b, len, "%.1fm", s / 60);
    else
        snprintf(b, len, "%.1fh", s / 3600);
}

void sim_print_table(FILE *f, const char *trace_name, const struct sim_result *r, size_t n)
{
    const struct sim_result *o = find_oracle(r, n);
    fprintf(f, "trace %s: %zu jobs\n", trace_name, n ? r[0].jobs : (size_t)0);
    fprintf(f, "%-18s %8s %8s %8s %9s %11s %11s %5s %6s %10s %6s %7s %6s %9s %8s\n", "policy",
            "wait-p50", "wait-p95", "wait-max", "makespan", "core-h-prov", "core-h-used", "eff",
            "xorac", "cost", "boots", "unused", "killed", "overshoot", "to-zero");
    for (size_t i = 0; i < n; i++) {
        const struct sim_result *x = &r[i];
        char p50[16], p95[16], mx[16], ms[16], tz[16], xo[16];
        fmt_dur(p50, sizeof p50, x->wait_p50);
        fmt_dur(p95, sizeof p95, x->wait_p95);
        fmt_dur(mx, sizeof mx, x->wait_max);
        fmt_dur(ms, sizeof ms, x->makespan);
        fmt_dur(tz, sizeof tz, x->shrink_to_zero);
        if (o != NULL && o->core_hours_prov > 0)
            snprintf(xo, sizeof xo, "%.2f", x->core_hours_prov / o->core_hours_prov);
        else
            snprintf(xo, sizeof xo, "-");
        fprintf(f, "%-18s %8s %8s %8s %9s %11.0f %11.0f %5.2f %6s %10.2f %6llu %7llu %6llu %9.0f %8s\n",
                x->policy, p50, p95, mx, ms, x->core_hours_prov, x->core_hours_used, x->efficiency,
                xo, x->cost, (unsigned long long)x->boots, (unsigned long long)x->cores_never_used,
                (unsigned long long)x->killed, x->overshoot, tz);
        if (x->completed != x->jobs)
            fprintf(f, "%-18s   ! only %zu of %zu jobs completed within the horizon\n", "",
                    x->completed, x->jobs);
    }
}

void sim_print_breakdown(FILE *f, const struct sim_result *r, size_t n)
{
    const struct sim_result *o = find_oracle(r, n);
    fprintf(f, "core-hours provisioned, by what the cores were doing (share of the total; "
               "x oracle: over the oracle's total)\n");
    fprintf(f, "%-18s %11s %13s %13s %13s %13s %13s\n", "policy", "core-h-prov", "booting",
            "idle", "partial", "draining", "busy");
    for (size_t i = 0; i < n; i++) {
        const struct sim_result *x = &r[i];
        double part[5] = { x->ch_boot, x->ch_idle, x->ch_partial, x->ch_drain, x->ch_busy };
        char cell[5][32];
        for (int k = 0; k < 5; k++)
            snprintf(cell[k], sizeof cell[k], "%.0f %3.0f%%", part[k],
                     x->core_hours_prov > 0 ? 100 * part[k] / x->core_hours_prov : 0);
        fprintf(f, "%-18s %11.0f %13s %13s %13s %13s %13s", x->policy, x->core_hours_prov,
                cell[0], cell[1], cell[2], cell[3], cell[4]);
        if (o != NULL && o->core_hours_prov > 0 && !x->oracle)
            fprintf(f, "  x%.2f", x->core_hours_prov / o->core_hours_prov);
        fputc('\n', f);
    }
}

/* Doubles printed with three decimals, not 17 significant digits. */
static json_object *jd(double v)
{
    char b[64];
    snprintf(b, sizeof b, "%.3f", v);
    return json_object_new_double_s(v, b);
}

void sim_print_json(FILE *f, const char *trace_name, const struct sim_model *m,
                    const struct sim_result *r, size_t n)
{
    json_object *root = json_object_new_object(), *arr = json_object_new_array();
    const struct sim_result *o = find_oracle(r, n);
    json_object_object_add(root, "trace", json_object_new_string(trace_name));
    json_object_object_add(root, "seed", json_object_new_uint64(m->seed));
    for (size_t i = 0; i < n; i++) {
        const struct sim_result *x = &r[i];
        json_object *p = json_object_new_object();
        json_object_object_add(p, "policy", json_object_new_string(x->policy));
        json_object_object_add(p, "jobs", json_object_new_uint64(x->jobs));
        json_object_object_add(p, "completed", json_object_new_uint64(x->completed));
        json_object_object_add(p, "wait_p50_s", jd(x->wait_p50));
        json_object_object_add(p, "wait_p95_s", jd(x->wait_p95));
        json_object_object_add(p, "wait_max_s", jd(x->wait_max));
        json_object_object_add(p, "wait_mean_s", jd(x->wait_mean));
        json_object_object_add(p, "makespan_s", jd(x->makespan));
        json_object_object_add(p, "core_hours_provisioned", jd(x->core_hours_prov));
        json_object_object_add(p, "core_hours_used", jd(x->core_hours_used));
        json_object_object_add(p, "efficiency", jd(x->efficiency));
        json_object_object_add(p, "provisioned_vs_oracle",
                               o && o->core_hours_prov > 0 ? jd(x->core_hours_prov / o->core_hours_prov)
                                                           : NULL);
        if (x->oracle)
            json_object_object_add(p, "core_hours_fluid_bound", jd(x->core_hours_fluid));
        json_object *bd = json_object_new_object();
        json_object_object_add(bd, "booting", jd(x->ch_boot));
        json_object_object_add(bd, "idle", jd(x->ch_idle));
        json_object_object_add(bd, "partial", jd(x->ch_partial));
        json_object_object_add(bd, "draining", jd(x->ch_drain));
        json_object_object_add(bd, "busy", jd(x->ch_busy));
        json_object_object_add(p, "core_hours_breakdown", bd);
        json_object_object_add(p, "cost", jd(x->cost));
        json_object_object_add(p, "boots", json_object_new_uint64(x->boots));
        json_object_object_add(p, "cores_never_used", json_object_new_uint64(x->cores_never_used));
        json_object_object_add(p, "jobs_killed_by_scale_down", json_object_new_uint64(x->killed));
        json_object_object_add(p, "jobs_preempted", json_object_new_uint64(x->preempted_jobs));
        json_object_object_add(p, "overshoot_cores", jd(x->overshoot));
        json_object_object_add(p, "peak_demand_cores", jd(x->peak_demand));
        json_object_object_add(p, "shrink_to_zero_s", x->shrink_to_zero < 0 ? NULL : jd(x->shrink_to_zero));
        json_object_array_add(arr, p);
    }
    json_object_object_add(root, "results", arr);
    fprintf(f, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
}

static void xml_text(FILE *f, const char *s)
{
    char clean[256];
    cb_sanitize(clean, sizeof clean, s);
    for (const char *p = clean; *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*p, f);
        }
    }
}

static void polyline(FILE *f, const struct sim_result *x, int which, double x0, double y0, double w,
                     double h, double tmax, double ymax, const char *color)
{
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\" points=\"", color);
    for (size_t i = 0; i < x->n_samples && (double)x->samples[i].t <= tmax; i++) {
        const struct sim_sample *s = &x->samples[i];
        double v = which == 0 ? s->queued : which == 1 ? s->busy_cores : s->prov_cores;
        double px = x0 + w * (double)s->t / tmax, py = y0 + h - h * v / ymax;
        fprintf(f, "%.1f,%.1f ", px, py);
    }
    fputs("\"/>\n", f);
}

int sim_write_svg(const char *path, const char *trace_name, const struct sim_result *r, size_t n,
                  struct cb_err *err)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return cb_err_errno(err, CB_ERR_IO, errno, path, "cannot write the SVG");
    size_t panels = 0;
    double tmax = 1, ymax = 1, qmax = 1;
    /* the time axis ends a little after the last job of the slowest policy:
     * the horizon a policy that never shrinks to zero runs into says nothing */
    for (size_t i = 0; i < n; i++)
        if (r[i].n_samples > 0)
            tmax = fmax(tmax, r[i].makespan * 1.15 + 1800);
    for (size_t i = 0; i < n; i++) {
        if (r[i].n_samples == 0)
            continue;
        panels++;
        for (size_t k = 0; k < r[i].n_samples; k++) {
            const struct sim_sample *s = &r[i].samples[k];
            if ((double)s->t > tmax)
                break;
            ymax = fmax(ymax, fmax(s->busy_cores, s->prov_cores));
            qmax = fmax(qmax, s->queued);
        }
    }
    const double W = 900, PH = 150, M = 60;
    double H = 70 + (double)panels * (PH + 40);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
            W + 2 * M, H, W + 2 * M, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"%.0f\" y=\"22\" "
               "font-size=\"16\">cloudburst-sim: ",
            M);
    xml_text(f, trace_name);
    fprintf(f, " (time in hours; cores left axis, queue scaled to its own max %.0f)</text>\n", qmax);
    fprintf(f, "<text x=\"%.0f\" y=\"44\"><tspan fill=\"#d62728\">&#9632; queued jobs</tspan> "
               "<tspan fill=\"#1f77b4\">&#9632; cores busy</tspan> "
               "<tspan fill=\"#2ca02c\">&#9632; cores provisioned</tspan></text>\n", M);
    double y = 60;
    for (size_t i = 0; i < n; i++) {
        const struct sim_result *x = &r[i];
        if (x->n_samples == 0)
            continue;
        fprintf(f, "<g>\n<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                   "stroke=\"#999\"/>\n",
                M, y + 20, W, PH);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">", M, y + 15);
        xml_text(f, x->policy);
        fprintf(f, "</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">p95 wait %.0f s, "
                   "%.0f core-h provisioned, %llu killed</text>\n",
                M + W, y + 15, x->wait_p95, x->core_hours_prov, (unsigned long long)x->killed);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f</text>"
                   "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>"
                   "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0fh</text>\n",
                M - 4, y + 32, ymax, M - 4, y + 20 + PH, M + W, y + 20 + PH + 14, tmax / 3600);
        /* the queue scaled to its own maximum */
        fprintf(f, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1\" "
                   "stroke-opacity=\"0.7\" points=\"");
        for (size_t k = 0; k < x->n_samples && (double)x->samples[k].t <= tmax; k++)
            fprintf(f, "%.1f,%.1f ", M + W * (double)x->samples[k].t / tmax,
                    y + 20 + PH - PH * x->samples[k].queued / qmax);
        fputs("\"/>\n", f);
        polyline(f, x, 2, M, y + 20, W, PH, tmax, ymax, "#2ca02c");
        polyline(f, x, 1, M, y + 20, W, PH, tmax, ymax, "#1f77b4");
        fputs("</g>\n", f);
        y += PH + 40;
    }
    fputs("</svg>\n", f);
    if (fclose(f) != 0)
        return cb_err_errno(err, CB_ERR_IO, errno, path, "cannot write the SVG");
    return 0;
}
