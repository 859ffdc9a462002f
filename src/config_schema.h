/* config_schema: the one table that describes cloudburst.conf (private to the
 * config module and its tests).
 *
 * Every setting the loader accepts, its type, whether it is required, its
 * default (in the text form cloudburst.conf(5) shows), range, units, a
 * one-line doc, an example, and where the value lands. The loader
 * (config.c), the printer (config_print.c) and the man page test all walk
 * this table; nothing else knows the list of settings.
 *
 * Paths: "controller.idle_timeout"; list elements are written "[]":
 * "clouds.[].flavors.[].cpus". A row's offset is into struct cb_config for
 * top-level paths, struct cb_cloud below "clouds.[]" and struct cb_flavor
 * below "clouds.[].flavors.[]".
 */
#ifndef CB_CONFIG_SCHEMA_H
#define CB_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

enum cb_cfg_type {
    CB_CFG_GROUP = 0,   /* a group of settings (no storage) */
    CB_CFG_LIST,        /* a list of groups: clouds, flavors (handled by the loader) */
    CB_CFG_STRING,      /* char * */
    CB_CFG_NAME,        /* char[CB_NAME_MAX] */
    CB_CFG_UINT,        /* unsigned */
    CB_CFG_U32,         /* uint32_t */
    CB_CFG_U64,         /* uint64_t */
    CB_CFG_INT,         /* int */
    CB_CFG_DOUBLE,      /* double (an integer literal is accepted) */
    CB_CFG_BOOL,        /* bool */
    CB_CFG_ENUM,        /* int-sized enum, one of words[] */
    CB_CFG_STRLIST,     /* struct cb_string_list */
    CB_CFG_SECRET_PATH, /* char * path + char * content + size_t length */
};

/* Extra checks on string values (all strings refuse control characters). */
enum cb_cfg_check {
    CB_CHK_NONE = 0,
    CB_CHK_NONEMPTY,      /* must not be "" */
    CB_CHK_SAFE_NAME,     /* cb_is_safe_name() */
    CB_CHK_PRINTABLE,     /* non-empty, printable, no leading/trailing space */
    CB_CHK_ABS_PATH,      /* absolute path */
    CB_CHK_ABS_PATH_OPT,  /* absolute path or "" (off) */
    CB_CHK_ATTR_NAME,     /* ClassAd attribute name */
    CB_CHK_ATTR_NAME_OPT, /* ClassAd attribute name or "" */
    CB_CHK_HOSTPORT_OPT,  /* "host:port", "[v6]:port" or "" (off) */
    CB_CHK_FACILITY,      /* syslog facility word */
};

struct cb_cfg_word {
    const char *word;
    int value;
};

struct cb_cfg_row {
    const char *path;
    enum cb_cfg_type type;
    bool required;
    /* Default in text form, NULL when required or for groups/lists. Strings
     * may use ${pkglibdir} ${pkgdatadir} ${localstatedir} ${sysconfdir};
     * "@<path>" means "the value of that top-level setting". */
    const char *def;
    double min, max;     /* numbers: inclusive range; lists: item count */
    const char *units;   /* NULL if none */
    const char *doc;     /* one line for the man page and --check-config */
    const char *example; /* one line of libconfig, as the man page shows it */
    size_t off;          /* the value */
    size_t off_secret;   /* SECRET_PATH: char * content */
    size_t off_len;      /* SECRET_PATH: size_t content length */
    const struct cb_cfg_word *words; /* ENUM, terminated by word == NULL */
    enum cb_cfg_check check;
};

extern const struct cb_cfg_row cb_config_schema[];
extern const size_t cb_config_schema_len;

/* Last path component ("idle_timeout" of "controller.idle_timeout"). */
const char *cb_cfg_row_name(const struct cb_cfg_row *row);

/* True if `row` is a direct child of table key `parent` ("" = the root,
 * "clouds.[]" = a cloud element). */
bool cb_cfg_row_is_child(const struct cb_cfg_row *row, const char *parent);

/* The row at `path` or NULL. */
const struct cb_cfg_row *cb_cfg_row_find(const char *path);

/* The man page's summary line for a row, e.g.
 * "integer, seconds, 1 to 3600; default: 120." Returns buf. */
const char *cb_cfg_row_describe(const struct cb_cfg_row *row, char *buf, size_t len);

/* Word for an enum value of a row (NULL if none); value for a word (-1). */
const char *cb_cfg_enum_word(const struct cb_cfg_row *row, int value);
int cb_cfg_enum_value(const struct cb_cfg_row *row, const char *word);

#endif
