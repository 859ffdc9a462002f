/* config_print: the effective configuration in libconfig syntax (see
 * cb_config_print in config.h). Walks the same schema table as the loader, so
 * every setting appears, defaults included, and the output loads back to an
 * equal configuration. Secret file contents are never printed: a secret
 * setting shows its path and a "<redacted>" marker comment. */
#include "config.h"
#include "cb_text.h"
#include "config_schema.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define AT(base, off, type) ((const type *)((const char *)(base) + (off)))

static void indent(FILE *out, int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("  ", out);
}

/* A libconfig string literal. Control characters are refused at load, but
 * escape them anyway so the output is always one valid line. */
static void print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\x%02x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

/* Shortest text that reads back as the same double, always with a '.' or an
 * exponent so libconfig sees a float. */
static void print_double(FILE *out, double v)
{
    char buf[64];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (strpbrk(buf, ".eEn") == NULL)
        strcat(buf, ".0");
    fputs(buf, out);
}

static void print_int(FILE *out, long long v)
{
    /* libconfig needs the L suffix beyond 32 bits. */
    if (v > INT32_MAX || v < INT32_MIN)
        fprintf(out, "%lldL", v);
    else
        fprintf(out, "%lld", v);
}

static void print_list(FILE *out, const char *const *items, size_t n)
{
    fputs("[", out);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : " ", out);
        print_string(out, items[i]);
    }
    fputs(n ? " ]" : "]", out);
}

static void print_group(FILE *out, const struct cb_config *cfg, const char *key,
                        const void *base, int depth);

static void print_provider(FILE *out, const struct cb_cloud *c, int depth)
{
    indent(out, depth);
    fprintf(out, "%s = {\n", c->provider);
    for (size_t i = 0; i < c->settings.n; i++) {
        const struct cb_setting *v = &c->settings.items[i];
        indent(out, depth + 1);
        fprintf(out, "%s = ", v->name);
        switch (v->type) {
        case CB_SETTING_STRING:
            print_string(out, v->str ? v->str : "");
            fputs(";", out);
            break;
        case CB_SETTING_SECRET_FILE:
            print_string(out, v->str ? v->str : "");
            fputs("; # contents <redacted>", out);
            break;
        case CB_SETTING_INT:
            print_int(out, v->num);
            fputs(";", out);
            break;
        case CB_SETTING_BOOL:
            fputs(v->boolean ? "true;" : "false;", out);
            break;
        case CB_SETTING_STRING_LIST:
            print_list(out, v->list, v->list_len);
            fputs(";", out);
            break;
        }
        fputc('\n', out);
    }
    indent(out, depth);
    fputs("};\n", out);
}

static void print_row(FILE *out, const struct cb_config *cfg, const struct cb_cfg_row *row,
                      const void *base, int depth)
{
    const char *name = cb_cfg_row_name(row);
    if (row->type == CB_CFG_GROUP) {
        indent(out, depth);
        fprintf(out, "%s = {\n", name);
        print_group(out, cfg, row->path, base, depth + 1);
        indent(out, depth);
        fputs("};\n", out);
        return;
    }
    if (row->type == CB_CFG_LIST) {
        bool clouds = strcmp(row->path, "clouds") == 0;
        const struct cb_cloud *cloud = base;
        size_t n = clouds ? cfg->n_clouds : cloud->n_flavors;
        char key[64];
        snprintf(key, sizeof key, "%s.[]", row->path);
        indent(out, depth);
        fprintf(out, "%s = (\n", name);
        for (size_t i = 0; i < n; i++) {
            const void *elem = clouds ? (const void *)&cfg->clouds[i]
                                      : (const void *)&cloud->flavors[i];
            indent(out, depth + 1);
            fputs("{\n", out);
            print_group(out, cfg, key, elem, depth + 2);
            if (clouds)
                print_provider(out, elem, depth + 2);
            indent(out, depth + 1);
            fputs(i + 1 < n ? "},\n" : "}\n", out);
        }
        indent(out, depth);
        fputs(");\n", out);
        return;
    }
    indent(out, depth);
    fprintf(out, "%s = ", name);
    switch (row->type) {
    case CB_CFG_STRING:
        print_string(out, *AT(base, row->off, char *) ? *AT(base, row->off, char *) : "");
        fputs(";", out);
        break;
    case CB_CFG_SECRET_PATH: {
        const char *p = *AT(base, row->off, char *);
        print_string(out, p ? p : "");
        fputs(p && p[0] ? "; # contents <redacted>" : ";", out);
        break;
    }
    case CB_CFG_NAME:
        print_string(out, AT(base, row->off, char));
        fputs(";", out);
        break;
    case CB_CFG_UINT: print_int(out, *AT(base, row->off, unsigned)); fputs(";", out); break;
    case CB_CFG_U32: print_int(out, *AT(base, row->off, uint32_t)); fputs(";", out); break;
    case CB_CFG_U64:
        print_int(out, (long long)*AT(base, row->off, uint64_t));
        fputs(";", out);
        break;
    case CB_CFG_INT: print_int(out, *AT(base, row->off, int)); fputs(";", out); break;
    case CB_CFG_DOUBLE: print_double(out, *AT(base, row->off, double)); fputs(";", out); break;
    case CB_CFG_BOOL: fputs(*AT(base, row->off, bool) ? "true;" : "false;", out); break;
    case CB_CFG_ENUM: {
        const char *w = cb_cfg_enum_word(row, *AT(base, row->off, int));
        print_string(out, w ? w : "?");
        fputs(";", out);
        break;
    }
    case CB_CFG_STRLIST: {
        const struct cb_string_list *l = AT(base, row->off, struct cb_string_list);
        print_list(out, (const char *const *)l->items, l->n);
        fputs(";", out);
        break;
    }
    case CB_CFG_GROUP:
    case CB_CFG_LIST:
        break;
    }
    fputc('\n', out);
}

static void print_group(FILE *out, const struct cb_config *cfg, const char *key,
                        const void *base, int depth)
{
    for (size_t i = 0; i < cb_config_schema_len; i++)
        if (cb_cfg_row_is_child(&cb_config_schema[i], key))
            print_row(out, cfg, &cb_config_schema[i], base, depth);
}

int cb_config_print(const struct cb_config *cfg, FILE *out)
{
    char file[512];
    cb_sanitize(file, sizeof file, cfg->file);
    fprintf(out, "# cloudburst effective configuration, loaded from %s\n", file);
    fputs("# Defaults are filled in; secret file contents are <redacted>.\n", out);
    print_group(out, cfg, "", cfg, 0);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
