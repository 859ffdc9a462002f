# src/daemon: cloudburstd, the service.
sbin_PROGRAMS += src/cloudburstd
src_cloudburstd_SOURCES = src/cloudburstd.c
src_cloudburstd_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) $(SYSTEMD_CFLAGS)
src_cloudburstd_LDADD = src/libcbshell.la
