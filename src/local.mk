# src: shared libraries of the shell, and the binaries.

# libcbcommon: error type, text hygiene, logging, provider settings, observation
# containers. Linked into the daemon, the CLI, the simulator and, statically,
# into every provider module (so it must stay small and free of globals).
noinst_LTLIBRARIES += src/libcbcommon.la
src_libcbcommon_la_SOURCES = \
	src/cb_error.c src/cb_error.h \
	src/cb_text.c src/cb_text.h \
	src/log.c src/log.h \
	src/provider_settings.c src/provider.h \
	src/core/observe.c src/core/observe.h

# libcbshell: everything with I/O that the daemon and cloudburstctl share.
# Each module appends its sources from its own fragment below.
noinst_LTLIBRARIES += src/libcbshell.la
src_libcbshell_la_SOURCES = \
	src/provider_loader.c src/provider_loader.h \
	src/cloud_worker.c src/cloud_worker.h \
	src/metrics.c src/metrics.h \
	src/pool_config.c src/pool_config.h \
	src/config.h
src_libcbshell_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) $(SSH2_CFLAGS) \
	$(LIBCONFIG_CFLAGS) $(SQLITE_CFLAGS) $(UV_CFLAGS) $(SYSTEMD_CFLAGS)
src_libcbshell_la_LIBADD = src/libcbcommon.la src/core/libcbcore.la \
	$(CURL_LIBS) $(JSONC_LIBS) $(SSH2_LIBS) $(LIBCONFIG_LIBS) $(SQLITE_LIBS) \
	$(UV_LIBS) $(SYSTEMD_LIBS)

include src/config.mk
include src/ledger.mk
include src/pool.mk
include src/bootstrap.mk
include src/daemon.mk
include src/ctl.mk
