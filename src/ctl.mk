# src/ctl: cloudburstctl, the admin CLI. The commands are a small library so
# tests/test_ctl drives exactly what the binary runs.
noinst_LTLIBRARIES += src/libcbctl.la
src_libcbctl_la_SOURCES = \
	src/ctl.c src/ctl.h \
	src/ctl_commands.c \
	src/ctl_admin.c \
	src/ctl_accounting.c \
	src/ctl_table.c
src_libcbctl_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(LIBCONFIG_CFLAGS) $(SQLITE_CFLAGS) $(UV_CFLAGS)
src_libcbctl_la_LIBADD = src/libcbshell.la $(JSONC_LIBS)

bin_PROGRAMS += src/cloudburstctl
src_cloudburstctl_SOURCES = src/cloudburstctl.c
src_cloudburstctl_LDADD = src/libcbctl.la

dist_man_MANS += man/cloudburstctl.1
