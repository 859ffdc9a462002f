/* ctl_table: aligned text tables for cloudburstctl, and time formatting.
 * The cells are copied; widths are computed when printing, in characters
 * (UTF-8 continuation bytes do not count), so a sanitised non-ASCII name
 * does not break the alignment. */
#include "ctl.h"

#include "cb_text.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ctl_table {
    size_t ncols;
    unsigned right;
    char **cells; /* (nrows + 1) * ncols, row 0 = headers */
    size_t nrows; /* including the header row */
    size_t cap;   /* rows */
};

static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

struct ctl_table *ctl_table_new(size_t ncols, const char *const *headers, unsigned right_aligned)
{
    if (ncols == 0 || ncols > 32)
        return NULL;
    struct ctl_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    t->right = right_aligned;
    if (ctl_table_add(t, headers) != 0) {
        ctl_table_free(t);
        return NULL;
    }
    return t;
}

int ctl_table_add(struct ctl_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        char **p = realloc(t->cells, ncap * t->ncols * sizeof *p);
        if (!p)
            return -1;
        t->cells = p;
        t->cap = ncap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        row[i] = cb_strdup(cells[i] && *cells[i] ? cells[i] : "-");
        if (!row[i]) {
            for (size_t j = 0; j < i; j++)
                free(row[j]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

void ctl_table_print(const struct ctl_table *t, FILE *out)
{
    size_t w[32] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            size_t pad = w[c] - width(cell);
            bool last = c + 1 == t->ncols;
            if (c > 0)
                fputs("  ", out);
            if (t->right & (1u << c))
                fprintf(out, "%*s%s", (int)pad, "", cell);
            else if (last)
                fputs(cell, out);
            else
                fprintf(out, "%s%*s", cell, (int)pad, "");
        }
        fputc('\n', out);
    }
}

void ctl_table_free(struct ctl_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

const char *ctl_format_time(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t < 0 || !gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        cb_strlcpy(buf, "-", size);
    return buf;
}
