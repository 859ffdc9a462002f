# src/daemon: cloudburstd, the service: the loop, the cycle, and its bridges to
# the core (core_bridge) and to the pool and nodes (world).
sbin_PROGRAMS += src/cloudburstd
src_cloudburstd_SOURCES = src/cloudburstd.c \
	src/daemon.c src/daemon.h \
	src/cycle.c src/cycle.h \
	src/core_bridge.c src/core_bridge.h \
	src/world.c src/world.h
src_cloudburstd_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) $(SYSTEMD_CFLAGS) $(LIBCONFIG_CFLAGS)
src_cloudburstd_LDADD = src/libcbshell.la $(UV_LIBS) $(SYSTEMD_LIBS)
dist_man_MANS += man/cloudburstd.8
